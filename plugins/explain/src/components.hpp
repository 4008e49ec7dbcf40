// The components of the mien-explain plugin. Declared here so the unit tests can run each
// class with mien::testing::ComponentRunner; plugin.cpp lists them in MIEN_PLUGIN.
//
// Every explainer takes the inputs `model` (MODEL), `samples` (TABLE with the model's
// feature columns, matched by name) and `background` (TABLE with the same features) and
// the common parameters target, class, background, background_size, batch_size and
// groups (explainer_kit.hpp). It outputs `attributions` (plugins/CONVENTIONS.md); the sampling
// explainers also `standard_errors`, a table of the same shape.
#pragma once

#include <mien/plugin.hpp>

#include "explainer_kit.hpp"

namespace mien::explain {

struct Ports {
  static inline const Input kSamples{"samples", MIEN_VALUE_TABLE,
                                     "rows to explain: a table with the model's FEATURE columns (matched by name)"};
  static inline const Input kBackground{"background", MIEN_VALUE_TABLE,
                                        "reference rows with the same features (e.g. the training set)"};
  static inline const Input kBackgroundOptional{
      "background", MIEN_VALUE_TABLE, "reference rows with the same features (e.g. the training set); optional",
      MIEN_PORT_OPTIONAL};
  static inline const Output kAttributions{"attributions", MIEN_VALUE_TABLE,
                                           "one row per explained sample (and class): one FEATURE column per "
                                           "feature or group holding its attribution"};
  static inline const Output kStandardErrors{"standard_errors", MIEN_VALUE_TABLE,
                                             "same shape as attributions: the Monte-Carlo standard error of each value"};
};

// Example config:
//
//   shap:
//     use: explain.exact_shapley
//     with: {target: predicted, background: kmeans, background_size: 50, groups: {mouth: [mouth_w, mouth_h]}}
//     in: {model: train.model, samples: split.test, background: split.train}
//
// Interventional (marginal) Shapley values by enumerating all 2^M coalitions of M <= 20
// features or groups: v(S) = sum_b w_b f(x_S, b_rest). Exact: the reference the sampling
// explainers are tested against.
class ExactShapley {
 public:
  static inline const Input kModel{"model", MIEN_VALUE_MODEL, "any classifier (predict)", 0, MIEN_CAP_PREDICT};
  static ComponentInfo info();
  explicit ExactShapley(const Setup& s);
  void process(Context& ctx);

 private:
  CommonSettings cs_;
};

// Example config:
//
//   shap:
//     use: explain.kernel_shap
//     with: {nsamples: 0, background_size: 100, target: all, batch_size: 4096}
//     in: {model: train.model, samples: split.test, background: split.train}
//
// Kernel SHAP (Lundberg & Lee 2017) as shap.KernelExplainer does it: Shapley-kernel
// weights, coalition sizes enumerated completely (with their complements) while the budget
// allows, the rest sampled in complementary pairs, weighted least squares with the
// efficiency constraint enforced exactly (one variable eliminated), no lasso. Standard
// errors: delete-a-group jackknife over 20 groups of the sampled coalition pairs.
class KernelShap {
 public:
  static inline const Input kModel{"model", MIEN_VALUE_MODEL, "any classifier (predict)", 0, MIEN_CAP_PREDICT};
  static inline const Param<int> kNSamples =
      Param<int>("nsamples", 0,
                 "Coalitions evaluated per sample (each costs background_size model rows); 0 = auto = 2*M + 2048 "
                 "like SHAP, capped at 2^M - 2 (then the result is exact). Must be at least M + 1")
          .min(0);
  static inline const Param<std::string> kSampling =
      Param<std::string>("sampling", "shap",
                         "Coalition design: shap = shap.KernelExplainer's (sizes enumerated while the budget "
                         "allows, the rest drawn with replacement, weights from draw counts); stratified = "
                         "complementary pairs drawn without replacement per size stratum, each stratum weighted "
                         "by its exact kernel mass (reaches a given accuracy with far fewer coalitions)")
          .one_of({"shap", "stratified"});
  static ComponentInfo info();
  explicit KernelShap(const Setup& s);
  void process(Context& ctx);

 private:
  CommonSettings cs_;
  int nsamples_;
  std::string sampling_;
};

// Example config:
//
//   shap:
//     use: explain.permutation_shap
//     with: {permutations: 10, background_size: 100}
//     in: {model: train.model, samples: split.test, background: split.train}
//
// Shapley values by antithetic permutation sampling: each of `permutations` random
// permutations is walked forwards and backwards (2(M-1) coalitions per pair besides the
// empty and the full one). Efficiency holds exactly; standard errors across pairs.
class PermutationShap {
 public:
  static inline const Input kModel{"model", MIEN_VALUE_MODEL, "any classifier (predict)", 0, MIEN_CAP_PREDICT};
  static inline const Param<int> kPermutations =
      Param<int>("permutations", 10, "Antithetic permutation pairs per sample (each costs 2(M-1) x background rows)")
          .min(1);
  static ComponentInfo info();
  explicit PermutationShap(const Setup& s);
  void process(Context& ctx);

 private:
  CommonSettings cs_;
  int permutations_;
};

// Example config:
//
//   deep:
//     use: explain.deep_shap
//     with: {output: probability, background_size: 0, target: predicted}
//     in: {model: train.model, samples: split.test, background: split.train}
//
// DeepLIFT with the rescale rule, averaged over the background rows as references
// (shap.DeepExplainer), computed in float64 from the model's layer description alone
// (info "layers": affine, linear, relu, dropout, softmax). Attributions sum to
// f(x) - mean f(background) exactly (up to float64 rounding) for every reference.
class DeepShap {
 public:
  static inline const Input kModel{"model", MIEN_VALUE_MODEL, "a model describing its layers (model.mlp)", 0,
                                   MIEN_CAP_PREDICT | MIEN_CAP_LAYER_STRUCTURE};
  static inline const Param<std::string> kOutput =
      Param<std::string>("output", "probability",
                         "What is explained: probability = the softmax probability of the class, logit = the "
                         "class's pre-softmax score")
          .one_of({"probability", "logit"});
  static inline const Param<std::string> kPrecision =
      Param<std::string>("precision", "float64",
                         "Arithmetic of the backward matrix products: float64 (efficiency to ~1e-15) or float32 "
                         "(about twice as fast on large backgrounds; efficiency still to ~1e-6; everything else "
                         "stays float64)")
          .one_of({"float64", "float32"});
  static ComponentInfo info();
  explicit DeepShap(const Setup& s);
  void process(Context& ctx);

 private:
  CommonSettings cs_;
  std::string output_;
  std::string precision_;
};

// Example config:
//
//   ig:
//     use: explain.integrated_gradients
//     with: {steps: 64, method: gausslegendre, baseline: mean}
//     in: {model: train.model, samples: split.test, background: split.train}
//
// Integrated gradients (Sundararajan et al. 2017) of the model's score (info "score":
// logit or probability) from a baseline to x. Outputs a `convergence_delta` column:
// sum of attributions - (f(x) - f(baseline)).
class IntegratedGradients {
 public:
  static inline const Input kModel{"model", MIEN_VALUE_MODEL, "a model with input gradients", 0,
                                   MIEN_CAP_PREDICT | MIEN_CAP_INPUT_GRADIENT};
  static inline const Param<int> kSteps = Param<int>("steps", 64, "Quadrature points along the path").range(1, 100000);
  static inline const Param<std::string> kMethod =
      Param<std::string>("method", "gausslegendre",
                         "Quadrature: gausslegendre (exact for polynomials of degree 2*steps-1) or trapezoid "
                         "(Riemann trapezoid rule on steps+1 equally spaced points)")
          .one_of({"gausslegendre", "trapezoid"});
  static inline const Param<std::string> kBaseline =
      Param<std::string>("baseline", "mean",
                         "mean = the background's (weighted) mean row; rows = every background row, results "
                         "averaged (expected IG); zero = the all-zero row (no background needed)")
          .one_of({"mean", "rows", "zero"});
  static ComponentInfo info();
  explicit IntegratedGradients(const Setup& s);
  void process(Context& ctx);

 private:
  CommonSettings cs_;
  int steps_;
  std::string method_, baseline_;
};

// Example config:
//
//   gshap:
//     use: explain.gradient_shap
//     with: {nsamples: 200}
//     in: {model: train.model, samples: split.test, background: split.train}
//
// Expected gradients (shap.GradientExplainer): the mean over nsamples random
// (background row b, point a ~ U(0,1)) of (x - b) * grad f(b + a (x - b)).
class GradientShap {
 public:
  static inline const Input kModel{"model", MIEN_VALUE_MODEL, "a model with input gradients", 0,
                                   MIEN_CAP_PREDICT | MIEN_CAP_INPUT_GRADIENT};
  static inline const Param<int> kNSamples =
      Param<int>("nsamples", 200, "Random (background row, interpolation point) draws per sample and class").min(2);
  static ComponentInfo info();
  explicit GradientShap(const Setup& s);
  void process(Context& ctx);

 private:
  CommonSettings cs_;
  int nsamples_;
};

// Example config:
//
//   lime:
//     use: explain.lime
//     with: {num_samples: 5000, kernel_width: 0, ridge: 1.0}
//     in: {model: train.model, samples: split.test, background: split.train}
//
// Tabular LIME (Ribeiro et al. 2016) without discretisation, sampled around x: z ~ N(0, I)
// in standardised units (the background's standard deviations), row = x + z * sd,
// weight = sqrt(exp(-|z|^2 / kernel_width^2)), weighted ridge regression of the class
// probability on z. Attribution = coefficient (change of the probability per standard
// deviation). Also outputs the columns `intercept` and `r2` (weighted fit quality).
class Lime {
 public:
  static inline const Input kModel{"model", MIEN_VALUE_MODEL, "any classifier (predict)", 0, MIEN_CAP_PREDICT};
  static inline const Param<int> kNumSamples =
      Param<int>("num_samples", 5000, "Perturbed rows per sample (the first is x itself)").min(2);
  static inline const Param<double> kKernelWidth =
      Param<double>("kernel_width", 0.0, "Width of the exponential kernel; 0 = auto = 0.75 * sqrt(M) like LIME").min(0);
  static inline const Param<double> kRidge =
      Param<double>("ridge", 1.0, "Ridge penalty alpha (sklearn Ridge, LIME's default 1.0)").min(0);
  static ComponentInfo info();
  explicit Lime(const Setup& s);
  void process(Context& ctx);

 private:
  CommonSettings cs_;
  int num_samples_;
  double kernel_width_, ridge_;
};

// Example config:
//
//   occ:
//     use: explain.occlusion
//     with: {baseline: mean}
//     in: {model: train.model, samples: split.test, background: split.train}
//
// Feature occlusion: attribution of feature (or group) i = f(x) - f(x with i replaced by
// the baseline). One model row per feature and baseline row: the cheapest explainer.
class Occlusion {
 public:
  static inline const Input kModel{"model", MIEN_VALUE_MODEL, "any classifier (predict)", 0, MIEN_CAP_PREDICT};
  static inline const Param<std::string> kBaseline =
      Param<std::string>("baseline", "mean",
                         "mean = the background's (weighted) mean row; rows = every background row, results "
                         "averaged; zero = the all-zero row (no background needed)")
          .one_of({"mean", "rows", "zero"});
  static ComponentInfo info();
  explicit Occlusion(const Setup& s);
  void process(Context& ctx);

 private:
  CommonSettings cs_;
  std::string baseline_;
};

}  // namespace mien::explain
