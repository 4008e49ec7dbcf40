// The SDK's header-only helpers, without the host: the attribution table builder
// (<mien/attributions.hpp>), the explainer example (plugin_api/examples/explainer_plugin)
// on a model whose answer is known, and the testing runner's check of defaults.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mien/attributions.hpp>
#include <mien/testing.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

// The example plugin itself, compiled into this test (its one exported symbol included).
#include "../examples/explainer_plugin/occlusion.cpp"

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A table owned by the test, viewed as a plugin sees its inputs.
struct OwnedTable {
  explicit OwnedTable(mien::Table t) : raw(t.release(), [](mien_table* p) { p->deleter(p); }) {}
  mien::TableView view() const { return mien::TableView(raw.get()); }
  std::unique_ptr<mien_table, void (*)(mien_table*)> raw;
};

// Three samples: ids, a label with two classes, a subject group, two features.
OwnedTable three_samples(bool with_ids = true) {
  mien::Table t(3);
  if (with_ids) t.add_strings("id", MIEN_ROLE_ID, {"a", "b", "c"});
  t.add_codes("emotion", MIEN_ROLE_LABEL, {0, 1, -1}, {"happy", "sad"})
      .add_strings("subject", MIEN_ROLE_GROUP, {"s1", "s2", "s2"})
      .add_numbers("f1", MIEN_ROLE_FEATURE, {1, 2, 3})
      .add_numbers("f2", MIEN_ROLE_FEATURE, {4, 5, 6});
  return OwnedTable(std::move(t));
}

std::vector<std::string> column_names(const mien::TableView& t) {
  std::vector<std::string> out;
  for (uint32_t i = 0; i < t.num_columns(); ++i) out.emplace_back(t.column(i).name());
  return out;
}

TEST(AttributionTable, OneRowPerSampleHasTheLayoutTheMetricsRead) {
  OwnedTable samples = three_samples();
  mien::AttributionTable at(samples.view(), std::vector<std::string>{"f1", "f2"}, {"happy", "sad"});
  at.explainer("acme.explain").explains("probability").cost(0.5, 12);
  at.add(2, 1, 1, 0.4, 0.9, std::vector<double>{0.3, 0.2});
  at.add(0, 0, 0, 0.6, 0.7, std::vector<double>{-0.1, 0.2});
  OwnedTable out(at.build());
  const mien::TableView t = out.view();
  EXPECT_EQ(t.num_rows(), 2);
  EXPECT_THAT(column_names(t), ElementsAre("id", "emotion", "subject", "explained_class", "predicted_class",
                                           "base_value", "output", "f1", "f2"));
  EXPECT_THAT(t.get("id").texts(), ElementsAre("c", "a"));
  EXPECT_EQ(t.get("id").role(), MIEN_ROLE_ID);
  // The label and groups follow the sample each row explains.
  EXPECT_THAT(t.get("emotion").codes(), ElementsAre(-1, 0));
  EXPECT_THAT(t.get("emotion").categories(), ElementsAre("happy", "sad"));
  EXPECT_THAT(t.get("subject").texts(), ElementsAre("s2", "s1"));
  EXPECT_EQ(t.get("subject").role(), MIEN_ROLE_GROUP);
  EXPECT_THAT(t.get("explained_class").texts(), ElementsAre("sad", "happy"));
  EXPECT_THAT(t.get("predicted_class").texts(), ElementsAre("sad", "happy"));
  EXPECT_EQ(t.get("explained_class").role(), MIEN_ROLE_VALUE);
  EXPECT_THAT(t.get("base_value").numbers(), ElementsAre(0.4, 0.6));
  EXPECT_THAT(t.get("output").numbers(), ElementsAre(0.9, 0.7));
  EXPECT_THAT(t.feature_names(), ElementsAre("f1", "f2"));
  EXPECT_THAT(t.feature_matrix<double>(), ElementsAre(0.3, 0.2, -0.1, 0.2));
  const mien::Json meta = t.meta();
  EXPECT_EQ(meta["explainer"], "acme.explain");
  EXPECT_EQ(meta["output"], "probability");
  EXPECT_EQ(meta["seconds"], 0.5);
  EXPECT_EQ(meta["model_rows"], 12);
  EXPECT_EQ(meta["classes"], mien::Json::array({"happy", "sad"}));
  EXPECT_EQ(meta["target"], "predicted");
}

TEST(AttributionTable, SeveralClassesPerSampleGetClassQualifiedIdsAndASampleIdGroup) {
  OwnedTable samples = three_samples();
  mien::AttributionTable at(samples.view(), std::vector<std::string>{"f1", "f2"}, {"happy", "sad"});
  for (int64_t c = 0; c < 2; ++c) at.add(1, c, 1, 0.5, 0.5, std::vector<double>{double(c), 1});
  OwnedTable out(at.build());
  const mien::TableView t = out.view();
  EXPECT_THAT(t.get("id").texts(), ElementsAre("b/happy", "b/sad"));
  EXPECT_THAT(t.get("sample_id").texts(), ElementsAre("b", "b"));
  EXPECT_EQ(t.get("sample_id").role(), MIEN_ROLE_GROUP);
  EXPECT_THAT(t.get("explained_class").texts(), ElementsAre("happy", "sad"));
  EXPECT_THAT(t.get("predicted_class").texts(), ElementsAre("sad", "sad"));
  EXPECT_EQ(t.meta()["target"], "all");
}

TEST(AttributionTable, SamplesWithoutIdsGetTheRowNamesTheBundledMetricsUse) {
  OwnedTable samples = three_samples(/*with_ids=*/false);
  mien::AttributionTable at(samples.view(), std::vector<std::string>{"f1", "f2"}, {"happy", "sad"});
  at.add(0, 0, 1, 0, 0, std::vector<double>{1, 2}).add(2, 1, 1, 0, 0, std::vector<double>{1, 2});
  OwnedTable out(at.build());
  EXPECT_THAT(out.view().get("id").texts(), ElementsAre("row00001", "row00003"));
  EXPECT_EQ(out.view().meta()["target"], "class");  // not every row explains the prediction
}

TEST(AttributionTable, MistakesAreNamedByRow) {
  OwnedTable samples = three_samples();
  auto fails = [&](auto&& fill) {
    mien::AttributionTable at(samples.view(), std::vector<std::string>{"f1", "f2"}, {"happy", "sad"});
    fill(at);
    try {
      (void)at.build();
    } catch (const mien::Error& e) {
      return std::string(e.what());
    }
    return std::string("built");
  };
  EXPECT_EQ(fails([](auto& at) { at.add(3, 0, 0, 0, 0, std::vector<double>{1, 2}); }),
            "AttributionTable: row 1 (sample 3): the sample index is outside the samples table's 3 rows");
  EXPECT_EQ(fails([](auto& at) { at.add(0, 2, 0, 0, 0, std::vector<double>{1, 2}); }),
            "AttributionTable: row 1 (sample 0): a class index is outside 0..1");
  EXPECT_EQ(fails([](auto& at) {
              at.add(0, 1, 0, 0, 0, std::vector<double>{1, 2}).add(0, 1, 0, 0, 0, std::vector<double>{1, 2});
            }),
            "AttributionTable: row 2 (sample 0) explains class 'sad' a second time");
  EXPECT_EQ(fails([](auto& at) { at.add(1, 0, 0, 0, 0, std::vector<double>{1, NAN}); }),
            "AttributionTable: row 1 (sample 1): the attribution of 'f2' is not finite");
  EXPECT_THROW(
      {
        mien::AttributionTable at(samples.view(), std::vector<std::string>{"f1", "f2"}, {"happy", "sad"});
        at.add(0, 0, 0, 0, 0, std::vector<double>{1});
      },
      mien::Error);
}

// ---- the explainer example on a model whose answer is known --------------------------
// p(sad) = sigmoid(2 * (f1 - 2)); f2 plays no part. Occluding f2 changes nothing, so its
// attribution is exactly 0; occluding f1 moves the prediction towards the mean (f1 = 2).
struct LogisticModel {
  static double p_sad(double f1) { return 1.0 / (1.0 + std::exp(-2.0 * (f1 - 2.0))); }
  static mien_status predict(const mien_model_ref* self, mien_call_ctx*, const mien_tensor* in, mien_tensor** out) {
    auto* calls = static_cast<int64_t*>(self->opaque);
    const mien::TensorView x(in);
    if (x.dtype() != MIEN_DTYPE_F32 || x.ndim() != 2 || x.dim(1) != 2) return MIEN_ERR_INVALID_ARGUMENT;
    const int64_t n = x.dim(0);
    *calls += n;
    std::vector<float> p(static_cast<size_t>(n * 2));
    for (int64_t i = 0; i < n; ++i) {
      const double s = p_sad(x.at(i * 2));
      p[i * 2] = static_cast<float>(1 - s);
      p[i * 2 + 1] = static_cast<float>(s);
    }
    *out = mien::Tensor::from<float>({n, 2}, p).release();
    return MIEN_OK;
  }
};

TEST(ExplainerExample, OcclusionThroughTheModelReferenceGivesTheKnownAttributions) {
  int64_t rows_sent = 0;
  const std::string info =
      R"({"type_id": "test.logistic", "input": "features", "feature_names": ["f1", "f2"], "classes": ["happy", "sad"]})";
  mien_model_ref ref{};
  ref.struct_size = sizeof ref;
  ref.capabilities = MIEN_CAP_PREDICT;
  ref.info_json = info.c_str();
  ref.opaque = &rows_sent;
  ref.predict = &LogisticModel::predict;

  OwnedTable samples = three_samples();
  mien::Table reference(2);  // mean f1 = 2, mean f2 = 5
  reference.add_numbers("f1", MIEN_ROLE_FEATURE, {1, 3}).add_numbers("f2", MIEN_ROLE_FEATURE, {0, 10});
  mien::testing::ComponentRunner<Occlusion> runner({{"batch_size", 4}});  // 4 rows: one sample per call
  runner.set_input("model", &ref).set_input("samples", samples.view()).set_input("reference", std::move(reference));
  ASSERT_EQ(runner.run(), MIEN_OK) << runner.error();
  const mien::TableView t = runner.table("attributions");
  ASSERT_EQ(t.num_rows(), 3);
  EXPECT_THAT(t.get("id").texts(), ElementsAre("a", "b", "c"));
  // a: f1 = 1 -> happy; b: f1 = 2 -> a tie, argmax takes happy; c: f1 = 3 -> sad.
  EXPECT_THAT(t.get("predicted_class").texts(), ElementsAre("happy", "happy", "sad"));
  EXPECT_THAT(t.get("explained_class").texts(), ElementsAre("happy", "happy", "sad"));
  const auto f1 = t.get("f1").numbers(), f2 = t.get("f2").numbers(), out = t.get("output").numbers(),
             base = t.get("base_value").numbers();
  const double p_a = 1 - LogisticModel::p_sad(1), p_c = LogisticModel::p_sad(3);
  EXPECT_NEAR(out[0], p_a, 1e-6);
  EXPECT_NEAR(f1[0], p_a - 0.5, 1e-6);  // occluded to the mean f1 = 2: p = 0.5
  EXPECT_NEAR(f1[1], 0.0, 1e-6);        // already at the mean
  EXPECT_NEAR(f1[2], p_c - 0.5, 1e-6);
  for (double v : f2) EXPECT_EQ(v, 0.0);
  for (double b : base) EXPECT_NEAR(b, 0.5, 1e-6);
  // 1 mean row + 3 samples x (1 + 2 features), in one-sample batches.
  EXPECT_EQ(rows_sent, 10);
  EXPECT_EQ(t.meta()["model_rows"], 10);
  EXPECT_EQ(t.meta()["explainer"], "example.cpp_occlusion");
}

TEST(ExplainerExample, AModelWithoutFeatureNamesIsRefusedWithWhatIsNeeded) {
  const std::string info = R"({"input": "image", "classes": ["a"]})";
  int64_t rows_sent = 0;
  mien_model_ref ref{};
  ref.struct_size = sizeof ref;
  ref.capabilities = MIEN_CAP_PREDICT;
  ref.info_json = info.c_str();
  ref.opaque = &rows_sent;
  ref.predict = &LogisticModel::predict;
  OwnedTable samples = three_samples();
  mien::testing::ComponentRunner<Occlusion> runner;
  runner.set_input("model", &ref).set_input("samples", samples.view()).set_input("reference", samples.view());
  EXPECT_EQ(runner.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(runner.error(), HasSubstr("the model must take features and name them and its classes"));
}

// ---- the testing runner refuses a lying default, as the host's loader does -----------
class LyingDefault {
 public:
  static inline const mien::Param<double> kK = mien::Param<double>("k", -1.0, "may not be negative").min(0);
  static inline const mien::Output kOut{"out", MIEN_VALUE_TENSOR, "nothing"};
  static mien::ComponentInfo info() {
    return mien::ComponentInfo("test.lying_default", 1, MIEN_KIND_TRANSFORM, "lies").params(kK).ports(kOut);
  }
  explicit LyingDefault(const mien::Setup&) {}
  void process(mien::Context& ctx) { ctx.set(kOut, mien::Tensor::from<double>({1}, {0.0})); }
};

TEST(TestingRunner, ADefaultItsOwnSchemaRejectsIsRefused) {
  try {
    mien::testing::ComponentRunner<LyingDefault> runner;
    FAIL() << "the runner accepted a default below its own minimum";
  } catch (const mien::testing::InvalidParams& e) {
    EXPECT_STREQ(e.what(),
                 "test.lying_default: the component's own default is invalid (mien would not load it): parameter "
                 "'k' is -1.0, below the minimum 0.0");
  }
  // Giving the value explicitly does not hide the lie: the default is still checked.
  EXPECT_THROW(mien::testing::ComponentRunner<LyingDefault>({{"k", 2.0}}), mien::testing::InvalidParams);
}

}  // namespace
