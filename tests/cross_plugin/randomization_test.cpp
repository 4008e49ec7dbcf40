// Model-parameter randomisation end to end (Adebayo et al. 2018): the model components
// produce a randomised copy of a trained model (`randomize`), the same explainer runs on
// both, and metric.randomization_check must pass for trained vs randomised (explanations
// change) and fail for trained vs trained (nothing changed). Deep SHAP on model.mlp,
// Grad-CAM on model.cnn and on the face-api network. Also: the randomised models are
// valid artifacts (predict, gradients, layer description), and cascading leaves the
// lower layers untouched.
#include <gtest/gtest.h>
#include <mien/testing.hpp>

#include <cmath>
#include <random>

// Several plugins' components, named from the repository root (every plugin has a
// components.hpp): a test across plugins lives here, never inside one plugin.
#include "plugins/cnn/src/model_cnn.hpp"
#include "plugins/cnn/tests/cnn_host.hpp"
#include "plugins/explain/src/components.hpp"
#include "plugins/explain_image/src/components.hpp"
#include "plugins/faceapi/src/model_faceapi.hpp"
#include "plugins/models/src/model_mlp.hpp"

namespace {

using mien::Json;
using mien::testing::ComponentRunner;
using mien::testing::HostedModel;

template <typename C>
const mien_component_desc* desc() {
  return mien::detail::Adapter<C>::descriptor();
}

// 12 features, 3 classes: the class is the largest of f0, f1, f2 (plus a little noise);
// f3..f11 are noise the model should learn to ignore.
struct Features {
  std::vector<std::vector<double>> cols;
  std::vector<int64_t> y;
  std::vector<float> rows() const {  // [n, 12] row-major
    std::vector<float> x;
    for (size_t i = 0; i < y.size(); ++i)
      for (const auto& c : cols) x.push_back(static_cast<float>(c[i]));
    return x;
  }
};
Features make_features(int64_t n, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::normal_distribution<double> N(0.0, 1.0);
  const int64_t F = 12;
  std::vector<std::vector<double>> cols(F, std::vector<double>(static_cast<size_t>(n)));
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < F; ++j) cols[j][i] = N(g);
    int64_t best = 0;
    for (int64_t k = 1; k < 3; ++k)
      if (cols[k][i] + 0.1 * N(g) > cols[best][i]) best = k;
    y[i] = best;
  }
  return {cols, y};
}
mien::Table feature_table(int64_t n, uint64_t seed) {
  const Features d = make_features(n, seed);
  const auto& cols = d.cols;
  const auto& y = d.y;
  const int64_t F = 12;
  std::vector<std::string> ids;
  for (int64_t i = 0; i < n; ++i) ids.push_back("r" + std::to_string(i));
  mien::Table t(n);
  t.add_strings("id", MIEN_ROLE_ID, ids);
  t.add_codes("label", MIEN_ROLE_LABEL, y, {"a", "b", "c"});
  for (int64_t j = 0; j < F; ++j) t.add_numbers("f" + std::to_string(j), MIEN_ROLE_FEATURE, cols[j]);
  return t;
}

// Runs metric.randomization_check on two attribution tables or two map tensors.
Json compare_tables(const mien::TableView& a, const mien::TableView& b) {
  ComponentRunner<mien::ximg::RandomizationCheck> r(Json::object());
  r.set_input("attributions", a).set_input("attributions_randomized", b);
  EXPECT_EQ(r.run(), MIEN_OK) << r.error();
  return r.json("summary");
}
Json compare_maps(const mien::TensorView& a, const mien::TensorView& b) {
  ComponentRunner<mien::ximg::RandomizationCheck> r(Json::object());
  r.set_input("maps", mien::Tensor::from<float>(a.shape(), a.to_vector<float>()))
      .set_input("maps_randomized", mien::Tensor::from<float>(b.shape(), b.to_vector<float>()));
  EXPECT_EQ(r.run(), MIEN_OK) << r.error();
  return r.json("summary");
}

// Deep SHAP of 40 test rows against 200 background rows.
std::unique_ptr<ComponentRunner<mien::explain::DeepShap>> deep_shap(HostedModel& m) {
  auto r = std::make_unique<ComponentRunner<mien::explain::DeepShap>>(Json{{"background_size", 0}}, 5);
  r->set_input("model", m.ref()).set_input("samples", feature_table(40, 2)).set_input("background", feature_table(200, 3));
  EXPECT_EQ(r->run(), MIEN_OK) << r->error();
  return r;
}

}  // namespace

TEST(Randomization, DeepShapOnTheMlpChangesWhenTheWeightsAreRandomised) {
  ComponentRunner<mien::models::ModelMlp> train(
      {{"hidden", {32, 16}}, {"dropout", {0.1, 0.0}}, {"learning_rate", 0.01}, {"epochs", 60}, {"patience", 0}}, 3);
  train.set_input("train", feature_table(600, 1));
  ASSERT_EQ(train.run(), MIEN_OK) << train.error();
  HostedModel trained(desc<mien::models::ModelMlp>(), train.output_dir("model"));
  ASSERT_EQ(trained.status(), MIEN_OK) << trained.error();

  // The randomised copies: every layer, and only the output layer (cascade 1).
  auto randomised = [&](Json params) {
    auto r = std::make_unique<ComponentRunner<mien::models::ModelMlp>>(std::move(params), 9);
    r->set_input("source", trained.ref());
    EXPECT_EQ(r->run(), MIEN_OK) << r->error();
    return r;
  };
  auto all = randomised({{"randomize", "all"}});
  auto top = randomised({{"randomize", "cascade"}, {"randomize_layers", 1}});
  HostedModel m_all(desc<mien::models::ModelMlp>(), all->output_dir("model"));
  HostedModel m_top(desc<mien::models::ModelMlp>(), top->output_dir("model"));
  ASSERT_EQ(m_all.status(), MIEN_OK) << m_all.error();
  ASSERT_EQ(m_top.status(), MIEN_OK) << m_top.error();

  // Cascade 1: the hidden layers are the trained ones, bit for bit; the output layer is not.
  const Json lt = trained.info()["layers"], l1 = m_top.info()["layers"], la = m_all.info()["layers"];
  ASSERT_EQ(lt.size(), l1.size());
  std::vector<size_t> linear;
  for (size_t i = 0; i < lt.size(); ++i)
    if (lt[i]["op"] == "linear") linear.push_back(i);
  ASSERT_EQ(linear.size(), 3u);
  EXPECT_EQ(l1[linear[0]]["weight"], lt[linear[0]]["weight"]);
  EXPECT_EQ(l1[linear[1]]["weight"], lt[linear[1]]["weight"]);
  EXPECT_NE(l1[linear[2]]["weight"], lt[linear[2]]["weight"]);
  for (double b : l1[linear[2]]["bias"].get<std::vector<double>>()) EXPECT_EQ(b, 0.0);
  // The same seed draws the same output layer whatever the cascade depth.
  EXPECT_EQ(la[linear[2]]["weight"], l1[linear[2]]["weight"]);
  for (size_t k : linear) EXPECT_NE(la[k]["weight"], lt[k]["weight"]);
  // Glorot-uniform: every kernel entry within sqrt(6 / (in + out)).
  for (size_t k : linear) {
    const double lim = std::sqrt(6.0 / (la[k]["in"].get<double>() + la[k]["out"].get<double>()));
    for (double w : la[k]["weight"].get<std::vector<double>>()) EXPECT_LE(std::fabs(w), lim + 1e-6);
  }
  EXPECT_EQ(m_all.info()["randomized"]["mode"], "all");
  EXPECT_EQ(m_all.info()["standardized"], trained.info()["standardized"]);

  // Still a model: probabilities, gradients.
  const auto x = make_features(40, 2).rows();
  const mien::Tensor xt = mien::Tensor::from<float>({40, 12}, x);
  const auto p = m_all.model().predict(xt).view().to_vector<float>();
  for (int64_t i = 0; i < 40; ++i) EXPECT_NEAR(p[i * 3] + p[i * 3 + 1] + p[i * 3 + 2], 1.0, 1e-5);
  const auto g = m_all.model().input_gradient(xt, std::vector<int64_t>(40, 0));
  EXPECT_EQ(g.first.shape(), (std::vector<int64_t>{40, 12}));

  // Deep SHAP (which checks that the layer description reproduces predict) on all three.
  auto e_trained = deep_shap(trained), e_again = deep_shap(trained), e_all = deep_shap(m_all), e_top = deep_shap(m_top);
  const auto t_trained = e_trained->table("attributions");
  const Json same = compare_tables(t_trained, e_again->table("attributions"));
  const Json rnd = compare_tables(t_trained, e_all->table("attributions"));
  const Json casc = compare_tables(t_trained, e_top->table("attributions"));
  std::cout << "Deep SHAP Spearman trained vs itself " << same["spearman_mean"] << ", vs all randomised "
            << rnd["spearman_mean"] << ", vs output layer randomised " << casc["spearman_mean"] << "\n";
  EXPECT_NEAR(same["spearman_mean"].get<double>(), 1.0, 1e-12);
  EXPECT_FALSE(same["passed"].get<bool>());
  EXPECT_TRUE(rnd["passed"].get<bool>());
  EXPECT_LT(rnd["spearman_mean"].get<double>(), 0.5);
  EXPECT_LT(casc["spearman_mean"].get<double>(), same["spearman_mean"].get<double>());
}

TEST(Randomization, MlpRandomizeErrorsNameTheParameter) {
  ComponentRunner<mien::models::ModelMlp> train({{"hidden", {8}}, {"dropout", {0.0}}, {"epochs", 2}}, 3);
  train.set_input("train", feature_table(60, 1));
  ASSERT_EQ(train.run(), MIEN_OK) << train.error();
  HostedModel trained(desc<mien::models::ModelMlp>(), train.output_dir("model"));
  {
    ComponentRunner<mien::models::ModelMlp> r({{"randomize", "cascade"}, {"randomize_layers", 3}}, 1);
    r.set_input("source", trained.ref());
    EXPECT_NE(r.run(), MIEN_OK);
    EXPECT_NE(r.error().find("randomize_layers"), std::string::npos) << r.error();
    EXPECT_NE(r.error().find("1..2"), std::string::npos) << r.error();
  }
  {
    ComponentRunner<mien::models::ModelMlp> r(Json::object(), 1);
    r.set_input("source", trained.ref());
    EXPECT_NE(r.run(), MIEN_OK);
    EXPECT_NE(r.error().find("randomize"), std::string::npos) << r.error();
  }
}

TEST(Randomization, GradCamOnTheCnnChangesWhenTheWeightsAreRandomised) {
  using cnn_test::make_squares;
  const auto data = make_squares(320, 1), test = make_squares(40, 2);
  const Json toy = {{"channels", {8, 16}}, {"input_size", 16}, {"epochs", 8},  {"batch_size", 32},
                    {"learning_rate", 3e-3}, {"dropout", 0.0},  {"augment", false}, {"patience", 0}, {"head", "gap"}};
  ComponentRunner<mien::cnn::ModelCnn> train(toy, 7);
  train.set_input("images", cnn_test::squares_tensor(data), MIEN_PIXEL_GRAY);
  train.set_input("table", cnn_test::squares_table(data));
  ASSERT_EQ(train.run(), MIEN_OK) << train.error();
  HostedModel trained(desc<mien::cnn::ModelCnn>(), train.output_dir("model"));
  ASSERT_EQ(trained.status(), MIEN_OK) << trained.error();

  ComponentRunner<mien::cnn::ModelCnn> rnd({{"randomize", "cascade"}, {"randomize_layers", 5}}, 11);  // all 5 layers
  rnd.set_input("source", trained.ref());
  ASSERT_EQ(rnd.run(), MIEN_OK) << rnd.error();
  HostedModel randomised(desc<mien::cnn::ModelCnn>(), rnd.output_dir("model"));
  ASSERT_EQ(randomised.status(), MIEN_OK) << randomised.error();
  EXPECT_EQ(randomised.info()["randomized"]["layers"].size(), 5u);
  EXPECT_EQ(randomised.info()["cam_layers"], trained.info()["cam_layers"]);

  auto gradcam = [&](HostedModel& m) {
    auto r = std::make_unique<ComponentRunner<mien::ximg::GradCam>>(Json{{"layer", "block2"}, {"relu", false}});
    r->set_input("model", m.ref()).set_input("images", cnn_test::squares_tensor(test), MIEN_PIXEL_GRAY);
    EXPECT_EQ(r->run(), MIEN_OK) << r->error();
    return r;
  };
  auto c_trained = gradcam(trained), c_again = gradcam(trained), c_rnd = gradcam(randomised);
  const Json same = compare_maps(c_trained->tensor("maps"), c_again->tensor("maps"));
  const Json diff = compare_maps(c_trained->tensor("maps"), c_rnd->tensor("maps"));
  std::cout << "Grad-CAM (model.cnn) Spearman trained vs itself " << same["spearman_mean"] << ", vs randomised "
            << diff["spearman_mean"] << "\n";
  EXPECT_FALSE(same["passed"].get<bool>());
  EXPECT_TRUE(diff["passed"].get<bool>());
  const Json meta = c_rnd->table("attributions").meta();
  EXPECT_EQ(meta["model_rows"], 80);
  EXPECT_GE(meta["seconds"].get<double>(), 0.0);
}

TEST(Randomization, GradCamOnFaceApiChangesWhenTheWeightsAreRandomised) {
  // A few structured images (the shipped network responds to faces; any texture will do
  // for the check, which compares the maps of the two networks on the same images).
  const int64_t n = 6, S = 112;
  std::vector<uint8_t> px(static_cast<size_t>(n * S * S * 3));
  std::mt19937_64 g(5);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t y = 0; y < S; ++y)
      for (int64_t x = 0; x < S; ++x)
        for (int64_t c = 0; c < 3; ++c) {
          const double v = 128 + 60 * std::sin(0.07 * (x + 13 * i) + 0.05 * c) * std::cos(0.09 * (y - 7 * i)) +
                           static_cast<double>(g() % 30);
          px[static_cast<size_t>(((i * S + y) * S + x) * 3 + c)] = static_cast<uint8_t>(std::clamp(v, 0.0, 255.0));
        }
  auto images = [&] { return mien::Tensor::from<uint8_t>({n, S, S, 3}, px); };
  auto model = [&](Json params) {
    auto r = std::make_unique<ComponentRunner<mien::faceapi::ModelFaceApiExpression>>(std::move(params), 4);
    EXPECT_EQ(r->run(), MIEN_OK) << r->error();
    return r;
  };
  auto shipped = model(Json::object());
  auto cascade = model({{"randomize", "cascade"}, {"randomize_layers", 9}});  // head + blocks 3 and 2
  HostedModel m_shipped(desc<mien::faceapi::ModelFaceApiExpression>(), shipped->output_dir("model"));
  HostedModel m_rnd(desc<mien::faceapi::ModelFaceApiExpression>(), cascade->output_dir("model"));
  ASSERT_EQ(m_shipped.status(), MIEN_OK) << m_shipped.error();
  ASSERT_EQ(m_rnd.status(), MIEN_OK) << m_rnd.error();
  EXPECT_EQ(m_rnd.info()["randomized"]["layers"].size(), 9u);
  EXPECT_EQ(m_rnd.info()["randomized"]["layers"][8], "block2.sep0");  // the last of block 2

  auto gradcam = [&](HostedModel& m) {
    auto r = std::make_unique<ComponentRunner<mien::ximg::GradCam>>(Json{{"layer", "block1"}, {"relu", false}});
    r->set_input("model", m.ref()).set_input("images", images(), MIEN_PIXEL_RGB);
    EXPECT_EQ(r->run(), MIEN_OK) << r->error();
    return r;
  };
  auto c_shipped = gradcam(m_shipped), c_rnd = gradcam(m_rnd);
  const Json same = compare_maps(c_shipped->tensor("maps"), gradcam(m_shipped)->tensor("maps"));
  const Json diff = compare_maps(c_shipped->tensor("maps"), c_rnd->tensor("maps"));
  std::cout << "Grad-CAM (face-api, block1) Spearman shipped vs itself " << same["spearman_mean"]
            << ", vs cascade 9 " << diff["spearman_mean"] << "\n";
  EXPECT_FALSE(same["passed"].get<bool>());
  EXPECT_TRUE(diff["passed"].get<bool>());
  // The randomised network still predicts probabilities.
  const auto p = m_rnd.model().predict(images()).view().to_vector<float>();
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t k = 0; k < 7; ++k) s += p[static_cast<size_t>(i * 7 + k)];
    EXPECT_NEAR(s, 1.0, 1e-4);
  }
}
