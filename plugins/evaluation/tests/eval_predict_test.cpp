// eval.predict against a plain C++ model reference.
#include <gtest/gtest.h>
#include <mien/testing.hpp>

#include <cmath>

#include "components.hpp"
#include "fake_model.hpp"

namespace {

using eval_test::FakeModel;
using mien::evaluation::EvalPredict;
using mien::evaluation::MetricClassification;
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

// ---- image models ----

// Three 2x2 gray images (mean pixel 0, 255, 63.75) and their sample table.
mien::Tensor three_images() {
  mien::Tensor t = mien::Tensor::zeros<uint8_t>({3, 2, 2, 1});
  const uint8_t px[12] = {0, 0, 0, 0, 255, 255, 255, 255, 255, 0, 0, 0};
  std::copy(px, px + 12, t.data<uint8_t>());
  return t;
}
mien::Table image_table(int64_t rows = 3) {
  mien::Table t(rows);
  std::vector<std::string> ids, subjects;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < rows; ++i) {
    ids.push_back("img" + std::to_string(i));
    subjects.push_back(i < 2 ? "p1" : "p2");
    labels.push_back(i == 1 ? 1 : (i == 2 ? 1 : 0));  // the third image is dark but labelled light
  }
  t.add_strings("id", MIEN_ROLE_ID, ids);
  t.add_codes("label", MIEN_ROLE_LABEL, labels, {"dark", "light"});
  t.add_strings("subject", MIEN_ROLE_GROUP, subjects);
  t.add_strings("path", MIEN_ROLE_VALUE, std::vector<std::string>(static_cast<size_t>(rows), "/x.png"));
  return t;
}

TEST(EvalPredict, ImageModelsAreRunOnTheImagesWithTheSampleTable) {
  eval_test::FakeImageModel model;
  ComponentRunner<EvalPredict> r({{"batch_size", 2}});
  r.set_input("model", model.ref()).set_input("table", image_table()).set_input("images", three_images(), MIEN_PIXEL_GRAY);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_EQ(model.calls(), 2);  // 2 + 1 images
  const auto t = r.table("predictions");
  ASSERT_EQ(t.num_rows(), 3);
  EXPECT_EQ(t.get("id").texts(), (std::vector<std::string>{"img0", "img1", "img2"}));
  EXPECT_EQ(t.get("subject").texts(), (std::vector<std::string>{"p1", "p1", "p2"}));
  EXPECT_EQ(t.get("predicted").texts(), (std::vector<std::string>{"dark", "light", "dark"}));
  EXPECT_NEAR(t.get("p_light").number(0), 0.0, 1e-7);
  EXPECT_NEAR(t.get("p_light").number(1), 1.0, 1e-7);
  EXPECT_NEAR(t.get("p_light").number(2), 0.25, 1e-7);  // raw pixel values reach the model, not 0..1
  EXPECT_NEAR(t.get("p_dark").number(2), 0.75, 1e-7);
  EXPECT_EQ(t.meta()["model"], "test.fake_image");
  EXPECT_EQ(t.meta()["input"], "image");
  EXPECT_EQ(t.meta()["mode"], "as_shipped");
  EXPECT_TRUE(r.logged("accuracy 0.6667 on 3 labelled rows", MIEN_LOG_INFO));

  // and metric.classification scores it like a feature model's predictions
  ComponentRunner<MetricClassification> m({{"bootstrap", 0}});
  m.set_input("predictions", t);
  ASSERT_EQ(m.run(), MIEN_OK) << m.error();
  EXPECT_NEAR(m.json("metrics")["accuracy"].get<double>(), 2.0 / 3.0, 1e-12);
  EXPECT_EQ(m.json("metrics")["models"], mien::Json({"test.fake_image"}));
}

TEST(EvalPredict, ImageModelErrorsSayWhatToConnect) {
  eval_test::FakeImageModel model;
  {
    ComponentRunner<EvalPredict> r;
    r.set_input("model", model.ref()).set_input("table", image_table());
    EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
    EXPECT_NE(r.error().find("test.fake_image takes images: connect them to 'images'"), std::string::npos) << r.error();
  }
  {
    ComponentRunner<EvalPredict> r;
    r.set_input("model", model.ref()).set_input("table", image_table(4)).set_input("images", three_images(), MIEN_PIXEL_GRAY);
    EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
    EXPECT_NE(r.error().find("'images' holds 3 images but 'table' has 4 rows"), std::string::npos) << r.error();
  }
  {
    mien::Tensor big = mien::Tensor::zeros<uint8_t>({3, 4, 4, 1});
    ComponentRunner<EvalPredict> r;
    r.set_input("model", model.ref()).set_input("table", image_table()).set_input("images", std::move(big), MIEN_PIXEL_GRAY);
    EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
    EXPECT_NE(r.error().find("the images are [4, 4, 1] but test.fake_image expects input_shape [2,2,1]"), std::string::npos)
        << r.error();
  }
  {  // a model that resizes inside takes any size
    eval_test::FakeImageModel any(true);
    mien::Tensor big = mien::Tensor::zeros<uint8_t>({3, 4, 4, 1});
    ComponentRunner<EvalPredict> r;
    r.set_input("model", any.ref()).set_input("table", image_table()).set_input("images", std::move(big), MIEN_PIXEL_GRAY);
    EXPECT_EQ(r.run(), MIEN_OK) << r.error();
  }
  {  // images beside a feature model are a wiring mistake, not silently ignored
    FakeModel features;
    ComponentRunner<EvalPredict> r;
    r.set_input("model", features.ref()).set_input("table", table()).set_input("images", three_images(), MIEN_PIXEL_GRAY);
    EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
    EXPECT_NE(r.error().find("'images' is for image models"), std::string::npos) << r.error();
  }
}

}  // namespace
