// metric.deletion and metric.insertion.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "components.hpp"

namespace mien::quality {

namespace {
ComponentInfo curve_info(const char* id, const char* summary) {
  ComponentInfo ci(id, 1, MIEN_KIND_METRIC, summary);
  ci.params(CurveParams::kReplacement, CurveParams::kNoiseStd, CurveParams::kRankBy, CurveParams::kRepeats,
            QPorts::kBatchSize)
      .ports(QPorts::kModel, QPorts::kSamples, QPorts::kAttributions, QPorts::kReferenceOptional, QPorts::kCurve,
             QPorts::kSummary);
  return ci;
}
CurveSettings curve_settings(const char* id, bool insertion, const Setup& s) {
  CurveSettings c;
  c.type_id = id;
  c.insertion = insertion;
  c.replacement = CurveParams::kReplacement.read(s.params());
  c.noise_std = CurveParams::kNoiseStd.read(s.params());
  c.rank_by = CurveParams::kRankBy.read(s.params());
  c.repeats = CurveParams::kRepeats.read(s.params());
  c.batch_size = QPorts::kBatchSize.read(s.params());
  c.seed = s.seed();
  return c;
}
}  // namespace

ComponentInfo Deletion::info() {
  return curve_info("metric.deletion", "Deletion curve and AUC: remove the most important features first");
}
Deletion::Deletion(const Setup& s) : s_(curve_settings("metric.deletion", false, s)) {}
ComponentInfo Insertion::info() {
  return curve_info("metric.insertion", "Insertion curve and AUC: insert the most important features first");
}
Insertion::Insertion(const Setup& s) : s_(curve_settings("metric.insertion", true, s)) {}

void run_curve(Context& ctx, const CurveSettings& st) {
  const Host& host = ctx.host();
  const std::string& who = st.type_id;
  const ModelRef model = ctx.model(QPorts::kModel);
  const TableView samples = ctx.table(QPorts::kSamples);
  const auto mi = explain::read_model_info(model, who, samples, host);
  const int64_t M = static_cast<int64_t>(mi.features.size()), N = samples.num_rows();
  const int64_t C = static_cast<int64_t>(mi.classes.size());
  if (N == 0) throw Error(who + ": the samples table has no rows");
  if (C == 0) throw Error(who + ": the model names no classes");
  std::vector<double> mu(static_cast<size_t>(M), 0.0), sd(static_cast<size_t>(M), 0.0);
  if (st.replacement != "zero") {
    if (!ctx.connected(QPorts::kReferenceOptional))
      throw Error(who + ": replacement '" + st.replacement +
                  "' needs the reference input (the training table); connect it or set replacement: zero");
    mu = feature_means(ctx.table(QPorts::kReferenceOptional), mi.features, who, "reference", &sd);
  }
  const auto x = explain::feature_rows(samples, mi.features, who, "samples", &host);
  const Attributions A = read_attributions(ctx.table(QPorts::kAttributions), who, "attributions");
  const auto pf = player_features(A, mi.features, who);
  const size_t P = pf.size();
  Predictor pred(model, M, C, st.batch_size, host);
  const auto probs = pred.predict(x.data(), N);
  std::vector<int64_t> yhat(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) yhat[i] = argmax(&probs[i * C], C);
  const Matching match = match_rows(A, samples, yhat, mi.classes, who, host);
  // The class each sample's curve follows: the one its attributions explain.
  std::vector<int64_t> cls(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) {
    auto it = std::find(mi.classes.begin(), mi.classes.end(), A.explained[match.row[i]]);
    cls[i] = it == mi.classes.end() ? yhat[i] : it - mi.classes.begin();
  }
  const int R = st.repeats;
  const int64_t steps = static_cast<int64_t>(P) + 1;
  const int64_t rows_per_sample = steps * (R + 1);
  const int64_t chunk = std::max<int64_t>(1, 4 * st.batch_size / rows_per_sample);
  std::vector<double> curve(static_cast<size_t>(steps), 0.0), rcurve(static_cast<size_t>(steps), 0.0);
  std::vector<double> auc_per(static_cast<size_t>(N));
  std::vector<double> repl(static_cast<size_t>(M));
  std::vector<int> order(P);
  std::vector<uint8_t> on(P);
  for (int64_t s0 = 0; s0 < N; s0 += chunk) {
    host.check_cancelled();
    host.progress(static_cast<uint64_t>(s0), static_cast<uint64_t>(N), st.insertion ? "insertion" : "deletion");
    const int64_t s1 = std::min(N, s0 + chunk);
    std::vector<float> rows(static_cast<size_t>((s1 - s0) * rows_per_sample * M));
    size_t r = 0;
    for (int64_t i = s0; i < s1; ++i) {
      Rng noise(derive_seed(st.seed, static_cast<uint64_t>(i)));
      for (int64_t j = 0; j < M; ++j)
        repl[j] = st.replacement == "zero" ? 0.0
                  : st.replacement == "mean" ? mu[j]
                                             : mu[j] + st.noise_std * sd[j] * noise.normal();
      for (int v = 0; v <= R; ++v) {
        if (v == 0) {
          order = ranking(&A.values[match.row[i] * P], P, st.rank_by == "absolute");
        } else {
          std::iota(order.begin(), order.end(), 0);
          Rng rng(derive_seed(derive_seed(st.seed ^ 0x5EEDULL, static_cast<uint64_t>(v)), static_cast<uint64_t>(i)));
          rng.shuffle(order);
        }
        for (int64_t k = 0; k < steps; ++k, ++r) {
          // After k steps the first k players of the order are removed (deletion) or
          // inserted (insertion).
          std::fill(on.begin(), on.end(), static_cast<uint8_t>(st.insertion ? 0 : 1));
          for (int64_t q = 0; q < k; ++q) on[order[q]] = st.insertion ? 1 : 0;
          float* row = &rows[r * M];
          for (int64_t j = 0; j < M; ++j) row[j] = x[i * M + j];
          for (size_t p = 0; p < P; ++p)
            if (!on[p])
              for (int j : pf[p]) row[j] = static_cast<float>(repl[j]);
        }
      }
    }
    const auto p = pred.predict(rows.data(), static_cast<int64_t>(r));
    r = 0;
    for (int64_t i = s0; i < s1; ++i) {
      double auc = 0, prev = 0;
      for (int v = 0; v <= R; ++v)
        for (int64_t k = 0; k < steps; ++k, ++r) {
          const double y = p[r * C + cls[i]];
          if (v == 0) {
            curve[k] += y / static_cast<double>(N);
            if (k > 0) auc += 0.5 * (y + prev) / static_cast<double>(P);
            prev = y;
          } else {
            rcurve[k] += y / static_cast<double>(N) / R;
          }
        }
      auc_per[i] = auc;
    }
  }
  auto trapz = [&](const std::vector<double>& c) {
    double a = 0;
    for (int64_t k = 1; k < steps; ++k) a += 0.5 * (c[k] + c[k - 1]) / static_cast<double>(P);
    return a;
  };
  std::vector<double> kk, frac;
  for (int64_t k = 0; k < steps; ++k) {
    kk.push_back(static_cast<double>(k));
    frac.push_back(static_cast<double>(k) / static_cast<double>(P));
  }
  double mean_auc = 0, sd_auc = 0;
  for (double a : auc_per) mean_auc += a / static_cast<double>(N);
  for (double a : auc_per) sd_auc += (a - mean_auc) * (a - mean_auc);
  sd_auc = N > 1 ? std::sqrt(sd_auc / static_cast<double>(N - 1)) : 0.0;
  Table t(steps);
  t.add_numbers("k", MIEN_ROLE_VALUE, kk)
      .add_numbers("fraction", MIEN_ROLE_VALUE, frac)
      .add_numbers("probability", MIEN_ROLE_VALUE, curve)
      .add_numbers("random_probability", MIEN_ROLE_VALUE, rcurve);
  Json summary{{"metric", st.insertion ? "insertion" : "deletion"},
               {"auc", trapz(curve)},
               {"random_auc", trapz(rcurve)},
               {"auc_sd", sd_auc},
               {"auc_se", sd_auc / std::sqrt(static_cast<double>(N))},
               {"samples", N},
               {"replacement", st.replacement},
               {"rank_by", st.rank_by},
               {"random_repeats", R},
               {"explainer", A.name},
               {"better", st.insertion ? "higher AUC" : "lower AUC"}};
  t.meta(summary);
  ctx.set(QPorts::kCurve, std::move(t));
  ctx.set(QPorts::kSummary, summary);
}

}  // namespace mien::quality
