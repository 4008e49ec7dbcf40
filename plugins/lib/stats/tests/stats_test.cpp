// mien::stats against known values (scipy.stats / numpy definitions, worked by hand).
#include <gtest/gtest.h>

#include <mien_stats/correlation.hpp>

#include <cmath>
#include <vector>

namespace {

using mien::stats::kendall_tau_b;
using mien::stats::pearson;
using mien::stats::quantile;
using mien::stats::ranks;
using mien::stats::spearman;

TEST(Stats, RanksAverageTies) {
  // scipy.stats.rankdata([3, 1, 4, 1, 5]) = [3, 1.5, 4, 1.5, 5]
  EXPECT_EQ(ranks({3, 1, 4, 1, 5}), (std::vector<double>{3, 1.5, 4, 1.5, 5}));
  EXPECT_EQ(ranks({2, 2, 2}), (std::vector<double>{2, 2, 2}));
  EXPECT_TRUE(ranks({}).empty());
}

TEST(Stats, PearsonAndSpearmanKnownValues) {
  const std::vector<double> a{1, 2, 3, 4, 5}, b{2, 1, 4, 3, 7};
  // numpy.corrcoef: 0.824163383692134; scipy.stats.spearmanr: 0.8
  EXPECT_NEAR(pearson(a, b), 0.824163383692134, 1e-15);
  EXPECT_NEAR(spearman(a, b), 0.8, 1e-15);
  EXPECT_NEAR(pearson(a, {5, 4, 3, 2, 1}), -1.0, 1e-15);
  // A monotone but non-linear relation: rho 1, r below 1.
  EXPECT_NEAR(spearman(a, {1, 8, 27, 64, 125}), 1.0, 1e-15);
  EXPECT_LT(pearson(a, {1, 8, 27, 64, 125}), 0.99);
}

TEST(Stats, ConstantInputHasNoCorrelation) {
  EXPECT_TRUE(std::isnan(pearson({1, 1, 1}, {1, 2, 3})));
  EXPECT_TRUE(std::isnan(spearman({1, 2, 3}, {4, 4, 4})));
  EXPECT_TRUE(std::isnan(kendall_tau_b({1, 1}, {1, 2})));
  EXPECT_TRUE(std::isnan(pearson({}, {})));
}

TEST(Stats, KendallTauBCorrectsForTies) {
  // scipy.stats.kendalltau([1, 2, 2, 3], [1, 3, 2, 4]) = 0.9128709291752769 (tau-b)
  EXPECT_NEAR(kendall_tau_b({1, 2, 2, 3}, {1, 3, 2, 4}), 0.9128709291752769, 1e-15);
  EXPECT_NEAR(kendall_tau_b({1, 2, 3}, {3, 2, 1}), -1.0, 1e-15);
}

TEST(Stats, QuantileInterpolatesLikeNumpy) {
  // numpy.percentile([1, 2, 3, 4], [0, 25, 50, 97.5, 100]) = [1, 1.75, 2.5, 3.925, 4]
  const std::vector<double> v{4, 1, 3, 2};
  EXPECT_DOUBLE_EQ(quantile(v, 0), 1);
  EXPECT_DOUBLE_EQ(quantile(v, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(quantile(v, 0.5), 2.5);
  EXPECT_NEAR(quantile(v, 0.975), 3.925, 1e-12);
  EXPECT_DOUBLE_EQ(quantile(v, 1), 4);
  EXPECT_TRUE(std::isnan(quantile({}, 0.5)));
}

}  // namespace
