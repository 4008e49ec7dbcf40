// The MLP itself, behind a LibTorch-free interface: only mlp_core.cpp includes torch,
// so the component code, the tests and the benchmark compile in a second or two.
//
// Network: [affine standardisation] -> (linear -> relu -> dropout) per hidden layer ->
// linear -> softmax. Weights are stored [out, in] (row-major), like torch's Linear and
// like the "layers" description in plugins/CONVENTIONS.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mien::models {

struct MlpArch {
  int64_t inputs = 0;
  std::vector<int64_t> hidden;   // units per hidden layer
  std::vector<double> dropout;   // one drop rate per hidden layer, in [0, 1)
  int64_t outputs = 0;           // classes
};

struct TrainOptions {
  std::vector<double> l2;        // per linear layer (hidden.size() + 1): lambda * sum(W^2) on kernels
  std::string optimizer = "adam";  // adam | sgd
  double learning_rate = 1e-3;
  double momentum = 0.0;         // sgd only
  int64_t batch_size = 32;
  int64_t epochs = 100;
  int64_t patience = 10;         // 0 = no early stopping
  std::string monitor = "val_loss";  // val_loss | val_accuracy
  bool restore_best = true;
  std::vector<double> class_weights;  // one per class; empty = all 1
  uint64_t seed = 0;
};

// A row-major float32 matrix.
struct Matrix {
  std::vector<float> values;
  int64_t rows = 0;
  int64_t cols = 0;
};

struct EpochRecord {
  int64_t epoch = 0;             // 1-based
  double train_loss = 0;         // mean (weighted) cross-entropy over the epoch's batches + the L2
                                 // penalty of the weights at the end of the epoch
  double train_accuracy = 0;     // with dropout active, as Keras reports it
  double val_loss = 0;           // plain mean cross-entropy on validation; NaN without validation
  double val_accuracy = 0;       // NaN without validation
};

struct TrainReport {
  std::vector<EpochRecord> history;
  int64_t best_epoch = 0;        // the epoch whose weights the model holds
  bool stopped_early = false;
};

struct TrainHooks {
  std::function<void(const EpochRecord&)> on_epoch;  // after every epoch
  std::function<void()> between_batches;             // may throw (cancellation)
};

// Sets LibTorch's intra-op thread count (process-wide).
void set_compute_threads(int threads);

class MlpNet {
 public:
  // Glorot-uniform kernels and zero biases (Keras's defaults), drawn from `seed`.
  MlpNet(const MlpArch& arch, uint64_t seed);
  ~MlpNet();
  MlpNet(MlpNet&&) noexcept;
  MlpNet& operator=(MlpNet&&) noexcept;

  const MlpArch& arch() const;

  // x -> x * scale + shift before the first layer, scale = 1/std, shift = -mean/std
  // (computed in double, stored as float32). Without a call the input is used as is.
  void set_standardization(const std::vector<double>& mean, const std::vector<double>& std);
  bool standardized() const;
  std::vector<float> scale() const;
  std::vector<float> shift() const;

  // Trains on raw (unstandardised) features; `val_x` may be null (no validation).
  TrainReport train(const Matrix& x, const std::vector<int64_t>& y, const Matrix* val_x,
                    const std::vector<int64_t>* val_y, const TrainOptions& options, const TrainHooks& hooks);

  // Class probabilities [rows, outputs] for raw features [rows, inputs]; eval mode, no grad.
  std::vector<float> predict(const float* x, int64_t rows) const;
  // Logits [rows, outputs].
  std::vector<float> logits(const float* x, int64_t rows) const;
  // d logit[classes[i]] / d x[i] for each row (through the standardisation) -> grad
  // [rows, inputs]; scores [rows] = those logits.
  void input_gradient(const float* x, int64_t rows, const int64_t* classes, std::vector<float>& grad,
                      std::vector<float>& scores) const;

  // Model-parameter randomisation (Adebayo et al. 2018): re-draws the kernels of the top
  // `top_layers` linear layers (output side first) Glorot-uniform and zeroes their biases,
  // the initialisation training starts from. Layer k's draw depends on (seed, k) alone, so
  // cascading to one more layer keeps the layers above bit-identical. The standardisation
  // is data, not a parameter, and stays.
  void reinitialize(size_t top_layers, uint64_t seed);
  size_t num_linear_layers() const;

  // Linear layer k (0 .. hidden.size()): weight [out * in] row-major, bias [out].
  std::vector<float> weight(size_t layer) const;
  std::vector<float> bias(size_t layer) const;

  // Every weight and bias (torch::save of a tensor list). load checks the shapes.
  void save_weights(const std::string& path) const;
  void load_weights(const std::string& path);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mien::models
