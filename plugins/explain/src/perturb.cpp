// explain.lime and explain.occlusion: local perturbation explainers.
#include <algorithm>
#include <cmath>

#include "components.hpp"
#include "parallel_eval.hpp"

namespace mien::explain {

ComponentInfo& with_common(ComponentInfo& ci);

// ====================================================================================
ComponentInfo Lime::info() {
  ComponentInfo ci("explain.lime", 1, MIEN_KIND_EXPLAINER,
                   "Tabular LIME: weighted ridge regression on Gaussian perturbations around each sample");
  with_common(ci).params(kNumSamples, kKernelWidth, kRidge)
      .ports(kModel, Ports::kSamples, Ports::kBackgroundOptional, Ports::kAttributions, Ports::kStandardErrors);
  return ci;
}

Lime::Lime(const Setup& s)
    : cs_("explain.lime", s), num_samples_(kNumSamples.read(s.params())), kernel_width_(kKernelWidth.read(s.params())),
      ridge_(kRidge.read(s.params())) {}

void Lime::process(Context& ctx) {
  const Host& host = ctx.host();
  PrepareOptions opt;
  opt.need_background = false;
  Prepared d = prepare(ctx, cs_, kModel, Ports::kSamples, Ports::kBackgroundOptional, opt);
  const int64_t M = d.M, C = d.C, S = num_samples_;
  const size_t P = d.players.size(), T = d.targets.size();
  std::vector<double> sd, base_c(static_cast<size_t>(C), 0.0);
  if (d.has_background) {
    sd = d.bg.stddev();
    base_c = background_expectation(*d.predictor, d.bg);
  } else {
    host.warn("explain.lime: no background connected; the perturbation scale is the samples' standard deviation "
              "and base_value their mean prediction");
    Background all;
    all.rows = d.n;
    all.x = d.x;
    all.w.assign(static_cast<size_t>(d.n), 1.0 / static_cast<double>(d.n));
    sd = all.stddev();
    for (int64_t s = 0; s < d.n; ++s)
      for (int64_t c = 0; c < C; ++c) base_c[c] += d.probs[s * C + c] / static_cast<double>(d.n);
  }
  const double kw = kernel_width_ > 0 ? kernel_width_ : 0.75 * std::sqrt(static_cast<double>(P));
  std::vector<int> player_of(static_cast<size_t>(M), -1);
  for (size_t p = 0; p < P; ++p)
    for (int j : d.players.features[p]) player_of[j] = static_cast<int>(p);
  const auto by_sample = [&] {
    std::vector<std::vector<size_t>> v(static_cast<size_t>(d.n));
    for (size_t t = 0; t < T; ++t) v[d.targets[t].sample].push_back(t);
    return v;
  }();
  std::vector<double> values(T * P, 0.0), ses(T * P, 0.0), intercept(T), r2(T), out(T), base(T);
  // Chunks of a few batches per thread (chunking never changes a result: every sample has
  // its own random stream and every row's output is the model's own).
  const int64_t per_chunk =
      std::max<int64_t>(1, std::min<int64_t>(64, 4 * cs_.batch_size * std::max<int64_t>(1, cs_.threads) / S));
  bool ridge_fallback = false;
  for (int64_t s0 = 0; s0 < d.n; s0 += per_chunk) {
    step(host, static_cast<uint64_t>(s0), static_cast<uint64_t>(d.n), "perturbations");
    const int64_t s1 = std::min(d.n, s0 + per_chunk);
    const int64_t rows = (s1 - s0) * S;
    std::vector<double> Z(static_cast<size_t>(rows) * P);
    std::vector<float> X(static_cast<size_t>(rows * M));
    for (int64_t s = s0; s < s1; ++s) {
      Rng rng(derive_seed(cs_.seed, static_cast<uint64_t>(s)));
      for (int64_t k = 0; k < S; ++k) {
        const int64_t r = (s - s0) * S + k;
        double* z = &Z[r * P];
        for (size_t p = 0; p < P; ++p) z[p] = k == 0 ? 0.0 : rng.normal();
        for (int64_t j = 0; j < M; ++j)
          X[r * M + j] = static_cast<float>(d.x[s * M + j] + z[player_of[j]] * sd[j]);
      }
    }
    const std::vector<double> Y = parallel_predict(d, X.data(), rows, cs_.threads);
    for (int64_t s = s0; s < s1; ++s) {
      const double* Zs = &Z[(s - s0) * S * P];
      const double* Ys = &Y[(s - s0) * S * C];
      std::vector<double> wt(static_cast<size_t>(S));
      double wsum = 0;
      for (int64_t k = 0; k < S; ++k) {
        double d2 = 0;
        for (size_t p = 0; p < P; ++p) d2 += Zs[k * P + p] * Zs[k * P + p];
        wt[k] = std::sqrt(std::exp(-d2 / (kw * kw)));
        wsum += wt[k];
      }
      std::vector<double> zbar(P, 0.0);
      for (int64_t k = 0; k < S; ++k)
        for (size_t p = 0; p < P; ++p) zbar[p] += wt[k] * Zs[k * P + p] / wsum;
      std::vector<double> A(P * P, 0.0), zc(P);
      for (int64_t k = 0; k < S; ++k) {
        for (size_t p = 0; p < P; ++p) zc[p] = Zs[k * P + p] - zbar[p];
        for (size_t i = 0; i < P; ++i)
          for (size_t j = 0; j <= i; ++j) A[i * P + j] += wt[k] * zc[i] * zc[j];
      }
      for (size_t i = 0; i < P; ++i) {
        for (size_t j = 0; j < i; ++j) A[j * P + i] = A[i * P + j];
        A[i * P + i] += ridge_;
      }
      // A^-1 for the sandwich covariance of the coefficients (shared by the sample's targets).
      std::vector<double> Ainv(P * P, 0.0);
      for (size_t i = 0; i < P; ++i) Ainv[i * P + i] = 1.0;
      solve_spd(A, static_cast<int>(P), Ainv, static_cast<int>(P));
      for (size_t t : by_sample[s]) {
        const int64_t c = d.targets[t].cls;
        double ybar = 0;
        for (int64_t k = 0; k < S; ++k) ybar += wt[k] * Ys[k * C + c] / wsum;
        std::vector<double> B(P, 0.0);
        for (int64_t k = 0; k < S; ++k) {
          const double yc = Ys[k * C + c] - ybar;
          for (size_t p = 0; p < P; ++p) B[p] += wt[k] * (Zs[k * P + p] - zbar[p]) * yc;
        }
        ridge_fallback |= !solve_spd(A, static_cast<int>(P), B, 1);
        double b0 = ybar, sse = 0, sst = 0;
        for (size_t p = 0; p < P; ++p) b0 -= B[p] * zbar[p];
        // Meat of the heteroskedasticity-robust (HC1) sandwich: sum_k (w_k e_k)^2 zc_k zc_k'.
        // The surrogate is misspecified wherever the model is not linear, so the residuals
        // are neither homoskedastic nor independent of z; the sandwich stays valid.
        std::vector<double> meat(P * P, 0.0);
        for (int64_t k = 0; k < S; ++k) {
          double pred = b0;
          for (size_t p = 0; p < P; ++p) pred += B[p] * Zs[k * P + p];
          const double y = Ys[k * C + c];
          sse += wt[k] * (y - pred) * (y - pred);
          sst += wt[k] * (y - ybar) * (y - ybar);
          const double we = wt[k] * (y - pred);
          for (size_t p = 0; p < P; ++p) zc[p] = Zs[k * P + p] - zbar[p];
          for (size_t i = 0; i < P; ++i)
            for (size_t j = 0; j <= i; ++j) meat[i * P + j] += we * we * zc[i] * zc[j];
        }
        for (size_t i = 0; i < P; ++i)
          for (size_t j = 0; j < i; ++j) meat[j * P + i] = meat[i * P + j];
        const double dof = static_cast<double>(S) / std::max(1.0, static_cast<double>(S) - static_cast<double>(P) - 1.0);
        for (size_t p = 0; p < P; ++p) {
          // (A^-1 meat A^-1)_pp = row p of A^-1 . meat . column p of A^-1
          double v = 0;
          for (size_t i = 0; i < P; ++i) {
            double mi = 0;
            for (size_t j = 0; j < P; ++j) mi += meat[i * P + j] * Ainv[j * P + p];
            v += Ainv[p * P + i] * mi;
          }
          ses[t * P + p] = std::sqrt(std::max(0.0, v * dof));
        }
        for (size_t p = 0; p < P; ++p) values[t * P + p] = B[p];
        intercept[t] = b0;
        r2[t] = sst > 0 ? 1.0 - sse / sst : 1.0;
        out[t] = d.probs[s * C + c];
        base[t] = base_c[c];
      }
    }
  }
  if (ridge_fallback) host.warn("explain.lime: the regression was singular for some samples; a tiny ridge was added");
  Json meta{{"explainer", "explain.lime"},
            {"threads", cs_.threads},
            {"output", "probability"},
            {"units", "change of the class probability per background standard deviation of the feature (group)"},
            {"num_samples", S},
            {"kernel_width", kw},
            {"ridge", ridge_},
            {"players", d.players.names},
            {"standard_errors", "heteroskedasticity-robust (HC1 sandwich) standard errors of the weighted ridge "
                                "coefficients: (A^-1 M A^-1)_pp * S / (S - P - 1), A = Z'WZ + ridge I, "
                                "M = sum_k (w_k e_k)^2 z_k z_k'"}};
  ctx.set(Ports::kAttributions,
          attribution_table(d, values, base, out, {{"intercept", intercept}, {"r2", r2}}, meta));
  ctx.set(Ports::kStandardErrors,
          attribution_table(d, ses, base, out, {{"intercept", intercept}, {"r2", r2}}, meta));
}

// ====================================================================================
ComponentInfo Occlusion::info() {
  ComponentInfo ci("explain.occlusion", 1, MIEN_KIND_EXPLAINER,
                   "Occlusion: the output drop when one feature (or group) is replaced by a baseline");
  with_common(ci).params(kBaseline).ports(kModel, Ports::kSamples, Ports::kBackgroundOptional, Ports::kAttributions);
  return ci;
}

Occlusion::Occlusion(const Setup& s) : cs_("explain.occlusion", s), baseline_(kBaseline.read(s.params())) {}

void Occlusion::process(Context& ctx) {
  const Host& host = ctx.host();
  PrepareOptions opt;
  opt.need_background = false;
  opt.before_model = [&](const Prepared& d) {
    if (baseline_ != "zero" && !d.has_background)
      throw Error("explain.occlusion: baseline '" + baseline_ +
                  "' needs the background input; connect background or set baseline: zero");
  };
  Prepared d = prepare(ctx, cs_, kModel, Ports::kSamples, Ports::kBackgroundOptional, opt);
  const int64_t M = d.M, C = d.C;
  const size_t P = d.players.size(), T = d.targets.size();
  Background bl;
  if (baseline_ == "zero") {
    bl.rows = 1;
    bl.x.assign(static_cast<size_t>(M), 0.0f);
    bl.w = {1.0};
  } else if (baseline_ == "mean") {
    bl.rows = 1;
    const auto mu = d.bg.mean();
    bl.x.assign(mu.begin(), mu.end());
    bl.w = {1.0};
  } else {
    bl = d.bg;
  }
  const std::vector<double> fbase = background_expectation(*d.predictor, bl);
  ParallelCoalitionEvaluator ev(d, cs_.threads, &bl);
  std::vector<double> values(T * P, 0.0), base(T), out(T);
  const int64_t per_chunk =
      std::max<int64_t>(1, std::min<int64_t>(256, 4 * cs_.batch_size * std::max<int64_t>(1, cs_.threads) /
                                                     std::max<int64_t>(1, static_cast<int64_t>(P) * bl.rows)));
  std::vector<uint8_t> mask(P);
  std::vector<std::vector<size_t>> by_sample(static_cast<size_t>(d.n));
  for (size_t t = 0; t < T; ++t) by_sample[d.targets[t].sample].push_back(t);
  for (int64_t s0 = 0; s0 < d.n; s0 += per_chunk) {
    step(host, static_cast<uint64_t>(s0), static_cast<uint64_t>(d.n), "occlusions");
    const int64_t s1 = std::min(d.n, s0 + per_chunk);
    ev.clear();
    for (int64_t s = s0; s < s1; ++s)
      for (size_t p = 0; p < P; ++p) {
        std::fill(mask.begin(), mask.end(), uint8_t{1});
        mask[p] = 0;
        ev.add(&d.x[s * M], mask.data());
      }
    ev.flush();
    for (int64_t s = s0; s < s1; ++s)
      for (size_t t : by_sample[s]) {
        const int64_t c = d.targets[t].cls;
        const double fx = d.probs[s * C + c];
        for (size_t p = 0; p < P; ++p) values[t * P + p] = fx - ev.value((s - s0) * P + p)[c];
        out[t] = fx;
        base[t] = fbase[c];
      }
  }
  Json meta{{"explainer", "explain.occlusion"},
            {"threads", cs_.threads},
            {"output", "probability"},
            {"baseline", baseline_},
            {"players", d.players.names},
            {"model_rows", d.model_rows()}};
  ctx.set(Ports::kAttributions, attribution_table(d, values, base, out, {}, meta));
}

}  // namespace mien::explain
