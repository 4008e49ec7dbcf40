// model.mlp: learning, the artifact round trip, determinism, gradients, the layer
// description, and the errors raised before any training.
#include <gtest/gtest.h>

#include <set>
#include <mien/testing.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "model_host.hpp"
#include "model_mlp.hpp"

namespace {

namespace fs = std::filesystem;
using mien::Json;
using mien::models::ModelMlp;
using mien::testing::ComponentRunner;
using models_test::blob_features;
using models_test::blob_matrix;
using models_test::blob_table;
using models_test::Blobs;
using models_test::eval_layers;
using models_test::HostedModel;
using models_test::make_blobs;

const mien_component_desc* descriptor() { return mien::detail::Adapter<ModelMlp>::descriptor(); }

// Small and quick: 135 training rows, 9 steps per epoch.
Json small_params(Json extra = Json::object()) {
  Json p = {{"hidden", {16}}, {"dropout", {0.1}}, {"learning_rate", 0.01}, {"batch_size", 16}, {"epochs", 40},
            {"patience", 0}};
  p.update(extra);
  return p;
}

using Runner = ComponentRunner<ModelMlp>;

std::unique_ptr<Runner> train(const Json& params, uint64_t seed, mien::Table table) {
  auto r = std::make_unique<Runner>(params, seed);
  r->set_input("train", std::move(table));
  const mien_status st = r->run();
  EXPECT_EQ(st, MIEN_OK) << r->error();
  return r;
}

Json read_json(const fs::path& p) {
  std::ifstream in(p);
  return Json::parse(in);
}

double accuracy(const std::vector<float>& probs, const std::vector<int64_t>& labels) {
  int64_t right = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const float* row = &probs[i * 3];
    right += (std::max_element(row, row + 3) - row) == labels[i] ? 1 : 0;
  }
  return static_cast<double>(right) / static_cast<double>(labels.size());
}

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    do path_ = fs::temp_directory_path() / ("mien-models-test-" + std::to_string(rd()));
    while (!fs::create_directory(path_));
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

TEST(ModelMlp, DeclaresAModelComponentWithItsCapabilities) {
  const mien_component_desc* d = descriptor();
  EXPECT_EQ(d->kind, MIEN_KIND_MODEL);
  ASSERT_NE(d->model, nullptr);
  EXPECT_EQ(d->model->capabilities, MIEN_CAP_PREDICT | MIEN_CAP_INPUT_GRADIENT | MIEN_CAP_LAYER_STRUCTURE);
  const Json schema = Json::parse(d->params_schema_json);
  EXPECT_EQ(schema["properties"]["hidden"]["default"], Json({352, 256}));
  EXPECT_EQ(schema["properties"]["dropout"]["default"], Json({0.3, 0.8}));
  for (const auto& [name, s] : schema["properties"].items()) EXPECT_TRUE(s.contains("description")) << name;
}

TEST(ModelMlp, LearnsALinearlySeparableThreeClassProblem) {
  auto r = train(small_params(), 1, blob_table(make_blobs(50, 1)));
  HostedModel m(descriptor(), r->output_dir("model"));
  ASSERT_EQ(m.status(), MIEN_OK) << m.error();
  const Blobs test = make_blobs(100, 2);  // unseen rows
  const auto probs = m.predict(blob_matrix(test), 300, 4);
  EXPECT_GT(accuracy(probs, test.labels), 0.95);
  for (size_t i = 0; i < 300; ++i) EXPECT_NEAR(probs[i * 3] + probs[i * 3 + 1] + probs[i * 3 + 2], 1.0f, 1e-5f);

  const Json info = m.info();
  EXPECT_EQ(info["type_id"], "model.mlp");
  EXPECT_EQ(info["input"], "features");
  EXPECT_EQ(info["input_shape"], Json({4}));
  EXPECT_EQ(info["feature_names"], Json(blob_features()));
  EXPECT_EQ(info["classes"], Json({"a", "b", "c"}));
  EXPECT_EQ(info["score"], "logit");

  const auto curve = r->table("curve");
  EXPECT_EQ(curve.num_rows(), 40);
  EXPECT_EQ(curve.get("epoch").codes().back(), 40);
  const auto loss = curve.get("train_loss").numbers();
  EXPECT_LT(loss.back(), loss.front() / 3);
  EXPECT_GT(curve.get("val_accuracy").numbers().back(), 0.9);  // one of the 5 people held out (30 rows)
  const Json desc = r->json("model");
  EXPECT_EQ(desc["classes"], Json({"a", "b", "c"}));
  EXPECT_EQ(desc["validation_rows"], 30);
  EXPECT_EQ(desc["train_rows"], 120);
  EXPECT_TRUE(r->logged("model.mlp: training 4-16-3 on 120 rows (30 validation)", MIEN_LOG_INFO));
  EXPECT_FALSE(r->progress().empty());
}

TEST(ModelMlp, SavedAndReopenedModelPredictsExactlyAsInTraining) {
  using namespace mien::models;
  const Blobs data = make_blobs(40, 3);
  Matrix x{blob_matrix(data), 120, 4};
  MlpArtifact a;
  a.arch = MlpArch{4, {8, 8}, {0.2, 0.0}, 3};
  a.feature_names = blob_features();
  a.classes = {"a", "b", "c"};
  a.mean = {1, 50, 0.01, 0};
  a.std = {1.5, 150, 0.015, 0.6};
  MlpNet net(a.arch, 42);
  net.set_standardization(a.mean, a.std);
  TrainOptions o;
  o.l2 = {0.001, 0.001, 0};
  o.epochs = 5;
  o.seed = 42;
  net.train(x, data.labels, nullptr, nullptr, o, {});
  const std::vector<float> in_training = net.predict(x.values.data(), x.rows);

  TempDir dir;
  write_artifact(dir.path(), a, net);
  HostedModel m(descriptor(), dir.path());
  ASSERT_EQ(m.status(), MIEN_OK) << m.error();
  const std::vector<float> reopened = m.predict(x.values, x.rows, 4);
  ASSERT_EQ(reopened.size(), in_training.size());
  float max_diff = 0;
  for (size_t i = 0; i < reopened.size(); ++i) max_diff = std::max(max_diff, std::fabs(reopened[i] - in_training[i]));
  EXPECT_EQ(max_diff, 0.0f);
  EXPECT_EQ(reopened, in_training);
}

TEST(ModelMlp, SameSeedIsBitIdenticalOtherSeedDiffers) {
  const Json p = small_params({{"epochs", 10}});
  auto r1 = train(p, 7, blob_table(make_blobs(50, 1)));
  auto r2 = train(p, 7, blob_table(make_blobs(50, 1)));
  auto r3 = train(p, 8, blob_table(make_blobs(50, 1)));
  HostedModel m1(descriptor(), r1->output_dir("model")), m2(descriptor(), r2->output_dir("model")),
      m3(descriptor(), r3->output_dir("model"));
  // Every weight, bit for bit (the layer description holds them all, float -> JSON is exact).
  EXPECT_EQ(m1.info()["layers"].dump(), m2.info()["layers"].dump());
  EXPECT_NE(m1.info()["layers"].dump(), m3.info()["layers"].dump());
  const Blobs test = make_blobs(20, 9);
  const auto x = blob_matrix(test);
  EXPECT_EQ(m1.predict(x, 60, 4), m2.predict(x, 60, 4));
  EXPECT_NE(m1.predict(x, 60, 4), m3.predict(x, 60, 4));
  EXPECT_EQ(r1->table("curve").get("train_loss").numbers(), r2->table("curve").get("train_loss").numbers());
  // The held-out rows depend on the seed too.
  EXPECT_EQ(read_json(fs::path(r1->output_dir("model")) / "mlp.json")["mean"],
            read_json(fs::path(r2->output_dir("model")) / "mlp.json")["mean"]);
  EXPECT_NE(read_json(fs::path(r1->output_dir("model")) / "mlp.json")["mean"],
            read_json(fs::path(r3->output_dir("model")) / "mlp.json")["mean"]);
}

TEST(ModelMlp, LayerDescriptionReproducesPredict) {
  auto r = train(small_params({{"hidden", {12, 6}}, {"dropout", {0.3, 0.0}}}), 4, blob_table(make_blobs(50, 1)));
  HostedModel m(descriptor(), r->output_dir("model"));
  const Json layers = m.info()["layers"];
  std::vector<std::string> ops;
  for (const auto& l : layers) ops.push_back(l["op"]);
  EXPECT_EQ(ops, (std::vector<std::string>{"affine", "linear", "relu", "dropout", "linear", "relu", "linear",
                                           "softmax"}));
  EXPECT_EQ(layers[1]["in"], 4);
  EXPECT_EQ(layers[1]["out"], 12);
  EXPECT_EQ(layers[1]["weight"].size(), 48u);
  EXPECT_DOUBLE_EQ(layers[3]["p"].get<double>(), 0.3);
  EXPECT_EQ(layers[6]["out"], 3);

  const Blobs test = make_blobs(20, 5);
  const auto x = blob_matrix(test);
  const auto probs = m.predict(x, 60, 4);
  double max_diff = 0;
  for (size_t i = 0; i < 60; ++i) {
    const auto out = eval_layers(layers, std::vector<double>(x.begin() + static_cast<long>(i * 4),
                                                             x.begin() + static_cast<long>(i * 4 + 4)));
    for (size_t k = 0; k < 3; ++k) max_diff = std::max(max_diff, std::fabs(out.probs[k] - probs[i * 3 + k]));
  }
  EXPECT_LT(max_diff, 1e-5);  // float32 model against the same weights in double
}

TEST(ModelMlp, InputGradientMatchesFiniteDifferences) {
  auto r = train(small_params({{"hidden", {12, 6}}, {"dropout", {0.0, 0.0}}}), 4, blob_table(make_blobs(50, 1)));
  HostedModel m(descriptor(), r->output_dir("model"));
  const Json layers = m.info()["layers"];
  const auto scale = layers[0]["scale"].get<std::vector<double>>();
  const Blobs test = make_blobs(4, 6);  // 12 rows
  const auto x = blob_matrix(test);
  std::vector<int64_t> classes;
  for (size_t i = 0; i < 12; ++i) classes.push_back(static_cast<int64_t>((i + 1) % 3));  // not always the top class
  auto [grad, scores] = m.model().input_gradient(mien::Tensor::from<float>({12, 4}, x), classes);
  ASSERT_EQ(grad.shape(), (std::vector<int64_t>{12, 4}));
  ASSERT_EQ(scores.shape(), (std::vector<int64_t>{12}));
  const auto g = grad.view().to_vector<float>();
  const auto s = scores.view().to_vector<float>();
  for (size_t i = 0; i < 12; ++i) {
    std::vector<double> row(x.begin() + static_cast<long>(i * 4), x.begin() + static_cast<long>(i * 4 + 4));
    const auto k = static_cast<size_t>(classes[i]);
    const double logit = eval_layers(layers, row).logits[k];
    EXPECT_NEAR(s[i], logit, 1e-4 * std::max(1.0, std::fabs(logit))) << "row " << i;
    std::vector<double> fd(4);
    double largest = 0;
    for (size_t j = 0; j < 4; ++j) {
      const double h = 1e-4 / scale[j];  // a step of 1e-4 standard deviations
      std::vector<double> up = row, down = row;
      up[j] += h;
      down[j] -= h;
      fd[j] = (eval_layers(layers, up).logits[k] - eval_layers(layers, down).logits[k]) / (2 * h);
      largest = std::max(largest, std::fabs(fd[j]));
    }
    for (size_t j = 0; j < 4; ++j) {
      const double err = std::fabs(g[i * 4 + j] - fd[j]);
      EXPECT_LE(err, 1e-3 * std::fabs(fd[j]) + 1e-5 * largest) << "row " << i << " feature " << j << ": " << g[i * 4 + j]
                                                               << " vs " << fd[j];
    }
  }
  // Through the standardisation: f1 is in units of 100 and f2 of 0.01, so their raw
  // gradients differ by orders of magnitude.
  double f1 = 0, f2 = 0;
  for (size_t i = 0; i < 12; ++i) {
    f1 += std::fabs(g[i * 4 + 1]);
    f2 += std::fabs(g[i * 4 + 2]);
  }
  EXPECT_GT(f2, 100 * f1);
}

TEST(ModelMlp, PaperArchitecturesAreExpressible) {
  struct Arch {
    Json params;
    std::vector<std::string> ops;
    std::vector<double> l2;
  };
  const std::vector<Arch> archs = {
      {{{"hidden", {352, 256}}, {"dropout", {0.3, 0.8}}, {"l2", 0.01}},
       {"affine", "linear", "relu", "dropout", "linear", "relu", "dropout", "linear", "softmax"},
       {0.01, 0.01, 0}},
      {{{"hidden", {64}}, {"dropout", {0.0}}, {"l2", 0.01}}, {"affine", "linear", "relu", "linear", "softmax"}, {0.01, 0}},
      {{{"hidden", {352}}, {"dropout", {0.6}}, {"l2", {0.001}}},
       {"affine", "linear", "relu", "dropout", "linear", "softmax"},
       {0.001, 0}},
      {{{"hidden", Json::array()}, {"dropout", Json::array()}, {"l2", 0.1}}, {"affine", "linear", "softmax"}, {0.1}}};
  for (const auto& a : archs) {
    Json p = {{"epochs", 2}};
    p.update(a.params);
    auto r = train(p, 1, blob_table(make_blobs(20, 1)));
    HostedModel m(descriptor(), r->output_dir("model"));
    ASSERT_EQ(m.status(), MIEN_OK) << m.error();
    const Json info = m.info();
    std::vector<std::string> ops;
    for (const auto& l : info["layers"]) ops.push_back(l["op"]);
    EXPECT_EQ(ops, a.ops) << a.params.dump();
    const Json saved = read_json(fs::path(r->output_dir("model")) / "mlp.json");
    EXPECT_EQ(saved["hidden"], a.params["hidden"]);
    EXPECT_EQ(saved["training"]["l2"], Json(a.l2)) << a.params.dump();
  }
}

TEST(ModelMlp, StandardisationIsFittedOnTrainAndStoredInTheModel) {
  const Blobs b = make_blobs(30, 3);
  auto r = train(small_params({{"validation_split", 0.0}, {"epochs", 1}}), 1, blob_table(b));
  const Json saved = read_json(fs::path(r->output_dir("model")) / "mlp.json");
  HostedModel m(descriptor(), r->output_dir("model"));
  const Json affine = m.info()["layers"][0];
  for (size_t j = 0; j < 4; ++j) {
    double mean = 0, sq = 0;
    for (double v : b.cols[j]) mean += static_cast<float>(v);
    mean /= 90;
    for (double v : b.cols[j]) sq += (static_cast<float>(v) - mean) * (static_cast<float>(v) - mean);
    const double sd = std::sqrt(sq / 90);  // population std
    EXPECT_NEAR(saved["mean"][j].get<double>(), mean, 1e-9 * std::max(1.0, std::fabs(mean)));
    EXPECT_NEAR(saved["std"][j].get<double>(), sd, 1e-9 * sd);
    EXPECT_EQ(affine["scale"][j].get<double>(), static_cast<double>(static_cast<float>(1.0 / saved["std"][j].get<double>())));
  }

  auto raw = train(small_params({{"standardize", false}, {"epochs", 1}}), 1, blob_table(b));
  HostedModel mr(descriptor(), raw->output_dir("model"));
  EXPECT_EQ(mr.info()["layers"][0]["op"], "linear");
  EXPECT_EQ(mr.info()["standardized"], false);
}

TEST(ModelMlp, ValidationHoldsOutWholePeopleByDefault) {
  // 150 rows of 5 people (subject p0..p4, 30 rows each); validation_split 0.4 -> 2 people.
  const Blobs b = make_blobs(50, 1);
  auto r = train(small_params({{"validation_split", 0.4}}), 1, blob_table(b));
  const Json saved = read_json(fs::path(r->output_dir("model")) / "mlp.json");
  EXPECT_EQ(saved["training"]["validation_group"], "subject");
  const auto people = saved["training"]["validation_people"].get<std::vector<std::string>>();
  ASSERT_EQ(people.size(), 2u);
  // every row of the held-out people is in validation and none of the others: the row
  // counts match the people's rows exactly
  int64_t rows_of_people = 0;
  for (const auto& s : b.subjects) rows_of_people += std::count(people.begin(), people.end(), s);
  EXPECT_EQ(saved["training"]["validation_rows"], rows_of_people);
  EXPECT_EQ(saved["training"]["train_rows"], 150 - rows_of_people);
  EXPECT_TRUE(r->logged("model.mlp: 2 of 5 people (subject) held out for validation: " + people[0] + ", " + people[1],
                        MIEN_LOG_INFO));

  // rows: the old stratified hold-out of rows (faces of training people in validation)
  auto rows = train(small_params({{"validation_group", "rows"}}), 1, blob_table(b));
  EXPECT_EQ(rows->json("model")["validation_rows"], 15);
  EXPECT_EQ(read_json(fs::path(rows->output_dir("model")) / "mlp.json")["training"]["validation_group"], "rows");

  // a column that is not there is named with the GROUP columns that are
  Runner bad(small_params({{"validation_group", "person"}}), 1);
  bad.set_input("train", blob_table(b));
  EXPECT_EQ(bad.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(bad.error().find("'validation_group' is 'person', but the training table has no such column (GROUP columns: subject)"),
            std::string::npos)
      << bad.error();
}

TEST(ValidationGroups, HeldOutPeopleAndTrainingPeopleAreDisjoint) {
  std::vector<std::string> group_of;
  for (int i = 0; i < 200; ++i) group_of.push_back("p" + std::to_string((i * 7) % 13));
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const auto h = mien::training::hold_out_groups(group_of, 0.25, seed);
    EXPECT_EQ(h.groups, 13u);
    EXPECT_EQ(h.val_groups.size(), 3u);  // round(0.25 * 13)
    std::set<std::string> fit_people, val_people;
    for (int64_t i : h.fit) fit_people.insert(group_of[static_cast<size_t>(i)]);
    for (int64_t i : h.val) val_people.insert(group_of[static_cast<size_t>(i)]);
    EXPECT_EQ(h.fit.size() + h.val.size(), group_of.size());
    EXPECT_EQ(val_people, std::set<std::string>(h.val_groups.begin(), h.val_groups.end()));
    for (const auto& p : val_people) EXPECT_FALSE(fit_people.count(p)) << p << " in both, seed " << seed;
  }
  // the same seed holds out the same people; a single person leaves nothing to validate on
  EXPECT_EQ(mien::training::hold_out_groups(group_of, 0.25, 3).val, mien::training::hold_out_groups(group_of, 0.25, 3).val);
  const auto one = mien::training::hold_out_groups(std::vector<std::string>(10, "p"), 0.5, 1);
  EXPECT_TRUE(one.val.empty());
  EXPECT_EQ(one.fit.size(), 10u);
}

TEST(ModelMlp, ValidationTableDrivesEarlyStoppingAndTheBestEpochIsKept) {
  // Validation labels are scrambled: its loss soon rises, so training stops early.
  Blobs val = make_blobs(20, 4);
  for (size_t i = 0; i < val.labels.size(); ++i) val.labels[i] = static_cast<int64_t>((i * 7 + 1) % 3);
  Runner r(small_params({{"epochs", 300}, {"patience", 5}, {"learning_rate", 0.02}}), 3);
  r.set_input("train", blob_table(make_blobs(50, 1))).set_input("validation", blob_table(val));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const auto curve = r.table("curve");
  const int64_t epochs = curve.num_rows();
  EXPECT_LT(epochs, 300);
  const Json saved = read_json(fs::path(r.output_dir("model")) / "mlp.json");
  EXPECT_EQ(saved["training"]["stopped_early"], true);
  EXPECT_EQ(saved["training"]["validation"], "table");
  EXPECT_EQ(saved["training"]["validation_rows"], 60);
  const int64_t best = saved["training"]["best_epoch"];
  EXPECT_EQ(best, epochs - 5);  // patience 5 after the best
  const auto val_loss = curve.get("val_loss").numbers();
  EXPECT_EQ(*std::min_element(val_loss.begin(), val_loss.end()), val_loss[static_cast<size_t>(best - 1)]);

  // The model holds the best epoch's weights: its validation loss is that epoch's.
  HostedModel m(descriptor(), r.output_dir("model"));
  const auto probs = m.predict(blob_matrix(val), 60, 4);
  double ce = 0;
  for (size_t i = 0; i < 60; ++i) ce -= std::log(static_cast<double>(probs[i * 3 + static_cast<size_t>(val.labels[i])]));
  EXPECT_NEAR(ce / 60, val_loss[static_cast<size_t>(best - 1)], 1e-4);
}

TEST(ModelMlp, BalancedClassWeights) {
  Blobs b = make_blobs(30, 1);  // 30 rows per class; drop 20 of class 0
  Blobs imb;
  imb.cols.assign(4, {});
  int dropped = 0;
  for (size_t i = 0; i < b.ids.size(); ++i) {
    if (b.labels[i] == 0 && dropped < 20) {
      ++dropped;
      continue;
    }
    imb.ids.push_back(b.ids[i]);
    imb.labels.push_back(b.labels[i]);
    imb.subjects.push_back(b.subjects[i]);
    for (size_t j = 0; j < 4; ++j) imb.cols[j].push_back(b.cols[j][i]);
  }
  auto r = train(small_params({{"class_weights", "balanced"}, {"validation_split", 0.0}, {"epochs", 2}}), 1,
                 blob_table(imb));
  const Json w = read_json(fs::path(r->output_dir("model")) / "mlp.json")["training"]["class_weights"];
  ASSERT_EQ(w.size(), 3u);
  EXPECT_DOUBLE_EQ(w[0].get<double>(), 70.0 / (3 * 10));
  EXPECT_DOUBLE_EQ(w[1].get<double>(), 70.0 / (3 * 30));
}

TEST(ModelMlp, LoadReusesAModelTrainedElsewhere) {
  auto first = train(small_params({{"epochs", 5}}), 1, blob_table(make_blobs(50, 1)));
  const fs::path dir = first->output_dir("model");
  Runner again({{"load", dir.filename().string()}}, 99);  // relative to the experiment's folder
  again.set_base_dir(dir.parent_path().string());
  ASSERT_EQ(again.run(), MIEN_OK) << again.error();
  EXPECT_EQ(again.json("model")["loaded_from"], dir.string());
  EXPECT_TRUE(again.progress().empty());  // nothing trained
  EXPECT_EQ(again.table("curve").get("train_loss").numbers(), first->table("curve").get("train_loss").numbers());
  HostedModel a(descriptor(), dir.string()), b(descriptor(), again.output_dir("model"));
  const auto x = blob_matrix(make_blobs(10, 2));
  EXPECT_EQ(a.predict(x, 30, 4), b.predict(x, 30, 4));
}

// ---- errors, all raised before any training (no epoch progress) ----
void expect_error_before_training(Runner& r, const std::string& message) {
  EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(r.error(), message);
  EXPECT_TRUE(r.progress().empty());
  EXPECT_FALSE(r.logged("model.mlp: training"));
}

TEST(ModelMlpErrors, NonFiniteFeature) {
  Blobs b = make_blobs(10, 1);
  b.cols[1][5] = std::nan("");
  Runner r(small_params());
  r.set_input("train", blob_table(b));
  expect_error_before_training(r, "model.mlp: feature 'f1' of train is not a finite float32 in row 6 (id s1_5) (value nan)");
}

TEST(ModelMlpErrors, ValidationClassAbsentFromTrain) {
  Blobs v = make_blobs(2, 2);
  v.labels[1] = 3;
  Runner r(small_params());
  r.set_input("train", blob_table(make_blobs(10, 1))).set_input("validation", blob_table(v, {"a", "b", "c", "d"}));
  expect_error_before_training(
      r, "model.mlp: class 'd' of validation (row 2 (id s2_1)) is not among the classes of train (a, b, c)");

  // A class the train label knows but has no rows of.
  Blobs t = make_blobs(10, 1);
  Runner r2(small_params());
  r2.set_input("train", blob_table(t, {"a", "b", "c", "d"})).set_input("validation", blob_table(v, {"a", "b", "c", "d"}));
  expect_error_before_training(r2, "model.mlp: class 'd' appears in validation but has no rows in train");
}

TEST(ModelMlpErrors, NoFeatureColumns) {
  mien::Table t(3);
  t.add_strings("id", MIEN_ROLE_ID, {"a", "b", "c"});
  t.add_codes("label", MIEN_ROLE_LABEL, {0, 1, 0}, {"x", "y"});
  t.add_numbers("score", MIEN_ROLE_VALUE, {1, 2, 3});
  Runner r(small_params());
  r.set_input("train", std::move(t));
  expect_error_before_training(r, "model.mlp: the train table has no FEATURE columns");
}

TEST(ModelMlpErrors, FewerRowsThanClasses) {
  mien::Table t(2);
  t.add_codes("label", MIEN_ROLE_LABEL, {0, 1}, {"x", "y", "z"});
  t.add_numbers("f", MIEN_ROLE_FEATURE, {1, 2});
  Runner r(small_params());
  r.set_input("train", std::move(t));
  expect_error_before_training(
      r, "model.mlp: train has 2 labelled row(s) but 3 classes (x, y, z); every class needs at least one row");
}

TEST(ModelMlpErrors, ParametersAreCheckedInTheConstructor) {
  Runner r(small_params({{"hidden", {8, 8}}, {"dropout", {0.5}}}));
  r.set_input("train", blob_table(make_blobs(10, 1)));
  expect_error_before_training(r,
                               "model.mlp: parameter 'dropout' has 1 rate(s) but 'hidden' has 2 layer(s); give one "
                               "rate per hidden layer (0 = none), e.g. [0.0,0.0]");
  EXPECT_EQ(r.cancel_polls(), 0u);  // process() never ran

  Runner l2(small_params({{"l2", {0.1, 0.1, 0.1}}}));
  l2.set_input("train", blob_table(make_blobs(10, 1)));
  expect_error_before_training(l2,
                               "model.mlp: parameter 'l2' has 3 values; give one number, or one per hidden layer (1) "
                               "optionally followed by one for the output layer");

  Runner d(small_params({{"dropout", {1.0}}}));
  d.set_input("train", blob_table(make_blobs(10, 1)));
  expect_error_before_training(d, "model.mlp: parameter 'dropout' rates must be in [0, 1), got [1.0]");

  Runner load({{"load", "/nonexistent/model"}});
  EXPECT_EQ(load.run(), MIEN_ERR_IO);
  EXPECT_EQ(load.error(),
            "model.mlp: parameter 'load': /nonexistent/model is not a folder (expected the artifact folder of a "
            "model.mlp node, holding mlp.json and weights.pt)");

  Runner none(small_params());
  EXPECT_EQ(none.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(none.error().find("input 'train' is not connected and 'load' is empty"), std::string::npos);
}

TEST(ModelMlpErrors, BrokenArtifactNamesTheFile) {
  TempDir dir;
  std::ofstream(fs::path(dir.path()) / "mlp.json") << R"({"format": "mien.mlp", "format_version": 1, "inputs": 2})";
  std::ofstream(fs::path(dir.path()) / "weights.pt") << "not a torch file";
  Runner r({{"load", dir.path()}});
  EXPECT_EQ(r.run(), MIEN_ERR_IO);
  EXPECT_NE(r.error().find(dir.path() + "/mlp.json: a field is missing or of the wrong type"), std::string::npos)
      << r.error();
}

TEST(ModelMlp, CancellationStopsBetweenBatches) {
  Runner r(small_params());
  r.set_input("train", blob_table(make_blobs(50, 1)));
  r.cancel_after(20);
  EXPECT_EQ(r.run(), MIEN_ERR_CANCELLED);
  EXPECT_LE(r.progress().size(), 3u);  // stopped in the third epoch (9 batches each)
}

TEST(ModelMlp, PredictChecksItsInput) {
  auto r = train(small_params({{"epochs", 1}}), 1, blob_table(make_blobs(10, 1)));
  HostedModel m(descriptor(), r->output_dir("model"));
  mien::Tensor bad = mien::Tensor::from<float>({2, 3}, std::vector<float>(6, 0.f));
  EXPECT_THROW(m.model().predict(bad), mien::Error);
  EXPECT_EQ(m.error(), "model.mlp: the input must be float32 [N, 4] (features f0, f1, f2, f3), got float32 [2, 3]");
  mien::Tensor nan = mien::Tensor::from<float>({1, 4}, {0.f, 0.f, std::nanf(""), 0.f});
  EXPECT_THROW(m.model().predict(nan), mien::Error);
  EXPECT_EQ(m.error(), "model.mlp: input row 0, feature 'f2' is not finite");
  // float64 input is accepted and converted.
  mien::Tensor f64 = mien::Tensor::from<double>({1, 4}, {3.0, 50.0, 0.0, 0.0});
  EXPECT_EQ(m.model().predict(f64).shape(), (std::vector<int64_t>{1, 3}));
  EXPECT_THROW(m.model().input_gradient(mien::Tensor::from<float>({1, 4}, std::vector<float>(4, 0.f)), {3}),
               mien::Error);
  EXPECT_EQ(m.error(), "model.mlp: input_gradient: class 3 of row 0 is outside 0..2");
}

}  // namespace
