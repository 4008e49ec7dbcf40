// The MLP trainer on LibTorch: the only translation unit of mien-tune that includes torch.
// Parameters are plain tensors; every random draw (initialisation, batch order, dropout)
// comes from generators seeded by the caller, never torch's global one.
#include "mlp_trainer.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace mien::tune {

namespace {
template <typename F>
auto torch_call(const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const c10::Error& e) {
    throw std::runtime_error(std::string(what) + ": " + e.what_without_backtrace());
  }
}
}  // namespace

void set_torch_threads(int threads) { at::set_num_threads(std::max(1, threads)); }

struct MlpTrainer::Impl {
  MlpConfig config;
  int64_t batch_size = 32;
  std::vector<torch::Tensor> w, b, mw, vw, mb, vb;
  std::vector<double> l2;  // per linear layer
  at::Generator gen;
  int64_t steps = 0;
  int64_t epochs = 0;

  torch::Tensor forward(torch::Tensor h, bool training) {
    for (size_t k = 0; k < w.size(); ++k) {
      h = torch::addmm(b[k], h, w[k].t());
      if (k + 1 == w.size()) break;
      h = torch::relu(h);
      const double p = config.dropout[k];
      if (training && p > 0) {
        const torch::Tensor keep = torch::empty_like(h).bernoulli_(1.0 - p, gen);
        h = h * keep / (1.0 - p);
      }
    }
    return h;
  }

  void adam(torch::Tensor& p, torch::Tensor& m, torch::Tensor& v, double decay) {
    const double b1 = 0.9, b2 = 0.999, eps = 1e-7;
    const double lr = config.learning_rate;
    const double bc1 = 1.0 - std::pow(b1, static_cast<double>(steps));
    const double bc2 = 1.0 - std::pow(b2, static_cast<double>(steps));
    torch::Tensor g = p.grad();
    if (decay > 0) g = g + 2.0 * decay * p.detach();
    m.mul_(b1).add_(g, 1.0 - b1);
    v.mul_(b2).addcmul_(g, g, 1.0 - b2);
    const torch::Tensor denom = (v / bc2).sqrt_().add_(eps);
    p.detach().addcdiv_(m, denom, -lr / bc1);
  }
};

MlpTrainer::MlpTrainer(const MlpConfig& config, int64_t inputs, int64_t classes, int64_t batch_size, uint64_t seed)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.config = config;
  m.batch_size = std::max<int64_t>(1, batch_size);
  m.gen = at::detail::createCPUGenerator(seed);
  torch_call("creating the MLP", [&] {
    torch::NoGradGuard no_grad;
    int64_t in = inputs;
    std::vector<int64_t> outs = config.hidden;
    outs.push_back(classes);
    for (size_t k = 0; k < outs.size(); ++k) {
      const int64_t out = outs[k];
      const double limit = std::sqrt(6.0 / static_cast<double>(in + out));
      m.w.push_back(torch::empty({out, in}, torch::kFloat).uniform_(-limit, limit, m.gen).requires_grad_(true));
      m.b.push_back(torch::zeros({out}, torch::kFloat).requires_grad_(true));
      m.mw.push_back(torch::zeros({out, in}, torch::kFloat));
      m.vw.push_back(torch::zeros({out, in}, torch::kFloat));
      m.mb.push_back(torch::zeros({out}, torch::kFloat));
      m.vb.push_back(torch::zeros({out}, torch::kFloat));
      m.l2.push_back(k < config.l2.size() ? config.l2[k] : 0.0);
      in = out;
    }
    return 0;
  });
}

MlpTrainer::~MlpTrainer() = default;
MlpTrainer::MlpTrainer(MlpTrainer&&) noexcept = default;
MlpTrainer& MlpTrainer::operator=(MlpTrainer&&) noexcept = default;

int64_t MlpTrainer::epochs_done() const { return impl_->epochs; }

void MlpTrainer::train(const Data& d, int64_t epochs, const std::function<void()>& poll) {
  Impl& m = *impl_;
  torch_call("training the MLP", [&] {
    const torch::Tensor xs = torch::from_blob(const_cast<float*>(d.x.data()), {d.rows, d.cols}, torch::kFloat);
    const torch::Tensor ys = torch::from_blob(const_cast<int64_t*>(d.y.data()), {d.rows}, torch::kLong);
    for (int64_t e = 0; e < epochs; ++e) {
      const torch::Tensor order = torch::randperm(d.rows, m.gen, torch::kLong);
      for (int64_t start = 0; start < d.rows; start += m.batch_size) {
        if (poll) poll();
        const int64_t len = std::min(m.batch_size, d.rows - start);
        const torch::Tensor idx = order.narrow(0, start, len);
        const torch::Tensor loss =
            torch::cross_entropy_loss(m.forward(xs.index_select(0, idx), true), ys.index_select(0, idx));
        for (size_t k = 0; k < m.w.size(); ++k) {
          m.w[k].mutable_grad().reset();
          m.b[k].mutable_grad().reset();
        }
        loss.backward();
        ++m.steps;
        torch::NoGradGuard no_grad;
        for (size_t k = 0; k < m.w.size(); ++k) {
          m.adam(m.w[k], m.mw[k], m.vw[k], m.l2[k]);
          m.adam(m.b[k], m.mb[k], m.vb[k], 0.0);
        }
      }
      ++m.epochs;
    }
    return 0;
  });
}

double MlpTrainer::accuracy(const Data& d) const {
  if (d.rows == 0) return 0;
  return torch_call("evaluating the MLP", [&] {
    torch::NoGradGuard no_grad;
    const torch::Tensor xs = torch::from_blob(const_cast<float*>(d.x.data()), {d.rows, d.cols}, torch::kFloat);
    const torch::Tensor z = impl_->forward(xs, false).contiguous();
    const float* p = z.data_ptr<float>();
    const int64_t C = z.size(1);
    int64_t correct = 0;
    for (int64_t i = 0; i < d.rows; ++i) {
      const float* row = p + i * C;
      correct += (std::max_element(row, row + C) - row) == d.y[static_cast<size_t>(i)] ? 1 : 0;
    }
    return static_cast<double>(correct) / static_cast<double>(d.rows);
  });
}

}  // namespace mien::tune
