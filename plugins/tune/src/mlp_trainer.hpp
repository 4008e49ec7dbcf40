// A small MLP trainer for the search (LibTorch behind a torch-free interface, so only
// mlp_trainer.cpp pays torch's compile cost). The network and its training follow
// model.mlp (plugins/models): ReLU hidden layers each followed by dropout, a softmax
// output, cross-entropy plus lambda * sum(W^2) on each hidden kernel (Keras's
// kernel_regularizer; none on the output layer), Adam (epsilon 1e-7), Glorot-uniform
// kernels and zero biases, mini-batches of `batch_size` in a seeded random order.
// Training can continue: train(e) runs e more epochs (successive halving resumes).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "hyperband.hpp"

namespace mien::tune {

// Row-major float32 features, already standardised.
struct Data {
  std::vector<float> x;
  std::vector<int64_t> y;
  int64_t rows = 0, cols = 0;
};

void set_torch_threads(int threads);

class MlpTrainer {
 public:
  MlpTrainer(const MlpConfig& config, int64_t inputs, int64_t classes, int64_t batch_size, uint64_t seed);
  ~MlpTrainer();
  MlpTrainer(MlpTrainer&&) noexcept;
  MlpTrainer& operator=(MlpTrainer&&) noexcept;
  // `epochs` more passes over `train`; `poll` runs between batches and may throw.
  void train(const Data& train, int64_t epochs, const std::function<void()>& poll);
  // Fraction of rows whose largest logit is the label (eval mode: no dropout).
  double accuracy(const Data& d) const;
  int64_t epochs_done() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mien::tune
