// metric.fidelity, metric.explanation_accuracy (ter Burg & Kaya 2022, doi:10.3390/a15100367) and metric.top_n_weight.
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "components.hpp"

namespace mien::quality {

namespace {

ComponentInfo sweep_info(const char* id, const char* summary, const Param<std::vector<int>>& n) {
  ComponentInfo ci(id, 1, MIEN_KIND_METRIC, summary);
  ci.params(n, QPorts::kRandomRepeats, QPorts::kBatchSize)
      .ports(QPorts::kModel, QPorts::kSamples, QPorts::kAttributions, QPorts::kReference, QPorts::kBaseline,
             QPorts::kCurve, QPorts::kSummary);
  return ci;
}

SweepSettings sweep_settings(const char* id, const Setup& s, const Param<std::vector<int>>& n) {
  SweepSettings st;
  st.type_id = id;
  st.n = n.read(s.params());
  st.repeats = QPorts::kRandomRepeats.read(s.params());
  st.batch_size = QPorts::kBatchSize.read(s.params());
  st.seed = s.seed();
  if (st.n.empty()) throw Error(std::string(id) + ": parameter 'n' is empty; give the numbers of features to keep");
  for (int v : st.n)
    if (v < 1) throw Error(std::string(id) + ": parameter 'n' holds " + std::to_string(v) + "; every n must be >= 1");
  return st;
}

// The baseline table's model features for every sample, in sample order (matched by
// id); an error names the samples without a row.
std::vector<float> baseline_rows(const TableView& rep, const TableView& samples,
                                    const std::vector<std::string>& features, const std::string& who) {
  const auto x = explain::feature_rows(rep, features, who, "baseline");
  const auto rep_ids = sample_ids(rep);
  std::map<std::string, int64_t> row_of;
  for (int64_t r = 0; r < rep.num_rows(); ++r) row_of.emplace(rep_ids[r], r);
  const auto ids = sample_ids(samples);
  const size_t M = features.size();
  std::vector<float> out(ids.size() * M);
  std::vector<std::string> missing;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto it = row_of.find(ids[i]);
    if (it == row_of.end()) {
      missing.push_back(ids[i]);
      continue;
    }
    std::copy_n(&x[static_cast<size_t>(it->second) * M], M, &out[i * M]);
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 8; ++i) list += (i ? ", " : "") + missing[i];
    if (missing.size() > 8) list += ", ... (" + std::to_string(missing.size()) + " in all)";
    throw Error(who + ": " + std::to_string(missing.size()) + " samples have no baseline row (matched by id): " +
                list + "; give baseline the same rows as samples (e.g. transform.subject_baseline's baseline of "
                "the same table)");
  }
  return out;
}

}  // namespace

ComponentInfo Fidelity::info() {
  return sweep_info("metric.fidelity",
                    "Fidelity and explanation accuracy when only the top-n attributed features are kept", kN);
}
Fidelity::Fidelity(const Setup& s) : s_(sweep_settings("metric.fidelity", s, kN)) {}

ComponentInfo ExplanationAccuracy::info() {
  return sweep_info("metric.explanation_accuracy",
                    "Model accuracy when only the top-n attributed features are kept (with fidelity)", kN);
}
ExplanationAccuracy::ExplanationAccuracy(const Setup& s)
    : s_(sweep_settings("metric.explanation_accuracy", s, kN)) {}

void run_sweep(Context& ctx, const SweepSettings& st) {
  const Host& host = ctx.host();
  const std::string& who = st.type_id;
  const ModelRef model = ctx.model(QPorts::kModel);
  const TableView samples = ctx.table(QPorts::kSamples);
  const auto mi = explain::read_model_info(model, who, samples, host);
  const int64_t M = static_cast<int64_t>(mi.features.size()), N = samples.num_rows();
  if (N == 0) throw Error(who + ": the samples table has no rows");
  const auto x = explain::feature_rows(samples, mi.features, who, "samples", &host);
  // Per-sample baseline values (row-major N x M), or none: the reference mean for all.
  const bool per_sample = ctx.connected(QPorts::kBaseline);
  if (!per_sample && !ctx.connected(QPorts::kReference))
    throw Error(who + ": connect `reference` (the training table, whose feature means replace the features left "
                      "out) or `baseline` (per-sample replacement values, e.g. transform.subject_baseline's baseline)");
  const std::vector<double> mu =
      per_sample ? std::vector<double>() : feature_means(ctx.table(QPorts::kReference), mi.features, who, "reference");
  const std::vector<float> rep =
      per_sample ? baseline_rows(ctx.table(QPorts::kBaseline), samples, mi.features, who) : std::vector<float>();
  const Attributions A = read_attributions(ctx.table(QPorts::kAttributions), who, "attributions");
  const auto pf = player_features(A, mi.features, who);
  const size_t P = pf.size();
  std::vector<int> ns;
  std::vector<int> dropped;
  for (int v : st.n) (static_cast<size_t>(v) <= P ? ns : dropped).push_back(v);
  if (ns.empty())
    throw Error(who + ": parameter 'n' asks for more features than the " + std::to_string(P) +
                " attribution columns; use n <= " + std::to_string(P));
  if (!dropped.empty())
    host.warn(who + ": n values above the " + std::to_string(P) + " attribution columns were dropped");
  const int64_t C = static_cast<int64_t>(mi.classes.size());
  if (C == 0) throw Error(who + ": the model names no classes");
  Predictor pred(model, M, C, st.batch_size, host);
  const auto probs = pred.predict(x.data(), N);
  std::vector<int64_t> yhat(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) yhat[i] = argmax(&probs[i * C], C);
  const auto labels = label_indices(samples, mi.classes);
  const Matching match = match_rows(A, samples, yhat, mi.classes, who, host);

  const size_t K = ns.size();
  const int R = st.repeats;
  // counts[variant][k]: variant 0 = attributions, 1..R = random rankings.
  std::vector<std::vector<double>> same(static_cast<size_t>(R + 1), std::vector<double>(K, 0.0)),
      correct(static_cast<size_t>(R + 1), std::vector<double>(K, 0.0));
  const int64_t rows_per_sample = static_cast<int64_t>(K) * (R + 1);
  const int64_t chunk = std::max<int64_t>(1, 4 * st.batch_size / rows_per_sample);
  std::vector<int> order(P);
  int64_t labelled = 0, model_correct = 0;
  for (int64_t i = 0; i < N; ++i)
    if (labels[i] >= 0) {
      ++labelled;
      model_correct += labels[i] == yhat[i];
    }
  for (int64_t s0 = 0; s0 < N; s0 += chunk) {
    host.check_cancelled();
    host.progress(static_cast<uint64_t>(s0), static_cast<uint64_t>(N), "fidelity sweep");
    const int64_t s1 = std::min(N, s0 + chunk);
    std::vector<float> rows(static_cast<size_t>((s1 - s0) * rows_per_sample * M));
    size_t r = 0;
    for (int64_t i = s0; i < s1; ++i) {
      for (int v = 0; v <= R; ++v) {
        if (v == 0) {
          order = ranking(&A.values[match.row[i] * P], P, true);
        } else {
          std::iota(order.begin(), order.end(), 0);
          Rng rng(derive_seed(derive_seed(st.seed, static_cast<uint64_t>(v)), static_cast<uint64_t>(i)));
          rng.shuffle(order);
        }
        for (size_t k = 0; k < K; ++k, ++r) {
          float* row = &rows[r * M];
          if (per_sample)
            std::copy_n(&rep[i * M], M, row);
          else
            for (int64_t j = 0; j < M; ++j) row[j] = static_cast<float>(mu[j]);
          for (int q = 0; q < ns[k]; ++q)
            for (int j : pf[order[q]]) row[j] = x[i * M + j];
        }
      }
    }
    const auto p = pred.predict(rows.data(), static_cast<int64_t>(r));
    r = 0;
    for (int64_t i = s0; i < s1; ++i)
      for (int v = 0; v <= R; ++v)
        for (size_t k = 0; k < K; ++k, ++r) {
          const int64_t y = argmax(&p[r * C], C);
          same[v][k] += y == yhat[i];
          if (labels[i] >= 0) correct[v][k] += y == labels[i];
        }
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> nv, fid, acc, rfid, racc, fid_se, acc_se, rfid_sd, racc_sd;
  for (size_t k = 0; k < K; ++k) {
    nv.push_back(ns[k]);
    const double f = same[0][k] / static_cast<double>(N);
    const double a = labelled ? correct[0][k] / static_cast<double>(labelled) : nan;
    fid.push_back(f);
    acc.push_back(a);
    fid_se.push_back(std::sqrt(f * (1 - f) / static_cast<double>(N)));
    acc_se.push_back(labelled ? std::sqrt(a * (1 - a) / static_cast<double>(labelled)) : nan);
    double tf = 0, ta = 0;
    for (int v = 1; v <= R; ++v) {
      tf += same[v][k];
      ta += correct[v][k];
    }
    const double mf = tf / (static_cast<double>(N) * R);
    const double ma = labelled ? ta / (static_cast<double>(labelled) * R) : nan;
    double sf = 0, sa = 0;
    for (int v = 1; v <= R; ++v) {
      sf += std::pow(same[v][k] / static_cast<double>(N) - mf, 2);
      if (labelled) sa += std::pow(correct[v][k] / static_cast<double>(labelled) - ma, 2);
    }
    rfid.push_back(mf);
    racc.push_back(ma);
    rfid_sd.push_back(R > 1 ? std::sqrt(sf / (R - 1)) : 0.0);
    racc_sd.push_back(!labelled ? nan : R > 1 ? std::sqrt(sa / (R - 1)) : 0.0);
  }
  Table curve(static_cast<int64_t>(K));
  curve.add_numbers("n", MIEN_ROLE_VALUE, nv)
      .add_numbers("fidelity", MIEN_ROLE_VALUE, fid)
      .add_numbers("accuracy", MIEN_ROLE_VALUE, acc)
      .add_numbers("random_fidelity", MIEN_ROLE_VALUE, rfid)
      .add_numbers("random_accuracy", MIEN_ROLE_VALUE, racc)
      .add_numbers("fidelity_se", MIEN_ROLE_VALUE, fid_se)
      .add_numbers("accuracy_se", MIEN_ROLE_VALUE, acc_se)
      .add_numbers("random_fidelity_sd", MIEN_ROLE_VALUE, rfid_sd)
      .add_numbers("random_accuracy_sd", MIEN_ROLE_VALUE, racc_sd);
  const bool is_acc = who == "metric.explanation_accuracy";
  auto js = [](const std::vector<double>& v) {
    Json a = Json::array();
    for (double d : v) a.push_back(std::isnan(d) ? Json() : Json(d));
    return a;
  };
  Json summary{{"metric", is_acc ? "explanation_accuracy" : "fidelity"},
               {"n", ns},
               {"values", js(is_acc ? acc : fid)},
               {"fidelity", js(fid)},
               {"accuracy", js(acc)},
               {"random_fidelity", js(rfid)},
               {"random_accuracy", js(racc)},
               {"fidelity_se", js(fid_se)},
               {"accuracy_se", js(acc_se)},
               {"samples", N},
               {"labelled", labelled},
               {"model_accuracy", labelled ? Json(static_cast<double>(model_correct) / labelled) : Json()},
               {"random_repeats", R},
               {"explainer", A.name},
               {"rows_not_explaining_predicted_class", match.not_predicted},
               {"definition",
                "keep the top-n features by |attribution| of the predicted class (ties: column order), set the others "
                "to the reference mean; fidelity = share of samples whose prediction is unchanged, accuracy = share "
                "(of labelled samples) whose new prediction equals the label"}};
  if (per_sample) {
    summary["baseline"] = "per sample: the baseline table's row with the sample's id";
    summary["definition"] =
        "keep the top-n features by |attribution| of the predicted class (ties: column order), set the others to the "
        "sample's own baseline row (matched by id, e.g. the subject's neutral face); fidelity = share of samples "
        "whose prediction is unchanged, accuracy = share (of labelled samples) whose new prediction equals the label";
  }
  curve.meta(summary);
  ctx.set(QPorts::kCurve, std::move(curve));
  ctx.set(QPorts::kSummary, summary);
}

// ====================================================================================
ComponentInfo TopNWeight::info() {
  return ComponentInfo("metric.top_n_weight", 1, MIEN_KIND_METRIC,
                       "Share of the total |attribution| held by the top-n features, averaged over rows")
      .params(kN)
      .ports(kAttributions, QPorts::kCurve, QPorts::kSummary);
}

TopNWeight::TopNWeight(const Setup& s) : n_(kN.read(s.params())) {
  if (n_.empty()) throw Error("metric.top_n_weight: parameter 'n' is empty");
  for (int v : n_)
    if (v < 1) throw Error("metric.top_n_weight: parameter 'n' holds " + std::to_string(v) + "; every n must be >= 1");
}

void TopNWeight::process(Context& ctx) {
  const Attributions A = read_attributions(ctx.table(kAttributions), "metric.top_n_weight", "attributions");
  const size_t P = A.players.size();
  std::vector<int64_t> rows;
  for (int64_t r = 0; r < A.rows; ++r)
    if (!A.explained[r].empty() && A.explained[r] == A.predicted[r]) rows.push_back(r);
  const bool all_rows = rows.empty();
  if (all_rows)
    for (int64_t r = 0; r < A.rows; ++r) rows.push_back(r);
  std::vector<double> nv, mean, sd;
  std::vector<int> used;
  for (int n : n_) {
    if (static_cast<size_t>(n) > P) continue;
    used.push_back(n);
    double s = 0, ss = 0;
    int64_t cnt = 0;
    for (int64_t r : rows) {
      const double* v = &A.values[r * P];
      const auto order = ranking(v, P, true);
      double top = 0, tot = 0;
      for (size_t j = 0; j < P; ++j) tot += std::fabs(v[j]);
      for (int q = 0; q < n; ++q) top += std::fabs(v[order[q]]);
      if (tot <= 0) continue;
      s += top / tot;
      ss += (top / tot) * (top / tot);
      ++cnt;
    }
    const double m = cnt ? s / cnt : std::numeric_limits<double>::quiet_NaN();
    nv.push_back(n);
    mean.push_back(m);
    sd.push_back(cnt > 1 ? std::sqrt(std::max(0.0, (ss - cnt * m * m) / (cnt - 1))) : 0.0);
  }
  if (used.empty()) throw Error("metric.top_n_weight: every n exceeds the " + std::to_string(P) + " attribution columns");
  Table curve(static_cast<int64_t>(used.size()));
  curve.add_numbers("n", MIEN_ROLE_VALUE, nv).add_numbers("weight", MIEN_ROLE_VALUE, mean).add_numbers("weight_sd", MIEN_ROLE_VALUE, sd);
  Json summary{{"metric", "top_n_weight"},
               {"n", used},
               {"values", mean},
               {"rows", rows.size()},
               {"rows_used", all_rows ? "all rows" : "rows explaining the predicted class"},
               {"explainer", A.name}};
  ctx.set(QPorts::kCurve, std::move(curve));
  ctx.set(QPorts::kSummary, summary);
}

}  // namespace mien::quality
