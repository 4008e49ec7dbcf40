// report.compare_explainers on hand-made attribution tables and metric summaries, every
// expected value worked out by hand in the comments.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <mien/testing.hpp>

#include "components.hpp"

namespace {

using mien::Json;
using mien::compare::CompareExplainers;
using mien::testing::ComponentRunner;

// Two samples (s1 explains happy, s2 sad), three features a b c.
mien::Table attributions(const std::string& explainer, const std::vector<std::vector<double>>& phi,
                         const std::vector<double>& base, const std::vector<double>& output, Json meta = Json::object(),
                         const std::vector<std::string>& features = {"a", "b", "c"}) {
  mien::Table t(2);
  t.add_strings("id", MIEN_ROLE_ID, {"s1", "s2"});
  t.add_strings("explained_class", MIEN_ROLE_VALUE, {"happy", "sad"});
  t.add_strings("predicted_class", MIEN_ROLE_VALUE, {"happy", "sad"});
  t.add_numbers("base_value", MIEN_ROLE_VALUE, base);
  t.add_numbers("output", MIEN_ROLE_VALUE, output);
  for (size_t f = 0; f < features.size(); ++f) t.add_numbers(features[f], MIEN_ROLE_FEATURE, {phi[0][f], phi[1][f]});
  meta["explainer"] = explainer;
  if (!meta.contains("output")) meta["output"] = "probability";
  t.meta(meta);
  return t;
}

// exact: s1 [0.2, 0.1, -0.05] sums to 0.25 = 0.55 - 0.3; s2 [-0.1, 0.3, 0] sums to 0.2 = 0.4 - 0.2.
mien::Table exact() {
  return attributions("explain.exact_shapley", {{0.2, 0.1, -0.05}, {-0.1, 0.3, 0.0}}, {0.3, 0.2}, {0.55, 0.4},
                      Json{{"seconds", 2.0}, {"model_rows", 4000}});
}
// kernel: errors vs exact 0.05 (s1 a) and 0.02 (s2 b): max 0.05, mean 0.07 / 6.
// Sums 0.30 and 0.18 against 0.25 and 0.2: gaps 0.05 and 0.02 (mean 0.035, max 0.05).
mien::Table kernel() {
  return attributions("explain.kernel_shap", {{0.25, 0.1, -0.05}, {-0.1, 0.28, 0.0}}, {0.3, 0.2}, {0.55, 0.4},
                      Json{{"seconds", 0.5}, {"model_rows", 1000}});
}
// lime: errors .2 .1 .15 / .2 .2 .1: max 0.2, mean 0.95 / 6. Sums 0.3 and 0.3 against
// 0.55 - 0.1 = 0.45 and 0.2: gaps 0.15 and 0.1 (mean 0.125, max 0.15). No seconds in meta.
mien::Table lime() {
  return attributions("explain.lime", {{0.0, 0.2, 0.1}, {0.1, 0.1, 0.1}}, {0.1, 0.2}, {0.55, 0.4});
}

Json fidelity(const std::string& explainer, double f3, double a3) {
  return Json{{"metric", "fidelity"},        {"explainer", explainer},     {"n", {1, 3, 5}},
              {"fidelity", {0.1, f3, 0.9}},  {"accuracy", {0.1, a3, 0.9}}, {"random_fidelity", {0.0, 0.25, 0.5}}};
}
Json deletion(const std::string& explainer, double auc) {
  return Json{{"metric", "deletion"}, {"explainer", explainer}, {"auc", auc}, {"random_auc", 0.6}};
}
Json agreement() {
  return Json{{"metric", "agreement"},
              {"k", 2},
              {"pairs",
               {{{"a", "0:explain.exact_shapley"}, {"b", "1:explain.kernel_shap"}, {"spearman", 0.9}, {"top_k_overlap", 1.0}},
                {{"a", "0:explain.exact_shapley"}, {"b", "2:explain.lime"}, {"spearman", -0.5}, {"top_k_overlap", 0.5}},
                {{"a", "1:explain.kernel_shap"}, {"b", "2:explain.lime"}, {"spearman", 0.1}, {"top_k_overlap", 0.0}}}}};
}

double cell(const mien::TableView& t, const std::string& col, int64_t row) { return t.get(col).number(row); }

TEST(CompareExplainers, OneRowPerExplainerWithHandComputedValues) {
  ComponentRunner<CompareExplainers> r({{"n", 3}});
  r.add_input("attributions", exact()).add_input("attributions", kernel()).add_input("attributions", lime());
  r.add_input("fidelity", fidelity("explain.exact_shapley", 0.75, 0.6))
      .add_input("fidelity", fidelity("explain.kernel_shap", 0.7, 0.55))
      .add_input("fidelity", fidelity("explain.lime", 0.4, 0.3));
  r.add_input("deletion", deletion("explain.exact_shapley", 0.2))
      .add_input("deletion", deletion("explain.kernel_shap", 0.25))
      .add_input("deletion", deletion("explain.lime", 0.5));
  r.add_input("agreement", agreement());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView t = r.table("table");
  ASSERT_EQ(t.num_rows(), 3);
  EXPECT_EQ(t.get("explainer").texts(), (std::vector<std::string>{"exact_shapley", "kernel_shap", "lime"}));
  EXPECT_EQ(t.get("explainer").role(), MIEN_ROLE_ID);
  EXPECT_EQ(t.get("type_id").text(2), "explain.lime");
  // Fidelity and accuracy at n = 3 (the second entry of each sweep).
  EXPECT_DOUBLE_EQ(cell(t, "fidelity@3", 0), 0.75);
  EXPECT_DOUBLE_EQ(cell(t, "fidelity@3", 1), 0.7);
  EXPECT_DOUBLE_EQ(cell(t, "accuracy@3", 2), 0.3);
  EXPECT_DOUBLE_EQ(cell(t, "random_fidelity@3", 2), 0.25);
  EXPECT_DOUBLE_EQ(cell(t, "deletion_auc", 1), 0.25);
  EXPECT_DOUBLE_EQ(cell(t, "deletion_random_auc", 1), 0.6);
  EXPECT_TRUE(std::isnan(cell(t, "insertion_auc", 0)));  // not connected
  // Agreement with the reference (exact), and the reference with itself.
  EXPECT_DOUBLE_EQ(cell(t, "spearman_vs_reference", 0), 1.0);
  EXPECT_DOUBLE_EQ(cell(t, "spearman_vs_reference", 1), 0.9);
  EXPECT_DOUBLE_EQ(cell(t, "spearman_vs_reference", 2), -0.5);
  EXPECT_DOUBLE_EQ(cell(t, "top_k_overlap_vs_reference", 2), 0.5);
  // Errors against the reference.
  EXPECT_DOUBLE_EQ(cell(t, "max_abs_error_vs_reference", 0), 0.0);
  EXPECT_NEAR(cell(t, "max_abs_error_vs_reference", 1), 0.05, 1e-12);
  EXPECT_NEAR(cell(t, "mean_abs_error_vs_reference", 1), 0.07 / 6, 1e-12);
  EXPECT_NEAR(cell(t, "max_abs_error_vs_reference", 2), 0.2, 1e-12);
  EXPECT_NEAR(cell(t, "mean_abs_error_vs_reference", 2), 0.95 / 6, 1e-12);
  // Efficiency gaps.
  EXPECT_NEAR(cell(t, "efficiency_gap_max", 0), 0.0, 1e-12);
  EXPECT_NEAR(cell(t, "efficiency_gap_mean", 1), 0.035, 1e-12);
  EXPECT_NEAR(cell(t, "efficiency_gap_max", 1), 0.05, 1e-12);
  EXPECT_NEAR(cell(t, "efficiency_gap_mean", 2), 0.125, 1e-12);
  EXPECT_NEAR(cell(t, "efficiency_gap_max", 2), 0.15, 1e-12);
  // Time and model rows from the meta data; absent for lime.
  EXPECT_DOUBLE_EQ(cell(t, "seconds", 0), 2.0);
  EXPECT_DOUBLE_EQ(cell(t, "model_rows", 1), 1000);
  EXPECT_TRUE(std::isnan(cell(t, "seconds", 2)));
  EXPECT_DOUBLE_EQ(cell(t, "rows", 0), 2);

  // JSON: the same numbers, NaN as null, with the definitions.
  const Json s = r.json("summary");
  EXPECT_EQ(s["reference"], "exact_shapley");
  EXPECT_EQ(s["k"], 2);
  EXPECT_DOUBLE_EQ(s["explainers"][1]["fidelity@3"].get<double>(), 0.7);
  EXPECT_TRUE(s["explainers"][2]["seconds"].is_null());
  EXPECT_TRUE(s["definitions"].contains("efficiency_gap_max"));

  // Markdown: a header with the shown columns only (insertion is nowhere), the reference marked.
  const std::string md = r.text("text");
  EXPECT_NE(md.find("| explainer | explains | rows | fidelity@3 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| kernel_shap | probability | 2 | 0.7 |"), std::string::npos) << md;
  EXPECT_NE(md.find("exact_shapley (reference)"), std::string::npos) << md;
  EXPECT_NE(md.find("top-2 overlap vs exact_shapley"), std::string::npos) << md;
  EXPECT_EQ(md.find("insertion"), std::string::npos) << md;
  std::ifstream f(std::filesystem::path(r.output_dir()) / "comparison.md");
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str(), md);

  // Headline: one row per explainer, the values spelt out.
  const Json h = r.json("headline");
  EXPECT_EQ(h["title"], "Explainers compared on 2 rows (reference: exact_shapley)");
  ASSERT_EQ(h["rows"].size(), 3u);
  EXPECT_EQ(h["rows"][0]["label"], "exact_shapley (ref)");
  EXPECT_EQ(h["rows"][1]["label"], "kernel_shap");
  EXPECT_EQ(h["rows"][1]["value"],
            "fid@3 0.7, acc@3 0.55, del AUC 0.25, rho 0.9, max err 0.05, eff gap 0.05, 0.5 s");
  // The reference row has no rho or error; its gap is rounding (0.2 + 0.1 - 0.05 vs 0.55 - 0.3).
  const std::string ref_row = h["rows"][0]["value"];
  EXPECT_EQ(ref_row.rfind("fid@3 0.75, acc@3 0.6, del AUC 0.2, eff gap ", 0), 0u) << ref_row;
  EXPECT_EQ(ref_row.substr(ref_row.size() - 5), ", 2 s") << ref_row;
  EXPECT_EQ(ref_row.find("rho"), std::string::npos) << ref_row;
}

TEST(CompareExplainers, SummariesAreMatchedByExplainerWhenListedInAnotherOrder) {
  ComponentRunner<CompareExplainers> r({{"n", 3}});
  r.add_input("attributions", exact()).add_input("attributions", kernel()).add_input("attributions", lime());
  // Fidelity for lime and exact only, in another order; kernel's cells stay empty.
  r.add_input("fidelity", fidelity("explain.lime", 0.4, 0.3)).add_input("fidelity", fidelity("explain.exact_shapley", 0.75, 0.6));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView t = r.table("table");
  EXPECT_DOUBLE_EQ(cell(t, "fidelity@3", 0), 0.75);
  EXPECT_TRUE(std::isnan(cell(t, "fidelity@3", 1)));
  EXPECT_DOUBLE_EQ(cell(t, "fidelity@3", 2), 0.4);
  EXPECT_TRUE(r.logged("no summary on 'fidelity' for kernel_shap"));
  // No agreement connected: the rank columns stay empty, the errors are still computed.
  EXPECT_TRUE(std::isnan(cell(t, "spearman_vs_reference", 1)));
  EXPECT_NEAR(cell(t, "max_abs_error_vs_reference", 1), 0.05, 1e-12);
}

TEST(CompareExplainers, RepeatedExplainersAreNumberedAndMatchedByPosition) {
  // Two Kernel SHAP tables (say two budgets): names kernel_shap and kernel_shap#2, and the
  // summaries must follow the attributions' order.
  ComponentRunner<CompareExplainers> r({{"n", 3}});
  r.add_input("attributions", exact()).add_input("attributions", kernel()).add_input("attributions", kernel());
  r.add_input("fidelity", fidelity("explain.exact_shapley", 0.75, 0.6))
      .add_input("fidelity", fidelity("explain.kernel_shap", 0.7, 0.55))
      .add_input("fidelity", fidelity("explain.kernel_shap", 0.65, 0.5));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView t = r.table("table");
  EXPECT_EQ(t.get("explainer").texts(), (std::vector<std::string>{"exact_shapley", "kernel_shap", "kernel_shap#2"}));
  EXPECT_DOUBLE_EQ(cell(t, "fidelity@3", 2), 0.65);

  // One summary for two kernel tables is ambiguous.
  ComponentRunner<CompareExplainers> amb({{"n", 3}});
  amb.add_input("attributions", exact()).add_input("attributions", kernel()).add_input("attributions", kernel());
  amb.add_input("fidelity", fidelity("explain.kernel_shap", 0.7, 0.55));
  EXPECT_NE(amb.run(), MIEN_OK);
  EXPECT_NE(amb.error().find("list exactly one summary per attributions table"), std::string::npos) << amb.error();
}

TEST(CompareExplainers, NamesAndAnotherReference) {
  ComponentRunner<CompareExplainers> r({{"names", {"E", "K", "L"}}, {"reference", "K"}, {"n", 3}});
  r.add_input("attributions", exact()).add_input("attributions", kernel()).add_input("attributions", lime());
  r.add_input("agreement", agreement());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView t = r.table("table");
  EXPECT_EQ(t.get("explainer").texts(), (std::vector<std::string>{"E", "K", "L"}));
  EXPECT_DOUBLE_EQ(cell(t, "spearman_vs_reference", 0), 0.9);  // the exact-kernel pair
  EXPECT_DOUBLE_EQ(cell(t, "spearman_vs_reference", 1), 1.0);
  EXPECT_DOUBLE_EQ(cell(t, "spearman_vs_reference", 2), 0.1);  // the kernel-lime pair
  EXPECT_DOUBLE_EQ(cell(t, "top_k_overlap_vs_reference", 2), 0.0);
  EXPECT_NEAR(cell(t, "max_abs_error_vs_reference", 0), 0.05, 1e-12);
  EXPECT_EQ(r.json("summary")["reference"], "K");
  // The reference may also be named by type id.
  ComponentRunner<CompareExplainers> by_type({{"reference", "explain.lime"}});
  by_type.add_input("attributions", exact()).add_input("attributions", lime());
  ASSERT_EQ(by_type.run(), MIEN_OK) << by_type.error();
  EXPECT_NEAR(cell(by_type.table("table"), "max_abs_error_vs_reference", 0), 0.2, 1e-12);
}

TEST(CompareExplainers, MissingDefaultReferenceWarnsButAGivenOneMustExist) {
  ComponentRunner<CompareExplainers> r;
  r.add_input("attributions", kernel()).add_input("attributions", lime());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_TRUE(r.logged("no exact_shapley among the explainers (kernel_shap, lime)"));
  EXPECT_TRUE(std::isnan(cell(r.table("table"), "max_abs_error_vs_reference", 0)));
  EXPECT_NEAR(cell(r.table("table"), "efficiency_gap_max", 1), 0.15, 1e-12);
  EXPECT_EQ(r.json("headline")["title"], "Explainers compared on 2 rows");

  ComponentRunner<CompareExplainers> typo({{"reference", "kernel_shp"}});
  typo.add_input("attributions", kernel()).add_input("attributions", lime());
  EXPECT_NE(typo.run(), MIEN_OK);
  EXPECT_NE(typo.error().find("(kernel_shap, lime); did you mean 'kernel_shap'?"), std::string::npos) << typo.error();

  ComponentRunner<CompareExplainers> bad({{"reference", "deep_shap"}});
  bad.add_input("attributions", kernel()).add_input("attributions", lime());
  EXPECT_NE(bad.run(), MIEN_OK);
  EXPECT_NE(bad.error().find("parameter 'reference' is 'deep_shap', which is none of the explainers compared "
                             "(kernel_shap, lime)"),
            std::string::npos)
      << bad.error();
}

TEST(CompareExplainers, NoErrorAgainstAReferenceThatExplainsAnotherQuantity) {
  // Integrated gradients explains the logit: other outputs (2.0, 1.5) than the reference's
  // probabilities, so its error cells stay empty while its efficiency gap is still its own:
  // sums 0.5 and 0.4 against 2.0 - 1.6 = 0.4 and 1.5 - 1.0 = 0.5, gaps 0.1 and 0.1.
  ComponentRunner<CompareExplainers> r;
  r.add_input("attributions", exact());
  r.add_input("attributions", attributions("explain.integrated_gradients", {{0.2, 0.2, 0.1}, {0.1, 0.1, 0.2}},
                                           {1.6, 1.0}, {2.0, 1.5}, Json{{"output", "logit"}}));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView t = r.table("table");
  EXPECT_EQ(t.get("explains").text(1), "logit");
  EXPECT_TRUE(std::isnan(cell(t, "max_abs_error_vs_reference", 1)));
  EXPECT_NEAR(cell(t, "efficiency_gap_mean", 1), 0.1, 1e-12);
  EXPECT_TRUE(r.logged("integrated_gradients explains logit, the reference exact_shapley probability"));
}

TEST(CompareExplainers, ClearErrors) {
  {  // n not in the sweep
    ComponentRunner<CompareExplainers> r({{"n", 4}});
    r.add_input("attributions", exact());
    r.add_input("fidelity", fidelity("explain.exact_shapley", 0.75, 0.6));
    EXPECT_NE(r.run(), MIEN_OK);
    EXPECT_NE(r.error().find("parameter 'n' is 4, but the fidelity summary of exact_shapley has n = [1,3,5]"),
              std::string::npos)
        << r.error();
  }
  {  // names of the wrong length
    ComponentRunner<CompareExplainers> r({{"names", {"only-one"}}});
    r.add_input("attributions", exact()).add_input("attributions", lime());
    EXPECT_NE(r.run(), MIEN_OK);
    EXPECT_NE(r.error().find("parameter 'names' has 1 names for 2 attribution tables"), std::string::npos) << r.error();
  }
  {  // other features than the reference
    ComponentRunner<CompareExplainers> r;
    r.add_input("attributions", exact());
    r.add_input("attributions", attributions("explain.lime", {{0, 0, 0}, {0, 0, 0}}, {0, 0}, {0, 0}, Json::object(),
                                             {"a", "b", "mouth"}));
    EXPECT_NE(r.run(), MIEN_OK);
    EXPECT_NE(r.error().find("lime and the reference exact_shapley explain different features"), std::string::npos)
        << r.error();
  }
  {  // not an attributions table
    ComponentRunner<CompareExplainers> r;
    mien::Table t(1);
    t.add_strings("id", MIEN_ROLE_ID, {"x"});
    r.add_input("attributions", std::move(t));
    EXPECT_NE(r.run(), MIEN_OK);
    EXPECT_NE(r.error().find("has no FEATURE columns"), std::string::npos) << r.error();
  }
  {  // a fidelity input that is not a summary
    ComponentRunner<CompareExplainers> r;
    r.add_input("attributions", exact());
    r.add_input("fidelity", Json::array({1, 2}));
    EXPECT_NE(r.run(), MIEN_OK);
    EXPECT_NE(r.error().find("input 'fidelity' #1 is not a JSON object"), std::string::npos) << r.error();
  }
}

}  // namespace
