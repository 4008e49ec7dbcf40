// model.cnn: learning a toy image problem, the artifact round trip, determinism,
// input gradients against finite differences, Grad-CAM sanity, and input errors.
#include <gtest/gtest.h>
#include <mien/testing.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "cnn_host.hpp"
#include "model_cnn.hpp"

namespace {

using cnn_test::HostedModel;
using cnn_test::make_squares;
using cnn_test::Squares;
using cnn_test::squares_table;
using cnn_test::squares_tensor;
using mien::Json;
using mien::cnn::ModelCnn;
using Runner = mien::testing::ComponentRunner<ModelCnn>;

const mien_component_desc* descriptor() { return mien::detail::Adapter<ModelCnn>::descriptor(); }

// Tiny and quick: 16 x 16 gray images, two blocks, no augmentation (a flip would
// change the class of the toy problem).
Json toy_params(Json extra = Json::object()) {
  Json p = {{"channels", {8, 16}}, {"input_size", 16},    {"epochs", 6},       {"batch_size", 32},
            {"learning_rate", 3e-3}, {"dropout", 0.0},    {"augment", false},  {"patience", 0}};
  p.update(extra);
  return p;
}

std::unique_ptr<Runner> train(const Json& params, uint64_t seed, const Squares& data) {
  auto r = std::make_unique<Runner>(params, seed);
  r->set_input("images", squares_tensor(data), MIEN_PIXEL_GRAY);
  r->set_input("table", squares_table(data));
  EXPECT_EQ(r->run(), MIEN_OK) << r->error();
  return r;
}

// One model for the read-only tests, trained once.
Runner& toy_model() {
  static std::unique_ptr<Runner> r = train(toy_params(), 7, make_squares(320, 1));
  return *r;
}

std::vector<float> predict(HostedModel& m, const mien::Tensor& x) {
  return m.model().predict(x).view().to_vector<float>();
}

double accuracy(const std::vector<float>& probs, const std::vector<int64_t>& labels, int64_t classes) {
  int64_t right = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const float* row = &probs[i * static_cast<size_t>(classes)];
    right += (std::max_element(row, row + classes) - row) == labels[i] ? 1 : 0;
  }
  return static_cast<double>(right) / static_cast<double>(labels.size());
}

mien::Tensor as_float(const Squares& s, int64_t first, int64_t count) {
  std::vector<float> v(s.pixels.begin() + first * s.size * s.size, s.pixels.begin() + (first + count) * s.size * s.size);
  return mien::Tensor::from<float>({count, s.size, s.size, 1}, v);
}

TEST(ModelCnn, DeclaresAModelComponentWithGradientCapabilities) {
  const mien_component_desc* d = descriptor();
  EXPECT_STREQ(d->type_id, "model.cnn");
  EXPECT_EQ(d->kind, MIEN_KIND_MODEL);
  ASSERT_NE(d->model, nullptr);
  EXPECT_EQ(d->model->capabilities, MIEN_CAP_PREDICT | MIEN_CAP_INPUT_GRADIENT | MIEN_CAP_LAYER_GRADIENT);
}

TEST(ModelCnn, LearnsWhereTheSquareIsOnHeldOutImages) {
  Runner& r = toy_model();
  const mien::TableView curve = r.table("curve");
  EXPECT_EQ(curve.num_rows(), 6);
  ASSERT_TRUE(curve.find("val_accuracy").has_value());
  HostedModel m(descriptor(), r.output_dir("model"));
  ASSERT_EQ(m.status(), MIEN_OK) << m.error();
  const Squares test = make_squares(200, 99);
  const std::vector<float> p = predict(m, squares_tensor(test));
  ASSERT_EQ(p.size(), 200u * 4);
  for (int64_t i = 0; i < 200; ++i) {
    double sum = 0;
    for (int k = 0; k < 4; ++k) sum += p[static_cast<size_t>(i * 4 + k)];
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
  EXPECT_GT(accuracy(p, test.labels, 4), 0.9);
  const Json info = m.info();
  EXPECT_EQ(info["input"], "image");
  EXPECT_EQ(info["input_shape"], Json({16, 16, 1}));
  EXPECT_EQ(info["classes"], Json({"tl", "tr", "bl", "br"}));
  EXPECT_EQ(info["cam_layers"], Json({"block1", "block2"}));
  EXPECT_EQ(info["default_cam_layer"], "block2");
}

TEST(ModelCnn, OpenedArtifactReproducesTheTrainingValidationFiguresAndIsStable) {
  const Squares train_set = make_squares(240, 3), val = make_squares(80, 4);
  Runner r(toy_params({{"epochs", 3}}), 5);
  r.set_input("images", squares_tensor(train_set), MIEN_PIXEL_GRAY);
  r.set_input("table", squares_table(train_set));
  r.set_input("validation_images", squares_tensor(val), MIEN_PIXEL_GRAY);
  r.set_input("validation_table", squares_table(val));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json desc = r.json("model");
  HostedModel a(descriptor(), r.output_dir("model")), b(descriptor(), r.output_dir("model"));
  ASSERT_EQ(a.status(), MIEN_OK) << a.error();
  const std::vector<float> pa = predict(a, squares_tensor(val)), pb = predict(b, squares_tensor(val));
  ASSERT_EQ(pa.size(), pb.size());
  float max_diff = 0;
  for (size_t i = 0; i < pa.size(); ++i) max_diff = std::max(max_diff, std::abs(pa[i] - pb[i]));
  EXPECT_EQ(max_diff, 0.0f);
  // The kept epoch's validation accuracy, measured in training, is what the saved model gives.
  EXPECT_DOUBLE_EQ(accuracy(pa, val.labels, 4), desc["val_accuracy"].get<double>());
  // uint8 and float32 inputs of the same pixels give the same probabilities.
  const std::vector<float> pf = predict(a, as_float(val, 0, val.n));
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_EQ(pa[i], pf[i]);
}

TEST(ModelCnn, SameSeedGivesBitIdenticalModelsAndAnotherSeedDoesNot) {
  const Squares data = make_squares(160, 11);
  const Json p = toy_params({{"epochs", 2}, {"augment", true}, {"dropout", 0.2}});
  auto r1 = train(p, 42, data), r2 = train(p, 42, data), r3 = train(p, 43, data);
  HostedModel m1(descriptor(), r1->output_dir("model")), m2(descriptor(), r2->output_dir("model")),
      m3(descriptor(), r3->output_dir("model"));
  const Squares probe = make_squares(40, 12);
  const auto p1 = predict(m1, squares_tensor(probe)), p2 = predict(m2, squares_tensor(probe)),
             p3 = predict(m3, squares_tensor(probe));
  EXPECT_EQ(p1, p2);
  EXPECT_NE(p1, p3);
}

// Central differences of the logit on a few pixels, at the model's size and resized.
void check_gradient_against_finite_differences(int64_t size) {
  HostedModel m(descriptor(), toy_model().output_dir("model"));
  ASSERT_EQ(m.status(), MIEN_OK) << m.error();
  const Squares s = make_squares(2, 21, size);
  std::vector<float> x(s.pixels.begin(), s.pixels.end());
  const std::vector<int64_t> cls = {s.labels[0], s.labels[1]};
  auto run = [&](const std::vector<float>& v) {
    return m.model().input_gradient(mien::Tensor::from<float>({2, size, size, 1}, v), cls);
  };
  auto [grad_t, score_t] = run(x);
  ASSERT_EQ(grad_t.shape(), (std::vector<int64_t>{2, size, size, 1}));
  const std::vector<float> g = grad_t.view().to_vector<float>();
  float gmax = 0;
  for (float v : g) gmax = std::max(gmax, std::abs(v));
  ASSERT_GT(gmax, 0.0f);
  // The pixels with the largest gradients, and a few fixed ones.
  std::vector<size_t> order(g.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::partial_sort(order.begin(), order.begin() + 4, order.end(),
                    [&](size_t a, size_t b) { return std::abs(g[a]) > std::abs(g[b]); });
  std::vector<size_t> probe(order.begin(), order.begin() + 4);
  probe.push_back(static_cast<size_t>(size * size / 2 + 3));
  probe.push_back(static_cast<size_t>(size * size + 5 * size + 7));
  const double eps = 0.5;
  for (size_t i : probe) {
    std::vector<float> up = x, down = x;
    up[i] += static_cast<float>(eps);
    down[i] -= static_cast<float>(eps);
    const size_t row = i / static_cast<size_t>(size * size);
    const double fd = (run(up).second.view().at(static_cast<int64_t>(row)) -
                       run(down).second.view().at(static_cast<int64_t>(row))) /
                      (2 * eps);
    EXPECT_NEAR(fd, g[i], 0.03 * gmax + 1e-4) << "pixel " << i << " at size " << size;
  }
}

TEST(ModelCnn, InputGradientMatchesFiniteDifferences) { check_gradient_against_finite_differences(16); }
TEST(ModelCnn, InputGradientMatchesFiniteDifferencesThroughTheResize) { check_gradient_against_finite_differences(24); }

TEST(ModelCnn, LayerGradientShapesAndGradCamPointsAtTheSquare) {
  HostedModel m(descriptor(), toy_model().output_dir("model"));
  ASSERT_EQ(m.status(), MIEN_OK) << m.error();
  const Squares s = make_squares(40, 31);
  const mien::ModelRef ref = m.model();
  const auto l1 = ref.layer_gradient("block1", squares_tensor(s), s.labels);
  EXPECT_EQ(l1.activations.shape(), (std::vector<int64_t>{40, 8, 8, 8}));
  EXPECT_EQ(l1.gradients.shape(), (std::vector<int64_t>{40, 8, 8, 8}));
  const auto l2 = ref.layer_gradient("block2", squares_tensor(s), s.labels);
  ASSERT_EQ(l2.activations.shape(), (std::vector<int64_t>{40, 16, 4, 4}));
  ASSERT_EQ(l2.gradients.shape(), (std::vector<int64_t>{40, 16, 4, 4}));
  // The scores are the logits input_gradient reports.
  const auto ig = ref.input_gradient(squares_tensor(s), s.labels);
  for (int64_t i = 0; i < 40; ++i) EXPECT_NEAR(l2.scores.view().at(i), ig.second.view().at(i), 1e-4);

  // Gradient-weighted activation per cell of the last block: sum over channels of
  // activation x gradient (with the linear head, each cell's share of the logit).
  const std::vector<float> a = l2.activations.view().to_vector<float>(), g = l2.gradients.view().to_vector<float>();
  int64_t hits = 0;
  for (int64_t i = 0; i < 40; ++i) {
    std::vector<double> cam(16, 0.0);
    for (int64_t c = 0; c < 16; ++c)
      for (int64_t k = 0; k < 16; ++k) {
        const auto at = static_cast<size_t>((i * 16 + c) * 16 + k);
        cam[static_cast<size_t>(k)] += static_cast<double>(a[at]) * g[at];
      }
    double inside = 0, outside = 0;
    const int64_t qx = s.labels[static_cast<size_t>(i)] % 2, qy = s.labels[static_cast<size_t>(i)] / 2;
    for (int64_t y = 0; y < 4; ++y)
      for (int64_t x = 0; x < 4; ++x) {
        const double v = cam[static_cast<size_t>(y * 4 + x)];
        ((y / 2 == qy && x / 2 == qx) ? inside : outside) += v;
      }
    hits += inside / 4 > outside / 12 ? 1 : 0;
  }
  EXPECT_GE(hits, 36) << "Grad-CAM should be larger in the square's quadrant";
  // An unknown layer is an error naming the layers.
  EXPECT_THROW(ref.layer_gradient("conv5", squares_tensor(s), s.labels), mien::Error);
  EXPECT_NE(m.error().find("no layer 'conv5'; the layers are block1 .. block2"), std::string::npos) << m.error();
}

// Class = shape (0 square 4 x 4, 1 bar 8 x 2, 2 bar 2 x 8) anywhere in 16 x 16 noise:
// what a global-average-pool head can learn.
Squares make_shapes(int64_t n, uint64_t seed) {
  std::mt19937_64 gen(seed);
  auto below = [&](uint64_t k) { return static_cast<int64_t>(gen() % k); };
  Squares s;
  s.n = n;
  s.pixels.resize(static_cast<size_t>(n * 256));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = i % 3, w = k == 0 ? 4 : k == 1 ? 8 : 2, h = k == 0 ? 4 : k == 1 ? 2 : 8;
    const int64_t x0 = below(static_cast<uint64_t>(16 - w + 1)), y0 = below(static_cast<uint64_t>(16 - h + 1));
    s.labels.push_back(k);
    s.sx.push_back(x0 + w / 2);  // the shape's centre
    s.sy.push_back(y0 + h / 2);
    uint8_t* p = &s.pixels[static_cast<size_t>(i * 256)];
    for (int64_t j = 0; j < 256; ++j) p[j] = static_cast<uint8_t>(below(70));
    for (int64_t y = y0; y < y0 + h; ++y)
      for (int64_t x = x0; x < x0 + w; ++x) p[y * 16 + x] = static_cast<uint8_t>(180 + below(76));
  }
  return s;
}

TEST(ModelCnn, GlobalAveragePoolHeadGivesClassicGradCamAtTheShape) {
  const Squares train_set = make_shapes(360, 5), test = make_shapes(60, 6);
  std::vector<int64_t> labels = train_set.labels;
  Runner r(toy_params({{"head", "gap"}, {"epochs", 10}}), 3);
  r.set_input("images", squares_tensor(train_set), MIEN_PIXEL_GRAY);
  mien::Table t(train_set.n);
  t.add_codes("label", MIEN_ROLE_LABEL, labels, {"square", "wide", "tall"});
  r.set_input("table", std::move(t));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  HostedModel m(descriptor(), r.output_dir("model"));
  ASSERT_EQ(m.status(), MIEN_OK) << m.error();
  EXPECT_EQ(m.info()["architecture"]["head"], "gap");
  const std::vector<float> p = predict(m, squares_tensor(test));
  EXPECT_GT(accuracy(p, test.labels, 3), 0.85);
  const auto l = m.model().layer_gradient("block2", squares_tensor(test), test.labels);
  ASSERT_EQ(l.activations.shape(), (std::vector<int64_t>{60, 16, 4, 4}));
  const std::vector<float> a = l.activations.view().to_vector<float>(), g = l.gradients.view().to_vector<float>();
  int64_t hits = 0;
  for (int64_t i = 0; i < 60; ++i) {
    std::vector<double> cam(16, 0.0);
    for (int64_t c = 0; c < 16; ++c) {
      double alpha = 0;
      for (int64_t k = 0; k < 16; ++k) alpha += g[static_cast<size_t>((i * 16 + c) * 16 + k)] / 16;
      for (int64_t k = 0; k < 16; ++k) cam[static_cast<size_t>(k)] += alpha * a[static_cast<size_t>((i * 16 + c) * 16 + k)];
    }
    const int64_t centre = std::min<int64_t>(test.sy[static_cast<size_t>(i)] / 4, 3) * 4 +
                           std::min<int64_t>(test.sx[static_cast<size_t>(i)] / 4, 3);
    double others = 0;
    for (int64_t k = 0; k < 16; ++k)
      if (k != centre) others += std::max(cam[static_cast<size_t>(k)], 0.0) / 15;
    hits += std::max(cam[static_cast<size_t>(centre)], 0.0) > others ? 1 : 0;
  }
  EXPECT_GE(hits, 48) << "classic Grad-CAM should peak at the shape's cell";
}

TEST(ModelCnn, TrainsOnRgbImagesAndRejectsTheWrongChannelCount) {
  const Squares gray = make_squares(64, 8);
  std::vector<uint8_t> rgb;
  for (uint8_t v : gray.pixels) rgb.insert(rgb.end(), {v, static_cast<uint8_t>(v / 2), static_cast<uint8_t>(255 - v)});
  Runner r(toy_params({{"epochs", 1}, {"input_size", 12}}), 1);
  r.set_input("images", mien::Tensor::from<uint8_t>({64, 16, 16, 3}, rgb), MIEN_PIXEL_RGB);
  r.set_input("table", squares_table(gray));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  HostedModel m(descriptor(), r.output_dir("model"));
  ASSERT_EQ(m.status(), MIEN_OK) << m.error();
  EXPECT_EQ(m.info()["input_shape"], Json({16, 16, 3}));
  const std::vector<uint8_t> two(rgb.begin(), rgb.begin() + 2 * 16 * 16 * 3);
  EXPECT_EQ(m.model().predict(mien::Tensor::from<uint8_t>({2, 16, 16, 3}, two)).shape(),
            (std::vector<int64_t>{2, 4}));
  EXPECT_THROW(m.model().predict(squares_tensor(gray)), mien::Error);
  EXPECT_EQ(m.error(),
            "model.cnn: the input must be images [N, H, W, 3] (uint8, or float32 on the 0..255 scale), got uint8 "
            "[64, 16, 16, 1]");
}

TEST(ModelCnn, StopsWhenCancelledBetweenBatches) {
  const Squares data = make_squares(160, 1);
  Runner r(toy_params({{"epochs", 50}}), 1);
  r.set_input("images", squares_tensor(data), MIEN_PIXEL_GRAY);
  r.set_input("table", squares_table(data));
  r.cancel_after(3);
  EXPECT_EQ(r.run(), MIEN_ERR_CANCELLED);
  EXPECT_LE(r.progress().size(), 1u);  // stopped inside the first epoch
}

TEST(ModelCnn, RowCountMismatchIsAnError) {
  const Squares data = make_squares(40, 1), fewer = make_squares(30, 1);
  Runner r(toy_params(), 1);
  r.set_input("images", squares_tensor(data), MIEN_PIXEL_GRAY);
  r.set_input("table", squares_table(fewer));
  EXPECT_NE(r.run(), MIEN_OK);
  EXPECT_EQ(r.error(),
            "model.cnn: input 'images' has 40 images but 'table' has 30 rows; row i of the table must describe image i");
}

TEST(ModelCnn, OneClassOnlyIsAnError) {
  const Squares data = make_squares(20, 1);
  const std::vector<int64_t> same(20, 2);
  Runner r(toy_params(), 1);
  r.set_input("images", squares_tensor(data), MIEN_PIXEL_GRAY);
  r.set_input("table", squares_table(data, &same));
  EXPECT_NE(r.run(), MIEN_OK);
  EXPECT_EQ(r.error(), "model.cnn: the training rows hold only one class ('bl'); a classifier needs at least two classes");
}

TEST(ModelCnn, BadParametersFailBeforeTraining) {
  const Squares data = make_squares(20, 1);
  auto error_of = [&](const Json& extra) {
    Runner r(toy_params(extra), 1);
    r.set_input("images", squares_tensor(data), MIEN_PIXEL_GRAY);
    r.set_input("table", squares_table(data));
    EXPECT_NE(r.run(), MIEN_OK);
    EXPECT_TRUE(r.progress().empty());  // nothing trained
    return r.error();
  };
  EXPECT_EQ(error_of({{"channels", Json::array()}}),
            "model.cnn: parameter 'channels' must list at least one block, e.g. [32, 64, 128]");
  EXPECT_EQ(error_of({{"channels", {8, 8, 8, 8, 8}}, {"input_size", 16}}),
            "model.cnn: parameter 'input_size' 16 is too small for 5 blocks (each halves the size): at least 32 is "
            "needed");
  EXPECT_EQ(error_of({{"augment", {{"blur", 1}}}}),
            "model.cnn: parameter 'augment': unknown key 'blur' (expected flip, rotation, scale, brightness, contrast)");
}

TEST(ModelCnn, ImagesMustBeUint8WithOneOrThreeChannels) {
  const Squares data = make_squares(20, 1);
  Runner r(toy_params(), 1);
  std::vector<float> v(data.pixels.begin(), data.pixels.end());
  r.set_input("images", mien::Tensor::from<float>({20, 16, 16, 1}, v));
  r.set_input("table", squares_table(data));
  EXPECT_NE(r.run(), MIEN_OK);
  EXPECT_EQ(r.error(), "model.cnn: input 'images' must be uint8 images [N, H, W, C] with C = 1 or 3, got float32 [20, 16, 16, 1]");
}

}  // namespace

TEST(ModelCnn, RandomizeFromSourceResetsTheTopLayersOnly) {
  Runner& trained = toy_model();
  HostedModel src(descriptor(), trained.output_dir("model"));
  ASSERT_EQ(src.status(), MIEN_OK) << src.error();
  auto randomised = [&](Json p) {
    auto r = std::make_unique<Runner>(std::move(p), 5);
    r->set_input("source", src.ref());
    EXPECT_EQ(r->run(), MIEN_OK) << r->error();
    return r;
  };
  auto fc_only = randomised({{"randomize", "cascade"}, {"randomize_layers", 1}});
  auto three = randomised({{"randomize", "cascade"}, {"randomize_layers", 3}});  // fc + block2 conv2, conv1
  HostedModel m1(descriptor(), fc_only->output_dir("model")), m3(descriptor(), three->output_dir("model"));
  ASSERT_EQ(m1.status(), MIEN_OK) << m1.error();
  ASSERT_EQ(m3.status(), MIEN_OK) << m3.error();
  EXPECT_EQ(m3.info()["randomized"]["layers"], Json({"fc", "block2.conv2", "block2.conv1"}));
  const Squares test = make_squares(8, 21);
  const auto acts = [&](HostedModel& m, const char* layer) {
    return m.model().layer_gradient(layer, squares_tensor(test), test.labels).activations.view().to_vector<float>();
  };
  // fc only: both blocks compute exactly what the trained ones do; the predictions change.
  EXPECT_EQ(acts(m1, "block2"), acts(src, "block2"));
  EXPECT_NE(predict(m1, squares_tensor(test)), predict(src, squares_tensor(test)));
  // three layers: block 1 untouched, block 2 re-initialised.
  EXPECT_EQ(acts(m3, "block1"), acts(src, "block1"));
  EXPECT_NE(acts(m3, "block2"), acts(src, "block2"));
  const std::vector<float> p = predict(m3, squares_tensor(test));
  for (size_t i = 0; i < 8; ++i) EXPECT_NEAR(p[i * 4] + p[i * 4 + 1] + p[i * 4 + 2] + p[i * 4 + 3], 1.0, 1e-5);

  Runner too_deep({{"randomize", "cascade"}, {"randomize_layers", 6}}, 5);
  too_deep.set_input("source", src.ref());
  EXPECT_NE(too_deep.run(), MIEN_OK);
  EXPECT_NE(too_deep.error().find("1..5"), std::string::npos) << too_deep.error();
  Runner no_mode(Json::object(), 5);
  no_mode.set_input("source", src.ref());
  EXPECT_NE(no_mode.run(), MIEN_OK);
  EXPECT_NE(no_mode.error().find("randomize"), std::string::npos) << no_mode.error();
  Runner nothing(toy_params(), 5);
  EXPECT_NE(nothing.run(), MIEN_OK);
  EXPECT_NE(nothing.error().find("source"), std::string::npos) << nothing.error();
}

// ---- validation by person ----

namespace {

// The squares table with a GROUP column `subject`: six people with 6, 10, 14, 18, 22 and 26
// images (distinct counts, so the validation row count says which people were held out).
struct PeopleSquares {
  Squares data;
  std::vector<std::string> subject_of_row;
  std::map<std::string, int64_t> rows_of;
};
PeopleSquares people_squares() {
  PeopleSquares p;
  p.data = make_squares(96, 5);
  for (int person = 0; person < 6; ++person) {
    const std::string name = "p" + std::to_string(person);
    const int64_t rows = 6 + 4 * person;
    for (int64_t k = 0; k < rows; ++k) p.subject_of_row.push_back(name);
    p.rows_of[name] = rows;
  }
  return p;
}
mien::Table people_table(const PeopleSquares& p) {
  mien::Table t = squares_table(p.data);
  t.add_strings("subject", MIEN_ROLE_GROUP, p.subject_of_row);
  return t;
}
Json read_cnn_json(Runner& r) {
  std::ifstream in(std::filesystem::path(r.output_dir("model")) / "cnn.json");
  return Json::parse(in);
}

TEST(ModelCnn, ValidationHoldsOutWholePeopleByDefault) {
  const PeopleSquares p = people_squares();
  for (uint64_t seed : {1u, 2u, 3u}) {
    Runner r(toy_params({{"epochs", 2}, {"validation_split", 0.34}}), seed);
    r.set_input("images", squares_tensor(p.data), MIEN_PIXEL_GRAY);
    r.set_input("table", people_table(p));
    ASSERT_EQ(r.run(), MIEN_OK) << r.error();
    const Json training = read_cnn_json(r)["training"];
    EXPECT_EQ(training["validation_group"], "subject");
    const auto held = training["validation_people"].get<std::vector<std::string>>();
    ASSERT_EQ(held.size(), 2u);  // round(0.34 x 6)
    // Every row of a held-out person is in validation and every other row in training:
    // the counts are exactly the held-out people's rows and the rest, so no person is on
    // both sides and no row is lost.
    int64_t held_rows = 0;
    for (const auto& name : held) held_rows += p.rows_of.at(name);
    EXPECT_EQ(training["validation_rows"], held_rows) << "seed " << seed;
    EXPECT_EQ(training["train_rows"], 96 - held_rows) << "seed " << seed;
    EXPECT_EQ(r.json("model")["validation_people"], training["validation_people"]);
    EXPECT_TRUE(r.logged("model.cnn: 2 of 6 people (subject) held out for validation: " + held[0] + ", " + held[1],
                         MIEN_LOG_INFO));
    EXPECT_TRUE(training["history"][0]["val_accuracy"].is_number());  // early stopping sees them
  }
}

TEST(ModelCnn, ValidationFallsBackToRowsWithoutAGroupColumn) {
  // No GROUP column: the stratified hold-out of rows, said in the log.
  auto r = train(toy_params({{"epochs", 1}, {"validation_split", 0.25}}), 1, make_squares(80, 2));
  const Json training = read_cnn_json(*r)["training"];
  EXPECT_EQ(training["validation_group"], "rows");
  EXPECT_TRUE(training["validation_people"].empty());
  EXPECT_EQ(training["validation_rows"], 20);  // 5 of each class's 20
  EXPECT_EQ(training["train_rows"], 60);
  EXPECT_TRUE(r->logged("model.cnn: validation holds out rows (stratified by class), not people: the table has no "
                        "GROUP column 'subject'",
                        MIEN_LOG_INFO));

  // validation_group: rows on a table with people; a missing column is an error naming the GROUP columns.
  const PeopleSquares p = people_squares();
  Runner rows(toy_params({{"epochs", 1}, {"validation_split", 0.25}, {"validation_group", "rows"}}), 1);
  rows.set_input("images", squares_tensor(p.data), MIEN_PIXEL_GRAY);
  rows.set_input("table", people_table(p));
  ASSERT_EQ(rows.run(), MIEN_OK) << rows.error();
  EXPECT_EQ(read_cnn_json(rows)["training"]["validation_group"], "rows");
  EXPECT_EQ(read_cnn_json(rows)["training"]["validation_rows"], 24);
  Runner bad(toy_params({{"validation_group", "person"}}), 1);
  bad.set_input("images", squares_tensor(p.data), MIEN_PIXEL_GRAY);
  bad.set_input("table", people_table(p));
  EXPECT_EQ(bad.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(bad.error().find("'validation_group' is 'person', but the training table has no such column (GROUP "
                             "columns: subject)"),
            std::string::npos)
      << bad.error();
}

}  // namespace
