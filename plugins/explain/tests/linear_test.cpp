// On a model whose class-1 probability is linear, p1 = w.x + b, every Shapley-type
// explainer must return w_j (x_j - E[b_j]) and IG w_j (x_j - baseline_j).
#include "test_support.hpp"

using namespace explain_test;
using namespace mien::explain;

namespace {

struct LinearCase {
  static constexpr int64_t M = 5;
  LinearModel model{{0.08, -0.05, 0.03, 0.0, 0.06}, 0.5};
  std::vector<float> xs = random_rows(6, M, 11);
  std::vector<float> bg = random_rows(30, M, 12);
  std::vector<double> mean() const {
    std::vector<double> m(M, 0.0);
    for (size_t i = 0; i < bg.size(); ++i) m[i % M] += bg[i] / 30.0;
    return m;
  }
  // Expected attributions for class 1 (negated for class 0), row-major [samples x M].
  std::vector<double> truth(double sign = 1.0) const {
    const auto mu = mean();
    std::vector<double> t;
    for (int64_t i = 0; i < 6; ++i)
      for (int64_t j = 0; j < M; ++j) t.push_back(sign * model.w()[j] * (xs[i * M + j] - mu[j]));
    return t;
  }
};

template <typename C>
void expect_linear(Json params, double tol, const std::string& what, double dummy_tol = 0.0) {
  LinearCase lc;
  params["target"] = "class";
  params["class"] = "c1";
  auto r = run<C>(params, lc.model, lc.xs, lc.bg);
  ASSERT_EQ(r->run(), MIEN_OK) << what << ": " << r->error();
  const auto got = features_of(r->table("attributions"));
  EXPECT_LT(max_abs_diff(got, lc.truth()), tol) << what;
  // The dummy feature f3 (w = 0) gets exactly nothing.
  for (int64_t i = 0; i < 6; ++i) EXPECT_LE(std::fabs(got[i * LinearCase::M + 3]), dummy_tol) << what;
  params["class"] = "c0";
  auto r0 = run<C>(params, lc.model, lc.xs, lc.bg);
  ASSERT_EQ(r0->run(), MIEN_OK) << what << ": " << r0->error();
  EXPECT_LT(max_abs_diff(features_of(r0->table("attributions")), lc.truth(-1.0)), tol) << what << " (class c0)";
}

}  // namespace

TEST(Linear, ExactShapleyIsWTimesDeviation) { expect_linear<ExactShapley>(Json::object(), 2e-6, "exact"); }
TEST(Linear, KernelShapEnumeratedIsWTimesDeviation) { expect_linear<KernelShap>(Json::object(), 2e-6, "kernel", 1e-7); }
TEST(Linear, KernelShapSampledIsWTimesDeviation) {
  // 12 < 2^5 - 2 coalitions: sampled, yet a linear value function is fitted exactly.
  expect_linear<KernelShap>(Json{{"nsamples", 12}}, 2e-6, "kernel sampled", 1e-7);
}
TEST(Linear, PermutationShapIsWTimesDeviation) {
  expect_linear<PermutationShap>(Json{{"permutations", 3}}, 2e-6, "permutation");
}
TEST(Linear, DeepShapIsWTimesDeviation) { expect_linear<DeepShap>(Json::object(), 1e-9, "deep"); }
TEST(Linear, OcclusionWithMeanBaselineIsWTimesDeviation) { expect_linear<Occlusion>(Json::object(), 2e-6, "occlusion"); }
TEST(Linear, IntegratedGradientsIsWTimesDeviationFromBaseline) {
  expect_linear<IntegratedGradients>(Json{{"steps", 4}}, 2e-6, "ig gausslegendre");
  expect_linear<IntegratedGradients>(Json{{"steps", 3}, {"method", "trapezoid"}}, 2e-6, "ig trapezoid");
}

TEST(Linear, IntegratedGradientsZeroBaselineNeedsNoBackground) {
  LinearCase lc;
  auto r = run<IntegratedGradients>(Json{{"target", "class"}, {"class", "c1"}, {"baseline", "zero"}}, lc.model, lc.xs, {});
  ASSERT_EQ(r->run(), MIEN_OK) << r->error();
  const auto got = features_of(r->table("attributions"));
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t j = 0; j < LinearCase::M; ++j)
      EXPECT_NEAR(got[i * LinearCase::M + j], lc.model.w()[j] * lc.xs[i * LinearCase::M + j], 1e-7);
  for (double d : column(r->table("attributions"), "convergence_delta")) EXPECT_NEAR(d, 0.0, 1e-6);
}

TEST(Linear, GradientShapIsUnbiasedWithinItsStandardErrors) {
  LinearCase lc;
  auto r = run<GradientShap>(Json{{"target", "class"}, {"class", "c1"}, {"nsamples", 2000}}, lc.model, lc.xs, lc.bg);
  ASSERT_EQ(r->run(), MIEN_OK) << r->error();
  const auto got = features_of(r->table("attributions"));
  const auto se = features_of(r->table("standard_errors"));
  const auto truth = lc.truth();
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_LE(std::fabs(got[i] - truth[i]), 4 * se[i] + 1e-9) << i;
    EXPECT_LT(se[i], 2e-3);
  }
}

TEST(Linear, LimeCoefficientsAreWTimesStandardDeviation) {
  LinearCase lc;
  auto r = run<Lime>(Json{{"target", "class"}, {"class", "c1"}}, lc.model, lc.xs, lc.bg);
  ASSERT_EQ(r->run(), MIEN_OK) << r->error();
  const auto mu = lc.mean();
  std::vector<double> sd(LinearCase::M, 0.0);
  for (size_t i = 0; i < lc.bg.size(); ++i) sd[i % LinearCase::M] += std::pow(lc.bg[i] - mu[i % LinearCase::M], 2) / 30.0;
  const auto got = features_of(r->table("attributions"));
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t j = 0; j < LinearCase::M; ++j) {
      const double want = lc.model.w()[j] * std::sqrt(sd[j]);
      EXPECT_NEAR(got[i * LinearCase::M + j], want, 2e-3 * std::fabs(want) + 2e-6) << i << "," << j;
    }
  for (double v : column(r->table("attributions"), "r2")) EXPECT_GT(v, 0.9999);
}

TEST(Linear, TargetAllGivesOneRowPerSampleAndClassWithUniqueIds) {
  LinearCase lc;
  auto r = run<ExactShapley>(Json{{"target", "all"}}, lc.model, lc.xs, lc.bg);
  ASSERT_EQ(r->run(), MIEN_OK) << r->error();
  const auto t = r->table("attributions");
  ASSERT_EQ(t.num_rows(), 12);
  EXPECT_EQ(t.get("id").text(0), "s1000/c0");
  EXPECT_EQ(t.get("id").text(1), "s1000/c1");
  EXPECT_EQ(t.get("sample_id").text(1), "s1000");
  EXPECT_EQ(t.get("explained_class").text(1), "c1");
  const auto f = features_of(t);
  // p0 = 1 - p1: the two classes' attributions cancel.
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t j = 0; j < LinearCase::M; ++j)
      EXPECT_NEAR(f[(2 * i) * LinearCase::M + j], -f[(2 * i + 1) * LinearCase::M + j], 2e-6);
  EXPECT_LT(efficiency_error(t), 1e-6);
}

TEST(Linear, TargetTrueExplainsTheLabelAndCopiesIt) {
  LinearCase lc;
  const std::vector<int64_t> labels{0, 1, 1, 0, 1, 0};
  auto r = run<ExactShapley>(Json{{"target", "true"}}, lc.model, lc.xs, lc.bg, 7, 0, labels);
  ASSERT_EQ(r->run(), MIEN_OK) << r->error();
  const auto t = r->table("attributions");
  ASSERT_TRUE(t.label().has_value());
  for (int64_t i = 0; i < 6; ++i) {
    EXPECT_EQ(t.get("explained_class").text(i), labels[i] ? "c1" : "c0");
    EXPECT_EQ(t.label()->code(i), labels[i]);
  }
  // predicted_class is the model's argmax.
  for (int64_t i = 0; i < 6; ++i)
    EXPECT_EQ(t.get("predicted_class").text(i), lc.model.p1(&lc.xs[i * LinearCase::M]) > 0.5 ? "c1" : "c0");
}

TEST(Linear, GroupAttributionsAreSumsOfTheirFeatures) {
  LinearCase lc;
  Json groups{{"left", {"f0", "f2"}}, {"right", {"f4", "f1"}}};
  auto rg = run<ExactShapley>(Json{{"target", "class"}, {"class", "c1"}, {"groups", groups}}, lc.model, lc.xs, lc.bg);
  ASSERT_EQ(rg->run(), MIEN_OK) << rg->error();
  const auto t = rg->table("attributions");
  EXPECT_EQ(t.feature_names(), (std::vector<std::string>{"left", "right", "f3"}));
  const auto truth = lc.truth();
  const auto g = features_of(t);
  for (int64_t i = 0; i < 6; ++i) {
    EXPECT_NEAR(g[i * 3 + 0], truth[i * 5 + 0] + truth[i * 5 + 2], 2e-6);
    EXPECT_NEAR(g[i * 3 + 1], truth[i * 5 + 4] + truth[i * 5 + 1], 2e-6);
  }
  EXPECT_EQ(t.meta()["groups"], groups);
}
