// The components of the mien-evaluation plugin. Pure C++ over the model reference (no
// LibTorch), so it builds in every configuration. Declared here so the unit tests can
// run each class with mien::testing::ComponentRunner; plugin.cpp lists them.
#pragma once

#include <mien/plugin.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace mien::evaluation {

// Example config:
//
//   predict_s:
//     use: eval.predict
//     in: {model: mlp_s.model, table: split.test}
//     with:
//       batch_size: 256
//
// Runs any model with MIEN_CAP_PREDICT on a feature table. The table needs every
// feature the model names in its info (feature_names), in any order and with any extra
// columns; they are passed raw (the model standardises itself). Output: one row per
// input row with the id, the label and GROUP columns copied, the predicted class name
// and one probability column p_<class> per class of the model. The table's meta holds
// the model's classes, so metric.classification can check labels against them.
class EvalPredict {
 public:
  static inline const Param<int64_t> kBatchSize =
      Param<int64_t>("batch_size", 256, "Rows per call of the model's predict").min(1);

  static inline const Input kModel{"model", MIEN_VALUE_MODEL, "a model with predict (e.g. model.mlp's model)", 0,
                                   MIEN_CAP_PREDICT};
  static inline const Input kTable{"table", MIEN_VALUE_TABLE,
                                   "rows to classify: the model's feature columns (raw), optionally id/label/groups"};
  static inline const Output kPredictions{
      "predictions", MIEN_VALUE_TABLE,
      "id, label and GROUP columns copied, `predicted` (class name) and p_<class> per class"};

  static ComponentInfo info();
  explicit EvalPredict(const Setup& s);
  void process(Context& ctx);

 private:
  int64_t batch_size_;
};

// Example config:
//
//   accuracy:
//     use: metric.classification
//     in: {predictions: [predict_s.predictions, predict_hl.predictions, predict_hr.predictions]}
//     with:
//       group_by: pose        # metrics per pose as well as over all rows
//       bootstrap: 1000
//       confidence: 0.95
//
// Classification metrics over one or more prediction tables (from eval.predict). Several
// tables are concatenated first: with one model per pose this gives the paper's
// "concatenated accuracy". Outputs accuracy, balanced accuracy (mean recall over the
// classes present), per-class precision / recall / F1 / support, macro and weighted
// averages, the confusion matrix (counts and row-normalised), percentile-bootstrap
// confidence intervals of accuracy and balanced accuracy (rows resampled with
// replacement, seeded by the node's seed), the accuracy of each input table and, with
// group_by, all of it per group. Rows without a label are skipped (counted).
class MetricClassification {
 public:
  static inline const Param<std::string> kGroupBy{
      "group_by", "", "Column (e.g. pose) whose values get their own metrics too; \"\" = overall only"};
  static inline const Param<int64_t> kBootstrap =
      Param<int64_t>("bootstrap", 1000, "Bootstrap resamples for the confidence intervals; 0 = none").min(0);
  static inline const Param<double> kConfidence =
      Param<double>("confidence", 0.95, "Coverage of the bootstrap intervals, in (0, 1)").range(0.0, 1.0);

  static inline const Input kPredictions{"predictions", MIEN_VALUE_TABLE,
                                         "prediction tables from eval.predict; several are concatenated", MIEN_PORT_MULTIPLE};
  static inline const Output kMetrics{"metrics", MIEN_VALUE_JSON,
                                      "accuracy, balanced accuracy, per-class scores, confusion, bootstrap CIs, groups"};
  static inline const Output kConfusion{
      "confusion", MIEN_VALUE_TABLE,
      "one row per (group, true class): group (\"all\" or the group's value), true_class, support, pred_<class> counts"};

  static ComponentInfo info();
  explicit MetricClassification(const Setup& s);
  void process(Context& ctx);

  // The scores of one set of (true, predicted) class indices into `classes` names.
  struct Scores {
    int64_t n = 0;
    double accuracy = 0, balanced_accuracy = 0, macro_precision = 0, macro_recall = 0, macro_f1 = 0, weighted_f1 = 0;
    std::vector<double> precision, recall, f1;
    std::vector<int64_t> support, predicted;
    std::vector<std::vector<int64_t>> confusion;  // [true][predicted]
  };
  static Scores score(const std::vector<int64_t>& truth, const std::vector<int64_t>& pred, size_t classes);

 private:
  std::string group_by_;
  int64_t bootstrap_;
  double confidence_;
  uint64_t seed_;
};

}  // namespace mien::evaluation
