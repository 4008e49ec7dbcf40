// The quality metrics on hand-computed cases.
#include <gtest/gtest.h>
#include <mien/testing.hpp>

#include "components.hpp"
#include <mien_explain_core/test_models.hpp>

using namespace explain_test;
using namespace mien::quality;
using mien::Json;

namespace {

// p(c1) = 0.5 + w.x: class c1 exactly when w.x > 0.
LinearModel model3() { return LinearModel({0.3, 0.1, -0.2}, 0.5); }

const std::vector<float> kX{1, 0.5f, 0.5f, -0.5f, 1, 1, 0.2f, -1, 0.5f, -1, 1, -1.5f};
const std::vector<int64_t> kLabels{1, 1, 0, 0};
// Attribution rows (hand-chosen rankings by |phi|): s0 f1 f2 f0; s1 f0 f2 f1; s2 f1 f2 f0;
// s3 f0 f1 (tie, column order) f2.
const std::vector<double> kPhi{0.1, 0.9, -0.5, 0.5, 0.1, -0.2, 0.0, -0.3, 0.2, 0.4, 0.4, 0.1};

mien::Table attributions(const std::vector<double>& phi = kPhi, Json meta = Json::object(),
                         std::vector<std::string> cols = {"f0", "f1", "f2"}, const std::string& explained = "") {
  const int64_t n = static_cast<int64_t>(phi.size() / cols.size());
  mien::Table t(n);
  std::vector<std::string> ids, pred;
  for (int64_t i = 0; i < n; ++i) ids.push_back("s" + std::to_string(1000 + i));
  const std::vector<std::string> p{"c1", "c0", "c0", "c1"};
  for (int64_t i = 0; i < n; ++i) pred.push_back(p[i % 4]);
  t.add_strings("id", MIEN_ROLE_ID, ids);
  t.add_strings("explained_class", MIEN_ROLE_VALUE,
                explained.empty() ? pred : std::vector<std::string>(static_cast<size_t>(n), explained));
  t.add_strings("predicted_class", MIEN_ROLE_VALUE, pred);
  for (size_t j = 0; j < cols.size(); ++j) {
    std::vector<double> v;
    for (int64_t i = 0; i < n; ++i) v.push_back(phi[i * cols.size() + j]);
    t.add_numbers(cols[j], MIEN_ROLE_FEATURE, v);
  }
  if (!meta.empty()) t.meta(meta);
  return t;
}

template <typename C>
std::unique_ptr<mien::testing::ComponentRunner<C>> sweep(TestModel& m, Json params, mien::Table attr) {
  auto r = std::make_unique<mien::testing::ComponentRunner<C>>(std::move(params), 3);
  r->set_input("model", m.ref());
  r->set_input("samples", make_table(kX, 3, m.class_names(), kLabels));
  r->set_input("attributions", std::move(attr));
  r->set_input("reference", make_table({1, 1, 1, -1, -1, -1}, 3, m.class_names(), {}, "r"));  // mean 0
  return r;
}

}  // namespace

TEST(Fidelity, MatchesTheHandComputedDefinition) {
  auto m = model3();
  auto r = sweep<Fidelity>(m, Json{{"n", {1, 2, 3}}}, attributions());
  ASSERT_EQ(r->run(), MIEN_OK) << r->error();
  const auto c = r->table("curve");
  EXPECT_EQ(c.get("n").numbers(), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(c.get("fidelity").numbers(), (std::vector<double>{0.75, 0.5, 1.0}));
  EXPECT_EQ(c.get("accuracy").numbers(), (std::vector<double>{0.75, 0.5, 0.5}));
  // With every feature kept any ranking reproduces the model.
  EXPECT_EQ(c.get("random_fidelity").numbers()[2], 1.0);
  EXPECT_EQ(c.get("random_accuracy").numbers()[2], 0.5);
  const Json s = r->json("summary");
  EXPECT_EQ(s["metric"], "fidelity");
  EXPECT_EQ(s["values"], Json({0.75, 0.5, 1.0}));
  EXPECT_EQ(s["model_accuracy"], 0.5);
  EXPECT_EQ(s["labelled"], 4);
}

TEST(Fidelity, ExplanationAccuracyHeadlinesTheAccuracy) {
  auto m = model3();
  auto r = sweep<ExplanationAccuracy>(m, Json{{"n", {1, 2, 3, 7}}}, attributions());
  ASSERT_EQ(r->run(), MIEN_OK) << r->error();
  const Json s = r->json("summary");
  EXPECT_EQ(s["metric"], "explanation_accuracy");
  EXPECT_EQ(s["values"], Json({0.75, 0.5, 0.5}));
  EXPECT_TRUE(r->logged("n values above the 3 attribution columns were dropped", MIEN_LOG_WARNING));
}

TEST(Fidelity, GroupedAttributionsKeepWholeGroups) {
  auto m = model3();
  // One group {f0, f2} ranked first for everybody: n = 1 keeps f0 and f2.
  const std::vector<double> phi{0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.9, 0.1};
  auto r = sweep<Fidelity>(m, Json{{"n", {1, 2}}},
                           attributions(phi, Json{{"groups", {{"g", {"f0", "f2"}}}}}, {"g", "f1"}));
  ASSERT_EQ(r->run(), MIEN_OK) << r->error();
  // n = 1: x~ = (x0, 0, x2): s0 0.3-0.1 = 0.2 -> c1 (same), s1 -0.15-0.2 -> c0 (same),
  // s2 0.06-0.1 -> c0 (same), s3 -0.3+0.3 = 0 -> c0 (changed).
  EXPECT_EQ(r->table("curve").get("fidelity").numbers(), (std::vector<double>{0.75, 1.0}));
}

TEST(Fidelity, RandomControlIsSeededAndDeterministic) {
  auto m = model3();
  auto a = sweep<Fidelity>(m, Json{{"random_repeats", 25}, {"n", {1, 2}}}, attributions());
  auto b = sweep<Fidelity>(m, Json{{"random_repeats", 25}, {"n", {1, 2}}}, attributions());
  ASSERT_EQ(a->run(), MIEN_OK) << a->error();
  ASSERT_EQ(b->run(), MIEN_OK) << b->error();
  EXPECT_EQ(a->table("curve").get("random_fidelity").numbers(), b->table("curve").get("random_fidelity").numbers());
  for (double v : a->table("curve").get("random_fidelity").numbers()) {
    EXPECT_GE(v, 0.0);
    EXPECT_LE(v, 1.0);
  }
}

TEST(Fidelity, MissingAttributionRowsAreAnError) {
  auto m = model3();
  std::vector<double> phi(kPhi.begin(), kPhi.begin() + 6);  // two samples only
  auto r = sweep<Fidelity>(m, Json::object(), attributions(phi));
  EXPECT_EQ(r->run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(r->error().find("2 samples have no attributions row (matched by id): s1002, s1003"), std::string::npos)
      << r->error();
}

// Per-sample baseline rows, shuffled and with one extra row: matched by id.
mien::Table baseline_rows() {
  mien::Table t(5);
  t.add_strings("id", MIEN_ROLE_ID, {"s1003", "s1001", "s9999", "s1000", "s1002"});
  t.add_numbers("f0", MIEN_ROLE_FEATURE, {1, 0, 5, -1, 0});
  t.add_numbers("f1", MIEN_ROLE_FEATURE, {0, 0, 5, 0, 0});
  t.add_numbers("f2", MIEN_ROLE_FEATURE, {0, -2, 5, 0, 0});
  return t;
}

TEST(Fidelity, BaselineRowsReplaceTheLeftOutFeatures) {
  auto m = model3();
  auto r = sweep<Fidelity>(m, Json{{"n", {1, 2, 3}}}, attributions());
  r->set_input("baseline", baseline_rows());
  ASSERT_EQ(r->run(), MIEN_OK) << r->error();
  // Predictions: s0 c1, s1 c0, s2 c0, s3 c1 (w.x = 0.25, -0.25, -0.14, 0.1).
  // n = 1: s0 keeps f1 -> (-1, 0.5, 0): -0.25 c0 (changed); s1 keeps f0 -> (-0.5, 0, -2): 0.25 c1
  //   (changed); s2 keeps f1 -> (0, -1, 0): -0.1 c0 (same); s3 keeps f0 -> (-1, 0, 0): c0 (changed).
  // n = 2: s0 (-1, 0.5, 0.5): -0.35 c0 (changed); s1 (-0.5, 0, 1): -0.35 c0 (same);
  //   s2 (0, -1, 0.5): -0.2 c0 (same); s3 (-1, 1, 0): -0.2 c0 (changed).
  const auto c = r->table("curve");
  EXPECT_EQ(c.get("fidelity").numbers(), (std::vector<double>{0.25, 0.5, 1.0}));
  EXPECT_EQ(c.get("accuracy").numbers(), (std::vector<double>{0.75, 0.5, 0.5}));
  const Json s = r->json("summary");
  EXPECT_TRUE(s.contains("baseline"));
  EXPECT_NE(s["definition"].get<std::string>().find("baseline row"), std::string::npos);
}

TEST(Fidelity, WithoutBaselineTheSummaryIsUnchanged) {
  auto m = model3();
  auto r = sweep<Fidelity>(m, Json{{"n", {1, 2, 3}}}, attributions());
  ASSERT_EQ(r->run(), MIEN_OK) << r->error();
  const Json s = r->json("summary");
  EXPECT_FALSE(s.contains("baseline"));
  EXPECT_EQ(s["definition"],
            "keep the top-n features by |attribution| of the predicted class (ties: column order), set the others "
            "to the reference mean; fidelity = share of samples whose prediction is unchanged, accuracy = share "
            "(of labelled samples) whose new prediction equals the label");
  // A baseline equal to the reference mean (0) for everybody gives the mean's figures.
  auto z = sweep<Fidelity>(m, Json{{"n", {1, 2, 3}}}, attributions());
  z->set_input("baseline", make_table(std::vector<float>(12, 0.0f), 3, m.class_names()));
  ASSERT_EQ(z->run(), MIEN_OK) << z->error();
  EXPECT_EQ(z->table("curve").get("fidelity").numbers(), r->table("curve").get("fidelity").numbers());
  EXPECT_EQ(z->table("curve").get("random_fidelity").numbers(), r->table("curve").get("random_fidelity").numbers());
}

// With a per-sample baseline the reference is not needed; with neither, the error says
// which port to connect.
TEST(Fidelity, ReferenceIsOptionalWithABaseline) {
  auto m = model3();
  auto with_both = sweep<Fidelity>(m, Json{{"n", {1, 2, 3}}}, attributions());
  with_both->set_input("baseline", baseline_rows());
  ASSERT_EQ(with_both->run(), MIEN_OK) << with_both->error();
  mien::testing::ComponentRunner<Fidelity> only_baseline(Json{{"n", {1, 2, 3}}}, 3);
  only_baseline.set_input("model", m.ref());
  only_baseline.set_input("samples", make_table(kX, 3, m.class_names(), kLabels));
  only_baseline.set_input("attributions", attributions());
  only_baseline.set_input("baseline", baseline_rows());
  ASSERT_EQ(only_baseline.run(), MIEN_OK) << only_baseline.error();
  EXPECT_EQ(only_baseline.table("curve").get("fidelity").numbers(), with_both->table("curve").get("fidelity").numbers());
  mien::testing::ComponentRunner<Fidelity> neither(Json{{"n", {1}}}, 3);
  neither.set_input("model", m.ref());
  neither.set_input("samples", make_table(kX, 3, m.class_names(), kLabels));
  neither.set_input("attributions", attributions());
  EXPECT_EQ(neither.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(neither.error().find("connect `reference`"), std::string::npos) << neither.error();
}

TEST(Fidelity, BaselineMustCoverEverySample) {
  auto m = model3();
  auto r = sweep<Fidelity>(m, Json{{"n", {1}}}, attributions());
  r->set_input("baseline", make_table({0, 0, 0, 0, 0, 0}, 3, m.class_names()));  // s1000, s1001 only
  EXPECT_NE(r->run(), MIEN_OK);
  EXPECT_NE(r->error().find("2 samples have no baseline row (matched by id): s1002, s1003"), std::string::npos)
      << r->error();
}

TEST(TopNWeight, MatchesTheHandComputedShares) {
  mien::testing::ComponentRunner<TopNWeight> r(Json{{"n", {1, 2}}});
  r.set_input("attributions", attributions());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const double w1 = (0.9 / 1.5 + 0.5 / 0.8 + 0.3 / 0.5 + 0.4 / 0.9) / 4;
  const double w2 = (1.4 / 1.5 + 0.7 / 0.8 + 0.5 / 0.5 + 0.8 / 0.9) / 4;
  const auto v = r.table("curve").get("weight").numbers();
  EXPECT_NEAR(v[0], w1, 1e-15);
  EXPECT_NEAR(v[1], w2, 1e-15);
}

TEST(DeletionInsertion, FaithfulAttributionsBeatRandomOrders) {
  // The linear model's exact Shapley values for class c1 are w_j (x_j - mu_j) = w_j x_j.
  auto m = model3();
  std::vector<double> phi;
  const auto w = m.w();
  for (size_t i = 0; i < 4; ++i)
    for (size_t j = 0; j < 3; ++j) phi.push_back(w[j] * kX[i * 3 + j]);
  // Every row explains c1 here.
  auto att = [&] { return attributions(phi, Json::object(), {"f0", "f1", "f2"}, "c1"); };
  auto del = sweep<Deletion>(m, Json::object(), att());
  auto ins = sweep<Insertion>(m, Json::object(), att());
  ASSERT_EQ(del->run(), MIEN_OK) << del->error();
  ASSERT_EQ(ins->run(), MIEN_OK) << ins->error();
  const Json d = del->json("summary"), i = ins->json("summary");
  EXPECT_LT(d["auc"].get<double>(), d["random_auc"].get<double>());
  EXPECT_GT(i["auc"].get<double>(), i["random_auc"].get<double>());
  // End points: deletion starts at the mean p(c1 | x) and ends at p(c1 | mean) = 0.5.
  const auto dc = del->table("curve").get("probability").numbers();
  double start = 0;
  for (size_t s = 0; s < 4; ++s) start += m.p1(&kX[s * 3]) / 4;
  EXPECT_NEAR(dc.front(), start, 1e-6);
  EXPECT_NEAR(dc.back(), 0.5, 1e-6);
  const auto ic = ins->table("curve").get("probability").numbers();
  EXPECT_NEAR(ic.front(), 0.5, 1e-6);
  EXPECT_NEAR(ic.back(), start, 1e-6);
  // Removing the most positive evidence first: the curve never rises above its start.
  EXPECT_LE(dc[1], dc[0] + 1e-9);
}

TEST(Agreement, RankCorrelationsMatchKnownValues) {
  mien::testing::ComponentRunner<Agreement> r(Json{{"k", 2}, {"rank_by", "signed"}});
  r.add_input("attributions", attributions({1, 2, 3, 4}, Json{{"explainer", "a"}}, {"f0", "f1", "f2", "f3"}));
  r.add_input("attributions", attributions({1, 3, 2, 4}, Json{{"explainer", "b"}}, {"f0", "f1", "f2", "f3"}));
  r.add_input("attributions", attributions({1, 2, 3, 4}, Json{{"explainer", "c"}}, {"f0", "f1", "f2", "f3"}));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const auto t = r.table("pairs");
  ASSERT_EQ(t.num_rows(), 3);
  EXPECT_EQ(t.get("a").text(0), "0:a");
  EXPECT_EQ(t.get("b").text(0), "1:b");
  EXPECT_NEAR(t.get("spearman").number(0), 0.8, 1e-12);
  EXPECT_NEAR(t.get("kendall").number(0), 4.0 / 6.0, 1e-12);
  EXPECT_NEAR(t.get("top_k_overlap").number(0), 0.5, 1e-12);  // {f3, f2} vs {f3, f1}
  EXPECT_NEAR(t.get("spearman").number(1), 1.0, 1e-12);       // a vs c: identical
  EXPECT_NEAR(t.get("kendall").number(1), 1.0, 1e-12);
  EXPECT_NEAR(t.get("top_k_overlap").number(1), 1.0, 1e-12);
}

TEST(Agreement, DifferentFeatureSetsAreAnError) {
  mien::testing::ComponentRunner<Agreement> r;
  r.add_input("attributions", attributions({1, 2, 3}, Json::object(), {"f0", "f1", "f2"}));
  r.add_input("attributions", attributions({1, 2}, Json::object(), {"f0", "f1"}));
  EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(r.error().find("different attribution columns"), std::string::npos) << r.error();
}

TEST(Stability, ScaledAttributionsChangeByTheScale) {
  mien::testing::ComponentRunner<Stability> r;
  std::vector<double> scaled(kPhi);
  for (auto& v : scaled) v *= 1.1;
  r.set_input("attributions", attributions());
  r.add_input("attributions_noisy", attributions(kPhi));
  r.add_input("attributions_noisy", attributions(scaled));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const auto t = r.table("per_sample");
  ASSERT_EQ(t.num_rows(), 4);
  for (int64_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(t.get("relative_change").number(i), 0.05, 1e-12);
    EXPECT_NEAR(t.get("max_relative_change").number(i), 0.1, 1e-12);
    EXPECT_NEAR(t.get("top_k_overlap").number(i), 1.0, 1e-12);
  }
  EXPECT_NEAR(r.json("summary")["max_relative_change"].get<double>(), 0.1, 1e-12);
}

TEST(Jitter, KeepsIdsAndIsSeeded) {
  auto m = model3();
  auto run = [&](double sd, uint64_t seed) {
    auto r = std::make_unique<mien::testing::ComponentRunner<Jitter>>(Json{{"noise_std", sd}}, seed);
    r->set_input("table", make_table(kX, 3, m.class_names(), kLabels));
    EXPECT_EQ(r->run(), MIEN_OK) << r->error();
    return r;
  };
  auto a = run(0.1, 1), b = run(0.1, 1), z = run(0.0, 1);
  EXPECT_EQ(a->table("noisy").get("id").texts(), (std::vector<std::string>{"s1000", "s1001", "s1002", "s1003"}));
  EXPECT_EQ(a->table("noisy").feature_matrix<double>(), b->table("noisy").feature_matrix<double>());
  EXPECT_NE(a->table("noisy").feature_matrix<double>(), z->table("noisy").feature_matrix<double>());
  std::vector<double> orig(kX.begin(), kX.end());
  EXPECT_EQ(z->table("noisy").feature_matrix<double>(), orig);
  EXPECT_EQ(a->table("noisy").label()->codes(), kLabels);
}
