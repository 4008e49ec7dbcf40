// Shared helpers of the mien-explain-image plugin: images as float pixels, the class to
// explain per sample, batched model calls, the sample columns copied into every table,
// resizing and blurring (OpenCV), ranks and correlations. Single-threaded on purpose:
// every result is bit-identical whatever --threads says (the model threads itself).
#pragma once

#include <mien/plugin.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mien::ximg {

// uint8 (or float) [N,H,W,C] images as float32 pixel values (0..255), row-major.
struct Images {
  int64_t n = 0, h = 0, w = 0, c = 0;
  std::vector<float> px;
  int64_t plane() const { return h * w; }
  int64_t size() const { return h * w * c; }
  const float* image(int64_t i) const { return px.data() + i * size(); }
};
Images read_images(const TensorView& t, const std::string& port);

// [N,H,W] float maps.
struct Maps {
  int64_t n = 0, h = 0, w = 0;
  std::vector<float> v;
  const float* map(int64_t i) const { return v.data() + i * h * w; }
};
Maps read_maps(const TensorView& t, const std::string& port);

// The common "which class" parameters of the explainers.
struct TargetParams {
  static inline const Param<std::string> kTarget =
      Param<std::string>("target", "predicted",
                         "Which class to explain per image: predicted = the model's prediction, true = the LABEL "
                         "column of `table`, class = the class named by `class`")
          .one_of({"predicted", "true", "class"});
  static inline const Param<std::string> kClass{"class", "",
                                                "Class name (or index) to explain when target is 'class'"};
  static inline const Param<int> kBatchSize =
      Param<int>("batch_size", 32, "Images per model call; bounds memory").min(1);
  std::string target, cls;
  int batch_size = 32;
  explicit TargetParams(const Params& p);
};

// The model's class names (info "classes"); an error naming the model when absent.
std::vector<std::string> class_names(const ModelRef& m);
// Checks the images against info "input_shape" ([H,W,C]) when the model gives one.
void check_input_shape(const ModelRef& m, const Images& im);
// A class given by name or index -> index; error listing the classes otherwise.
int64_t class_index(const std::string& name, const std::vector<std::string>& classes, const std::string& param);

// Probabilities [n x C] of `n` images of `row` floats each, `batch` images per call.
// Checks cancellation between batches; reports progress (done + k, total) when total > 0.
std::vector<float> predict(const ModelRef& m, const float* x, int64_t n, const Images& shape, int batch,
                           const Host& host, int64_t* classes_out = nullptr);
// Same, into a caller buffer of rows already laid out; used by the perturbation loops.
Tensor image_tensor(const float* x, int64_t n, const Images& shape);

// Labels from the optional sample table (LABEL column, mapped onto the model's classes
// by name when it has categories); -1 where unknown.
std::vector<int64_t> true_classes(const std::optional<TableView>& table, int64_t n,
                                  const std::vector<std::string>& classes);
// Resolves the class to explain per image. `predicted` gets the argmax of `probs` when
// given (else it is computed, batched).
std::vector<int64_t> resolve_targets(const TargetParams& tp, const std::vector<std::string>& classes,
                                     const std::optional<TableView>& table, const std::vector<int64_t>& predicted);

// The sample columns copied into an output table (ID, LABEL, GROUP), or a generated `id`.
Table sample_table(const std::optional<TableView>& table, int64_t n);

// Bilinear resize of a float map (cv::resize INTER_LINEAR, half-pixel centres like
// torch's interpolate with align_corners=False).
std::vector<float> resize_map(const float* m, int64_t h, int64_t w, int64_t H, int64_t W);
// Gaussian blur of one float image [H,W,C] (sigma in pixels; border reflected).
std::vector<float> blur_image(const float* img, int64_t h, int64_t w, int64_t c, double sigma);
// Per-channel mean of one image.
std::vector<float> channel_mean(const float* img, int64_t h, int64_t w, int64_t c);

// Spearman's rho of two maps (mien::stats), 0 when either is constant.
double spearman(const std::vector<double>& a, const std::vector<double>& b);
// Mean SSIM of two [h,w] maps, each rescaled to [0,1] first, Gaussian window sigma 1.5
// (window clipped at the borders); 1-D inputs use one global window.
double ssim(const std::vector<double>& a, const std::vector<double>& b, int64_t h, int64_t w);

// Index of the largest value of each row of [n x C] probabilities (first on ties).
std::vector<int64_t> argmax_rows(const std::vector<float>& p, int64_t n, int64_t C);

// Trapezoidal area under y(x).
double auc(const std::vector<double>& x, const std::vector<double>& y);

// Timing for comparison tables (CONVENTIONS.md "Attributions"): adds `seconds` (wall time
// since `started`) and `model_rows` (images sent to predict or layer_gradient) to `meta`.
inline Json with_timing(Json meta, std::chrono::steady_clock::time_point started, int64_t model_rows) {
  meta["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  meta["model_rows"] = model_rows;
  return meta;
}

}  // namespace mien::ximg
