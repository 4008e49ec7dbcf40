// explain.exact_shapley, explain.kernel_shap, explain.permutation_shap: Shapley values of
// the interventional value function v_x(S) = sum_b w_b f(x_S, b_rest), all three sharing
// the batched CoalitionEvaluator.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <unordered_map>

#include "components.hpp"
#include "kernel_sampling.hpp"
#include "parallel_eval.hpp"

namespace mien::explain {

ComponentInfo& with_common(ComponentInfo& ci);
ComponentInfo& with_common(ComponentInfo& ci) {
  return ci.params(CommonParams::kTarget, CommonParams::kClass, CommonParams::kBackground,
                   CommonParams::kBackgroundSize, CommonParams::kBatchSize, CommonParams::kGroups);
}

namespace {

// Target indices per sample (targets are ordered by sample).
std::vector<std::vector<size_t>> targets_by_sample(const Prepared& d) {
  std::vector<std::vector<size_t>> out(static_cast<size_t>(d.n));
  for (size_t t = 0; t < d.targets.size(); ++t) out[d.targets[t].sample].push_back(t);
  return out;
}

// Samples per chunk so that one chunk fills a few model batches per thread (chunking never
// changes a result: every sample has its own random stream).
int64_t chunk_samples(int64_t rows_per_sample, int64_t batch, uint32_t threads = 1) {
  const int64_t r = std::max<int64_t>(1, rows_per_sample);
  const int64_t target = 4 * batch * std::max<int64_t>(1, threads);
  return std::max<int64_t>(1, std::min<int64_t>(256, (target + r - 1) / r));
}

// v(full) as the evaluator would accumulate it: sum_b w_b f(x), in background order, so a
// coalition differing from the full one only by a dummy feature gives exactly the same value.
std::vector<double> full_value(const Prepared& d, int64_t s) {
  std::vector<double> v(static_cast<size_t>(d.C), 0.0);
  for (int64_t b = 0; b < d.bg.rows; ++b)
    for (int64_t c = 0; c < d.C; ++c) v[c] += d.bg.w[b] * d.probs[s * d.C + c];
  return v;
}

Json base_meta(const std::string& who, const Prepared& d) {
  return Json{{"explainer", who},
              {"output", "probability"},
              {"value_function", "interventional: E_b f(x_S, b_rest) over the background rows (features independent)"},
              {"players", d.players.names}};
}

}  // namespace

// ====================================================================================
// Exact
// ====================================================================================
ComponentInfo ExactShapley::info() {
  ComponentInfo ci("explain.exact_shapley", 1, MIEN_KIND_EXPLAINER,
                   "Exact interventional Shapley values by enumerating every coalition (up to 20 features or groups)");
  with_common(ci).ports(kModel, Ports::kSamples, Ports::kBackground, Ports::kAttributions);
  return ci;
}

ExactShapley::ExactShapley(const Setup& s) : cs_("explain.exact_shapley", s) {}

void ExactShapley::process(Context& ctx) {
  PrepareOptions opt;
  opt.before_model = [&](const Prepared& d) {
    if (d.players.size() > 20)
      throw Error("explain.exact_shapley: " + std::to_string(d.players.size()) + (d.players.grouped ? " players" : " features") +
                  " need 2^" + std::to_string(d.players.size()) +
                  " coalitions; use explain.kernel_shap or explain.permutation_shap, or group the features (param "
                  "groups) into at most 20 players");
  };
  Prepared d = prepare(ctx, cs_, kModel, Ports::kSamples, Ports::kBackground, opt);
  const Host& host = ctx.host();
  const size_t P = d.players.size();
  const int64_t C = d.C;
  const uint64_t full = (uint64_t{1} << P) - 1;
  const std::vector<double> fnull = background_expectation(*d.predictor, d.bg);
  // w(k) = k! (P-k-1)! / P! = 1 / (P * binom(P-1, k))
  std::vector<double> w(P);
  for (size_t k = 0; k < P; ++k) {
    double b = 1;
    for (size_t i = 1; i <= k; ++i) b = b * static_cast<double>(P - 1 - k + i) / static_cast<double>(i);
    w[k] = 1.0 / (static_cast<double>(P) * b);
  }
  const auto by_sample = targets_by_sample(d);
  const size_t T = d.targets.size();
  std::vector<double> values(T * P, 0.0), base(T), output(T);
  ParallelCoalitionEvaluator ev(d, cs_.threads);
  const int64_t per_chunk = chunk_samples(static_cast<int64_t>(full + 1) * d.bg.rows, cs_.batch_size, cs_.threads);
  std::vector<uint8_t> mask(P);
  std::vector<double> v(static_cast<size_t>((full + 1) * C));
  for (int64_t s0 = 0; s0 < d.n; s0 += per_chunk) {
    step(host, static_cast<uint64_t>(s0), static_cast<uint64_t>(d.n), "coalitions");
    const int64_t s1 = std::min(d.n, s0 + per_chunk);
    ev.clear();
    for (int64_t s = s0; s < s1; ++s)
      for (uint64_t S = 1; S < full; ++S) {
        for (size_t p = 0; p < P; ++p) mask[p] = static_cast<uint8_t>((S >> p) & 1u);
        ev.add(&d.x[s * d.M], mask.data());
      }
    ev.flush();
    size_t job = 0;
    for (int64_t s = s0; s < s1; ++s) {
      const auto vfull = full_value(d, s);
      for (int64_t c = 0; c < C; ++c) {
        v[c] = fnull[c];
        v[full * C + c] = vfull[c];
      }
      for (uint64_t S = 1; S < full; ++S, ++job)
        for (int64_t c = 0; c < C; ++c) v[S * C + c] = ev.value(job)[c];
      for (size_t t : by_sample[s]) {
        const int64_t c = d.targets[t].cls;
        double* phi = &values[t * P];
        for (uint64_t S = 0; S < full; ++S) {
          const double ws = w[static_cast<size_t>(__builtin_popcountll(S))];
          const double vs = v[S * C + c];
          for (size_t p = 0; p < P; ++p)
            if (!((S >> p) & 1u)) phi[p] += ws * (v[(S | (uint64_t{1} << p)) * C + c] - vs);
        }
        base[t] = fnull[c];
        output[t] = d.probs[s * C + c];
      }
    }
  }
  Json meta = base_meta("explain.exact_shapley", d);
  meta["coalitions"] = full + 1;
  meta["coalitions_per_sample"] = full + 1;
  meta["threads"] = cs_.threads;
  ctx.set(Ports::kAttributions, attribution_table(d, values, base, output, {}, meta));
}

// ====================================================================================
// Kernel SHAP
// ====================================================================================
namespace {

struct KernelDesign {
  size_t P = 0;
  std::vector<uint8_t> masks;  // K x P
  std::vector<double> fixed;   // enumerated weight per mask (0 for sampled masks)
  std::vector<double> count;   // sampled draws per mask
  std::vector<std::vector<uint32_t>> units;  // each sampled unit (a draw and its complement)
  double weight_left = 0;
  size_t enumerated = 0;
  size_t size() const { return fixed.size(); }
};

double binom(size_t n, size_t k) {
  double b = 1;
  for (size_t i = 1; i <= k; ++i) b = b * static_cast<double>(n - k + i) / static_cast<double>(i);
  return b;
}

// shap.KernelExplainer's coalition design (_kernel.py explain()), with our RNG.
KernelDesign kernel_design(size_t P, int64_t budget, Rng& rng) {
  KernelDesign d;
  d.P = P;
  std::unordered_map<std::string, uint32_t> index;
  auto add = [&](const std::vector<uint8_t>& m, double fixed_w, bool sampled) -> uint32_t {
    std::string key(m.begin(), m.end());
    auto it = index.find(key);
    if (it != index.end()) {
      if (sampled) d.count[it->second] += 1;
      else d.fixed[it->second] += fixed_w;
      return it->second;
    }
    const uint32_t k = static_cast<uint32_t>(d.fixed.size());
    index.emplace(std::move(key), k);
    d.masks.insert(d.masks.end(), m.begin(), m.end());
    d.fixed.push_back(sampled ? 0.0 : fixed_w);
    d.count.push_back(sampled ? 1.0 : 0.0);
    return k;
  };
  const size_t num_sizes = (P - 1 + 1) / 2;  // ceil((P-1)/2)
  const size_t num_paired = (P - 1) / 2;
  std::vector<double> wv(num_sizes);
  for (size_t i = 1; i <= num_sizes; ++i)
    wv[i - 1] = static_cast<double>(P - 1) / (static_cast<double>(i) * static_cast<double>(P - i));
  for (size_t i = 0; i < num_paired; ++i) wv[i] *= 2;
  const double wsum = std::accumulate(wv.begin(), wv.end(), 0.0);
  for (auto& x : wv) x /= wsum;

  double left = static_cast<double>(budget);
  std::vector<double> rem = wv;
  size_t full_sizes = 0;
  std::vector<uint8_t> m(P), comp(P);
  for (size_t s = 1; s <= num_sizes; ++s) {
    double nsub = binom(P, s);
    if (s <= num_paired) nsub *= 2;
    if (!(left * rem[s - 1] / nsub >= 1.0 - 1e-8)) break;
    ++full_sizes;
    left -= nsub;
    if (rem[s - 1] < 1.0) {
      const double r = rem[s - 1];
      for (auto& x : rem) x /= (1.0 - r);
    }
    double w = wv[s - 1] / binom(P, s);
    if (s <= num_paired) w /= 2.0;
    std::vector<size_t> comb(s);
    std::iota(comb.begin(), comb.end(), 0);
    for (;;) {
      std::fill(m.begin(), m.end(), uint8_t{0});
      for (size_t i : comb) m[i] = 1;
      add(m, w, false);
      if (s <= num_paired) {
        for (size_t i = 0; i < P; ++i) comp[i] = static_cast<uint8_t>(1 - m[i]);
        add(comp, w, false);
      }
      // next combination
      size_t i = s;
      while (i > 0 && comb[i - 1] == P - s + i - 1) --i;
      if (i == 0) break;
      ++comb[i - 1];
      for (size_t j = i; j < s; ++j) comb[j] = comb[j - 1] + 1;
    }
  }
  d.enumerated = d.size();
  int64_t samples_left = budget - static_cast<int64_t>(d.size());
  if (full_sizes != num_sizes && samples_left > 0) {
    std::vector<double> r(wv.begin(), wv.end());
    for (size_t i = 0; i < num_paired; ++i) r[i] /= 2;
    r.erase(r.begin(), r.begin() + static_cast<long>(full_sizes));
    const double rs = std::accumulate(r.begin(), r.end(), 0.0);
    std::vector<double> cdf(r.size());
    double acc = 0;
    for (size_t i = 0; i < r.size(); ++i) cdf[i] = (acc += r[i] / rs);
    std::vector<size_t> perm(P);
    const int64_t max_draws = 4 * samples_left;
    for (int64_t draw = 0; draw < max_draws && samples_left > 0; ++draw) {
      const double u = rng.uniform();
      size_t ind = static_cast<size_t>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
      if (ind >= cdf.size()) ind = cdf.size() - 1;
      const size_t s = ind + full_sizes + 1;
      std::iota(perm.begin(), perm.end(), 0);
      for (size_t i = 0; i < s; ++i) std::swap(perm[i], perm[i + rng.below(P - i)]);
      std::fill(m.begin(), m.end(), uint8_t{0});
      for (size_t i = 0; i < s; ++i) m[perm[i]] = 1;
      std::vector<uint32_t> unit;
      size_t before = d.size();
      unit.push_back(add(m, 0, true));
      if (d.size() > before) --samples_left;
      if (samples_left > 0 && s <= num_paired) {
        for (size_t i = 0; i < P; ++i) comp[i] = static_cast<uint8_t>(1 - m[i]);
        before = d.size();
        unit.push_back(add(comp, 0, true));
        if (d.size() > before) --samples_left;
      }
      d.units.push_back(std::move(unit));
    }
    d.weight_left = std::accumulate(wv.begin() + static_cast<long>(full_sizes), wv.end(), 0.0);
  }
  return d;
}

// WLS with the efficiency constraint, for all C classes. v: K x C values, fnull/fx: C.
// Returns phi (P x C). `count_scale` multiplies the draw counts; `skip` lists units to
// drop (jackknife), whose draws are removed from the counts.
struct KernelFit {
  const KernelDesign& d;
  const double* v;
  const double* fnull;
  const double* fx;
  int64_t C;

  // Accumulates w * X'X and w * X'y' for the masks with weights wts into A, B.
  void accumulate(const std::vector<double>& wts, std::vector<double>& A, std::vector<double>& B) const {
    const size_t P = d.P, Q = P - 1;
    std::vector<double> xr(Q);
    for (size_t k = 0; k < d.size(); ++k) {
      const double w = wts[k];
      if (w == 0) continue;
      const uint8_t* z = &d.masks[k * P];
      const double zl = z[P - 1];
      for (size_t j = 0; j < Q; ++j) xr[j] = static_cast<double>(z[j]) - zl;
      for (size_t i = 0; i < Q; ++i) {
        if (xr[i] == 0) continue;
        const double wi = w * xr[i];
        for (size_t j = 0; j <= i; ++j) A[i * Q + j] += wi * xr[j];
        for (int64_t c = 0; c < C; ++c) {
          const double y = (v[k * C + c] - fnull[c]) - zl * (fx[c] - fnull[c]);
          B[i * C + c] += wi * y;
        }
      }
    }
  }
  std::vector<double> solve(std::vector<double> A, std::vector<double> B, bool* exact) const {
    const size_t P = d.P, Q = P - 1;
    for (size_t i = 0; i < Q; ++i)
      for (size_t j = 0; j < i; ++j) A[j * Q + i] = A[i * Q + j];
    const bool ok = solve_spd(std::move(A), static_cast<int>(Q), B, static_cast<int>(C));
    if (exact) *exact = ok;
    std::vector<double> phi(P * C);
    for (int64_t c = 0; c < C; ++c) {
      double s = 0;
      for (size_t j = 0; j < Q; ++j) {
        phi[j * C + c] = B[j * C + c];
        s += B[j * C + c];
      }
      phi[(P - 1) * C + c] = (fx[c] - fnull[c]) - s;
    }
    return phi;
  }
};

}  // namespace

ComponentInfo KernelShap::info() {
  ComponentInfo ci("explain.kernel_shap", 1, MIEN_KIND_EXPLAINER,
                   "Kernel SHAP: Shapley values by weighted regression over sampled coalitions, with standard errors");
  with_common(ci).params(kNSamples, kSampling).ports(kModel, Ports::kSamples, Ports::kBackground, Ports::kAttributions,
                                          Ports::kStandardErrors);
  return ci;
}

KernelShap::KernelShap(const Setup& s)
    : cs_("explain.kernel_shap", s), nsamples_(kNSamples.read(s.params())), sampling_(kSampling.read(s.params())) {}

void KernelShap::process(Context& ctx) {
  int64_t budget = 0;
  PrepareOptions opt;
  opt.before_model = [&](const Prepared& d) {
    const size_t P = d.players.size();
    const std::string what = d.players.grouped ? " players (groups and ungrouped features)" : " features";
    budget = nsamples_ == 0 ? static_cast<int64_t>(2 * P + 2048) : nsamples_;
    const int64_t all = P <= 30 ? (int64_t{1} << P) - 2 : INT64_MAX;
    if (nsamples_ != 0 && budget < static_cast<int64_t>(P + 1) && budget < all)
      throw Error("explain.kernel_shap: parameter 'nsamples' is " + std::to_string(nsamples_) + " but " +
                  std::to_string(P) + what + " need at least M + 1 = " + std::to_string(P + 1) +
                  " coalitions for the regression to be determined; raise nsamples (0 = auto = 2M + 2048) or use "
                  "explain.permutation_shap");
    budget = std::min(budget, all);
  };
  Prepared d = prepare(ctx, cs_, kModel, Ports::kSamples, Ports::kBackground, opt);
  const Host& host = ctx.host();
  const size_t P = d.players.size();
  const int64_t C = d.C;
  const std::vector<double> fnull = background_expectation(*d.predictor, d.bg);
  const auto by_sample = targets_by_sample(d);
  const size_t T = d.targets.size();
  std::vector<double> values(T * P, 0.0), ses(T * P, 0.0), base(T), output(T);
  ParallelCoalitionEvaluator ev(d, cs_.threads);
  const int64_t per_chunk = chunk_samples(budget * d.bg.rows, cs_.batch_size, cs_.threads);
  bool ridge_used = false;
  size_t enumerated = 0, coalitions = 0;
  const size_t G_max = 20;
  const bool stratified = sampling_ == "stratified";
  for (int64_t s0 = 0; s0 < d.n; s0 += per_chunk) {
    step(host, static_cast<uint64_t>(s0), static_cast<uint64_t>(d.n), "coalitions");
    const int64_t s1 = std::min(d.n, s0 + per_chunk);
    std::vector<KernelDesign> designs;
    std::vector<size_t> first_job;
    ev.clear();
    std::vector<StratifiedDesign> strat;
    for (int64_t s = s0; s < s1; ++s) {
      Rng rng(derive_seed(cs_.seed, static_cast<uint64_t>(s)));
      if (stratified && P > 1) {
        // KernelFit reads the masks through a KernelDesign; the weights come from strat.
        strat.push_back(stratified_kernel_design(P, budget, rng));
        KernelDesign shadow;
        shadow.P = P;
        shadow.masks = strat.back().masks;
        shadow.fixed.assign(strat.back().size(), 0.0);
        shadow.count.assign(strat.back().size(), 0.0);
        shadow.enumerated = strat.back().enumerated;
        designs.push_back(std::move(shadow));
      } else {
        designs.push_back(P > 1 ? kernel_design(P, budget, rng) : KernelDesign{});
      }
      first_job.push_back(ev.jobs());
      const KernelDesign& kd = designs.back();
      for (size_t k = 0; k < kd.size(); ++k) ev.add(&d.x[s * d.M], &kd.masks[k * P]);
    }
    ev.flush();
    for (int64_t s = s0; s < s1; ++s) {
      const KernelDesign& kd = designs[s - s0];
      const auto vfull = full_value(d, s);
      const double* fx = vfull.data();
      std::vector<double> phi(P * C, 0.0), se(P * C, 0.0);
      if (P == 1) {
        for (int64_t c = 0; c < C; ++c) phi[c] = fx[c] - fnull[c];
      } else {
        enumerated = kd.enumerated;
        coalitions = kd.size();
        const size_t Q = P - 1;
        KernelFit fit{kd, ev.value(first_job[s - s0]), fnull.data(), fx, C};
        if (stratified) {
          const StratifiedDesign& sd = strat[s - s0];
          const size_t U = sd.units.size();
          auto fit_with = [&](const std::vector<uint8_t>& keep) {
            std::vector<double> A(Q * Q, 0.0), B(Q * C, 0.0);
            fit.accumulate(sd.weights(keep), A, B);
            bool ok = true;
            auto r = fit.solve(std::move(A), std::move(B), &ok);
            ridge_used |= !ok;
            return r;
          };
          phi = fit_with(std::vector<uint8_t>(U, 1));
          const size_t G = std::min(G_max, U);
          if (U == 0) {
            // every coalition enumerated: exact, standard errors 0
          } else if (G >= 2) {
            // Delete-a-group jackknife: units dealt round-robin into G groups; each
            // stratum's mass is spread over its coalitions that remain.
            std::vector<std::vector<double>> jk(G);
            for (size_t g = 0; g < G; ++g) {
              std::vector<uint8_t> keep(U, 1);
              for (size_t u = g; u < U; u += G) keep[u] = 0;
              jk[g] = fit_with(keep);
            }
            for (size_t i = 0; i < P * static_cast<size_t>(C); ++i) {
              double mean = 0;
              for (size_t g = 0; g < G; ++g) mean += jk[g][i];
              mean /= static_cast<double>(G);
              double ss = 0;
              for (size_t g = 0; g < G; ++g) ss += (jk[g][i] - mean) * (jk[g][i] - mean);
              se[i] = std::sqrt(ss * static_cast<double>(G - 1) / static_cast<double>(G));
            }
          } else {
            std::fill(se.begin(), se.end(), std::numeric_limits<double>::quiet_NaN());
          }
        } else {
        // Fixed (enumerated) part and the sampled part, the latter per jackknife group.
        std::vector<double> Af(Q * Q, 0.0), Bf(Q * C, 0.0);
        std::vector<double> wfixed(kd.fixed);
        fit.accumulate(wfixed, Af, Bf);
        const size_t U = kd.units.size();
        if (U == 0) {
          bool ok = true;
          phi = fit.solve(Af, Bf, &ok);
          ridge_used |= !ok;
        } else {
          const size_t G = std::min(G_max, U);
          std::vector<std::vector<double>> Ag(G, std::vector<double>(Q * Q, 0.0)), Bg(G, std::vector<double>(Q * C, 0.0));
          std::vector<double> cg(G, 0.0);
          for (size_t g = 0; g < G; ++g) {
            std::vector<double> wts(kd.size(), 0.0);
            for (size_t u = g; u < U; u += G)
              for (uint32_t k : kd.units[u]) {
                wts[k] += 1.0;
                cg[g] += 1.0;
              }
            fit.accumulate(wts, Ag[g], Bg[g]);
          }
          std::vector<double> As(Q * Q, 0.0), Bs(Q * C, 0.0);
          double ctot = 0;
          for (size_t g = 0; g < G; ++g) {
            for (size_t i = 0; i < Q * Q; ++i) As[i] += Ag[g][i];
            for (size_t i = 0; i < Q * static_cast<size_t>(C); ++i) Bs[i] += Bg[g][i];
            ctot += cg[g];
          }
          auto combine = [&](double scale, const std::vector<double>& Aadd, const std::vector<double>& Badd) {
            std::vector<double> A(Af), B(Bf);
            for (size_t i = 0; i < Q * Q; ++i) A[i] += scale * Aadd[i];
            for (size_t i = 0; i < Q * static_cast<size_t>(C); ++i) B[i] += scale * Badd[i];
            bool ok = true;
            auto r = fit.solve(std::move(A), std::move(B), &ok);
            ridge_used |= !ok;
            return r;
          };
          phi = combine(kd.weight_left / ctot, As, Bs);
          if (G >= 2) {
            std::vector<std::vector<double>> jk(G);
            for (size_t g = 0; g < G; ++g) {
              std::vector<double> Am(As), Bm(Bs);
              for (size_t i = 0; i < Q * Q; ++i) Am[i] -= Ag[g][i];
              for (size_t i = 0; i < Q * static_cast<size_t>(C); ++i) Bm[i] -= Bg[g][i];
              jk[g] = combine(kd.weight_left / (ctot - cg[g]), Am, Bm);
            }
            for (size_t i = 0; i < P * static_cast<size_t>(C); ++i) {
              double mean = 0;
              for (size_t g = 0; g < G; ++g) mean += jk[g][i];
              mean /= static_cast<double>(G);
              double ss = 0;
              for (size_t g = 0; g < G; ++g) ss += (jk[g][i] - mean) * (jk[g][i] - mean);
              se[i] = std::sqrt(ss * static_cast<double>(G - 1) / static_cast<double>(G));
            }
          } else {
            std::fill(se.begin(), se.end(), std::numeric_limits<double>::quiet_NaN());
          }
        }
        }  // shap's design
      }
      for (size_t t : by_sample[s]) {
        const int64_t c = d.targets[t].cls;
        for (size_t p = 0; p < P; ++p) {
          values[t * P + p] = phi[p * C + c];
          ses[t * P + p] = se[p * C + c];
        }
        base[t] = fnull[c];
        output[t] = d.probs[s * C + c];
      }
    }
  }
  if (ridge_used)
    host.warn("explain.kernel_shap: the regression was singular for some samples and needed a tiny ridge; raise "
              "nsamples");
  Json meta = base_meta("explain.kernel_shap", d);
  meta["nsamples"] = budget;
  meta["sampling"] = sampling_;
  meta["coalitions_per_sample"] = coalitions;
  meta["enumerated_per_sample"] = enumerated;
  meta["threads"] = cs_.threads;
  meta["standard_errors"] = "delete-a-group jackknife over up to 20 groups of the sampled coalition pairs (0 when "
                            "every coalition was enumerated)";
  ctx.set(Ports::kAttributions, attribution_table(d, values, base, output, {}, meta));
  ctx.set(Ports::kStandardErrors, attribution_table(d, ses, base, output, {}, meta));
}

// ====================================================================================
// Permutation SHAP
// ====================================================================================
ComponentInfo PermutationShap::info() {
  ComponentInfo ci("explain.permutation_shap", 1, MIEN_KIND_EXPLAINER,
                   "Shapley values by antithetic permutation sampling, with standard errors");
  with_common(ci).params(kPermutations)
      .ports(kModel, Ports::kSamples, Ports::kBackground, Ports::kAttributions, Ports::kStandardErrors);
  return ci;
}

PermutationShap::PermutationShap(const Setup& s)
    : cs_("explain.permutation_shap", s), permutations_(kPermutations.read(s.params())) {}

void PermutationShap::process(Context& ctx) {
  Prepared d = prepare(ctx, cs_, kModel, Ports::kSamples, Ports::kBackground);
  const Host& host = ctx.host();
  const size_t P = d.players.size();
  const int64_t C = d.C;
  const int R = permutations_;
  const std::vector<double> fnull = background_expectation(*d.predictor, d.bg);
  const auto by_sample = targets_by_sample(d);
  const size_t T = d.targets.size();
  std::vector<double> values(T * P, 0.0), ses(T * P, 0.0), base(T), output(T);
  ParallelCoalitionEvaluator ev(d, cs_.threads);
  const int64_t jobs_per_sample = static_cast<int64_t>(R) * 2 * static_cast<int64_t>(P - 1);
  const int64_t per_chunk = chunk_samples(jobs_per_sample * d.bg.rows, cs_.batch_size, cs_.threads);
  std::vector<uint8_t> mask(P);
  for (int64_t s0 = 0; s0 < d.n; s0 += per_chunk) {
    step(host, static_cast<uint64_t>(s0), static_cast<uint64_t>(d.n), "permutations");
    const int64_t s1 = std::min(d.n, s0 + per_chunk);
    std::vector<std::vector<size_t>> perms;  // per sample: R permutations concatenated
    std::vector<size_t> first_job;
    ev.clear();
    for (int64_t s = s0; s < s1; ++s) {
      Rng rng(derive_seed(cs_.seed, static_cast<uint64_t>(s)));
      std::vector<size_t> all;
      first_job.push_back(ev.jobs());
      for (int r = 0; r < R; ++r) {
        std::vector<size_t> pi(P);
        std::iota(pi.begin(), pi.end(), 0);
        rng.shuffle(pi);
        // forward prefixes, then reverse prefixes (k = 1 .. P-1)
        std::fill(mask.begin(), mask.end(), uint8_t{0});
        for (size_t k = 1; k < P; ++k) {
          mask[pi[k - 1]] = 1;
          ev.add(&d.x[s * d.M], mask.data());
        }
        std::fill(mask.begin(), mask.end(), uint8_t{0});
        for (size_t k = 1; k < P; ++k) {
          mask[pi[P - k]] = 1;
          ev.add(&d.x[s * d.M], mask.data());
        }
        all.insert(all.end(), pi.begin(), pi.end());
      }
      perms.push_back(std::move(all));
    }
    ev.flush();
    for (int64_t s = s0; s < s1; ++s) {
      const auto vfull = full_value(d, s);
      const double* fx = vfull.data();
      std::vector<double> sum(P * C, 0.0), sumsq(P * C, 0.0), est(P * C);
      size_t job = first_job[s - s0];
      for (int r = 0; r < R; ++r) {
        const size_t* pi = &perms[s - s0][static_cast<size_t>(r) * P];
        std::fill(est.begin(), est.end(), 0.0);
        for (int dir = 0; dir < 2; ++dir) {
          const double* prev = fnull.data();
          for (size_t k = 1; k <= P; ++k) {
            const double* cur = k == P ? fx : ev.value(job + k - 1);
            const size_t player = dir == 0 ? pi[k - 1] : pi[P - k];
            for (int64_t c = 0; c < C; ++c) est[player * C + c] += 0.5 * (cur[c] - prev[c]);
            prev = cur;
          }
          job += P - 1;
        }
        for (size_t i = 0; i < P * static_cast<size_t>(C); ++i) {
          sum[i] += est[i];
          sumsq[i] += est[i] * est[i];
        }
      }
      for (size_t t : by_sample[s]) {
        const int64_t c = d.targets[t].cls;
        for (size_t p = 0; p < P; ++p) {
          const size_t i = p * C + c;
          const double mean = sum[i] / R;
          values[t * P + p] = mean;
          if (R >= 2) {
            const double var = std::max(0.0, (sumsq[i] - R * mean * mean) / (R - 1));
            ses[t * P + p] = std::sqrt(var / R);
          } else {
            ses[t * P + p] = std::numeric_limits<double>::quiet_NaN();
          }
        }
        base[t] = fnull[c];
        output[t] = d.probs[s * C + c];
      }
    }
  }
  Json meta = base_meta("explain.permutation_shap", d);
  meta["permutation_pairs"] = R;
  meta["coalitions_per_sample"] = static_cast<int64_t>(R) * 2 * static_cast<int64_t>(P - 1);
  meta["threads"] = cs_.threads;
  meta["standard_errors"] = "standard deviation of the per-pair estimates / sqrt(pairs)";
  ctx.set(Ports::kAttributions, attribution_table(d, values, base, output, {}, meta));
  ctx.set(Ports::kStandardErrors, attribution_table(d, ses, base, output, {}, meta));
}

}  // namespace mien::explain
