// The face-api.js expression network in LibTorch, behind a LibTorch-free interface: only
// faceapi_net.cpp includes torch (a torch translation unit costs ~10 s and ~1.3 GB to
// compile), so the component code, the tests and the benchmark compile quickly.
//
// Network (face-api.js FaceFeatureExtractor + FaceExpressionNet): four dense blocks of
// 32, 64, 128 and 256 channels; in each, o1 = relu(conv3x3 stride 2 (x)) (block 0 a plain
// convolution, the others depthwise-separable), o2 = sep(o1), o3 = sep(relu(o1 + o2)),
// o4 = sep(relu(o1 + o2 + o3)), out = relu(o1 + o2 + o3 + o4); sep = depthwise 3x3 then
// pointwise 1x1 + bias; TensorFlow 'same' padding (asymmetric at stride 2: 0 before, 1
// after). 112 -> 56 -> 28 -> 14 -> 7, global average pool -> 256 -> dense -> softmax.
//
// Preprocessing (inside the network, so gradients reach the raw pixels): RGB (gray is
// replicated), zero-padded to a square (centred as face-api does: the extra pixel of an
// odd difference goes after), resized to 112 x 112 (ResizeRule: by default TensorFlow's
// bilinear rule as face-api.js calls it, align_corners = false, half_pixel_centers = false),
// pixel values 0..255 minus the mean RGB (122.782, 117.001, 104.298), divided by 255.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mien::faceapi {

constexpr int64_t kSide = 112;
constexpr int64_t kFeatures = 256;
constexpr int kBlocks = 4;

// How a face is resized to the network's 112 x 112 (bilinear interpolation either way; they
// differ in where output pixel d samples the input of n -> m pixels):
//   tfjs     TensorFlow.js resizeBilinear(align_corners = false, half_pixel_centers = false),
//            what face-api.js runs: src = d * n / m (the top-left corners line up, so a
//            downscale drops the last input rows and columns' weight and shifts the face up-left
//            by about half an input pixel);
//   bilinear OpenCV's INTER_LINEAR, pixel centres aligned: src = (d + 0.5) * n / m - 0.5,
//            clamped to [0, n - 1].
enum class ResizeRule { tfjs, bilinear };
const char* resize_rule_name(ResizeRule rule);
ResizeRule parse_resize_rule(const std::string& name, const std::string& where);  // throws naming `where`

// One axis of a resize: output pixel d = in[lo[d]] + (in[hi[d]] - in[lo[d]]) * frac[d].
struct ResizeTaps {
  std::vector<int64_t> lo, hi;
  std::vector<double> frac;
};
ResizeTaps resize_taps(int64_t in, int64_t out, ResizeRule rule);

// A batch of images, row-major [n, h, w, c], c = 1 (gray) or 3 (RGB), values 0..255.
struct Batch {
  const float* data = nullptr;
  int64_t n = 0, h = 0, w = 0, c = 3;
};

// One dequantised tensor of a TF.js weights manifest, in TensorFlow layout.
struct ManifestTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// Parses a TF.js weights manifest and its weights (the bytes of the .bin): uint8 tensors
// dequantise as q * scale + min, the others are little-endian float32. Errors name
// `where` (the files) and what was expected.
std::vector<ManifestTensor> parse_manifest(const std::string& manifest_json, const std::string& bin,
                                           const std::string& where);

struct FineTuneOptions {
  int64_t epochs = 20;
  double learning_rate = 1e-3;
  int64_t batch_size = 32;
  int unfreeze_blocks = 0;  // 0: only the new head trains; k: the last k dense blocks too
  uint64_t seed = 0;
};

struct EpochRecord {
  int64_t epoch = 0;
  double train_loss = 0, train_accuracy = 0;
  double val_loss = 0, val_accuracy = 0;  // NaN without validation rows
};

struct FineTuneHooks {
  std::function<void(const EpochRecord&)> on_epoch;
  std::function<void()> between_batches;  // may throw (cancellation)
};

// The network's preprocessing up to the normalisation: padded to a square and resized to
// side x side with `rule` (the code the network runs, with any side), [n, side, side, 3]
// float 0..255. For tests and diagnostics.
std::vector<float> pad_and_resize(const Batch& b, int64_t side, ResizeRule rule);

// Sets LibTorch's intra-op thread count (process-wide).
void set_compute_threads(int threads);

class FaceApiNet {
 public:
  // The shipped network from the parsed manifest; `head_rows` picks and orders the dense
  // layer's outputs (indices into face-api's 7 classes).
  static FaceApiNet from_manifest(const std::vector<ManifestTensor>& tensors, const std::vector<int64_t>& head_rows,
                                  const std::string& where);
  // A network saved with save() (torch archive of every parameter).
  static FaceApiNet load(const std::string& path);
  void save(const std::string& path) const;

  FaceApiNet();
  ~FaceApiNet();
  FaceApiNet(FaceApiNet&&) noexcept;
  FaceApiNet& operator=(FaceApiNet&&) noexcept;

  int64_t classes() const;

  // The resize rule of the preprocessing (default tfjs, face-api.js's own).
  void set_resize(ResizeRule rule);
  ResizeRule resize() const;

  // Replaces the dense head by a fresh 256 -> k layer (Glorot-uniform kernel, zero bias)
  // drawn from `seed`.
  void new_head(int64_t k, uint64_t seed);

  // [n, classes] probabilities / logits; [n, 256] pooled features.
  std::vector<float> probabilities(const Batch& b) const;
  std::vector<float> logits(const Batch& b) const;
  std::vector<float> features(const Batch& b) const;

  // d logit(classes[i]) / d pixels of image i, shaped like the batch; scores = the logits.
  void input_gradient(const Batch& b, const int64_t* classes, std::vector<float>& grad,
                      std::vector<float>& scores) const;
  // Output of dense block `block` (0..3) and d logit(classes[i]) / d it, both [n, c, h, w]
  // (channels first, as Grad-CAM consumers expect); `shape` receives {n, c, h, w}.
  void layer_gradient(int block, const Batch& b, const int64_t* classes, std::vector<float>& activations,
                      std::vector<float>& gradients, std::vector<float>& scores, std::vector<int64_t>& shape) const;

  // Trains the head (and the last `unfreeze_blocks` blocks) with Adam on cross-entropy;
  // the other blocks' weights are left bit-identical. Validation rows may be empty.
  // Keeps the parameters of the epoch with the lowest validation loss (the last epoch
  // without validation images); that epoch (1-based) goes to *best_epoch.
  std::vector<EpochRecord> fine_tune(const Batch& train, const std::vector<int64_t>& train_labels,
                                     const Batch& val, const std::vector<int64_t>& val_labels,
                                     const FineTuneOptions& options, const FineTuneHooks& hooks,
                                     int64_t* best_epoch = nullptr);

  // Model-parameter randomisation (Adebayo et al. 2018): re-initialises the top `top`
  // layers, from the output down: head, block3 sep3..sep0, block2 ..., block0 sep3..sep1,
  // block0 conv0 (17 in all), with Keras's defaults the network was trained from
  // (Glorot-uniform kernels, zero biases). Layer i's draw depends on (seed, i) alone, so
  // cascading one layer further leaves the layers above identical. Returns their names.
  std::vector<std::string> randomize(int top, uint64_t seed);
  static constexpr int kLayers = 17;

  // Every parameter of dense block `block` (or 4 = the head), flattened, for tests.
  std::vector<float> parameters_of(int block) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mien::faceapi
