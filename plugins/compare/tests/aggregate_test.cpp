// report.aggregate and the flattening rules, on hand-made summaries whose mean and sample
// standard deviation are worked out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include <mien/testing.hpp>

#include "components.hpp"

namespace {

using mien::Json;
using mien::compare::Aggregate;
using mien::testing::ComponentRunner;
using OJson = nlohmann::ordered_json;

// The shape of metric.fidelity's summary (plugins/quality).
Json fidelity_summary(double f5, double samples) {
  return Json{{"metric", "fidelity"},   {"explainer", "explain.deep_shap"}, {"n", {1, 5}},
              {"fidelity", {0.5, f5}},  {"accuracy", {0.4, f5 - 0.1}},      {"samples", samples},
              {"model_accuracy", nullptr}};
}
// The shape of metric.classification's metrics.
Json classification(double acc, double samples) {
  return Json{{"metric", "classification"}, {"accuracy", acc}, {"samples", samples},
              {"per_class", {{"happy", {{"f1", acc / 2}}}}}, {"inputs", {{{"index", 0}, {"rows", 12}}}},
              {"group_by", "pose"}, {"ok", true}};
}

TEST(Flatten, JsonPathsSweepsAndWhatIsSkipped) {
  const auto f = mien::compare::flatten_json(OJson::parse(classification(0.8, 30).dump()));
  // Strings, booleans and null carry no number; nested objects and arrays give paths.
  std::map<std::string, double> m;
  for (size_t i = 0; i < f.names.size(); ++i) m[f.names[i]] = f.values[i];
  EXPECT_EQ(m.size(), 5u);
  EXPECT_DOUBLE_EQ(m.at("accuracy"), 0.8);
  EXPECT_DOUBLE_EQ(m.at("per_class.happy.f1"), 0.4);
  EXPECT_DOUBLE_EQ(m.at("inputs[0].rows"), 12);
  EXPECT_DOUBLE_EQ(m.at("inputs[0].index"), 0);

  // Arrays parallel to "n" are keyed by n; "n" itself is not a field; order as written.
  const auto g = mien::compare::flatten_json(OJson::parse(fidelity_summary(0.9, 40).dump()));
  std::map<std::string, double> h;
  for (size_t i = 0; i < g.names.size(); ++i) h[g.names[i]] = g.values[i];
  EXPECT_DOUBLE_EQ(h.at("fidelity@5"), 0.9);
  EXPECT_DOUBLE_EQ(h.at("accuracy@1"), 0.4);
  EXPECT_EQ(h.count("n@1"), 0u);
  EXPECT_EQ(h.count("model_accuracy"), 0u);
  const auto o = mien::compare::flatten_json(OJson::parse(R"({"z": 1, "a": 2, "m": [3, 4]})"));
  EXPECT_EQ(o.names, (std::vector<std::string>{"z", "a", "m[0]", "m[1]"}));
}

TEST(Flatten, Tables) {
  mien::Table one(1);
  one.add_strings("explainer", MIEN_ROLE_ID, {"deep"}).add_numbers("auc", MIEN_ROLE_VALUE, {0.25});
  mien::Table many(2);
  many.add_strings("explainer", MIEN_ROLE_ID, {"deep", "lime"})
      .add_numbers("fidelity@5", MIEN_ROLE_VALUE, {0.9, 0.6})
      .add_codes("label", MIEN_ROLE_LABEL, {0, 1}, {"a", "b"});
  mien::Table curve(2);
  curve.add_numbers("n", MIEN_ROLE_VALUE, {1, 5}).add_numbers("fidelity", MIEN_ROLE_VALUE, {0.5, 0.9});
  mien::testing::ComponentRunner<Aggregate> agg;
  agg.add_input("items", std::move(one)).add_input("items", std::move(many)).add_input("items", std::move(curve));
  ASSERT_EQ(agg.run(), MIEN_OK) << agg.error();
  // One-row table: its columns; longer: <row id>.<column> (coded label columns skipped);
  // beside an n column: column@n.
  EXPECT_EQ(agg.table("table").get("field").texts(),
            (std::vector<std::string>{"auc", "deep.fidelity@5", "lime.fidelity@5", "fidelity@1", "fidelity@5"}));
}

TEST(Aggregate, MeanStdMinMaxOverCopies) {
  // Accuracies 0.8, 0.9, 1.0: mean 0.9, sample sd sqrt((0.01 + 0 + 0.01) / 2) = 0.1.
  // fidelity@5 0.7, 0.8, 0.75 (the third copy): mean 0.75, sd sqrt((0.0025 + 0.0025 + 0) / 2) = 0.05.
  ComponentRunner<Aggregate> r({{"fields", {"accuracy", "fidelity@5"}}});
  r.add_input("items", classification(0.8, 30)).add_input("items", classification(0.9, 30));
  r.add_input("items", classification(1.0, 30));
  r.add_input("items", fidelity_summary(0.7, 40)).add_input("items", fidelity_summary(0.8, 40));
  r.add_input("items", fidelity_summary(0.75, 40));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView t = r.table("table");
  ASSERT_EQ(t.num_rows(), 2);
  EXPECT_EQ(t.get("field").texts(), (std::vector<std::string>{"accuracy", "fidelity@5"}));
  EXPECT_DOUBLE_EQ(t.get("n").number(0), 3);
  EXPECT_NEAR(t.get("mean").number(0), 0.9, 1e-12);
  EXPECT_NEAR(t.get("std").number(0), 0.1, 1e-12);
  EXPECT_DOUBLE_EQ(t.get("min").number(0), 0.8);
  EXPECT_DOUBLE_EQ(t.get("max").number(0), 1.0);
  EXPECT_NEAR(t.get("mean").number(1), 0.75, 1e-12);
  EXPECT_NEAR(t.get("std").number(1), 0.05, 1e-12);
  EXPECT_EQ(t.get("mean_pm_std").text(0), "0.900 ± 0.100");

  const Json s = r.json("summary");
  EXPECT_EQ(s["items"], 6);
  EXPECT_EQ(s["runs"], 3);
  // Every item's value, null where the item has no such field.
  EXPECT_EQ(s["fields"][0]["values"], Json::parse("[0.8, 0.9, 1.0, null, null, null]"));

  const Json h = r.json("headline");
  EXPECT_EQ(h["title"], "mean ± std over 3 runs");
  ASSERT_EQ(h["rows"].size(), 2u);
  EXPECT_EQ(h["rows"][1]["label"], "fidelity@5");
  EXPECT_EQ(h["rows"][1]["value"], "0.750 ± 0.050 (n = 3, 0.700 to 0.800)");
  EXPECT_NE(r.text("text").find("| accuracy | 3 | 0.900 | 0.100 | 0.800 | 1.000 |"), std::string::npos)
      << r.text("text");
}

TEST(Aggregate, NamesSharedByTwoKindsOfItemGetTheKindAsPrefix) {
  // 'samples' is in both kinds with different meanings: classification.samples (30) and
  // fidelity.samples (40), never one mixed field.
  ComponentRunner<Aggregate> r({{"fields", {"*samples"}}});
  r.add_input("items", classification(0.8, 30)).add_input("items", fidelity_summary(0.7, 40));
  r.add_input("items", classification(0.9, 30)).add_input("items", fidelity_summary(0.8, 40));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView t = r.table("table");
  EXPECT_EQ(t.get("field").texts(), (std::vector<std::string>{"classification.samples", "fidelity.samples"}));
  EXPECT_DOUBLE_EQ(t.get("mean").number(0), 30);
  EXPECT_DOUBLE_EQ(t.get("std").number(0), 0);
  EXPECT_DOUBLE_EQ(t.get("mean").number(1), 40);
}

TEST(Aggregate, WildcardsPartialFieldsAndEveryField) {
  ComponentRunner<Aggregate> r({{"fields", {"fidelity@*"}}, {"digits", 2}});
  r.add_input("items", fidelity_summary(0.7, 40));
  r.add_input("items", Json{{"metric", "fidelity"}, {"n", Json::array({1})}, {"fidelity", Json::array({0.3})}});  // no n = 5
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView t = r.table("table");
  EXPECT_EQ(t.get("field").texts(), (std::vector<std::string>{"fidelity@1", "fidelity@5"}));
  EXPECT_NEAR(t.get("mean").number(0), 0.4, 1e-12);
  EXPECT_DOUBLE_EQ(t.get("n").number(1), 1);
  EXPECT_TRUE(std::isnan(t.get("std").number(1)));  // one value: no sample sd
  EXPECT_EQ(t.get("mean_pm_std").text(1), "0.70 ± n/a");
  EXPECT_TRUE(r.logged("field 'fidelity@5' is present in 1 of the items only"));

  ComponentRunner<Aggregate> all;
  all.add_input("items", Json{{"a", 1}, {"b", {{"c", 2}}}}).add_input("items", Json{{"a", 3}, {"b", {{"c", 6}}}});
  ASSERT_EQ(all.run(), MIEN_OK) << all.error();
  EXPECT_EQ(all.table("table").get("field").texts(), (std::vector<std::string>{"a", "b.c"}));
  EXPECT_DOUBLE_EQ(all.table("table").get("mean").number(1), 4);
  EXPECT_NEAR(all.table("table").get("std").number(1), std::sqrt(8.0), 1e-12);
}

TEST(Aggregate, LabelsRenameRowsForPeopleOnly) {
  ComponentRunner<Aggregate> r({{"fields", {"accuracy@5"}}, {"labels", {{"accuracy@5", "explanation accuracy@5"}, {"nope", "x"}}}});
  r.add_input("items", fidelity_summary(0.7, 40)).add_input("items", fidelity_summary(0.8, 40));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_EQ(r.table("table").get("field").text(0), "accuracy@5");
  EXPECT_EQ(r.json("headline")["rows"][0]["label"], "explanation accuracy@5");
  EXPECT_NE(r.text("text").find("| explanation accuracy@5 | 2 | 0.650 | 0.071 |"), std::string::npos) << r.text("text");
  EXPECT_TRUE(r.logged("parameter 'labels' names 'nope'"));
}

TEST(Aggregate, ClearErrors) {
  {
    ComponentRunner<Aggregate> r({{"fields", {"acuracy"}}});
    r.add_input("items", classification(0.8, 30));
    EXPECT_NE(r.run(), MIEN_OK);
    EXPECT_NE(r.error().find("parameter 'fields': no item has a field 'acuracy'; did you mean 'accuracy'?"),
              std::string::npos)
        << r.error();
    EXPECT_NE(r.error().find("The fields are: accuracy, inputs[0].index"), std::string::npos) << r.error();
  }
  {
    ComponentRunner<Aggregate> r;
    r.add_input("items", mien::Tensor::from<float>({1}, {1.f}));
    EXPECT_NE(r.run(), MIEN_OK);
    EXPECT_NE(r.error().find("item #1 is neither JSON nor a table"), std::string::npos) << r.error();
  }
  {
    ComponentRunner<Aggregate> r;
    r.add_input("items", Json{{"name", "no numbers"}});
    EXPECT_NE(r.run(), MIEN_OK);
    EXPECT_NE(r.error().find("hold no numeric field"), std::string::npos) << r.error();
  }
}

TEST(Helpers, WildcardsAndNumbers) {
  using mien::compare::format_number;
  using mien::compare::wildcard_match;
  EXPECT_TRUE(wildcard_match("fidelity@*", "fidelity@5"));
  EXPECT_TRUE(wildcard_match("*", ""));
  EXPECT_TRUE(wildcard_match("a*b*c", "axxbyyc"));
  EXPECT_FALSE(wildcard_match("a*b*c", "axxbyy"));
  EXPECT_FALSE(wildcard_match("accuracy", "accuracy@5"));
  EXPECT_TRUE(wildcard_match("*accuracy", "balanced_accuracy"));
  EXPECT_EQ(format_number(0.93333333), "0.9333");
  EXPECT_EQ(format_number(0.00012), "1.20e-04");
  EXPECT_EQ(format_number(0), "0");
  EXPECT_EQ(format_number(std::nan("")), "n/a");
  EXPECT_EQ(format_number(123456), "1.235e+05");
  EXPECT_EQ(mien::compare::format_short(0.93333333), "0.933");
  EXPECT_EQ(mien::compare::format_short(0.00012345), "1.2e-04");
}

}  // namespace
