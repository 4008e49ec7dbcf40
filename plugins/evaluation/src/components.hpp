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
// Runs any model with MIEN_CAP_PREDICT. Feature models (info input "features": model.mlp,
// tune.hyperband's) read `table`: every feature the model names in its info
// (feature_names), in any order and with any extra columns, passed raw (the model
// standardises itself). Image models (info input "image": model.cnn,
// model.faceapi_expression, model.torchscript) read `images` (uint8 [N, H, W, C]) and take
// ids, labels and groups from `table`, the sample table row-aligned with them:
//
//   cnn_predict:
//     use: eval.predict
//     in: {model: cnn.model, images: test_faces.images, table: test_faces.table}
//
// Output: one row per input row with the id, the label and GROUP columns copied, the
// predicted class name and one probability column p_<class> per class of the model. The
// table's meta holds the model's classes, so metric.classification can check labels
// against them, and the model's type id and input kind.
class EvalPredict {
 public:
  static inline const Param<int64_t> kBatchSize =
      Param<int64_t>("batch_size", 256, "Rows per call of the model's predict").min(1);

  static inline const Input kModel{"model", MIEN_VALUE_MODEL,
                                   "a model with predict: a feature model (model.mlp, tune.hyperband) or an image model "
                                   "(model.cnn, model.faceapi_expression, model.torchscript)",
                                   0, MIEN_CAP_PREDICT};
  static inline const Input kTable{"table", MIEN_VALUE_TABLE,
                                   "rows to classify: a feature model's feature columns (raw); for an image model the "
                                   "sample table row-aligned with `images`; optionally id/label/groups"};
  static inline const Input kImages{"images", MIEN_VALUE_IMAGE,
                                    "for image models: uint8 [N, H, W, C] images, row i belonging to row i of `table`",
                                    MIEN_PORT_OPTIONAL};
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
  static inline const Param<std::string> kArm{
      "arm", "",
      "A name for what is scored (e.g. \"geometric MLP\", \"face-api zero-shot\"), kept in the metrics as `arm` so "
      "comparisons and reports can label it; \"\" = none"};

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
  std::string arm_;
  int64_t bootstrap_;
  double confidence_;
  uint64_t seed_;
};

}  // namespace mien::evaluation

namespace mien::evaluation {

// Example config (configs/jaffe.yaml):
//
//   comparison:
//     use: report.held_out_accuracy
//     in: {metrics: [accuracy.metrics, zero_shot_accuracy.metrics, cnn_accuracy.metrics]}
//     with: {names: ["geometric MLP", "face-api as shipped (zero-shot)", "face-api fine-tuned"]}
//
// The study's comparison: one row per arm (each metric.classification output) and per
// group value (pose) it was scored by, with the pooled accuracy and its bootstrap interval,
// balanced accuracy, n, and - when the arm's predictions came in several tables (folds,
// pose models) - the mean ± sd over those tables beside the pooled value. The headline is
// printed by `mien run` at the end of the run. It trusts the graph for "held out": connect
// metrics made from predictions on test people only.
class HeldOutAccuracy {
 public:
  static inline const Param<std::vector<std::string>> kNames{
      "names", {},
      "One display name per connected metrics, in order; [] = each metrics' `arm` (metric.classification's "
      "parameter), else the model that made its predictions"};
  static inline const Param<std::string> kTitle{"title", "Accuracy on held-out people",
                                                "Headline and Markdown title"};

  static inline const Input kMetrics{"metrics", MIEN_VALUE_JSON, "metric.classification outputs, one per arm",
                                     MIEN_PORT_MULTIPLE};
  static inline const Output kTable{
      "table", MIEN_VALUE_TABLE,
      "one row per arm and scope: arm, scope (all or the group's value), n, accuracy, ci_low, ci_high, "
      "balanced_accuracy, tables, table_mean, table_sd, models"};
  static inline const Output kText{"text", MIEN_VALUE_STRING, "the table as Markdown"};
  static inline const Output kHeadline{"headline", MIEN_VALUE_JSON, "{title, rows: [{label, value}]}: one row per arm and pose"};

  static ComponentInfo info();
  explicit HeldOutAccuracy(const Setup& s);
  void process(Context& ctx);

 private:
  std::vector<std::string> names_;
  std::string title_;
};

}  // namespace mien::evaluation
