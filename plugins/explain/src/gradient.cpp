// explain.integrated_gradients and explain.gradient_shap: path methods over the model's
// input gradients (MIEN_CAP_INPUT_GRADIENT), batched over batch_size rows per call.
#include <algorithm>
#include <atomic>
#include <cmath>

#include "components.hpp"
#include "parallel_eval.hpp"

namespace mien::explain {

ComponentInfo& with_common(ComponentInfo& ci);

namespace {

// Streams (row, class) gradient requests in batches; `sink(i, grad, score)` receives each
// request in the order it was queued.
class GradientBatcher {
 public:
  using Sink = std::function<void(size_t tag, const float* grad, double score)>;
  GradientBatcher(const ModelRef& m, int64_t M, int64_t batch, const Host& host, Sink sink)
      : m_(m), M_(M), batch_(batch), host_(host), sink_(std::move(sink)) {
    rows_.resize(static_cast<size_t>(batch * M));
  }
  float* next(int64_t cls, size_t tag) {
    if (filled_ == batch_) flush();
    classes_.push_back(cls);
    tags_.push_back(tag);
    return &rows_[static_cast<size_t>(filled_++ * M_)];
  }
  void flush() {
    if (filled_ == 0) return;
    host_.check_cancelled();
    Tensor in = Tensor::zeros<float>({filled_, M_});
    std::memcpy(in.data<float>(), rows_.data(), static_cast<size_t>(filled_ * M_) * sizeof(float));
    auto r = m_.input_gradient(in, classes_);
    const TensorView g = r.first.view(), s = r.second.view();
    if (!g.valid() || g.numel() != filled_ * M_)
      throw Error("the model's input_gradient returned a gradient of the wrong shape", MIEN_ERR_INTERNAL);
    if (!s.valid() || s.numel() != filled_)
      throw Error("the model's input_gradient returned no scores (one per row are needed)", MIEN_ERR_INTERNAL);
    const std::vector<float> gv = g.to_vector<float>();
    for (int64_t i = 0; i < filled_; ++i) sink_(tags_[i], &gv[i * M_], s.at(i));
    rows_evaluated += filled_;
    filled_ = 0;
    classes_.clear();
    tags_.clear();
  }
  int64_t rows_evaluated = 0;

 private:
  const ModelRef& m_;
  int64_t M_, batch_;
  const Host& host_;
  Sink sink_;
  std::vector<float> rows_;
  std::vector<int64_t> classes_;
  std::vector<size_t> tags_;
  int64_t filled_ = 0;
};

// Gauss-Legendre nodes and weights on [0, 1].
void gauss_legendre(int n, std::vector<double>& x, std::vector<double>& w) {
  x.resize(static_cast<size_t>(n));
  w.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    double z = std::cos(3.14159265358979323846 * (i + 0.75) / (n + 0.5)), pp = 1;
    for (int it = 0; it < 100; ++it) {
      double p1 = 1, p2 = 0;
      for (int j = 1; j <= n; ++j) {
        const double p3 = p2;
        p2 = p1;
        p1 = ((2.0 * j - 1.0) * z * p2 - (j - 1.0) * p3) / j;
      }
      pp = n * (z * p1 - p2) / (z * z - 1.0);
      const double z1 = z;
      z = z1 - p1 / pp;
      if (std::fabs(z - z1) < 1e-15) break;
    }
    x[i] = 0.5 * (1.0 - z);  // ascending on [0, 1]
    w[i] = 1.0 / ((1.0 - z * z) * pp * pp);  // = 2/((1-z^2)p'^2) / 2
  }
}

std::string score_kind(const Prepared& d) { return d.model.score.empty() ? "score" : d.model.score; }

struct Baselines {
  int64_t rows = 0;
  std::vector<float> x;
  std::vector<double> w;
};

Baselines make_baselines(const Prepared& d, const std::string& how) {
  Baselines b;
  if (how == "zero") {
    b.rows = 1;
    b.x.assign(static_cast<size_t>(d.M), 0.0f);
    b.w = {1.0};
  } else if (how == "mean") {
    b.rows = 1;
    const auto mu = d.bg.mean();
    b.x.assign(mu.begin(), mu.end());
    b.w = {1.0};
  } else {
    b.rows = d.bg.rows;
    b.x = d.bg.x;
    b.w = d.bg.w;
  }
  return b;
}

}  // namespace

// ====================================================================================
ComponentInfo IntegratedGradients::info() {
  ComponentInfo ci("explain.integrated_gradients", 1, MIEN_KIND_EXPLAINER,
                   "Integrated gradients from a baseline (background mean, every background row, or zero)");
  with_common(ci).params(kSteps, kMethod, kBaseline)
      .ports(kModel, Ports::kSamples, Ports::kBackgroundOptional, Ports::kAttributions);
  return ci;
}

IntegratedGradients::IntegratedGradients(const Setup& s)
    : cs_("explain.integrated_gradients", s), steps_(kSteps.read(s.params())), method_(kMethod.read(s.params())),
      baseline_(kBaseline.read(s.params())) {
  if (method_ == "gausslegendre" && steps_ > 4096)
    throw Error("explain.integrated_gradients: parameter 'steps' is " + std::to_string(steps_) +
                "; Gauss-Legendre takes at most 4096 points (64 are usually exact to 1e-6); use method: trapezoid "
                "for more");
}

void IntegratedGradients::process(Context& ctx) {
  const Host& host = ctx.host();
  PrepareOptions opt;
  opt.need_background = false;
  opt.before_model = [&](const Prepared& d) {
    if (baseline_ != "zero" && !d.has_background)
      throw Error("explain.integrated_gradients: baseline '" + baseline_ +
                  "' needs the background input; connect background or set baseline: zero");
  };
  Prepared d = prepare(ctx, cs_, kModel, Ports::kSamples, Ports::kBackgroundOptional, opt);
  const ModelRef model = ctx.model(kModel);
  const int64_t M = d.M;
  const Baselines bl = make_baselines(d, baseline_);
  std::vector<double> ax, aw;
  if (method_ == "gausslegendre") {
    gauss_legendre(steps_, ax, aw);
  } else {
    for (int k = 0; k <= steps_; ++k) {
      ax.push_back(static_cast<double>(k) / steps_);
      aw.push_back((k == 0 || k == steps_) ? 0.5 / steps_ : 1.0 / steps_);
    }
  }
  const size_t T = d.targets.size();
  std::vector<double> phi(T * static_cast<size_t>(M), 0.0), out(T, 0.0), base(T, 0.0);
  // Tag encoding: (t, b, k) with k = nodes -> endpoint at b (baseline), k = nodes + 1 -> x.
  const size_t K = ax.size();
  const size_t per_b = K + 1;
  GradientBatcher gb(model, M, cs_.batch_size, host, [&](size_t tag, const float* g, double score) {
    const size_t t = tag / (static_cast<size_t>(bl.rows) * per_b + 1);
    const size_t rest = tag % (static_cast<size_t>(bl.rows) * per_b + 1);
    if (rest == static_cast<size_t>(bl.rows) * per_b) {
      out[t] = score;
      return;
    }
    const size_t b = rest / per_b, k = rest % per_b;
    if (k == K) {
      base[t] += bl.w[b] * score;
      return;
    }
    const float* x = &d.x[d.targets[t].sample * M];
    const float* br = &bl.x[b * M];
    const double w = bl.w[b] * aw[k];
    double* p = &phi[t * M];
    for (int64_t j = 0; j < M; ++j) p[j] += w * (static_cast<double>(x[j]) - br[j]) * g[j];
  });
  const size_t stride = static_cast<size_t>(bl.rows) * per_b + 1;
  for (size_t t = 0; t < T; ++t) {
    if (t % 64 == 0) step(host, t, T, "paths");
    const int64_t s = d.targets[t].sample, c = d.targets[t].cls;
    const float* x = &d.x[s * M];
    for (int64_t b = 0; b < bl.rows; ++b) {
      const float* br = &bl.x[b * M];
      for (size_t k = 0; k < K; ++k) {
        float* row = gb.next(c, t * stride + static_cast<size_t>(b) * per_b + k);
        for (int64_t j = 0; j < M; ++j) row[j] = static_cast<float>(br[j] + ax[k] * (static_cast<double>(x[j]) - br[j]));
      }
      float* row = gb.next(c, t * stride + static_cast<size_t>(b) * per_b + K);
      std::copy(br, br + M, row);
    }
    float* row = gb.next(c, t * stride + stride - 1);
    std::copy(x, x + M, row);
  }
  gb.flush();
  const size_t P = d.players.size();
  std::vector<double> values(T * P, 0.0), delta(T);
  for (size_t t = 0; t < T; ++t) {
    double sum = 0;
    for (size_t p = 0; p < P; ++p) {
      double v = 0;
      for (int j : d.players.features[p]) v += phi[t * M + j];
      values[t * P + p] = v;
      sum += v;
    }
    delta[t] = sum - (out[t] - base[t]);
  }
  d.gradient_rows = gb.rows_evaluated;
  Json meta{{"explainer", "explain.integrated_gradients"},
            {"threads", cs_.threads},
            {"output", score_kind(d)},
            {"baseline", baseline_},
            {"steps", steps_},
            {"method", method_},
            {"players", d.players.names}};
  ctx.set(Ports::kAttributions, attribution_table(d, values, base, out, {{"convergence_delta", delta}}, meta));
}

// ====================================================================================
ComponentInfo GradientShap::info() {
  ComponentInfo ci("explain.gradient_shap", 1, MIEN_KIND_EXPLAINER,
                   "Expected gradients (GradientSHAP): random background rows and interpolation points");
  with_common(ci).params(kNSamples)
      .ports(kModel, Ports::kSamples, Ports::kBackground, Ports::kAttributions, Ports::kStandardErrors);
  return ci;
}

GradientShap::GradientShap(const Setup& s) : cs_("explain.gradient_shap", s), nsamples_(kNSamples.read(s.params())) {}

void GradientShap::process(Context& ctx) {
  const Host& host = ctx.host();
  Prepared d = prepare(ctx, cs_, kModel, Ports::kSamples, Ports::kBackground);
  const ModelRef model = ctx.model(kModel);
  const int64_t M = d.M, C = d.C, N = d.bg.rows;
  const size_t P = d.players.size(), T = d.targets.size();
  const int S = nsamples_;
  std::vector<double> cdf(static_cast<size_t>(N));
  double acc = 0;
  for (int64_t b = 0; b < N; ++b) cdf[b] = (acc += d.bg.w[b]);
  // Draws (background row, alpha) per target, fixed up front from the target's own stream.
  std::vector<int64_t> draw_b(T * static_cast<size_t>(S));
  std::vector<double> draw_a(T * static_cast<size_t>(S));
  for (size_t t = 0; t < T; ++t) {
    Rng rng(derive_seed(derive_seed(cs_.seed, static_cast<uint64_t>(d.targets[t].sample)),
                        static_cast<uint64_t>(d.targets[t].cls)));
    for (int k = 0; k < S; ++k) {
      const double u = rng.uniform() * acc;
      int64_t b = std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin();
      draw_b[t * S + k] = std::min(b, N - 1);
      draw_a[t * S + k] = rng.uniform();
    }
  }
  std::vector<double> sum(T * P, 0.0), sumsq(T * P, 0.0), out(T, 0.0), base_c(static_cast<size_t>(C), 0.0);
  std::vector<uint8_t> need(static_cast<size_t>(C), 0);
  for (const auto& t : d.targets) need[t.cls] = 1;
  std::vector<double> contrib(P);
  // Tags: t * (S + 1) + k for draws, + S for x itself; base rows: T * (S + 1) + c * N + b.
  const size_t stride = static_cast<size_t>(S) + 1;
  // The background rows' scores first (base values, summed in background order), then the
  // targets split into contiguous ranges over the threads, each with its own batcher and
  // one OpenMP thread: every target's draws stay in order in one batcher, so the sums do
  // not depend on the thread count.
  std::atomic<int64_t> rows_evaluated{0};
  {
    GradientBatcher gb(model, M, cs_.batch_size, host, [&](size_t tag, const float*, double score) {
      const size_t r = tag - T * stride;
      base_c[r / N] += d.bg.w[r % N] * score;
    });
    for (int64_t c = 0; c < C; ++c) {
      if (!need[c]) continue;
      for (int64_t b = 0; b < N; ++b) {
        float* row = gb.next(c, T * stride + static_cast<size_t>(c * N + b));
        std::copy(&d.bg.x[b * M], &d.bg.x[b * M] + M, row);
      }
    }
    gb.flush();
    rows_evaluated += gb.rows_evaluated;
  }
  const int64_t grain = std::max<int64_t>(1, 2 * cs_.batch_size / static_cast<int64_t>(stride));
  parallel_for(
      static_cast<int64_t>(T), cs_.threads,
      [&](int64_t t0, int64_t t1) {
        if (t0 != 0 || t1 != static_cast<int64_t>(T)) limit_openmp_threads_of_this_thread(1);
        GradientBatcher gb(model, M, cs_.batch_size, host, [&](size_t tag, const float* g, double score) {
          const size_t t = tag / stride, k = tag % stride;
          if (k == static_cast<size_t>(S)) {
            out[t] = score;
            return;
          }
          const float* x = &d.x[d.targets[t].sample * M];
          const float* br = &d.bg.x[draw_b[t * S + k] * M];
          for (size_t p = 0; p < P; ++p) {
            double v = 0;
            for (int j : d.players.features[p]) v += (static_cast<double>(x[j]) - br[j]) * g[j];
            sum[t * P + p] += v;
            sumsq[t * P + p] += v * v;
          }
        });
        for (auto t = static_cast<size_t>(t0); t < static_cast<size_t>(t1); ++t) {
          if (t0 == 0 && t % 64 == 0) step(host, t, T, "expected gradients");  // progress from one thread
          const int64_t c = d.targets[t].cls;
          const float* x = &d.x[d.targets[t].sample * M];
          for (int k = 0; k < S; ++k) {
            const float* br = &d.bg.x[draw_b[t * S + k] * M];
            const double a = draw_a[t * S + k];
            float* row = gb.next(c, t * stride + k);
            for (int64_t j = 0; j < M; ++j)
              row[j] = static_cast<float>(br[j] + a * (static_cast<double>(x[j]) - br[j]));
          }
          float* row = gb.next(c, t * stride + S);
          std::copy(x, x + M, row);
        }
        gb.flush();
        rows_evaluated += gb.rows_evaluated;
      },
      grain);
  std::vector<double> values(T * P), ses(T * P), base(T), delta(T);
  for (size_t t = 0; t < T; ++t) {
    double total = 0;
    for (size_t p = 0; p < P; ++p) {
      const double mean = sum[t * P + p] / S;
      values[t * P + p] = mean;
      total += mean;
      const double var = std::max(0.0, (sumsq[t * P + p] - S * mean * mean) / (S - 1));
      ses[t * P + p] = std::sqrt(var / S);
    }
    base[t] = base_c[d.targets[t].cls];
    delta[t] = total - (out[t] - base[t]);
  }
  d.gradient_rows = rows_evaluated.load();
  Json meta{{"explainer", "explain.gradient_shap"},
            {"threads", cs_.threads},
            {"output", score_kind(d)},
            {"nsamples", S},
            {"players", d.players.names},
            {"standard_errors", "standard deviation of the per-draw contributions / sqrt(nsamples)"}};
  ctx.set(Ports::kAttributions, attribution_table(d, values, base, out, {{"convergence_delta", delta}}, meta));
  ctx.set(Ports::kStandardErrors, attribution_table(d, ses, base, out, {{"convergence_delta", delta}}, meta));
}

}  // namespace mien::explain
