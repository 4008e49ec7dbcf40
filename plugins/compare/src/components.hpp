// The components of the mien-compare plugin: one table comparing explainers, and mean ± std
// of metrics over the copies of a matrix (seeds, folds). Declared here so the unit tests can
// run each class with mien::testing::ComponentRunner.
//
// Nothing here recomputes a quality metric: fidelity, deletion and agreement come from the
// metric.* nodes of plugins/quality, wired in the graph; this plugin only reads their JSON
// summaries (and the attribution tables themselves, for the reference error and the
// efficiency gap, which no other component computes).
#pragma once

#include <mien/plugin.hpp>

#include <map>
#include <string>
#include <vector>

namespace mien::compare {

// Example config (configs/compare_explainers.yaml has the whole graph):
//
//   compare:
//     use: report.compare_explainers
//     with: {n: 5, reference: exact_shapley}
//     in:
//       attributions: [exact.attributions, kernel.attributions, deep.attributions, lime.attributions]
//       fidelity:     [fid_exact.summary, fid_kernel.summary, fid_deep.summary, fid_lime.summary]
//       deletion:     [del_exact.summary, del_kernel.summary, del_deep.summary, del_lime.summary]
//       agreement:    agree.summary      # metric.agreement over the same attribution list
//
// One row per explainer: fidelity@n, explanation accuracy@n (from metric.fidelity),
// deletion AUC (metric.deletion), Spearman and top-k overlap with the reference explainer
// (metric.agreement), max |error| against the reference's attributions, the efficiency gap
// |sum phi - (output - base_value)|, seconds and model rows (the tables' meta).
class CompareExplainers {
 public:
  static inline const Input kAttributions{
      "attributions", MIEN_VALUE_TABLE,
      "attribution tables of the explainers compared (same model, samples and features)", MIEN_PORT_MULTIPLE};
  static inline const Input kFidelity{
      "fidelity", MIEN_VALUE_JSON,
      "metric.fidelity (or explanation_accuracy) summaries, one per explainer (matched by explainer, else by order)",
      MIEN_PORT_MULTIPLE | MIEN_PORT_OPTIONAL};
  static inline const Input kDeletion{"deletion", MIEN_VALUE_JSON,
                                      "metric.deletion summaries, one per explainer (matched like fidelity)",
                                      MIEN_PORT_MULTIPLE | MIEN_PORT_OPTIONAL};
  static inline const Input kInsertion{"insertion", MIEN_VALUE_JSON,
                                       "metric.insertion summaries, one per explainer (matched like fidelity)",
                                       MIEN_PORT_MULTIPLE | MIEN_PORT_OPTIONAL};
  static inline const Input kAgreement{
      "agreement", MIEN_VALUE_JSON,
      "metric.agreement summary over the same attribution tables (pairs with the reference are used)",
      MIEN_PORT_OPTIONAL};
  static inline const Output kTable{"table", MIEN_VALUE_TABLE, "one row per explainer (written as CSV)"};
  static inline const Output kSummary{"summary", MIEN_VALUE_JSON, "the same rows as JSON, with the definitions"};
  static inline const Output kText{"text", MIEN_VALUE_STRING, "the table as Markdown"};
  static inline const Output kHeadline{"headline", MIEN_VALUE_JSON,
                                       "{title, rows: [{label, value}]}: one line per explainer, printed by the host"};

  static inline const Param<std::vector<std::string>> kNames{
      "names", {},
      "Display names, one per attributions table in order ([] = the explainer from each table's meta, without "
      "'explain.'; repeats get #2, #3)"};
  static inline const Param<std::string> kReference{
      "reference", "exact_shapley",
      "Explainer the others are compared with (a display name or type id, e.g. exact_shapley or "
      "explain.deep_shap); \"\" = none. When the default is absent the reference columns stay empty"};
  static inline const Param<int> kN =
      Param<int>("n", 5, "Number of top features of fidelity@n and accuracy@n (must be among the summaries' n)").min(1);
  static inline const Param<std::string> kTitle{"title", "", "Headline title (\"\" = a generated one)"};

  static ComponentInfo info();
  explicit CompareExplainers(const Setup& s);
  void process(Context& ctx);

 private:
  std::vector<std::string> names_;
  std::string reference_;
  bool reference_is_default_;
  int n_;
  std::string title_;
};

// Example config (configs/sweep_seeds.yaml):
//
//   summary:
//     use: report.aggregate
//     with: {fields: [accuracy, balanced_accuracy, "fidelity@5", "accuracy@5"]}
//     in: {items: [accuracy.metrics, fidelity.summary]}     # gathers every matrix copy
//
// Mean, sample standard deviation (n - 1), n, min and max of every numeric field over the
// items (JSON summaries or tables, typically the copies of a matrix node). JSON is flattened
// into dotted paths (per_class.happy.f1, inputs[0].rows); arrays parallel to an "n" array
// (metric.fidelity's sweeps) become field@n (fidelity@5); a one-row table gives its numeric
// columns, a longer one <row id>.<column> (or column@n beside an "n" column).
class Aggregate {
 public:
  static inline const Input kItems{"items", MIEN_VALUE_ANY,
                                   "JSON summaries or tables to aggregate, e.g. every copy of a matrix node",
                                   MIEN_PORT_MULTIPLE};
  static inline const Output kTable{"table", MIEN_VALUE_TABLE,
                                    "one row per field: field, n, mean, std, min, max, mean_pm_std (written as CSV)"};
  static inline const Output kSummary{"summary", MIEN_VALUE_JSON, "the same with every item's value"};
  static inline const Output kText{"text", MIEN_VALUE_STRING, "the table as Markdown"};
  static inline const Output kHeadline{"headline", MIEN_VALUE_JSON, "{title, rows: [{label, value}]}: mean ± std per field"};

  static inline const Param<std::vector<std::string>> kFields{
      "fields", {},
      "Fields to aggregate, in this order; * matches any text (e.g. \"fidelity@*\"); [] = every numeric field "
      "(the headline then shows the first 12)"};
  static inline const Param<std::string> kTitle{"title", "", "Headline title (\"\" = \"mean ± std over N runs\")"};
  static inline const Param<int> kDigits =
      Param<int>("digits", 3, "Decimals in mean_pm_std, the Markdown and the headline").range(0, 12);
  static inline const Param<Json> kLabels =
      Param<Json>("labels", Json::object(),
                  "Display names for fields in the Markdown and the headline, e.g. {\"accuracy@5\": \"explanation "
                  "accuracy@5\"} (the table and JSON keep the field names)")
          .json_schema(Json{{"type", "object"}, {"additionalProperties", {{"type", "string"}}}});

  static ComponentInfo info();
  explicit Aggregate(const Setup& s);
  void process(Context& ctx);

 private:
  std::vector<std::string> fields_;
  std::map<std::string, std::string> labels_;
  std::string title_;
  int digits_;
};

// ---- helpers shared by both components (and tested on their own) ----
struct Flat {
  std::vector<std::string> names;  // first-appearance order
  std::vector<double> values;
};
// Flattens a JSON document into numeric fields (rules above Aggregate).
Flat flatten_json(const nlohmann::ordered_json& j);
// Flattens a table into numeric fields (rules above Aggregate).
Flat flatten_table(const TableView& t);
// '*' wildcard match of a whole string.
bool wildcard_match(const std::string& pattern, const std::string& text);
// A number for a human: 4 significant digits, scientific below 1e-3; "n/a" for NaN.
std::string format_number(double v);
// Shorter, for headlines: 3 significant digits, scientific below 1e-3.
std::string format_short(double v);
// Fixed decimals; "n/a" for NaN.
std::string format_fixed(double v, int digits);
// A Markdown table (header, then rows; cells are escaped for '|').
std::string markdown_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

}  // namespace mien::compare
