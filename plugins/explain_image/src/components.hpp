// The components of the mien-explain-image plugin: image explainers (Grad-CAM,
// Grad-CAM++, occlusion, LIME on superpixels) and image-explanation metrics (deletion,
// insertion, ground truth, randomisation sanity check). Declared here so the unit tests
// run each class with mien::testing::ComponentRunner; plugin.cpp lists them in MIEN_PLUGIN.
//
// Explainers take `model` (MODEL), `images` (IMAGE uint8 [N,H,W,C], raw pixel values are
// what the model's predict receives, as float32) and optionally `table` (the sample table
// row-aligned with the images: ID, LABEL and GROUP columns are copied) and output `maps`
// (TENSOR float32 [N,H,W]) and `attributions` (TABLE: id, label, explained_class,
// predicted_class, output), plugins/CONVENTIONS.md.
#pragma once

#include <mien/plugin.hpp>

#include "images_and_targets.hpp"

namespace mien::ximg {

struct Ports {
  static inline const Input kImages{"images", MIEN_VALUE_IMAGE, "images to explain: uint8 [N, H, W, C]"};
  static inline const Input kTable{"table", MIEN_VALUE_TABLE,
                                   "the sample table row-aligned with the images (ids, labels); optional",
                                   MIEN_PORT_OPTIONAL};
  static inline const Output kMaps{"maps", MIEN_VALUE_TENSOR, "float32 [N, H, W]: one map per image, aligned to it"};
  static inline const Output kAttributions{
      "attributions", MIEN_VALUE_TABLE,
      "one row per image: id, label (when known), explained_class, predicted_class, output (the explained score)"};
};

// Example config:
//
//   cam:
//     use: explain.gradcam
//     with: {layer: "", target: predicted, relu: true, normalize: false, batch_size: 32}
//     in: {model: train.model, images: align.images, table: align.table}
//
// Grad-CAM (Selvaraju et al. 2017): weights w_k = spatial mean of d score / d A_k over the
// layer's activations A [K, h, w]; map = relu(sum_k w_k A_k), upsampled bilinearly to the
// image. Grad-CAM++ (Chattopadhay et al. 2018, `explain.gradcam_pp`): per-position weights
// alpha = g^2 / (2 g^2 + sum(A) g^3) (the closed form for an exponential score, as in
// pytorch-grad-cam), w_k = sum alpha relu(g). The model's layer_gradient must return
// activations and gradients as [N, K, h, w] (channels first).
class GradCam {
 public:
  static inline const Input kModel{"model", MIEN_VALUE_MODEL, "a CNN with layer gradients (model.cnn)", 0,
                                   MIEN_CAP_PREDICT | MIEN_CAP_LAYER_GRADIENT};
  static inline const Param<std::string> kLayer{
      "layer", "", "Layer to explain, one of the model's info cam_layers; \"\" = its default_cam_layer"};
  static inline const Param<bool> kRelu{"relu", true, "Keep only the positive part of the map (the paper's ReLU)"};
  static inline const Param<bool> kNormalize{
      "normalize", false,
      "Rescale each map to [0, 1]; off by default so maps stay comparable across images (reports normalise)"};
  static ComponentInfo info();
  explicit GradCam(const Setup& s, bool plus_plus = false);
  void process(Context& ctx);

 protected:
  TargetParams tp_;
  std::string layer_;
  bool relu_, normalize_, pp_;
};

class GradCamPP : public GradCam {
 public:
  static ComponentInfo info();
  explicit GradCamPP(const Setup& s) : GradCam(s, true) {}
};

// Example config:
//
//   occ:
//     use: explain.occlusion_image
//     with: {patch: 8, stride: 4, fill: blur}
//     in: {model: train.model, images: align.images, table: align.table}
//
// Occlusion (Zeiler & Fergus 2014): a patch x patch square slides with `stride` (the last
// row and column are aligned to the border so every pixel is covered); each pixel's value
// is the mean over the patches covering it of p(x) - p(x with the patch filled), p the
// explained class's probability. Occluded images go to the model batch_size at a time.
class OcclusionImage {
 public:
  static inline const Input kModel{"model", MIEN_VALUE_MODEL, "any image classifier (predict)", 0, MIEN_CAP_PREDICT};
  static inline const Param<int> kPatch = Param<int>("patch", 8, "Side of the occluding square, in pixels").min(1);
  static inline const Param<int> kStride = Param<int>("stride", 4, "Step between patches, in pixels").min(1);
  static inline const Param<std::string> kFill =
      Param<std::string>("fill", "mean",
                         "What replaces the patch: mean = the image's mean colour, zero = black, blur = the image "
                         "blurred (Gaussian, sigma = patch / 2)")
          .one_of({"mean", "zero", "blur"});
  static ComponentInfo info();
  explicit OcclusionImage(const Setup& s);
  void process(Context& ctx);

 private:
  TargetParams tp_;
  int patch_, stride_;
  std::string fill_;
};

// Example config:
//
//   lime:
//     use: explain.lime_image
//     with: {segmentation: slic, region_size: 16, ruler: 10, num_samples: 1000, hide: mean}
//     in: {model: train.model, images: align.images, table: align.table}
//
// LIME for images (Ribeiro et al. 2016, lime_image): the image is cut into superpixels
// (SLIC, or a cells x cells grid); num_samples random on/off masks (the first all on) are
// rendered with the hidden superpixels replaced by the image's mean colour or its blur,
// the model's probability of the class is fitted by ridge regression (alpha) weighted by
// sqrt(exp(-d^2 / kernel_width^2)), d the cosine distance of the mask to all-on. The map
// paints each superpixel with its coefficient. Seeded: the masks of image i come from
// seed and i alone.
class LimeImage {
 public:
  static inline const Input kModel{"model", MIEN_VALUE_MODEL, "any image classifier (predict)", 0, MIEN_CAP_PREDICT};
  static inline const Param<std::string> kSegmentation =
      Param<std::string>("segmentation", "slic", "Superpixels: slic (OpenCV ximgproc SLIC) or grid")
          .one_of({"slic", "grid"});
  static inline const Param<int> kRegionSize =
      Param<int>("region_size", 16, "SLIC: average superpixel side in pixels").min(2);
  static inline const Param<double> kRuler =
      Param<double>("ruler", 10.0, "SLIC: compactness (larger = squarer superpixels)").min(0.01);
  static inline const Param<int> kCells = Param<int>("cells", 8, "grid: cells per side").range(1, 256);
  static inline const Param<int> kNumSamples =
      Param<int>("num_samples", 1000, "Perturbed images per image (model rows)").min(2);
  static inline const Param<double> kKernelWidth =
      Param<double>("kernel_width", 0.25, "Width of the exponential kernel on the cosine distance").min(1e-6);
  static inline const Param<double> kAlpha = Param<double>("alpha", 1.0, "Ridge penalty").min(0.0);
  static inline const Param<std::string> kHide =
      Param<std::string>("hide", "mean", "What replaces a hidden superpixel: mean colour of the image, or blur")
          .one_of({"mean", "blur"});
  static ComponentInfo info();
  explicit LimeImage(const Setup& s);
  void process(Context& ctx);
  // The superpixel labels [h*w] of one image (exposed for the tests); returns the count.
  int segment(const float* img, int64_t h, int64_t w, int64_t c, std::vector<int>& labels) const;

 private:
  TargetParams tp_;
  std::string segmentation_, hide_;
  int region_size_, cells_, num_samples_;
  double ruler_, kernel_width_, alpha_;
  uint64_t seed_;
};

// Example config:
//
//   deletion:
//     use: metric.image_deletion
//     with: {steps: 20, replacement: blur}
//     in: {model: train.model, images: align.images, maps: cam.maps, table: cam.attributions}
//
// Deletion (metric.image_deletion) / insertion (metric.image_insertion), Petsiuk et al.
// 2018: pixels are removed (or, starting from the fully removed image, restored) in the
// order of the map, most important first, in `steps` equal steps; the curve is the
// explained class's probability, its area (trapezoid over the fraction 0..1) the score:
// lower is better for deletion, higher for insertion. replacement: blur (Gaussian, sigma),
// mean (the image's mean colour) or noisy = ROAD-like (Rong et al. 2022) imputation:
// each removed pixel gets the mean of its kept neighbours (diffused over removed regions)
// plus Gaussian noise, so the removal pattern itself carries less class evidence.
class ImageDeletion {
 public:
  static inline const Input kModel{"model", MIEN_VALUE_MODEL, "the image classifier the maps explain", 0,
                                   MIEN_CAP_PREDICT};
  static inline const Input kMaps{"maps", MIEN_VALUE_TENSOR, "float32 [N, H, W] maps aligned to the images"};
  static inline const Input kTable{
      "table", MIEN_VALUE_TABLE,
      "the explainer's attributions table (explained_class per row; ids copied); optional with target: predicted",
      MIEN_PORT_OPTIONAL};
  static inline const Param<int> kSteps = Param<int>("steps", 20, "Steps from 0 to all pixels").range(1, 10000);
  static inline const Param<std::string> kReplacement =
      Param<std::string>("replacement", "blur", "What a removed pixel becomes: blur, mean or noisy (ROAD-like)")
          .one_of({"blur", "mean", "noisy"});
  static inline const Param<double> kSigma =
      Param<double>("sigma", 5.0, "blur: Gaussian sigma in pixels").min(0.1);
  static inline const Param<double> kNoise =
      Param<double>("noise", 2.55, "noisy: standard deviation of the added noise, in pixel units").min(0.0);
  static inline const Param<std::string> kTarget =
      Param<std::string>("target", "explained",
                         "Class whose probability is tracked: explained = the table's explained_class, predicted = "
                         "the model's prediction on the intact image")
          .one_of({"explained", "predicted"});
  static inline const Output kCurve{"curve", MIEN_VALUE_TABLE,
                                    "one row per image and step: id, explained_class, step, fraction, probability"};
  static inline const Output kSummary{"summary", MIEN_VALUE_JSON,
                                      "{metric, n, fractions, mean_curve, auc_mean, auc_std, auc (per image)}"};
  static ComponentInfo info();
  explicit ImageDeletion(const Setup& s, bool insertion = false);
  void process(Context& ctx);

 protected:
  int steps_, batch_size_;
  std::string replacement_, target_;
  double sigma_, noise_;
  bool insertion_;
  uint64_t seed_;
};

class ImageInsertion : public ImageDeletion {
 public:
  static ComponentInfo info();
  explicit ImageInsertion(const Setup& s) : ImageDeletion(s, true) {}
};

// Example config:
//
//   gt_maps:
//     use: metric.ground_truth
//     in: {maps: cam.maps, masks: faces.au_masks, table: cam.attributions}
//   gt_features:
//     use: metric.ground_truth
//     with: {k: [1, 3, 5]}
//     in: {attributions: shap.attributions, ground_truth: faces.ground_truth}
//
// Explanation accuracy against a known ground truth (the synthetic benchmark,
// plugins/faces_synth). (a) maps + masks: the share of the map's positive mass inside the
// mask (`mass`; a uniform map scores the mask's area share, `mask_area`) and the pointing
// game (is the map's maximum inside the mask); images with an empty mask (neutral) are
// skipped. (b) attributions + ground_truth: precision@k and recall@k of the k features with
// the largest |attribution| against the features the sample's class changes, averaged
// per class and overall; samples whose class changes nothing are skipped.
class GroundTruth {
 public:
  static inline const Input kMaps{"maps", MIEN_VALUE_TENSOR, "float32 [N, H, W] maps; optional",
                                  MIEN_PORT_OPTIONAL};
  static inline const Input kMasks{"masks", MIEN_VALUE_TENSOR, "uint8 [N, H, W], non-zero = where the AUs act",
                                   MIEN_PORT_OPTIONAL};
  static inline const Input kTable{"table", MIEN_VALUE_TABLE, "the maps' table (ids copied); optional",
                                   MIEN_PORT_OPTIONAL};
  static inline const Input kAttributions{"attributions", MIEN_VALUE_TABLE,
                                          "a feature explainer's attributions table; optional", MIEN_PORT_OPTIONAL};
  static inline const Input kGroundTruth{
      "ground_truth", MIEN_VALUE_JSON,
      "the synthetic generator's ground_truth (classes.<label>.features = changed features); optional",
      MIEN_PORT_OPTIONAL};
  static inline const Param<std::vector<int>> kK{"k", std::vector<int>{1, 3, 5}, "k values for precision/recall@k"};
  static inline const Param<std::string> kClassFrom =
      Param<std::string>("class_from", "label",
                         "Which class's changed features a row is scored against: label = the true LABEL column "
                         "(explained_class when there is none), explained = explained_class")
          .one_of({"label", "explained"});
  static inline const Output kSummary{"summary", MIEN_VALUE_JSON, "{metric, image: {...}, features: {...}}"};
  static inline const Output kPerSample{"per_sample", MIEN_VALUE_TABLE,
                                        "maps: one row per scored image: id, mass, pointing, mask_area"};
  static inline const Output kPerClass{"per_class", MIEN_VALUE_TABLE,
                                       "attributions: one row per class and k: class, k, precision, recall, n"};
  static ComponentInfo info();
  explicit GroundTruth(const Setup& s);
  void process(Context& ctx);

 private:
  std::vector<int> k_;
  std::string class_from_;
};

// Example config:
//
//   cam_random:
//     use: explain.gradcam
//     in: {model: train_random.model, images: align.images}   # model.cnn with randomize: true
//   sanity:
//     use: metric.randomization_check
//     with: {threshold: 0.5}
//     in: {maps: cam.maps, maps_randomized: cam_random.maps}
//
// Model-randomisation sanity check (Adebayo et al. 2018): the same explainer run on the
// trained model and on the model with randomised weights (produced upstream by the model
// plugin) should give different explanations. Per sample: Spearman rank correlation of
// the values (of |values| with absolute: true) and SSIM of the maps (rescaled to [0, 1]);
// for attribution tables the FEATURE columns are compared. The check passes when the mean
// Spearman correlation is below `threshold`.
class RandomizationCheck {
 public:
  static inline const Input kMaps{"maps", MIEN_VALUE_TENSOR, "maps from the trained model; optional",
                                  MIEN_PORT_OPTIONAL};
  static inline const Input kMapsRandom{"maps_randomized", MIEN_VALUE_TENSOR,
                                        "maps from the randomised model; optional", MIEN_PORT_OPTIONAL};
  static inline const Input kAttributions{"attributions", MIEN_VALUE_TABLE,
                                          "attributions from the trained model; optional", MIEN_PORT_OPTIONAL};
  static inline const Input kAttributionsRandom{"attributions_randomized", MIEN_VALUE_TABLE,
                                                "attributions from the randomised model; optional",
                                                MIEN_PORT_OPTIONAL};
  static inline const Param<double> kThreshold =
      Param<double>("threshold", 0.5, "The check passes when the mean Spearman correlation is below this")
          .range(-1.0, 1.0);
  static inline const Param<bool> kAbsolute{"absolute", true, "Compare |values| (sign flips do not count)"};
  static inline const Output kSummary{"summary", MIEN_VALUE_JSON,
                                      "{metric, n, spearman_mean, ssim_mean, threshold, passed}"};
  static inline const Output kPerSample{"per_sample", MIEN_VALUE_TABLE, "one row per sample: id, spearman, ssim"};
  static ComponentInfo info();
  explicit RandomizationCheck(const Setup& s);
  void process(Context& ctx);

 private:
  double threshold_;
  bool absolute_;
};

}  // namespace mien::ximg
