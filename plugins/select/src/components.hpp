// The components of the mien-select plugin (feature selection). Declared here so the
// unit tests can run each class with mien::testing::ComponentRunner; plugin.cpp lists
// them in MIEN_PLUGIN. Every component outputs:
//   table    - the input table with only the selected FEATURE columns (other columns kept)
//   selected - JSON: {"method", "k", "features": [ordered names], "steps": [...]}
//   ranking  - TABLE: feature, rank (1 = best), score, selected (1/0), one row per feature
#pragma once

#include <mien/plugin.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include <mien_logreg/labelled_matrix.hpp>
#include <mien_logreg/logreg.hpp>

namespace mien::select {

// The logistic regression and RFE come from plugins/lib/logreg (shared with tune.hyperband).
using logreg::Labelled;
using logreg::LogRegModel;
using logreg::LogRegOptions;
using logreg::Matrix;
using logreg::read_labelled;

// Example config:
//
//   rfe:
//     use: select.rfe
//     in: {table: split.train}
//     with: {k: 30, step: 1, C: 1.0, max_iter: 100}
//
// Recursive feature elimination (scikit-learn's RFE(LogisticRegression())): fits a
// multinomial logistic regression with an L2 penalty on the standardised FEATURE columns,
// removes the `step` features with the smallest summed |coefficient| across classes,
// and repeats until `k` remain.
class SelectRfe {
 public:
  static inline const Param<int64_t> kK =
      Param<int64_t>("k", 0, "Number of features to keep, 1 .. number of features; 0 = half of them (rounded down)")
          .min(0);
  static inline const Param<int64_t> kStep =
      Param<int64_t>("step", 1, "Features removed per round (the last round removes fewer if needed)").min(1);
  static inline const Param<double> kC =
      Param<double>("C", 1.0, "Inverse L2 strength of the logistic regression (scikit-learn's C), > 0").min(1e-12);
  static inline const Param<int64_t> kMaxIter =
      Param<int64_t>("max_iter", 100, "L-BFGS iterations per logistic-regression fit").min(1);

  static inline const Input kTable{"table", MIEN_VALUE_TABLE, "FEATURE columns and a LABEL column"};
  static inline const Output kTableOut{"table", MIEN_VALUE_TABLE, "the input with only the selected FEATURE columns"};
  static inline const Output kSelected{"selected", MIEN_VALUE_JSON,
                                       "ordered feature names and, per round, the fitted features and removals"};
  static inline const Output kRanking{"ranking", MIEN_VALUE_TABLE, "feature, rank, score (|coef| sum), selected"};

  static ComponentInfo info();
  explicit SelectRfe(const Setup& s);
  void process(Context& ctx);

 private:
  int64_t k_, step_;
  LogRegOptions opt_;
};

// Example config:
//
//   sfs:
//     use: select.sequential
//     in: {table: split.train}
//     with: {k: 10, direction: forward, cv: 5, group: subject}
//
// Sequential feature selection (scikit-learn's SequentialFeatureSelector): forward adds,
// backward removes, one feature per round, the one whose addition (removal) gives the
// highest cross-validated accuracy of a logistic regression; stops at `k` features.
// Folds are stratified by class, or with `group` keep every group in one fold.
class SelectSequential {
 public:
  static inline const Param<int64_t> kK =
      Param<int64_t>("k", 0, "Number of features to select, 1 .. number of features; 0 = half of them").min(0);
  static inline const Param<std::string> kDirection =
      Param<std::string>("direction", "forward", "forward (start empty, add) or backward (start full, remove)")
          .one_of({"forward", "backward"});
  static inline const Param<int64_t> kCv =
      Param<int64_t>("cv", 5, "Number of cross-validation folds (at least 2; at most the rows, or groups)").min(2);
  static inline const Param<std::string> kGroup{
      "group", "", "Column (GROUP or any) whose values never straddle two folds, e.g. subject; \"\" = stratified rows"};
  static inline const Param<double> kC =
      Param<double>("C", 1.0, "Inverse L2 strength of the logistic regression, > 0").min(1e-12);
  static inline const Param<int64_t> kMaxIter =
      Param<int64_t>("max_iter", 100, "L-BFGS iterations per logistic-regression fit").min(1);

  static inline const Input kTable{"table", MIEN_VALUE_TABLE, "FEATURE columns and a LABEL column"};
  static inline const Output kTableOut{"table", MIEN_VALUE_TABLE, "the input with only the selected FEATURE columns"};
  static inline const Output kSelected{"selected", MIEN_VALUE_JSON,
                                       "ordered feature names and the cross-validated accuracy after every step"};
  static inline const Output kRanking{"ranking", MIEN_VALUE_TABLE, "feature, rank, score (accuracy), selected"};

  static ComponentInfo info();
  explicit SelectSequential(const Setup& s);
  void process(Context& ctx);

 private:
  int64_t k_, cv_;
  bool forward_;
  std::string group_;
  LogRegOptions opt_;
  uint64_t seed_;
};

// Example config:
//
//   shap_top:
//     use: select.importance_topk
//     in: {table: split.train, attributions: shap.attributions}
//     with: {k: 30}
//
// The paper's "SHAP feature selection" (SelectKBest on a global SHAP importance): keeps
// the k features with the largest mean |attribution| over the rows of an attribution
// table (plugins/CONVENTIONS.md: one FEATURE column per input feature). `class`
// restricts the rows to one explained class.
class SelectImportanceTopK {
 public:
  static inline const Param<int64_t> kK =
      Param<int64_t>("k", 0, "Number of features to keep, 1 .. number of features; 0 = half of them").min(0);
  static inline const Param<std::string> kClass{
      "class", "", "Only rows whose explained_class is this class name (\"\" = every row)"};

  static inline const Input kTable{"table", MIEN_VALUE_TABLE, "FEATURE columns to select from (a LABEL is optional)"};
  static inline const Input kAttributions{"attributions", MIEN_VALUE_TABLE,
                                          "an explainer's attributions: one FEATURE column per feature of `table`"};
  static inline const Output kTableOut{"table", MIEN_VALUE_TABLE, "the input with only the selected FEATURE columns"};
  static inline const Output kSelected{"selected", MIEN_VALUE_JSON, "ordered feature names and their importance"};
  static inline const Output kRanking{"ranking", MIEN_VALUE_TABLE, "feature, rank, score (mean |attribution|), selected"};

  static ComponentInfo info();
  explicit SelectImportanceTopK(const Setup& s);
  void process(Context& ctx);

 private:
  int64_t k_;
  std::string class_;
};

// Example config:
//
//   pose_s:
//     use: select.columns
//     in: {table: features.table}
//     with: {subset: S}               # the paper's frontal subset (30 features)
//   # or: with: {columns: [mouth_aspect_ratio, mouth_width]}
//
// Keeps a named list of FEATURE columns, or one of the paper's per-pose subsets (S 30,
// HL 25, HR 30 of the 40 geometric features; "all" = the 40) from the face plugin's
// feature_subset().
class SelectColumns {
 public:
  static inline const Param<std::vector<std::string>> kColumns{
      "columns", {}, "FEATURE columns to keep, in this order ([] = use `subset`)"};
  static inline const Param<std::string> kSubset =
      Param<std::string>("subset", "", "A per-pose subset of the paper's geometric features: S, HL, HR or all "
                                       "(\"\" = use `columns`)")
          .one_of({"", "S", "HL", "HR", "all"});

  static inline const Input kTable{"table", MIEN_VALUE_TABLE, "a table with FEATURE columns"};
  static inline const Output kTableOut{"table", MIEN_VALUE_TABLE, "the input with only the named FEATURE columns"};
  static inline const Output kSelected{"selected", MIEN_VALUE_JSON, "the kept feature names, in the given order"};
  static inline const Output kRanking{"ranking", MIEN_VALUE_TABLE, "feature, rank (list order), score, selected"};

  static ComponentInfo info();
  explicit SelectColumns(const Setup& s);
  void process(Context& ctx);

 private:
  std::vector<std::string> columns_;
  std::string subset_;
};

// ---- shared by the components ----

// k resolved: 0 -> half (at least 1); errors when k exceeds the number of features.
int64_t resolve_k(int64_t k, int64_t features, const std::string& component);

// The table with only the named FEATURE columns (others kept, order kept).
Table keep_features(const TableView& t, const std::vector<std::string>& keep);

// The ranking table: one row per feature in rank order.
Table ranking_table(const std::vector<std::string>& names_in_rank_order, const std::vector<double>& scores,
                    int64_t selected_count);

}  // namespace mien::select
