// metric.classification on hand-computed predictions.
#include <gtest/gtest.h>
#include <mien/testing.hpp>

#include <cmath>

#include "components.hpp"

namespace {

using mien::Json;
using mien::evaluation::MetricClassification;
using mien::testing::ComponentRunner;

struct Case {
  const char* truth;
  const char* pred;
  const char* pose;
};

// Confusion [true][pred] over x, y, z:  x: 2 1 0 | y: 0 2 1 | z: 0 1 3.
const std::vector<Case> kRows = {{"x", "x", "S"}, {"x", "x", "HL"}, {"x", "y", "S"}, {"y", "y", "HR"},
                                 {"y", "z", "S"}, {"z", "z", "HL"}, {"z", "z", "S"}, {"z", "z", "HR"},
                                 {"z", "y", "S"}, {"y", "y", "HL"}};

// A prediction table as eval.predict makes it, for rows [begin, end) of `rows`, with
// the label coded against `label_classes` and the model's classes in meta.
mien::Table predictions(const std::vector<Case>& rows, size_t begin, size_t end,
                        const std::vector<std::string>& model_classes = {"x", "y", "z"},
                        const std::vector<std::string>& label_classes = {"x", "y", "z"}, bool with_meta = true) {
  const auto n = static_cast<int64_t>(end - begin);
  std::vector<std::string> ids, pred, pose;
  std::vector<int64_t> codes;
  for (size_t i = begin; i < end; ++i) {
    ids.push_back("r" + std::to_string(i));
    pred.emplace_back(rows[i].pred);
    pose.emplace_back(rows[i].pose);
    const std::string t = rows[i].truth;
    codes.push_back(t == "-" ? -1
                             : std::find(label_classes.begin(), label_classes.end(), t) - label_classes.begin());
  }
  mien::Table t(n);
  t.add_strings("id", MIEN_ROLE_ID, ids);
  t.add_codes("label", MIEN_ROLE_LABEL, codes, label_classes);
  t.add_strings("pose", MIEN_ROLE_GROUP, pose);
  t.add_strings("predicted", MIEN_ROLE_VALUE, pred);
  for (const auto& c : model_classes) {
    std::vector<double> p;
    for (size_t i = begin; i < end; ++i) p.push_back(c == rows[i].pred ? 1.0 : 0.0);
    t.add_numbers("p_" + c, MIEN_ROLE_VALUE, p);
  }
  if (with_meta) t.meta(Json{{"classes", model_classes}, {"model", "test"}});
  return t;
}

void expect_hand_computed(const Json& m) {
  EXPECT_EQ(m["n"], 10);
  EXPECT_EQ(m["classes"], Json({"x", "y", "z"}));
  EXPECT_DOUBLE_EQ(m["accuracy"].get<double>(), 0.7);
  EXPECT_DOUBLE_EQ(m["balanced_accuracy"].get<double>(), 25.0 / 36.0);  // (2/3 + 2/3 + 3/4) / 3
  const Json& pc = m["per_class"];
  EXPECT_DOUBLE_EQ(pc["x"]["precision"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(pc["x"]["recall"].get<double>(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(pc["x"]["f1"].get<double>(), 0.8);
  EXPECT_DOUBLE_EQ(pc["y"]["precision"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(pc["y"]["recall"].get<double>(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(pc["y"]["f1"].get<double>(), 4.0 / 7.0);
  EXPECT_DOUBLE_EQ(pc["z"]["precision"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(pc["z"]["recall"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(pc["z"]["f1"].get<double>(), 0.75);
  EXPECT_EQ(pc["x"]["support"], 3);
  EXPECT_EQ(pc["y"]["support"], 3);
  EXPECT_EQ(pc["z"]["support"], 4);
  EXPECT_EQ(pc["y"]["predicted"], 4);
  EXPECT_DOUBLE_EQ(m["macro_f1"].get<double>(), (0.8 + 4.0 / 7.0 + 0.75) / 3.0);
  EXPECT_DOUBLE_EQ(m["weighted_f1"].get<double>(), (3 * 0.8 + 3 * 4.0 / 7.0 + 4 * 0.75) / 10.0);
  EXPECT_DOUBLE_EQ(m["macro_precision"].get<double>(), (1.0 + 0.5 + 0.75) / 3.0);
  EXPECT_EQ(m["confusion"]["counts"], Json({{2, 1, 0}, {0, 2, 1}, {0, 1, 3}}));
  const Json& norm = m["confusion"]["normalized"];
  EXPECT_DOUBLE_EQ(norm[0][0].get<double>(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(norm[0][1].get<double>(), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(norm[2][2].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(norm[1][0].get<double>(), 0.0);
}

TEST(MetricClassification, HandComputedScores) {
  ComponentRunner<MetricClassification> r({{"bootstrap", 0}});
  r.set_input("predictions", predictions(kRows, 0, kRows.size()));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json m = r.json("metrics");
  expect_hand_computed(m);
  EXPECT_TRUE(m["bootstrap"].is_null());
  EXPECT_FALSE(m.contains("groups"));

  const auto c = r.table("confusion");
  ASSERT_EQ(c.num_rows(), 3);
  EXPECT_EQ(c.get("group").texts(), (std::vector<std::string>{"all", "all", "all"}));
  EXPECT_EQ(c.get("true_class").texts(), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(c.get("support").codes(), (std::vector<int64_t>{3, 3, 4}));
  EXPECT_EQ(c.get("pred_x").codes(), (std::vector<int64_t>{2, 0, 0}));
  EXPECT_EQ(c.get("pred_y").codes(), (std::vector<int64_t>{1, 2, 1}));
  EXPECT_EQ(c.get("pred_z").codes(), (std::vector<int64_t>{0, 1, 3}));
}

TEST(MetricClassification, SeveralTablesAreConcatenated) {
  // The second table's model lists its classes in another order and its label codes
  // use yet another: everything is matched by class name.
  ComponentRunner<MetricClassification> r({{"bootstrap", 0}});
  r.add_input("predictions", predictions(kRows, 0, 4));
  r.add_input("predictions", predictions(kRows, 4, 10, {"z", "y", "x"}, {"y", "z", "x"}));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json m = r.json("metrics");
  expect_hand_computed(m);
  ASSERT_EQ(m["inputs"].size(), 2u);
  EXPECT_EQ(m["inputs"][0]["rows"], 4);
  EXPECT_DOUBLE_EQ(m["inputs"][0]["accuracy"].get<double>(), 0.75);
  EXPECT_EQ(m["inputs"][1]["rows"], 6);
  EXPECT_DOUBLE_EQ(m["inputs"][1]["accuracy"].get<double>(), 4.0 / 6.0);
  // per table (fold or pose model) beside the pooled 0.7: mean and sample sd of 0.75 and 0.667
  const Json& pt = m["per_table_accuracy"];
  EXPECT_EQ(pt["tables"], 2);
  EXPECT_DOUBLE_EQ(pt["mean"].get<double>(), (0.75 + 4.0 / 6.0) / 2);
  EXPECT_NEAR(pt["sd"].get<double>(), std::sqrt(2 * std::pow((0.75 - 4.0 / 6.0) / 2, 2)), 1e-12);
  EXPECT_EQ(m["models"], Json({"test"}));
  EXPECT_FALSE(m.contains("arm"));
}

TEST(MetricClassification, OneTableHasNoPerTableSpreadAndTheArmIsKept) {
  ComponentRunner<MetricClassification> r({{"bootstrap", 0}, {"arm", "geometric MLP"}});
  r.set_input("predictions", predictions(kRows, 0, kRows.size()));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json m = r.json("metrics");
  EXPECT_EQ(m["arm"], "geometric MLP");
  EXPECT_FALSE(m.contains("per_table_accuracy"));
  EXPECT_TRUE(r.logged("geometric MLP: metric.classification: 10 rows", MIEN_LOG_INFO));
}

// ---- report.held_out_accuracy ----

TEST(HeldOutAccuracy, OneRowPerArmAndPoseWithIntervalsAndTheHeadline) {
  // arm 1: one table per pose, scored per pose; arm 2: one table, no groups
  ComponentRunner<MetricClassification> geo({{"bootstrap", 200}, {"group_by", "pose"}, {"arm", "geometric"}});
  geo.add_input("predictions", predictions(kRows, 0, 4));
  geo.add_input("predictions", predictions(kRows, 4, 10));
  ASSERT_EQ(geo.run(), MIEN_OK) << geo.error();
  ComponentRunner<MetricClassification> cnn({{"bootstrap", 200}});
  cnn.set_input("predictions", predictions(kRows, 0, 6));
  ASSERT_EQ(cnn.run(), MIEN_OK) << cnn.error();

  ComponentRunner<mien::evaluation::HeldOutAccuracy> r;
  r.add_input("metrics", geo.json("metrics")).add_input("metrics", cnn.json("metrics"));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const auto t = r.table("table");
  ASSERT_EQ(t.num_rows(), 5);  // geometric: all, S, HL, HR; test (named by its model): all
  EXPECT_EQ(t.get("arm").texts(), (std::vector<std::string>{"geometric", "geometric", "geometric", "geometric", "test"}));
  EXPECT_EQ(t.get("scope").texts(), (std::vector<std::string>{"all", "S", "HL", "HR", "all"}));
  EXPECT_DOUBLE_EQ(t.get("accuracy").number(0), 0.7);
  EXPECT_DOUBLE_EQ(t.get("accuracy").number(1), 0.4);
  EXPECT_DOUBLE_EQ(t.get("accuracy").number(4), 4.0 / 6.0);
  EXPECT_EQ(t.get("n").number(4), 6);
  for (int64_t i = 0; i < 5; ++i) {
    EXPECT_LE(t.get("ci_low").number(i), t.get("accuracy").number(i)) << i;
    EXPECT_GE(t.get("ci_high").number(i), t.get("accuracy").number(i)) << i;
  }
  EXPECT_EQ(t.get("tables").number(0), 2);
  EXPECT_TRUE(std::isnan(t.get("table_sd").number(4)));  // one table: no spread

  const Json h = r.json("headline");
  EXPECT_EQ(h["title"], "Accuracy on held-out people (95 % CI)");
  ASSERT_EQ(h["rows"].size(), 5u);
  EXPECT_EQ(h["rows"][0]["label"], "geometric");
  EXPECT_EQ(h["rows"][1]["label"], "geometric, pose S");
  EXPECT_EQ(h["rows"][0]["value"].get<std::string>().rfind("0.70 [", 0), 0u) << h["rows"][0]["value"];
  EXPECT_NE(h["rows"][0]["value"].get<std::string>().find("(n = 10); 0.71 ± 0.06 over 2 tables"), std::string::npos)
      << h["rows"][0]["value"];
  EXPECT_NE(r.text("text").find("| test | all | 6 | 0.667 |"), std::string::npos) << r.text("text");
}

TEST(HeldOutAccuracy, NamesMustMatchTheMetricsAndOnlyClassificationIsTaken) {
  ComponentRunner<mien::evaluation::HeldOutAccuracy> r({{"names", Json({"a", "b"})}});
  r.add_input("metrics", Json{{"metric", "classification"}, {"n", 3}, {"accuracy", 1.0}});
  EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(r.error().find("'names' has 2 name(s) but 1 metrics are connected"), std::string::npos) << r.error();
  ComponentRunner<mien::evaluation::HeldOutAccuracy> f;
  f.add_input("metrics", Json{{"metric", "fidelity"}});
  EXPECT_EQ(f.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(f.error().find("is not a metric.classification output"), std::string::npos) << f.error();
}

TEST(MetricClassification, GroupByGivesEachGroupItsOwnScores) {
  ComponentRunner<MetricClassification> r({{"bootstrap", 0}, {"group_by", "pose"}});
  r.set_input("predictions", predictions(kRows, 0, kRows.size()));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json m = r.json("metrics");
  expect_hand_computed(m);
  EXPECT_EQ(m["group_order"], Json({"S", "HL", "HR"}));
  // S: (x,x) (x,y) (y,z) (z,z) (z,y): 2 of 5 right; recall x 1/2, y 0/1, z 1/2.
  const Json& s = m["groups"]["S"];
  EXPECT_EQ(s["n"], 5);
  EXPECT_DOUBLE_EQ(s["accuracy"].get<double>(), 0.4);
  EXPECT_DOUBLE_EQ(s["balanced_accuracy"].get<double>(), (0.5 + 0.0 + 0.5) / 3.0);
  EXPECT_EQ(s["confusion"]["counts"], Json({{1, 1, 0}, {0, 0, 1}, {0, 1, 1}}));
  // HL: (x,x) (z,z) (y,y); HR: (y,y) (z,z): all right, only the classes present count.
  EXPECT_DOUBLE_EQ(m["groups"]["HL"]["accuracy"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(m["groups"]["HR"]["balanced_accuracy"].get<double>(), 1.0);
  EXPECT_EQ(m["groups"]["HR"]["per_class"]["x"]["support"], 0);

  const auto c = r.table("confusion");
  ASSERT_EQ(c.num_rows(), 12);  // (all, S, HL, HR) x 3 classes
  EXPECT_EQ(c.get("group").text(3), "S");
  EXPECT_EQ(c.get("pred_y").code(3), 1);
}

TEST(MetricClassification, BootstrapBracketsTheEstimateAndFollowsTheSeed) {
  std::vector<Case> rows;
  for (int k = 0; k < 10; ++k) rows.insert(rows.end(), kRows.begin(), kRows.end());  // 100 rows, accuracy 0.7
  auto run = [&](uint64_t seed) {
    auto r = std::make_unique<ComponentRunner<MetricClassification>>(Json{{"bootstrap", 500}, {"group_by", "pose"}},
                                                                      seed);
    r->set_input("predictions", predictions(rows, 0, rows.size()));
    EXPECT_EQ(r->run(), MIEN_OK) << r->error();
    return r->json("metrics");
  };
  const Json a = run(11), b = run(11), c = run(12);
  for (const char* key : {"accuracy", "balanced_accuracy"}) {
    const double est = a[key].get<double>();
    const double lo = a["bootstrap"][key]["low"].get<double>(), hi = a["bootstrap"][key]["high"].get<double>();
    EXPECT_LE(lo, est) << key;
    EXPECT_GE(hi, est) << key;
    EXPECT_GT(hi - lo, 0.08) << key;  // about +-1.96 * sqrt(0.21 / 100) = +-0.09 for accuracy
    EXPECT_LT(hi - lo, 0.30) << key;
    const double glo = a["groups"]["S"]["bootstrap"][key]["low"].get<double>();
    const double ghi = a["groups"]["S"]["bootstrap"][key]["high"].get<double>();
    EXPECT_LE(glo, a["groups"]["S"][key].get<double>());
    EXPECT_GE(ghi, a["groups"]["S"][key].get<double>());
  }
  EXPECT_EQ(a["bootstrap"]["samples"], 500);
  EXPECT_DOUBLE_EQ(a["bootstrap"]["confidence"].get<double>(), 0.95);
  EXPECT_EQ(a.dump(), b.dump());            // same seed, same intervals
  EXPECT_NE(a["bootstrap"], c["bootstrap"]);  // another seed, other resamples
  EXPECT_EQ(a["accuracy"], c["accuracy"]);
}

TEST(MetricClassification, LabelOutsideTheModelsClassesIsAnError) {
  std::vector<Case> rows = kRows;
  rows[3].truth = "w";
  ComponentRunner<MetricClassification> r;
  r.set_input("predictions", predictions(rows, 0, rows.size(), {"x", "y", "z"}, {"x", "y", "z", "w"}));
  EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(r.error(),
            "metric.classification: class 'w' appears in the labels of predictions #1 but is not among the model's "
            "classes (x, y, z)");
}

TEST(MetricClassification, UnknownGroupColumnIsAnError) {
  ComponentRunner<MetricClassification> r({{"group_by", "subject"}});
  r.set_input("predictions", predictions(kRows, 0, kRows.size()));
  EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(r.error().find("parameter 'group_by': predictions #1 has no column 'subject' (columns: id, label, pose"),
            std::string::npos)
      << r.error();
}

TEST(MetricClassification, UnlabelledRowsAreSkippedAndClassesMayComeFromColumns) {
  std::vector<Case> rows = kRows;
  rows.push_back({"-", "x", "S"});
  ComponentRunner<MetricClassification> r({{"bootstrap", 0}});
  r.set_input("predictions", predictions(rows, 0, rows.size(), {"x", "y", "z"}, {"x", "y", "z"}, false));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json m = r.json("metrics");
  expect_hand_computed(m);
  EXPECT_EQ(m["unlabelled_rows"], 1);
  EXPECT_TRUE(r.logged("1 row(s) without a label are skipped", MIEN_LOG_WARNING));
}

TEST(MetricClassification, ScoreCountsEveryClassOnce) {
  // Predictions of a class nobody has: precision 0, it joins the macro averages.
  const auto s = MetricClassification::score({0, 0, 1}, {0, 2, 1}, 3);
  EXPECT_DOUBLE_EQ(s.accuracy, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.balanced_accuracy, (0.5 + 1.0) / 2.0);
  EXPECT_DOUBLE_EQ(s.precision[2], 0.0);
  EXPECT_DOUBLE_EQ(s.macro_recall, (0.5 + 1.0 + 0.0) / 3.0);
}

}  // namespace
