// The MLP on LibTorch: the only translation unit of mien-models that includes torch.
//
// Parameters are plain tensors (no torch::nn modules), so the network is exactly the
// list of [out, in] kernels and biases the artifact and the "layers" description hold.
// All randomness (initialisation, shuffling, dropout masks) comes from generators of its
// own seeded by the caller, never from torch's global generator, so two nodes training
// at once cannot disturb each other's streams. The optimizer step, the dropout masks and
// the accuracy count are plain loops: with torch ops they cost more than the matrix
// products of a network this small.
#include "mlp_core.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace mien::models {

namespace {

// LibTorch errors carry a C++ backtrace in what(); keep the message only.
template <typename F>
auto torch_call(const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const c10::Error& e) {
    throw std::runtime_error(std::string(what) + ": " + e.what_without_backtrace());
  }
}

torch::Tensor as_tensor(const float* x, int64_t rows, int64_t cols) {
  // Borrowed, read-only use: every op below produces a new tensor.
  return torch::from_blob(const_cast<float*>(x), {rows, cols}, torch::kFloat);
}

// Rows whose largest logit (the first of equal ones) is the label.
int64_t count_correct(const torch::Tensor& logits, const torch::Tensor& labels) {
  const torch::Tensor l = logits.detach().contiguous();
  const float* z = l.data_ptr<float>();
  const int64_t* y = labels.data_ptr<int64_t>();
  const int64_t rows = l.size(0), cols = l.size(1);
  int64_t correct = 0;
  for (int64_t i = 0; i < rows; ++i) {
    const float* row = z + i * cols;
    correct += (std::max_element(row, row + cols) - row) == y[i] ? 1 : 0;
  }
  return correct;
}

std::vector<float> to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous();
  const float* p = c.data_ptr<float>();
  return std::vector<float>(p, p + c.numel());
}

// xoshiro256** (Blackman & Vigna): dropout masks need ~20k draws per step, which
// torch's bernoulli_ makes the largest cost of a step; this stream is seeded from the
// node's seed and is the same on every platform.
class MaskRng {
 public:
  explicit MaskRng(uint64_t seed) {
    for (uint64_t& v : s_) {  // splitmix64 expansion of the seed
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      v = z ^ (z >> 31);
    }
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Inverted-dropout mask: each entry 1/(1-p) with probability 1-p, else 0.
  torch::Tensor mask(int64_t rows, int64_t cols, double p) {
    torch::Tensor m = torch::empty({rows, cols}, torch::kFloat);
    float* d = m.data_ptr<float>();
    const int64_t n = rows * cols;
    const auto keep_below = static_cast<uint64_t>((1.0 - p) * 4294967296.0);
    const auto scale = static_cast<float>(1.0 / (1.0 - p));
    int64_t i = 0;
    for (; i + 1 < n; i += 2) {
      const uint64_t r = next();
      d[i] = (r & 0xffffffffULL) < keep_below ? scale : 0.0f;
      d[i + 1] = (r >> 32) < keep_below ? scale : 0.0f;
    }
    if (i < n) d[i] = (next() & 0xffffffffULL) < keep_below ? scale : 0.0f;
    return m;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// Adam (as torch/Keras: bias-corrected moments, epsilon outside the square root) or SGD
// with momentum, as one fused pass over each parameter. The L2 penalty l2 * sum(W^2)
// enters as its gradient 2 * l2 * W, the same update as adding it to the loss.
class Optimizer {
 public:
  Optimizer(const std::vector<torch::Tensor>& params, std::vector<double> l2, const TrainOptions& o)
      : params_(params), l2_(std::move(l2)), adam_(o.optimizer != "sgd"), lr_(o.learning_rate), momentum_(o.momentum) {
    for (const auto& p : params_) {
      m_.push_back(torch::zeros_like(p));
      if (adam_) v_.push_back(torch::zeros_like(p));
    }
  }
  void zero_grad() {
    for (auto& p : params_)
      p.mutable_grad().reset();  // backward allocates fresh gradients
  }
  void step() {
    ++t_;
    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-7f;
    const auto step_size = static_cast<float>(lr_ / (1.0 - std::pow(0.9, static_cast<double>(t_))));
    const auto inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(0.999, static_cast<double>(t_))));
    const auto lr = static_cast<float>(lr_), mom = static_cast<float>(momentum_);
    for (size_t i = 0; i < params_.size(); ++i) {
      float* p = params_[i].data_ptr<float>();
      const float* g = params_[i].grad().data_ptr<float>();
      float* m = m_[i].data_ptr<float>();
      float* v = adam_ ? v_[i].data_ptr<float>() : nullptr;
      const auto decay = static_cast<float>(2.0 * l2_[i]);
      const int64_t n = params_[i].numel();
      // Serial on purpose: ~0.1 ms per step, and an OpenMP region per step costs more than
      // it saves once other processes compete for the cores (spinning threads).
      if (adam_) {
        for (int64_t j = 0; j < n; ++j) {
          const float grad = g[j] + decay * p[j];
          m[j] = b1 * m[j] + (1.0f - b1) * grad;
          v[j] = b2 * v[j] + (1.0f - b2) * grad * grad;
          p[j] -= step_size * m[j] / (std::sqrt(v[j]) * inv_sqrt_bc2 + eps);
        }
      } else {
        for (int64_t j = 0; j < n; ++j) {
          m[j] = mom * m[j] + g[j] + decay * p[j];
          p[j] -= lr * m[j];
        }
      }
    }
  }

 private:
  std::vector<torch::Tensor> params_;
  std::vector<double> l2_;  // per parameter tensor
  bool adam_;
  double lr_, momentum_;
  std::vector<torch::Tensor> m_, v_;
  int64_t t_ = 0;
};

}  // namespace

void set_compute_threads(int threads) { at::set_num_threads(std::max(1, threads)); }

struct MlpNet::Impl {
  MlpArch arch;
  std::vector<torch::Tensor> w, b;  // w[k] [out, in], b[k] [out]
  torch::Tensor scale, shift;       // [inputs] float32, undefined = no standardisation

  size_t layers() const { return w.size(); }

  std::vector<torch::Tensor> parameters() const {
    std::vector<torch::Tensor> p;
    for (size_t k = 0; k < w.size(); ++k) {
      p.push_back(w[k]);
      p.push_back(b[k]);
    }
    return p;
  }

  torch::Tensor standardize(const torch::Tensor& x) const { return scale.defined() ? x * scale + shift : x; }

  // Standardised input -> logits. Dropout only when `masks` is given (training).
  torch::Tensor forward(torch::Tensor h, MaskRng* masks) const {
    for (size_t k = 0; k < w.size(); ++k) {
      h = torch::addmm(b[k], h, w[k].t());
      if (k + 1 == w.size()) break;
      h = torch::relu(h);
      const double p = arch.dropout[k];
      if (masks != nullptr && p > 0) h = h * masks->mask(h.size(0), h.size(1), p);
    }
    return h;
  }

  torch::Tensor eval_logits(const torch::Tensor& x) const { return forward(standardize(x), nullptr); }
};

MlpNet::MlpNet(const MlpArch& arch, uint64_t seed) : impl_(std::make_unique<Impl>()) {
  if (arch.inputs < 1 || arch.outputs < 1) throw std::invalid_argument("MlpNet: inputs and outputs must be >= 1");
  if (arch.dropout.size() != arch.hidden.size())
    throw std::invalid_argument("MlpNet: one dropout rate per hidden layer is needed");
  impl_->arch = arch;
  at::Generator gen = at::detail::createCPUGenerator(seed);
  torch::NoGradGuard no_grad;
  int64_t in = arch.inputs;
  std::vector<int64_t> outs = arch.hidden;
  outs.push_back(arch.outputs);
  for (int64_t out : outs) {
    const double limit = std::sqrt(6.0 / static_cast<double>(in + out));  // Glorot uniform
    impl_->w.push_back(torch::empty({out, in}, torch::kFloat).uniform_(-limit, limit, gen).requires_grad_(true));
    impl_->b.push_back(torch::zeros({out}, torch::kFloat).requires_grad_(true));
    in = out;
  }
}

MlpNet::~MlpNet() = default;
MlpNet::MlpNet(MlpNet&&) noexcept = default;
MlpNet& MlpNet::operator=(MlpNet&&) noexcept = default;

const MlpArch& MlpNet::arch() const { return impl_->arch; }

void MlpNet::set_standardization(const std::vector<double>& mean, const std::vector<double>& std) {
  const auto n = static_cast<size_t>(impl_->arch.inputs);
  if (mean.size() != n || std.size() != n)
    throw std::invalid_argument("MlpNet: standardisation needs one mean and one std per input");
  std::vector<float> scale(n), shift(n);
  for (size_t j = 0; j < n; ++j) {
    const double s = std[j] > 0 ? std[j] : 1.0;
    scale[j] = static_cast<float>(1.0 / s);
    shift[j] = static_cast<float>(-mean[j] / s);
  }
  impl_->scale = torch::tensor(scale, torch::kFloat);
  impl_->shift = torch::tensor(shift, torch::kFloat);
}

bool MlpNet::standardized() const { return impl_->scale.defined(); }
std::vector<float> MlpNet::scale() const { return standardized() ? to_vector(impl_->scale) : std::vector<float>(); }
std::vector<float> MlpNet::shift() const { return standardized() ? to_vector(impl_->shift) : std::vector<float>(); }

TrainReport MlpNet::train(const Matrix& x, const std::vector<int64_t>& y, const Matrix* val_x,
                          const std::vector<int64_t>* val_y, const TrainOptions& o, const TrainHooks& hooks) {
  Impl& m = *impl_;
  const int64_t n = x.rows;
  if (n < 1 || x.cols != m.arch.inputs || static_cast<int64_t>(y.size()) != n)
    throw std::invalid_argument("MlpNet::train: the training matrix does not match the network");
  if (o.l2.size() != m.layers()) throw std::invalid_argument("MlpNet::train: one l2 value per linear layer is needed");
  const bool have_val = val_x != nullptr && val_y != nullptr && val_x->rows > 0;

  return torch_call("training the MLP", [&] {
    at::Generator gen = at::detail::createCPUGenerator(o.seed ^ 0x5eed5eed5eed5eedULL);
    const torch::Tensor xs = m.standardize(as_tensor(x.values.data(), n, x.cols)).contiguous();
    const torch::Tensor ys = torch::tensor(y, torch::kLong);
    torch::Tensor vxs, vys;
    if (have_val) {
      vxs = m.standardize(as_tensor(val_x->values.data(), val_x->rows, val_x->cols)).contiguous();
      vys = torch::tensor(*val_y, torch::kLong);
    }
    torch::Tensor class_w;
    if (!o.class_weights.empty()) class_w = torch::tensor(o.class_weights, torch::kFloat);

    MaskRng masks(o.seed ^ 0xd50b0d50b0d50b0dULL);
    std::vector<double> l2_per_tensor;
    for (size_t k = 0; k < m.layers(); ++k) {
      l2_per_tensor.push_back(o.l2[k]);  // kernel
      l2_per_tensor.push_back(0.0);      // bias
    }
    Optimizer opt(m.parameters(), l2_per_tensor, o);

    TrainReport report;
    const bool minimize = o.monitor != "val_accuracy";
    double best = minimize ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
    int64_t since_best = 0;
    std::vector<torch::Tensor> best_params;
    const int64_t bs = std::max<int64_t>(1, o.batch_size);

    for (int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
      const torch::Tensor order = torch::randperm(n, gen, torch::kLong);
      double loss_sum = 0;
      int64_t correct = 0;
      for (int64_t start = 0; start < n; start += bs) {
        if (hooks.between_batches) hooks.between_batches();
        const int64_t len = std::min(bs, n - start);
        const torch::Tensor idx = order.narrow(0, start, len);
        const torch::Tensor xb = xs.index_select(0, idx);
        const torch::Tensor yb = ys.index_select(0, idx);
        const torch::Tensor logits = m.forward(xb, &masks);
        torch::Tensor loss;
        if (class_w.defined()) {
          const torch::Tensor nll = torch::nll_loss(torch::log_softmax(logits, 1), yb, {}, at::Reduction::None);
          loss = (nll * class_w.index_select(0, yb)).sum() / static_cast<double>(len);  // Keras's class_weight
        } else {
          loss = torch::cross_entropy_loss(logits, yb);
        }
        opt.zero_grad();
        loss.backward();
        {
          torch::NoGradGuard no_grad;
          opt.step();
        }
        loss_sum += loss.item<double>() * static_cast<double>(len);
        correct += count_correct(logits, yb);
      }
      EpochRecord rec;
      rec.epoch = epoch;
      double penalty = 0;
      {
        torch::NoGradGuard no_grad;
        for (size_t k = 0; k < m.layers(); ++k)
          if (o.l2[k] > 0) penalty += o.l2[k] * m.w[k].pow(2).sum().item<double>();
      }
      rec.train_loss = loss_sum / static_cast<double>(n) + penalty;
      rec.train_accuracy = static_cast<double>(correct) / static_cast<double>(n);
      rec.val_loss = std::numeric_limits<double>::quiet_NaN();
      rec.val_accuracy = std::numeric_limits<double>::quiet_NaN();
      if (have_val) {
        torch::NoGradGuard no_grad;
        const torch::Tensor logits = m.forward(vxs, nullptr);
        rec.val_loss = torch::cross_entropy_loss(logits, vys).item<double>();
        rec.val_accuracy =
            static_cast<double>(logits.argmax(1).eq(vys).sum().item<int64_t>()) / static_cast<double>(val_x->rows);
      }
      report.history.push_back(rec);
      if (hooks.on_epoch) hooks.on_epoch(rec);
      if (!have_val) continue;
      const double value = minimize ? rec.val_loss : rec.val_accuracy;
      if (minimize ? value < best : value > best) {
        best = value;
        report.best_epoch = epoch;
        since_best = 0;
        if (o.restore_best) {
          torch::NoGradGuard no_grad;
          best_params.clear();
          for (const auto& p : m.parameters()) best_params.push_back(p.detach().clone());
        }
      } else {
        ++since_best;
      }
      if (o.patience > 0 && since_best >= o.patience) {
        report.stopped_early = epoch < o.epochs;
        break;
      }
    }
    const int64_t last = report.history.empty() ? 0 : report.history.back().epoch;
    if (have_val && o.restore_best && !best_params.empty() && report.best_epoch != last) {
      torch::NoGradGuard no_grad;
      auto params = m.parameters();
      for (size_t i = 0; i < params.size(); ++i) params[i].copy_(best_params[i]);
    } else {
      report.best_epoch = last;
    }
    return report;
  });
}

std::vector<float> MlpNet::logits(const float* x, int64_t rows) const {
  return torch_call("MLP forward pass", [&] {
    torch::NoGradGuard no_grad;
    return to_vector(impl_->eval_logits(as_tensor(x, rows, impl_->arch.inputs)));
  });
}

std::vector<float> MlpNet::predict(const float* x, int64_t rows) const {
  return torch_call("MLP prediction", [&] {
    torch::NoGradGuard no_grad;
    return to_vector(torch::softmax(impl_->eval_logits(as_tensor(x, rows, impl_->arch.inputs)), 1));
  });
}

void MlpNet::input_gradient(const float* x, int64_t rows, const int64_t* classes, std::vector<float>& grad,
                            std::vector<float>& scores) const {
  torch_call("MLP input gradient", [&] {
    const torch::Tensor xt = as_tensor(x, rows, impl_->arch.inputs).clone().requires_grad_(true);
    const torch::Tensor cls = torch::from_blob(const_cast<int64_t*>(classes), {rows}, torch::kLong).clone();
    const torch::Tensor chosen = impl_->eval_logits(xt).gather(1, cls.unsqueeze(1)).squeeze(1);
    const torch::Tensor g = torch::autograd::grad({chosen.sum()}, {xt})[0];
    grad = to_vector(g);
    scores = to_vector(chosen.detach());
    return 0;
  });
}

size_t MlpNet::num_linear_layers() const { return impl_->w.size(); }

void MlpNet::reinitialize(size_t top_layers, uint64_t seed) {
  torch::NoGradGuard no_grad;
  const size_t L = impl_->w.size();
  for (size_t i = 0; i < std::min(top_layers, L); ++i) {
    const size_t k = L - 1 - i;
    at::Generator gen = at::detail::createCPUGenerator(seed ^ (0x9e3779b97f4a7c15ULL * (k + 1)));
    const int64_t out = impl_->w[k].size(0), in = impl_->w[k].size(1);
    const double limit = std::sqrt(6.0 / static_cast<double>(in + out));  // Glorot uniform, as in the constructor
    impl_->w[k].uniform_(-limit, limit, gen);
    impl_->b[k].zero_();
  }
}

std::vector<float> MlpNet::weight(size_t layer) const { return to_vector(impl_->w.at(layer).detach()); }
std::vector<float> MlpNet::bias(size_t layer) const { return to_vector(impl_->b.at(layer).detach()); }

void MlpNet::save_weights(const std::string& path) const {
  torch_call("saving the MLP weights", [&] {
    std::vector<torch::Tensor> params;
    for (const auto& p : impl_->parameters()) params.push_back(p.detach());
    torch::save(params, path);
    return 0;
  });
}

void MlpNet::load_weights(const std::string& path) {
  std::vector<torch::Tensor> params;
  torch_call("reading the MLP weights", [&] {
    torch::load(params, path);
    return 0;
  });
  const auto mine = impl_->parameters();
  if (params.size() != mine.size())
    throw std::runtime_error("the weights file holds " + std::to_string(params.size()) + " tensors, the architecture needs " +
                             std::to_string(mine.size()));
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < mine.size(); ++i) {
    if (params[i].sizes() != mine[i].sizes() || params[i].scalar_type() != torch::kFloat)
      throw std::runtime_error("tensor " + std::to_string(i) + " of the weights file has the wrong shape or type");
    mine[i].copy_(params[i]);
  }
}

}  // namespace mien::models
