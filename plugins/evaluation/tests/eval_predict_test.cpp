// eval.predict against a plain C++ model reference.
#include <gtest/gtest.h>
#include <mien/testing.hpp>

#include <cmath>

#include "components.hpp"
#include "fake_model.hpp"

namespace {

using eval_test::FakeModel;
using mien::evaluation::EvalPredict;
using mien::testing::ComponentRunner;

// Features in the other order than the model's, an extra feature, id, label, two groups.
mien::Table table() {
  mien::Table t(5);
  t.add_strings("id", MIEN_ROLE_ID, {"s1", "s2", "s3", "s4", "s5"});
  t.add_codes("emotion", MIEN_ROLE_LABEL, {0, 1, 2, -1, 1}, {"x", "y", "z"});
  t.add_strings("subject", MIEN_ROLE_GROUP, {"p1", "p1", "p2", "p2", "p3"});
  t.add_strings("pose", MIEN_ROLE_GROUP, {"S", "HL", "S", "HR", "S"});
  t.add_numbers("b", MIEN_ROLE_FEATURE, {0.0, 3.0, -2.0, 0.1, 0.2});
  t.add_numbers("unused", MIEN_ROLE_FEATURE, {9, 9, 9, 9, 9});
  t.add_numbers("a", MIEN_ROLE_FEATURE, {2.0, 0.0, -2.0, 0.0, 0.3});
  return t;
}

TEST(EvalPredict, ProbabilitiesAndPredictedClassPerRow) {
  FakeModel model;
  ComponentRunner<EvalPredict> r;
  r.set_input("model", model.ref()).set_input("table", table());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const auto t = r.table("predictions");
  ASSERT_EQ(t.num_rows(), 5);
  // Column order: id, label, groups, predicted, p_<class>.
  std::vector<std::string> names;
  for (uint32_t i = 0; i < t.num_columns(); ++i) names.emplace_back(t.column(i).name());
  EXPECT_EQ(names, (std::vector<std::string>{"id", "emotion", "subject", "pose", "predicted", "p_x", "p_y", "p_z"}));
  EXPECT_EQ(t.get("id").texts(), (std::vector<std::string>{"s1", "s2", "s3", "s4", "s5"}));
  EXPECT_EQ(t.get("id").role(), MIEN_ROLE_ID);
  EXPECT_EQ(t.label()->codes(), (std::vector<int64_t>{0, 1, 2, -1, 1}));
  EXPECT_EQ(t.label()->categories(), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(t.get("pose").texts(), (std::vector<std::string>{"S", "HL", "S", "HR", "S"}));
  EXPECT_EQ(t.get("pose").role(), MIEN_ROLE_GROUP);
  EXPECT_EQ(t.get("predicted").texts(), (std::vector<std::string>{"x", "y", "z", "z", "x"}));

  const double a[] = {2.0, 0.0, -2.0, 0.0, 0.3}, b[] = {0.0, 3.0, -2.0, 0.1, 0.2};
  for (int64_t i = 0; i < 5; ++i) {
    const auto p = FakeModel::probabilities(a[i], b[i]);
    double sum = 0;
    for (int k = 0; k < 3; ++k) {
      const double got = t.get(std::string("p_") + "xyz"[k]).number(i);
      EXPECT_NEAR(got, p[static_cast<size_t>(k)], 1e-7) << "row " << i << " class " << k;  // float32 model output
      sum += got;
    }
    EXPECT_NEAR(sum, 1.0, 1e-6);
  }
  EXPECT_EQ(t.meta()["classes"], mien::Json({"x", "y", "z"}));
  EXPECT_EQ(t.meta()["model"], "test.fake");
  EXPECT_TRUE(r.logged("accuracy 0.7500 on 4 labelled rows", MIEN_LOG_INFO));  // s5 is wrong
}

TEST(EvalPredict, BatchesGiveTheSameResult) {
  FakeModel one, many;
  ComponentRunner<EvalPredict> r1({{"batch_size", 2}});
  r1.set_input("model", one.ref()).set_input("table", table());
  ASSERT_EQ(r1.run(), MIEN_OK) << r1.error();
  EXPECT_EQ(one.calls(), 3);  // 2 + 2 + 1 rows
  EXPECT_EQ(one.largest_batch(), 2);
  ComponentRunner<EvalPredict> r2;
  r2.set_input("model", many.ref()).set_input("table", table());
  ASSERT_EQ(r2.run(), MIEN_OK) << r2.error();
  EXPECT_EQ(many.calls(), 1);
  for (const char* c : {"p_x", "p_y", "p_z"})
    EXPECT_EQ(r1.table("predictions").get(c).numbers(), r2.table("predictions").get(c).numbers()) << c;
}

TEST(EvalPredict, MissingFeaturesAreListed) {
  mien::Table t(2);
  t.add_strings("id", MIEN_ROLE_ID, {"s1", "s2"});
  t.add_numbers("c", MIEN_ROLE_FEATURE, {1, 2});
  FakeModel model;
  ComponentRunner<EvalPredict> r;
  r.set_input("model", model.ref()).set_input("table", std::move(t));
  EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(r.error(), "eval.predict: the table lacks 2 of the 2 features test.fake needs: a, b");
  EXPECT_EQ(model.calls(), 0);
}

TEST(EvalPredict, NonFiniteFeatureIsAnError) {
  mien::Table t(2);
  t.add_numbers("a", MIEN_ROLE_FEATURE, {1, std::nan("")});
  t.add_numbers("b", MIEN_ROLE_FEATURE, {1, 2});
  FakeModel model;
  ComponentRunner<EvalPredict> r;
  r.set_input("model", model.ref()).set_input("table", std::move(t));
  EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(r.error(), "eval.predict: feature 'a' is not finite in row 2");
}

TEST(EvalPredict, WithoutIdsRowsGetGeneratedIds) {
  mien::Table t(2);
  t.add_numbers("a", MIEN_ROLE_FEATURE, {1, 0});
  t.add_numbers("b", MIEN_ROLE_FEATURE, {0, 1});
  FakeModel model;
  ComponentRunner<EvalPredict> r;
  r.set_input("model", model.ref()).set_input("table", std::move(t));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_EQ(r.table("predictions").get("id").texts(), (std::vector<std::string>{"row0001", "row0002"}));
  EXPECT_FALSE(r.table("predictions").label().has_value());
}

TEST(EvalPredict, ModelWithoutPredictIsRefused) {
  FakeModel model(0);
  ComponentRunner<EvalPredict> r;
  r.set_input("model", model.ref()).set_input("table", table());
  EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(r.error(), "eval.predict: the model offers no predict");
}

TEST(EvalPredict, CancellationStopsBetweenBatches) {
  FakeModel model;
  ComponentRunner<EvalPredict> r({{"batch_size", 1}});
  r.set_input("model", model.ref()).set_input("table", table());
  r.cancel_after(2);
  EXPECT_EQ(r.run(), MIEN_ERR_CANCELLED);
  EXPECT_EQ(model.calls(), 2);
}

}  // namespace
