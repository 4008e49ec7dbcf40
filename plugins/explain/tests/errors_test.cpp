// Mistakes are reported before the first model call, naming the parameter or input and
// what would work.
#include "test_support.hpp"

using namespace explain_test;
using namespace mien::explain;

namespace {

LinearModel linear(int M) { return LinearModel(std::vector<double>(static_cast<size_t>(M), 0.01), 0.5); }

bool contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

// A linear model whose layer description is broken in a chosen way.
class BrokenLayers : public LinearModel {
 public:
  BrokenLayers(int M, std::string how) : LinearModel(std::vector<double>(static_cast<size_t>(M), 0.01), 0.5), how_(std::move(how)) {}
  mien::Json info() const override {
    mien::Json j = LinearModel::info();
    if (how_ == "op") j["layers"].push_back({{"op", "conv2d"}});
    if (how_ == "bias") j["layers"][0]["bias"] = {0.2, 0.8};
    if (how_ == "shape") j["layers"][0]["in"] = 3;
    return j;
  }

 private:
  std::string how_;
};

}  // namespace

TEST(Errors, ExactShapleyRefusesTooManyFeaturesBeforeCallingTheModel) {
  auto m = linear(21);
  auto r = run<ExactShapley>(Json::object(), m, random_rows(2, 21, 1, 0, 0.1), random_rows(5, 21, 2, 0, 0.1));
  EXPECT_EQ(r->run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(r->error(), "21 features need 2^21 coalitions")) << r->error();
  EXPECT_TRUE(contains(r->error(), "explain.kernel_shap")) << r->error();
  EXPECT_TRUE(contains(r->error(), "groups")) << r->error();
  EXPECT_EQ(m.calls.load(), 0);
  // Grouped into 3 players it runs.
  Json groups{{"a", {"f0", "f1", "f2", "f3", "f4", "f5", "f6"}},
              {"b", {"f7", "f8", "f9", "f10", "f11", "f12", "f13"}},
              {"c", {"f14", "f15", "f16", "f17", "f18", "f19", "f20"}}};
  auto g = run<ExactShapley>(Json{{"groups", groups}}, m, random_rows(2, 21, 1, 0, 0.1), random_rows(5, 21, 2, 0, 0.1));
  EXPECT_EQ(g->run(), MIEN_OK) << g->error();
}

TEST(Errors, KernelShapBudgetBelowMPlusOne) {
  auto m = linear(8);
  auto r = run<KernelShap>(Json{{"nsamples", 5}}, m, random_rows(2, 8, 1, 0, 0.1), random_rows(5, 8, 2, 0, 0.1));
  EXPECT_EQ(r->run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(r->error(), "'nsamples' is 5")) << r->error();
  EXPECT_TRUE(contains(r->error(), "at least M + 1 = 9")) << r->error();
  EXPECT_EQ(m.calls.load(), 0);
}

TEST(Errors, BackgroundWithAnotherFeatureSet) {
  auto m = linear(4);
  auto r = std::make_unique<Runner<KernelShap>>(Json::object(), 7);
  r->set_input("model", m.ref());
  r->set_input("samples", make_table(random_rows(2, 4, 1), 4, m.class_names()));
  r->set_input("background", make_table(random_rows(5, 3, 2), 3, m.class_names()));  // f0..f2 only
  EXPECT_EQ(r->run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(r->error(), "background table lacks 1 of the model's 4 features: f3")) << r->error();
  EXPECT_EQ(m.calls.load(), 0);
}

TEST(Errors, SamplesMissingFeatures) {
  auto m = linear(4);
  auto r = std::make_unique<Runner<PermutationShap>>(Json::object(), 7);
  r->set_input("model", m.ref());
  r->set_input("samples", make_table(random_rows(2, 2, 1), 2, m.class_names()));
  r->set_input("background", make_table(random_rows(5, 4, 2), 4, m.class_names()));
  EXPECT_EQ(r->run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(r->error(), "samples table lacks 2 of the model's 4 features: f2, f3")) << r->error();
}

TEST(Errors, RequiredCapabilitiesAreDeclaredOnTheModelPort) {
  auto caps = [](const mien_component_desc* d) {
    for (uint32_t i = 0; i < d->num_ports; ++i)
      if (std::string(d->ports[i].name) == "model") return d->ports[i].requires_caps;
    return uint64_t{0};
  };
  using mien::detail::Adapter;
  EXPECT_TRUE(caps(Adapter<IntegratedGradients>::descriptor()) & MIEN_CAP_INPUT_GRADIENT);
  EXPECT_TRUE(caps(Adapter<GradientShap>::descriptor()) & MIEN_CAP_INPUT_GRADIENT);
  EXPECT_TRUE(caps(Adapter<DeepShap>::descriptor()) & MIEN_CAP_LAYER_STRUCTURE);
  EXPECT_EQ(caps(Adapter<KernelShap>::descriptor()), MIEN_CAP_PREDICT);
  EXPECT_EQ(caps(Adapter<Lime>::descriptor()), MIEN_CAP_PREDICT);
}

TEST(Errors, DeepShapRejectsUnsupportedOrInconsistentLayers) {
  for (const char* how : {"op", "bias", "shape"}) {
    BrokenLayers m(4, how);
    auto r = run<DeepShap>(Json::object(), m, random_rows(2, 4, 1), random_rows(5, 4, 2));
    EXPECT_EQ(r->run(), MIEN_ERR_INVALID_ARGUMENT) << how;
    if (std::string(how) == "op") {
      EXPECT_TRUE(contains(r->error(), "op 'conv2d'")) << r->error();
      EXPECT_TRUE(contains(r->error(), "explain.kernel_shap")) << r->error();
    }
    if (std::string(how) == "bias") {
      EXPECT_TRUE(contains(r->error(), "does not reproduce its predictions")) << r->error();
    }
    if (std::string(how) == "shape") {
      EXPECT_TRUE(contains(r->error(), "in = 3")) << r->error();
    }
  }
}

TEST(Errors, TargetClassMustNameAModelClass) {
  auto m = linear(3);
  auto r = run<Occlusion>(Json{{"target", "class"}, {"class", "happy"}}, m, random_rows(2, 3, 1), random_rows(5, 3, 2));
  EXPECT_EQ(r->run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(r->error(), "'class' is 'happy', not one of the model's classes: c0, c1")) << r->error();
  auto r2 = run<Occlusion>(Json{{"target", "class"}}, m, random_rows(2, 3, 1), random_rows(5, 3, 2));
  EXPECT_EQ(r2->run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(r2->error(), "parameter 'class' is empty")) << r2->error();
  auto r3 = run<Occlusion>(Json{{"target", "true"}}, m, random_rows(2, 3, 1), random_rows(5, 3, 2));
  EXPECT_EQ(r3->run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(r3->error(), "no LABEL column")) << r3->error();
}

TEST(Errors, GroupsMustNameFeaturesOnce) {
  auto m = linear(3);
  auto r = run<ExactShapley>(Json{{"groups", {{"g", {"f0", "nose"}}}}}, m, random_rows(2, 3, 1), random_rows(5, 3, 2));
  EXPECT_EQ(r->run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(r->error(), "group 'g' names 'nose', which is not a model feature")) << r->error();
  auto r2 = run<ExactShapley>(Json{{"groups", {{"g", {"f0"}}, {"h", {"f0", "f1"}}}}}, m, random_rows(2, 3, 1),
                              random_rows(5, 3, 2));
  EXPECT_EQ(r2->run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(r2->error(), "feature 'f0' is in both 'g' and 'h'")) << r2->error();
}

TEST(Errors, BaselineNeedsBackground) {
  auto m = linear(3);
  auto r = run<IntegratedGradients>(Json::object(), m, random_rows(2, 3, 1), {});
  EXPECT_EQ(r->run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(r->error(), "baseline 'mean' needs the background input")) << r->error();
}

TEST(Errors, UnknownParameterIsRejectedWithASuggestion) {
  try {
    Runner<KernelShap> r(Json{{"nsample", 100}});
    FAIL() << "no exception";
  } catch (const mien::testing::InvalidParams& e) {
    EXPECT_TRUE(contains(e.what(), "did you mean 'nsamples'")) << e.what();
  }
}

TEST(Errors, CancellationStopsBetweenBatches) {
  auto m = linear(6);
  auto r = run<KernelShap>(Json{{"batch_size", 16}}, m, random_rows(20, 6, 1, 0, 0.1), random_rows(20, 6, 2, 0, 0.1));
  r->cancel_after(3);
  EXPECT_EQ(r->run(), MIEN_ERR_CANCELLED);
  EXPECT_LT(m.calls.load(), 10);
}
