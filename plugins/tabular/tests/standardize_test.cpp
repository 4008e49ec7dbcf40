// transform.standardize
#include <gtest/gtest.h>

#include <cmath>

#include "components.hpp"
#include "test_support.hpp"

namespace {

using mien::tabular::Standardize;
using mien::testing::ComponentRunner;

mien::Table train_table() {
  mien::Table t(4);
  t.add_strings("id", MIEN_ROLE_ID, {"a", "b", "c", "d"});
  t.add_codes("label", MIEN_ROLE_LABEL, {0, 1, 1, 0}, {"no", "yes"});
  t.add_numbers("x", MIEN_ROLE_FEATURE, {1, 2, 3, 4});
  t.add_numbers("y", MIEN_ROLE_FEATURE, {10, 10, 30, 30});
  t.add_numbers("score", MIEN_ROLE_VALUE, {0.5, 0.6, 0.7, 0.8});
  t.meta(mien::Json{{"source", "unit"}});
  return t;
}

mien::Table apply_table() {
  mien::Table t(2);
  t.add_strings("id", MIEN_ROLE_ID, {"p", "q"});
  t.add_numbers("y", MIEN_ROLE_FEATURE, {20, 40});
  t.add_numbers("x", MIEN_ROLE_FEATURE, {5, 2.5});
  return t;
}

void expect_mean0_std1(const mien::ColumnView& c) {
  const auto v = c.numbers();
  double m = 0, sq = 0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  for (double x : v) sq += (x - m) * (x - m);
  EXPECT_NEAR(m, 0.0, 1e-12) << c.name();
  EXPECT_NEAR(std::sqrt(sq / static_cast<double>(v.size())), 1.0, 1e-12) << c.name();
}

TEST(Standardize, TrainGetsMeanZeroStdOne) {
  ComponentRunner<Standardize> r;
  r.set_input("train", train_table());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const auto t = r.table("train");
  expect_mean0_std1(t.get("x"));
  expect_mean0_std1(t.get("y"));
  // Other columns unchanged, in the same order.
  EXPECT_EQ(std::string(t.column(0).name()), "id");
  EXPECT_EQ(t.get("id").texts(), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(t.label()->codes(), (std::vector<int64_t>{0, 1, 1, 0}));
  EXPECT_EQ(t.label()->categories(), (std::vector<std::string>{"no", "yes"}));
  EXPECT_EQ(t.get("score").numbers(), (std::vector<double>{0.5, 0.6, 0.7, 0.8}));
  EXPECT_EQ(t.meta()["source"], "unit");
  EXPECT_FALSE(r.progress().empty());
}

TEST(Standardize, ApplyUsesTrainStatistics) {
  ComponentRunner<Standardize> r;
  r.set_input("train", train_table()).set_input("apply", apply_table());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  // x: mean 2.5, population std sqrt(1.25); y: mean 20, std 10.
  const double sx = std::sqrt(1.25);
  const auto a = r.table("apply");
  EXPECT_EQ(a.num_rows(), 2);
  EXPECT_NEAR(a.get("x").number(0), (5 - 2.5) / sx, 1e-12);
  EXPECT_NEAR(a.get("x").number(1), 0.0, 1e-12);
  EXPECT_NEAR(a.get("y").number(0), 0.0, 1e-12);
  EXPECT_NEAR(a.get("y").number(1), 2.0, 1e-12);
  EXPECT_EQ(a.feature_names(), (std::vector<std::string>{"y", "x"}));  // apply's own order
  EXPECT_EQ(a.get("id").texts(), (std::vector<std::string>{"p", "q"}));

  const mien::Json s = r.json("scaler");
  EXPECT_EQ(s["features"], mien::Json({"x", "y"}));
  EXPECT_NEAR(s["means"][0].get<double>(), 2.5, 1e-12);
  EXPECT_NEAR(s["means"][1].get<double>(), 20.0, 1e-12);
  EXPECT_NEAR(s["stds"][0].get<double>(), sx, 1e-12);
  EXPECT_NEAR(s["stds"][1].get<double>(), 10.0, 1e-12);
}

TEST(Standardize, ZeroVarianceGetsStdOneAndAWarning) {
  mien::Table t(3);
  t.add_numbers("c", MIEN_ROLE_FEATURE, {0.1, 0.1, 0.1});
  t.add_numbers("v", MIEN_ROLE_FEATURE, {1, 2, 3});
  ComponentRunner<Standardize> r;
  r.set_input("train", std::move(t));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_TRUE(r.logged("feature 'c' has zero variance", MIEN_LOG_WARNING));
  EXPECT_FALSE(r.logged("feature 'v' has zero variance"));
  const auto c = r.table("train").get("c").numbers();
  for (double x : c) EXPECT_NEAR(x, 0.0, 1e-15);
  const mien::Json s = r.json("scaler");
  EXPECT_EQ(s["stds"][0], 1.0);
  EXPECT_EQ(s["zero_variance"], mien::Json({"c"}));
}

TEST(Standardize, UnconnectedApplyGivesAnEmptyTable) {
  ComponentRunner<Standardize> r;
  r.set_input("train", train_table());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const auto a = r.table("apply");
  EXPECT_EQ(a.num_rows(), 0);
  ASSERT_EQ(a.num_columns(), 5u);
  EXPECT_EQ(a.feature_names(), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(a.label()->categories(), (std::vector<std::string>{"no", "yes"}));
}

TEST(Standardize, ApplyMustHaveEveryTrainFeature) {
  mien::Table apply(1);
  apply.add_numbers("x", MIEN_ROLE_FEATURE, {1});
  apply.add_numbers("Y", MIEN_ROLE_FEATURE, {1});
  ComponentRunner<Standardize> r;
  r.set_input("train", train_table()).set_input("apply", std::move(apply));
  EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(r.error(), "transform.standardize: the apply table lacks feature column 'y' of train; did you mean 'Y'?");
}

TEST(Standardize, NoFeaturesIsAnError) {
  mien::Table t(2);
  t.add_strings("id", MIEN_ROLE_ID, {"a", "b"});
  ComponentRunner<Standardize> r;
  r.set_input("train", std::move(t));
  EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(r.error().find("no FEATURE columns"), std::string::npos);
}

}  // namespace
