// The components of the mien-quality plugin: explanation-quality metrics. Declared here so
// the unit tests can run each class with mien::testing::ComponentRunner.
#pragma once

#include <mien/plugin.hpp>

#include "attribution_rows.hpp"

namespace mien::quality {

struct QPorts {
  static inline const Input kModel{"model", MIEN_VALUE_MODEL, "the model the attributions explain", 0,
                                   MIEN_CAP_PREDICT};
  static inline const Input kSamples{"samples", MIEN_VALUE_TABLE,
                                     "the explained samples: the model's FEATURE columns, ids, labels"};
  static inline const Input kAttributions{"attributions", MIEN_VALUE_TABLE,
                                          "an explainer's attributions for these samples (matched by id)"};
  static inline const Input kReference{
      "reference", MIEN_VALUE_TABLE,
      "the training table: its feature means replace the features left out (not needed when baseline is connected)",
      MIEN_PORT_OPTIONAL};
  static inline const Input kReferenceOptional{
      "reference", MIEN_VALUE_TABLE, "the training table: feature means (and standard deviations for noisy)",
      MIEN_PORT_OPTIONAL};
  static inline const Input kBaseline{
      "baseline", MIEN_VALUE_TABLE,
      "per-sample values (matched by id) that replace the features left out instead of reference's mean, e.g. "
      "each subject's own neutral face (transform.subject_baseline's baseline)",
      MIEN_PORT_OPTIONAL};
  static inline const Output kCurve{"curve", MIEN_VALUE_TABLE, "one row per step of the sweep"};
  static inline const Output kSummary{"summary", MIEN_VALUE_JSON, "the metric's values and settings"};
  static inline const Param<int> kBatchSize =
      Param<int>("batch_size", 4096, "Model rows per predict call; bounds memory").min(1);
  static inline const Param<int> kRandomRepeats =
      Param<int>("random_repeats", 10, "Random rankings (seeded) averaged for the control curve").min(1);
};

// What the fidelity and accuracy sweeps share (ter Burg & Kaya 2022, doi:10.3390/a15100367).
struct SweepSettings {
  std::string type_id;
  std::vector<int> n;
  int repeats = 10;
  int batch_size = 4096;
  uint64_t seed = 0;
};
void run_sweep(Context& ctx, const SweepSettings& s);

// Example config:
//
//   fidelity:
//     use: metric.fidelity
//     with: {n: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], random_repeats: 10}
//     in: {model: train.model, samples: split.test, attributions: shap.attributions, reference: split.train}
//
// Fidelity(n) of ter Burg & Kaya 2022 (doi:10.3390/a15100367): keep each sample's top-n
// features by |attribution| of the predicted class, set every other feature to the
// reference (training) mean, and count the samples whose prediction is unchanged:
// (1/N) sum_i 1[f(x~_i) = f(x_i)]. The curve also holds explanation accuracy
// (1/N_labelled) sum_i 1[f(x~_i) = y_i] and both again for random rankings (control).
// With `baseline` connected, sample i's left-out features take the values of
// baseline's row with the same id instead of the mean (reference is then unused):
// "each subject's own neutral face" as the baseline (transform.subject_baseline).
class Fidelity {
 public:
  static inline const Param<std::vector<int>> kN{"n", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
                                                 "Numbers of top features (or groups) kept; values above the number "
                                                 "of attribution columns are dropped with a warning"};
  static ComponentInfo info();
  explicit Fidelity(const Setup& s);
  void process(Context& ctx) { run_sweep(ctx, s_); }

 private:
  SweepSettings s_;
};

// Example config:
//
//   accuracy:
//     use: metric.explanation_accuracy
//     with: {n: [1, 5, 10]}
//     in: {model: train.model, samples: split.test, attributions: shap.attributions, reference: split.train}
//
// Explanation accuracy(n), ter Burg & Kaya 2022 (doi:10.3390/a15100367): the model's accuracy on the reduced inputs of
// metric.fidelity, (1/N) sum_i 1[f(x~_i) = y_i], over the samples with a known label.
// Same curve table as metric.fidelity; the summary's headline values are the accuracies.
class ExplanationAccuracy {
 public:
  static inline const Param<std::vector<int>> kN{"n", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
                                                 "Numbers of top features (or groups) kept"};
  static ComponentInfo info();
  explicit ExplanationAccuracy(const Setup& s);
  void process(Context& ctx) { run_sweep(ctx, s_); }

 private:
  SweepSettings s_;
};

// Example config:
//
//   weight:
//     use: metric.top_n_weight
//     with: {n: [1, 3, 5]}
//     in: {attributions: shap.attributions}
//
// Average proportional attribution weight(n), ter Burg & Kaya 2022 (doi:10.3390/a15100367): per row, the share of the
// total |attribution| held by the n largest, averaged over rows. Uses the rows explaining
// the predicted class when the table says which those are.
class TopNWeight {
 public:
  static inline const Input kAttributions{"attributions", MIEN_VALUE_TABLE, "an explainer's attributions"};
  static inline const Param<std::vector<int>> kN{"n", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, "Numbers of top features"};
  static ComponentInfo info();
  explicit TopNWeight(const Setup& s);
  void process(Context& ctx);

 private:
  std::vector<int> n_;
};

struct CurveSettings {
  std::string type_id;
  bool insertion = false;
  std::string replacement, rank_by;
  double noise_std = 0.1;
  int repeats = 5, batch_size = 4096;
  uint64_t seed = 0;
};
void run_curve(Context& ctx, const CurveSettings& s);

struct CurveParams {
  static inline const Param<std::string> kReplacement =
      Param<std::string>("replacement", "mean",
                         "Value of a removed feature: mean = the reference mean, zero, noisy = the reference mean "
                         "plus Gaussian noise of noise_std reference standard deviations (ROAD-style, drawn once "
                         "per sample and feature, seeded)")
          .one_of({"mean", "zero", "noisy"});
  static inline const Param<double> kNoiseStd =
      Param<double>("noise_std", 0.1, "replacement: noisy: noise in reference standard deviations").min(0);
  static inline const Param<std::string> kRankBy =
      Param<std::string>("rank_by", "signed",
                         "Order of removal/insertion: signed = most positive attribution first (evidence for the "
                         "class), absolute = largest |attribution| first")
          .one_of({"signed", "absolute"});
  static inline const Param<int> kRepeats =
      Param<int>("random_repeats", 5, "Random orders (seeded) averaged for the control curve").min(1);
};

// Example config:
//
//   deletion:
//     use: metric.deletion
//     with: {replacement: mean, rank_by: signed}
//     in: {model: train.model, samples: split.test, attributions: shap.attributions, reference: split.train}
//
// Deletion curve: remove features (set to the replacement value) in the order of the
// attributions, most important first, and follow the probability of the explained class;
// AUC over the removed fraction (lower = more faithful). Random orders give the control.
class Deletion {
 public:
  static ComponentInfo info();
  explicit Deletion(const Setup& s);
  void process(Context& ctx) { run_curve(ctx, s_); }

 private:
  CurveSettings s_;
};

// Example config:
//
//   insertion:
//     use: metric.insertion
//     with: {replacement: mean}
//     in: {model: train.model, samples: split.test, attributions: shap.attributions, reference: split.train}
//
// Insertion curve: start from every feature replaced and insert the sample's values in the
// attributions' order; AUC over the inserted fraction (higher = more faithful).
class Insertion {
 public:
  static ComponentInfo info();
  explicit Insertion(const Setup& s);
  void process(Context& ctx) { run_curve(ctx, s_); }

 private:
  CurveSettings s_;
};

// Example config:
//
//   agree:
//     use: metric.agreement
//     with: {k: 5, rank_by: absolute}
//     in: {attributions: [kernel.attributions, deep.attributions, lime.attributions]}
//
// Agreement between explainers: for every pair of attribution tables, over the rows they
// share (matched by id), the mean Spearman and Kendall (tau-b) rank correlations and the
// top-k overlap |top_k(a) & top_k(b)| / k.
class Agreement {
 public:
  static inline const Input kAttributions{"attributions", MIEN_VALUE_TABLE,
                                          "two or more attribution tables over the same samples and features",
                                          MIEN_PORT_MULTIPLE};
  static inline const Output kPairs{"pairs", MIEN_VALUE_TABLE, "one row per pair of attribution tables"};
  static inline const Param<int> kK = Param<int>("k", 5, "Size of the top-k sets compared").min(1);
  static inline const Param<std::string> kRankBy =
      Param<std::string>("rank_by", "absolute", "Rank by absolute = |attribution|, or signed = attribution")
          .one_of({"absolute", "signed"});
  static ComponentInfo info();
  explicit Agreement(const Setup& s);
  void process(Context& ctx);

 private:
  int k_;
  std::string rank_by_;
};

// Example config:
//
//   noisy:      {use: transform.jitter, with: {noise_std: 0.05}, in: {table: split.test, reference: split.train}}
//   shap_noisy: {use: explain.kernel_shap, in: {model: train.model, samples: noisy.noisy, background: split.train}}
//   stability:
//     use: metric.stability
//     with: {k: 5}
//     in: {attributions: shap.attributions, attributions_noisy: [shap_noisy.attributions]}
//
// Stability of an explainer under small input noise: the explainer is run again upstream
// on perturbed copies of the samples (transform.jitter keeps the ids), and each perturbed
// row is compared with the original row of the same id: relative L2 change
// |phi' - phi| / |phi|, Spearman rank correlation and top-k overlap; per sample the mean
// over the noisy tables and the largest change (max-sensitivity).
class Stability {
 public:
  static inline const Input kAttributions{"attributions", MIEN_VALUE_TABLE, "attributions of the original samples"};
  static inline const Input kNoisy{"attributions_noisy", MIEN_VALUE_TABLE,
                                   "attributions of perturbed copies (same ids), one table per noise draw",
                                   MIEN_PORT_MULTIPLE};
  static inline const Output kPerSample{"per_sample", MIEN_VALUE_TABLE, "one row per sample id"};
  static inline const Param<int> kK = Param<int>("k", 5, "Size of the top-k sets compared").min(1);
  static ComponentInfo info();
  explicit Stability(const Setup& s);
  void process(Context& ctx);

 private:
  int k_;
};

// Example config:
//
//   noisy:
//     use: transform.jitter
//     with: {noise_std: 0.05}
//     in: {table: split.test, reference: split.train}
//
// Adds seeded Gaussian noise of noise_std standard deviations (of the reference table, or of
// the table itself) to every FEATURE column; every other column is copied, so ids stay.
class Jitter {
 public:
  static inline const Input kTable{"table", MIEN_VALUE_TABLE, "rows to perturb"};
  static inline const Input kReference{"reference", MIEN_VALUE_TABLE,
                                       "table whose standard deviations scale the noise (default: table)",
                                       MIEN_PORT_OPTIONAL};
  static inline const Output kOut{"noisy", MIEN_VALUE_TABLE, "the perturbed copy (same ids and other columns)"};
  static inline const Param<double> kNoiseStd =
      Param<double>("noise_std", 0.05, "Noise standard deviation in feature standard deviations").min(0);
  static ComponentInfo info();
  explicit Jitter(const Setup& s);
  void process(Context& ctx);

 private:
  double noise_std_;
  uint64_t seed_;
};

}  // namespace mien::quality
