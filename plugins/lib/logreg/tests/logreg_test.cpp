// The logistic regression, folds and RFE core (no component machinery).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include <mien_logreg/logreg.hpp>

using namespace mien::logreg;

namespace {

// Box-Muller on std::mt19937_64: the same numbers on every platform.
class Gauss {
 public:
  explicit Gauss(uint64_t seed) : g_(seed) {}
  double operator()() {
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  double uniform() { return (static_cast<double>(g_() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
  std::mt19937_64 g_;
};

struct Problem {
  Matrix x;
  std::vector<int64_t> y;
  int64_t classes = 3;
};

Problem gaussian_problem(int64_t n, int64_t p, double shift, uint64_t seed) {
  Gauss g(seed);
  Problem pr;
  pr.x.rows = n;
  pr.x.cols = p;
  pr.x.v.resize(static_cast<size_t>(n * p));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = i % 3;
    pr.y.push_back(c);
    for (int64_t j = 0; j < p; ++j) pr.x.v[static_cast<size_t>(i * p + j)] = g() + (j % 3 == c ? shift : 0.0);
  }
  return pr;
}

// Independent reference: gradient descent with Armijo backtracking, run until max |gradient| < 1e-8 (loss error ~ |g|^2 / (2 mu) < 1e-13).
std::vector<double> reference_gd(const Problem& pr, double C) {
  const size_t d = static_cast<size_t>(pr.classes * pr.x.cols + pr.classes);
  std::vector<double> th(d, 0.0), g, cand(d), gc;
  double f = logreg_objective(pr.x, pr.y, pr.classes, C, th, &g);
  double step = 1.0;
  for (int it = 0; it < 200000; ++it) {
    double gmax = 0, gg = 0;
    for (double v : g) {
      gmax = std::max(gmax, std::fabs(v));
      gg += v * v;
    }
    if (gmax < 1e-8) break;
    step = std::min(step * 2.0, 64.0);
    for (;;) {
      for (size_t k = 0; k < d; ++k) cand[k] = th[k] - step * g[k];
      const double fc = logreg_objective(pr.x, pr.y, pr.classes, C, cand, &gc);
      if (fc <= f - 0.5 * step * gg) {
        th = cand;
        g = gc;
        f = fc;
        break;
      }
      step *= 0.5;
    }
  }
  return th;
}

}  // namespace

TEST(LogReg, GradientMatchesFiniteDifferences) {
  const Problem pr = gaussian_problem(30, 4, 1.0, 3);
  const size_t d = static_cast<size_t>(pr.classes * 4 + pr.classes);
  std::vector<double> th(d);
  for (size_t k = 0; k < d; ++k) th[k] = 0.1 * std::sin(static_cast<double>(k) + 1.0);
  std::vector<double> g;
  logreg_objective(pr.x, pr.y, pr.classes, 0.7, th, &g);
  for (size_t k = 0; k < d; ++k) {
    std::vector<double> a = th, b = th;
    a[k] += 1e-6;
    b[k] -= 1e-6;
    const double fd = (logreg_objective(pr.x, pr.y, pr.classes, 0.7, a, nullptr) -
                       logreg_objective(pr.x, pr.y, pr.classes, 0.7, b, nullptr)) / 2e-6;
    EXPECT_NEAR(g[k], fd, 1e-7) << "coordinate " << k;
  }
}

TEST(LogReg, ReachesTheOptimumOfAReference) {
  const Problem pr = gaussian_problem(60, 3, 1.5, 5);
  LogRegOptions o;
  o.C = 1.0;
  o.max_iter = 500;
  o.tol = 1e-9;
  const LogRegModel m = fit_logreg(pr.x, pr.y, pr.classes, o);
  EXPECT_TRUE(m.converged);
  EXPECT_LT(m.grad_norm, 1e-9);
  const std::vector<double> ref = reference_gd(pr, 1.0);
  const double f_ref = logreg_objective(pr.x, pr.y, pr.classes, 1.0, ref, nullptr);
  EXPECT_NEAR(m.loss, f_ref, 1e-12);
  EXPECT_LE(m.loss, f_ref + 1e-12);
  for (size_t k = 0; k < m.W.size(); ++k) EXPECT_NEAR(m.W[k], ref[k], 1e-5);
  // The default settings (sklearn's: 100 iterations, tol 1e-6-ish) get close too.
  const LogRegModel d = fit_logreg(pr.x, pr.y, pr.classes, LogRegOptions{});
  EXPECT_NEAR(d.loss, f_ref, 1e-8);
}

TEST(LogReg, SeparableProblemStaysFiniteAndFitsPerfectly) {
  // Two well-separated classes: L2 keeps the optimum finite.
  Matrix x;
  x.rows = 40;
  x.cols = 2;
  std::vector<int64_t> y;
  for (int64_t i = 0; i < 40; ++i) {
    const int64_t c = i % 2;
    y.push_back(c);
    x.v.push_back(c ? 3.0 + 0.01 * static_cast<double>(i) : -3.0 - 0.01 * static_cast<double>(i));
    x.v.push_back(0.05 * static_cast<double>(i % 7));
  }
  LogRegOptions o;
  o.C = 10.0;
  o.max_iter = 1000;
  o.tol = 1e-10;
  const LogRegModel m = fit_logreg(x, y, 2, o);
  EXPECT_TRUE(m.converged);
  EXPECT_LT(m.grad_norm, 1e-10);
  for (double w : m.W) EXPECT_TRUE(std::isfinite(w));
  EXPECT_EQ(m.predict(x), y);
  // Stronger regularisation -> smaller weights.
  o.C = 0.1;
  const LogRegModel s = fit_logreg(x, y, 2, o);
  EXPECT_LT(s.importance()[0], m.importance()[0]);
}

TEST(LogReg, BitIdenticalAcrossRuns) {
  const Problem pr = gaussian_problem(60, 5, 1.0, 9);
  const LogRegModel a = fit_logreg(pr.x, pr.y, 3, LogRegOptions{});
  const LogRegModel b = fit_logreg(pr.x, pr.y, 3, LogRegOptions{});
  EXPECT_EQ(a.W, b.W);
  EXPECT_EQ(a.b, b.b);
}

TEST(Folds, GroupAwareFoldsNeverSplitAGroup) {
  std::vector<int64_t> y, groups;
  for (int64_t i = 0; i < 200; ++i) {
    y.push_back(i % 4);
    groups.push_back((i * 7) % 23);  // 23 groups, interleaved
  }
  const std::vector<int64_t> f = make_folds(y, groups, 5, 42);
  std::map<int64_t, std::set<int64_t>> folds_of_group;
  std::vector<int64_t> size(5, 0);
  for (size_t i = 0; i < y.size(); ++i) {
    folds_of_group[groups[i]].insert(f[i]);
    ++size[static_cast<size_t>(f[i])];
  }
  for (const auto& [g, fs] : folds_of_group) EXPECT_EQ(fs.size(), 1u) << "group " << g;
  for (int64_t s : size) {
    EXPECT_GT(s, 0);
    EXPECT_NEAR(static_cast<double>(s), 40.0, 10.0);  // balanced by rows
  }
  EXPECT_EQ(f, make_folds(y, groups, 5, 42));
  EXPECT_THROW(make_folds(y, std::vector<int64_t>(200, 0), 2, 1), std::invalid_argument);
}

TEST(Folds, StratifiedFoldsBalanceClasses) {
  std::vector<int64_t> y;
  for (int64_t i = 0; i < 100; ++i) y.push_back(i < 50 ? 0 : (i < 80 ? 1 : 2));
  const std::vector<int64_t> f = make_folds(y, {}, 5, 7);
  for (int64_t k = 0; k < 5; ++k) {
    std::vector<int64_t> per(3, 0);
    for (size_t i = 0; i < y.size(); ++i)
      if (f[i] == k) ++per[static_cast<size_t>(y[i])];
    EXPECT_EQ(per[0], 10);
    EXPECT_EQ(per[1], 6);
    EXPECT_EQ(per[2], 4);
  }
  EXPECT_THROW(make_folds({0, 1, 0}, {}, 5, 1), std::invalid_argument);
}

TEST(Rfe, RoundsRemoveStepFeaturesDownToK) {
  Problem pr = gaussian_problem(90, 7, 1.0, 2);
  std::vector<double> mean, sd;
  column_stats(pr.x, mean, sd);
  const RfeResult r = rfe(standardize(pr.x, mean, sd), pr.y, 3, 2, 2, LogRegOptions{});
  ASSERT_EQ(r.rounds.size(), 4u);  // 7 -> 5 -> 3 -> 2, then the final fit
  EXPECT_EQ(r.rounds[0].active.size(), 7u);
  EXPECT_EQ(r.rounds[1].active.size(), 5u);
  EXPECT_EQ(r.rounds[2].active.size(), 3u);
  EXPECT_EQ(r.rounds[2].removed.size(), 1u);
  EXPECT_EQ(r.selected.size(), 2u);
  EXPECT_EQ(r.eliminated.size(), 5u);
}
