// The components of the mien-tabular plugin. Declared here so the unit tests can run
// each class with mien::testing::ComponentRunner; plugin.cpp lists them in MIEN_PLUGIN.
#pragma once

#include <mien/plugin.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mien::tabular {

// "format": "input-path" on a parameter: the host hashes the files it names (a folder: every
// file below it) into the node's cache key, so a changed, added or removed file reruns the node.
inline const ::mien::Json kReadsFiles = {{"format", "input-path"}};

// Example config:
//
//   data:
//     use: dataset.table
//     with:
//       path: data/landmarks.csv      # relative to the experiment file; .tsv/.tab = tab-separated
//       label: emotion
//       id: sample
//       groups: [subject, pose]
//       exclude: [notes]
//       classes: [neutral, happy, sad, surprise]
//       missing: drop
//
// Reads a CSV or TSV file into a table: FEATURE columns (float64), the LABEL column
// (int64 codes, categories = class names), an ID column and GROUP columns. Without
// `features`, every remaining column whose first non-missing value is a number is a
// feature; other columns are skipped (listed in the summary).
struct CsvData;  // csv.hpp

class DatasetTable {
 public:
  static inline const Param<std::string> kPath =
      Param<std::string>{
      "path", "CSV or TSV file to read; a relative path is resolved against the experiment file's folder"}.json_schema(kReadsFiles);
  static inline const Param<std::string> kLabel{"label", "label",
                                                "Column holding the class of each row (\"\" = no label column)"};
  static inline const Param<std::string> kId{"id", "",
                                             "Column with a unique id per row (\"\" = generate row0001, row0002, ...)"};
  static inline const Param<std::vector<std::string>> kGroups{
      "groups", {}, "Columns that group rows, e.g. [subject, pose]; output as GROUP columns (text)"};
  static inline const Param<std::vector<std::string>> kFeatures{
      "features", {}, "Feature columns in this order ([] = every remaining numeric column)"};
  static inline const Param<std::vector<std::string>> kExclude{
      "exclude", {}, "Columns never used as features when `features` is empty"};
  static inline const Param<std::vector<std::string>> kClasses{
      "classes", {}, "Class names in code order ([] = the sorted distinct labels); other labels are an error"};
  static inline const Param<std::string> kMissing = Param<std::string>(
      "missing", "error",
      "A row with an empty or NA cell in a used column: error = stop with the line number, drop = skip the row")
      .one_of({"error", "drop"});

  static inline const Output kTable{"table", MIEN_VALUE_TABLE, "features, label codes, ids and groups"};
  static inline const Output kSummary{"summary", MIEN_VALUE_JSON,
                                      "rows, columns, counts per class and group value, dropped rows"};

  static ComponentInfo info();
  explicit DatasetTable(const Setup& s);
  void process(Context& ctx);

 private:
  struct Roles;      // which column plays which part
  struct Converted;  // the rows that are kept, as values
  Roles assign_roles(const CsvData& csv, const Host& host) const;
  Converted convert_rows(const CsvData& csv, const Roles& roles, const Host& host) const;
  std::vector<std::string> class_order(const std::vector<std::string>& labels) const;

  std::string path_;      // resolved
  std::string display_;   // as written, for messages
  std::string label_, id_, missing_;
  std::vector<std::string> groups_, features_, exclude_, classes_;
};

// Example config:
//
//   split:
//     use: split.holdout
//     in: {table: data.table}
//     with:
//       test_size: 0.25
//       stratify: true
//       group: subject        # all rows of one subject land on the same side
//
// Splits a table into train and test rows. Stratified splits keep each class's share
// (by rows, or with `group` by groups and their majority label). With `group`,
// test_size is the fraction of groups that go to test.
class SplitHoldout {
 public:
  static inline const Param<double> kTestSize =
      Param<double>("test_size", 0.2, "Fraction of rows (of groups when `group` is set) put into the test part, in (0, 1)")
          .range(0.0, 1.0);
  static inline const Param<bool> kStratify{
      "stratify", true, "Keep each class's proportion on both sides (needs a LABEL column)"};
  static inline const Param<std::string> kGroup{
      "group", "", "Column whose values are never split across train and test (\"\" = split single rows)"};

  static inline const Input kTable{"table", MIEN_VALUE_TABLE, "rows to split"};
  static inline const Output kTrain{"train", MIEN_VALUE_TABLE, "training rows, original order, same columns"};
  static inline const Output kTest{"test", MIEN_VALUE_TABLE, "test rows, original order, same columns"};
  static inline const Output kAssignment{"assignment", MIEN_VALUE_TABLE, "id and split (train/test) per row"};

  static ComponentInfo info();
  explicit SplitHoldout(const Setup& s);
  void process(Context& ctx);

 private:
  double test_size_;
  bool stratify_;
  std::string group_;
  uint64_t seed_;
};

// Example config:
//
//   cv:
//     use: split.group_kfold
//     matrix: {fold: [0, 1, 2, 3, 4]}     # five copies: cv[0] .. cv[4]
//     in: {table: data.table}
//     with:
//       folds: 5
//       fold: "${matrix.fold}"
//       group: subject
//
// K-fold cross-validation over groups: every group lands in exactly one fold, and fold
// `fold` is the test part. With stratify, groups are placed greedily so each fold's
// label distribution stays close to the whole table's (like scikit-learn's
// StratifiedGroupKFold). The assignment depends only on the seed, the table and
// folds/group/stratify, never on `fold`: nodes that differ only in `fold` and share a
// seed partition the rows (pin `seed` if expanded nodes may get different seeds).
class SplitGroupKFold {
 public:
  static inline const Param<int64_t> kFolds =
      Param<int64_t>("folds", 5, "Number of folds (at least 2, at most the number of groups)").min(2);
  static inline const Param<int64_t> kFold =
      Param<int64_t>("fold", 0, "Which fold is the test part, 0 .. folds-1 (sweep it with a matrix)").min(0);
  static inline const Param<std::string> kGroup{"group", "Column whose values never straddle two folds, e.g. subject"};
  static inline const Param<bool> kStratify{
      "stratify", true, "Balance the label distribution across folds (needs a LABEL column)"};
  static inline const Param<int64_t> kSeed =
      Param<int64_t>("seed", -1,
                     "Seed of the group shuffle; -1 = the node's seed. Set it when a matrix expands `fold` so every "
                     "fold node shuffles alike even if the host gives expanded nodes different seeds")
          .min(-1);

  static inline const Input kTable{"table", MIEN_VALUE_TABLE, "rows to split"};
  static inline const Output kTrain{"train", MIEN_VALUE_TABLE, "rows of the other folds, original order"};
  static inline const Output kTest{"test", MIEN_VALUE_TABLE, "rows of fold `fold`, original order"};
  static inline const Output kAssignment{"assignment", MIEN_VALUE_TABLE, "id and fold index per row"};

  static ComponentInfo info();
  explicit SplitGroupKFold(const Setup& s);
  void process(Context& ctx);

  // Fold index of every group (exposed for tests). counts[g][c] = rows of group g with class c.
  static std::vector<int64_t> assign_folds(const std::vector<std::vector<int64_t>>& counts, int64_t folds,
                                           bool stratify, uint64_t seed);

 private:
  int64_t folds_, fold_;
  std::string group_;
  bool stratify_;
  uint64_t seed_;
};

// Example config:
//
//   scale:
//     use: transform.standardize
//     in: {train: split.train, apply: split.test}
//
// Fits each FEATURE column's mean and standard deviation (population, ddof = 0) on
// `train` and maps x -> (x - mean) / std on both tables. A constant column keeps
// std = 1 (with a warning). Other columns are copied unchanged.
class Standardize {
 public:
  static inline const Input kTrainIn{"train", MIEN_VALUE_TABLE, "table the statistics are fitted on"};
  static inline const Input kApplyIn{"apply", MIEN_VALUE_TABLE,
                                     "table transformed with train's statistics (optional)", MIEN_PORT_OPTIONAL};
  static inline const Output kTrainOut{"train", MIEN_VALUE_TABLE, "train, standardized"};
  static inline const Output kApplyOut{"apply", MIEN_VALUE_TABLE,
                                       "apply, standardized (no rows when apply is not connected)"};
  static inline const Output kScaler{"scaler", MIEN_VALUE_JSON, "feature names, means and stds"};

  static ComponentInfo info();
  explicit Standardize(const Setup& s);
  void process(Context& ctx);
};

// Example config:
//
//   frontal:
//     use: transform.filter
//     with: {column: pose, values: [S]}
//     in: {table: features.table}
//   test_images:                       # the test rows of a split, with their images
//     use: transform.filter
//     in: {table: faces.table, images: faces.images, keep: split.test}
//
// Keeps the rows whose column (any column; GROUP columns such as pose or subject are the
// usual ones) reads as one of `values` (or, with exclude, as none of them), and, when
// `keep` is connected, whose id is among keep's ids. Connected images (rows aligned with
// the table) are filtered the same way.
class Filter {
 public:
  static inline const Param<std::string> kColumn{"column", "",
                                                 "Column whose text is compared, e.g. pose (\"\" = no value test)"};
  static inline const Param<std::vector<std::string>> kValues{"values", {}, "Values to keep, e.g. [S]"};
  static inline const Param<bool> kExclude{"exclude", false, "Drop the rows with these values instead"};
  static inline const Input kTableIn{"table", MIEN_VALUE_TABLE, "rows to filter"};
  static inline const Input kImagesIn{"images", MIEN_VALUE_IMAGE, "images aligned with the rows (optional)",
                                      MIEN_PORT_OPTIONAL};
  static inline const Input kKeep{"keep", MIEN_VALUE_TABLE, "keep only rows whose id is among this table's ids",
                                  MIEN_PORT_OPTIONAL};
  static inline const Output kTableOut{"table", MIEN_VALUE_TABLE, "the kept rows, every column"};
  static inline const Output kImagesOut{"images", MIEN_VALUE_IMAGE,
                                        "the kept rows' images (an empty tensor when none were connected)"};

  static ComponentInfo info();
  explicit Filter(const Setup& s);
  void process(Context& ctx);

 private:
  std::string column_;
  std::vector<std::string> values_;
  bool exclude_;
};

// Example config:
//
//   relative:
//     use: transform.subject_baseline
//     with: {mode: difference}          # or ratio; group: subject, match: [pose] by default
//     in: {table: features.table}
//
// Expresses every face's FEATURE columns relative to the same person's neutral face: per
// row, x - n (difference) or x / n (ratio), where n is the mean of the FEATURE values of
// the rows with the same `group` value (the subject) and the same `match` values (the
// pose, when the table has a pose column) whose label is `neutral`. Absolute geometry is
// dominated by who the person is (face shape); relative to the own neutral face, what is
// left is the expression. The neutral rows are dropped by default (keep_neutral: false):
// relative to themselves they are all zeros (ones for ratio) and would make "neutral" a
// class that is classified by the baseline, not by the face; the neutral class is then
// removed from the label's categories too. Output `baseline` holds, for every output row
// (same ids, same columns), the neutral values used: connected to metric.fidelity's
// `baseline` of a model of the absolute features it makes "the subject's own neutral
// face" the value of the features left out; `relative_baseline` is the same face for a
// model of the relative features (all 0 for difference, all 1 for ratio). mode: none keeps
// the features as they are: the same rows and classes, to compare absolute features fairly.
// Ratio mode: a neutral value of exactly 0 (or not finite) cannot divide; it is an error
// naming the feature and the subject (use mode: difference for features that can be 0).
class SubjectBaseline {
 public:
  static inline const Param<std::string> kMode =
      Param<std::string>("mode", "difference",
                         "difference = x - neutral, ratio = x / neutral (a neutral value of 0 is an error), none = x "
                         "unchanged (the same rows and classes, to compare absolute features on them)")
          .one_of({"difference", "ratio", "none"});
  static inline const Param<std::string> kGroup{
      "group", "", "Column naming the person (\"\" = `subject` when the table has it, else its first GROUP column)"};
  static inline const Param<std::vector<std::string>> kMatch{
      "match", {"pose"},
      "Columns the neutral face must share with the row besides the person, e.g. [pose]; one the table lacks is "
      "skipped (an error when a column has a close name, a likely misspelling)"};
  static inline const Param<std::string> kNeutral{"neutral", "neutral", "Label of the neutral faces"};
  static inline const Param<bool> kKeepNeutral{
      "keep_neutral", false,
      "Keep the neutral rows (all zeros / ones once relative to themselves, a trivially classified class)"};
  static inline const Param<std::string> kMissing = Param<std::string>(
      "missing", "error",
      "A person (and pose) without a neutral face: error = stop naming them, drop = leave their rows out")
      .one_of({"error", "drop"});

  static inline const Input kTableIn{"table", MIEN_VALUE_TABLE, "feature table with a LABEL and the person's column"};
  static inline const Output kTableOut{"table", MIEN_VALUE_TABLE,
                                       "the rows (neutral ones dropped unless keep_neutral), features made relative"};
  static inline const Output kBaseline{"baseline", MIEN_VALUE_TABLE,
                                       "per output row (same ids and columns) the neutral feature values used"};
  static inline const Output kRelativeBaseline{
      "relative_baseline", MIEN_VALUE_TABLE,
      "the same rows with the neutral face in the output's terms: every feature 0 (difference), 1 (ratio), the "
      "neutral values (none)"};
  static inline const Output kSummary{"summary", MIEN_VALUE_JSON,
                                      "mode, rows in and out, neutral rows, persons, persons dropped"};

  static ComponentInfo info();
  explicit SubjectBaseline(const Setup& s);
  void process(Context& ctx);

 private:
  struct Keys;       // each row's person (and matched columns) and whether it is neutral
  struct Selection;  // the output rows, and the persons left without a neutral face
  Keys row_keys(const TableView& in, const Host& host) const;
  Selection select_rows(const Keys& keys, const std::map<std::string, std::vector<double>>& neutral,
                        const Host& host) const;

  std::string mode_, group_, neutral_, missing_;
  std::vector<std::string> match_;
  bool keep_neutral_;
};

}  // namespace mien::tabular
