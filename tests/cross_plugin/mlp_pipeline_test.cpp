// End to end without the host: model.mlp trains, the artifact is opened through the
// model vtable, eval.predict and metric.classification consume the model reference.
#include <gtest/gtest.h>
#include <mien/testing.hpp>

#include "plugins/evaluation/src/components.hpp"
#include "plugins/models/src/model_mlp.hpp"
#include "plugins/models/tests/model_host.hpp"

namespace {

using mien::Json;
using mien::testing::ComponentRunner;
using namespace models_test;

TEST(MlpPipeline, TrainPredictScore) {
  ComponentRunner<mien::models::ModelMlp> train(
      {{"hidden", {16}}, {"dropout", {0.1}}, {"learning_rate", 0.01}, {"batch_size", 16}, {"epochs", 40}}, 5);
  train.set_input("train", blob_table(make_blobs(50, 1)));
  ASSERT_EQ(train.run(), MIEN_OK) << train.error();
  HostedModel model(mien::detail::Adapter<mien::models::ModelMlp>::descriptor(), train.output_dir("model"));
  ASSERT_EQ(model.status(), MIEN_OK) << model.error();

  // Two "poses" predicted separately, then scored together.
  const Blobs s = make_blobs(30, 2), hl = make_blobs(30, 3);
  std::vector<std::unique_ptr<ComponentRunner<mien::evaluation::EvalPredict>>> predicted;
  for (const Blobs* b : {&s, &hl}) {
    auto p = std::make_unique<ComponentRunner<mien::evaluation::EvalPredict>>(Json{{"batch_size", 32}});
    p->set_input("model", model.ref()).set_input("table", blob_table(*b));
    ASSERT_EQ(p->run(), MIEN_OK) << p->error();
    predicted.push_back(std::move(p));
  }
  // eval.predict's probabilities are the model's own.
  const auto direct = model.predict(blob_matrix(s), 90, 4);
  const auto t = predicted[0]->table("predictions");
  for (size_t i = 0; i < 90; ++i)
    for (size_t k = 0; k < 3; ++k)
      EXPECT_EQ(t.get(std::string("p_") + "abc"[k]).number(static_cast<int64_t>(i)), direct[i * 3 + k]);

  ComponentRunner<mien::evaluation::MetricClassification> metric({{"bootstrap", 200}, {"group_by", "subject"}}, 3);
  for (auto& p : predicted) metric.add_input("predictions", p->table("predictions"));
  ASSERT_EQ(metric.run(), MIEN_OK) << metric.error();
  const Json m = metric.json("metrics");
  EXPECT_EQ(m["n"], 180);
  EXPECT_GT(m["accuracy"].get<double>(), 0.95);
  EXPECT_GT(m["balanced_accuracy"].get<double>(), 0.95);
  EXPECT_EQ(m["classes"], Json({"a", "b", "c"}));
  EXPECT_EQ(m["groups"].size(), 5u);
  EXPECT_LE(m["bootstrap"]["accuracy"]["low"].get<double>(), m["accuracy"].get<double>());
}

}  // namespace
