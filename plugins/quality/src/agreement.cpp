// metric.agreement, metric.stability and transform.jitter.
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include <mien_stats/correlation.hpp>

#include "components.hpp"

namespace mien::quality {

using mien::stats::kendall_tau_b;
using mien::stats::spearman;

double top_k_overlap(const std::vector<double>& a, const std::vector<double>& b, int k);

double top_k_overlap(const std::vector<double>& a, const std::vector<double>& b, int k) {
  const size_t P = a.size();
  const size_t kk = std::min<size_t>(static_cast<size_t>(k), P);
  const auto ra = ranking(a.data(), P, false), rb = ranking(b.data(), P, false);
  std::vector<uint8_t> in(P, 0);
  for (size_t q = 0; q < kk; ++q) in[ra[q]] = 1;
  size_t both = 0;
  for (size_t q = 0; q < kk; ++q) both += in[rb[q]];
  return kk ? static_cast<double>(both) / static_cast<double>(kk) : 0.0;
}

namespace {

// Row values keyed by id+class (the same sample explained for the same class).
std::map<std::string, int64_t> keyed(const Attributions& a) {
  std::map<std::string, int64_t> m;
  for (int64_t r = 0; r < a.rows; ++r) m[a.ids[r] + "\x1f" + a.explained[r]] = r;
  return m;
}

std::vector<double> row(const Attributions& a, int64_t r, bool absolute) {
  const size_t P = a.players.size();
  std::vector<double> v(a.values.begin() + r * static_cast<int64_t>(P), a.values.begin() + (r + 1) * static_cast<int64_t>(P));
  if (absolute)
    for (auto& x : v) x = std::fabs(x);
  return v;
}

void same_columns(const Attributions& a, const Attributions& b, const std::string& who) {
  if (a.players != b.players)
    throw Error(who + ": '" + a.name + "' and '" + b.name +
                "' have different attribution columns; compare explanations of the same features (and groups)");
}

}  // namespace

// ====================================================================================
ComponentInfo Agreement::info() {
  return ComponentInfo("metric.agreement", 1, MIEN_KIND_METRIC,
                       "Rank correlation (Spearman, Kendall) and top-k overlap between every pair of explainers")
      .params(kK, kRankBy)
      .ports(kAttributions, kPairs, QPorts::kSummary);
}

Agreement::Agreement(const Setup& s) : k_(kK.read(s.params())), rank_by_(kRankBy.read(s.params())) {}

void Agreement::process(Context& ctx) {
  const std::string who = "metric.agreement";
  const uint32_t T = ctx.count(kAttributions);
  if (T < 2) throw Error(who + ": input 'attributions' needs at least two tables to compare, got " + std::to_string(T));
  std::vector<Attributions> as;
  for (uint32_t i = 0; i < T; ++i) {
    as.push_back(read_attributions(ctx.table(kAttributions, i), who, "attributions"));
    as.back().name = std::to_string(i) + ":" + as.back().name;
  }
  const bool absolute = rank_by_ == "absolute";
  std::vector<std::string> an, bn;
  std::vector<double> sp, kd, ov, cnt;
  Json pairs = Json::array();
  for (uint32_t i = 0; i < T; ++i)
    for (uint32_t j = i + 1; j < T; ++j) {
      ctx.host().check_cancelled();
      same_columns(as[i], as[j], who);
      const auto ki = keyed(as[i]), kj = keyed(as[j]);
      double s = 0, k = 0, o = 0;
      int64_t n = 0, ns = 0, nk = 0;
      for (const auto& [key, ri] : ki) {
        auto it = kj.find(key);
        if (it == kj.end()) continue;
        const auto a = row(as[i], ri, absolute), b = row(as[j], it->second, absolute);
        const double sv = spearman(a, b), kv = kendall_tau_b(a, b);
        if (!std::isnan(sv)) {
          s += sv;
          ++ns;
        }
        if (!std::isnan(kv)) {
          k += kv;
          ++nk;
        }
        o += top_k_overlap(a, b, k_);
        ++n;
      }
      if (n == 0)
        throw Error(who + ": '" + as[i].name + "' and '" + as[j].name +
                    "' share no rows (matched by id and explained class): they explain different samples, e.g. the "
                    "copies of a matrix node (one per pose or fold) gathered into one list; give this node the same "
                    "`matrix:` so each copy compares the explainers of one pose or fold");
      an.push_back(as[i].name);
      bn.push_back(as[j].name);
      sp.push_back(ns ? s / ns : std::numeric_limits<double>::quiet_NaN());
      kd.push_back(nk ? k / nk : std::numeric_limits<double>::quiet_NaN());
      ov.push_back(o / n);
      cnt.push_back(static_cast<double>(n));
      pairs.push_back({{"a", as[i].name},
                       {"b", as[j].name},
                       {"spearman", std::isnan(sp.back()) ? Json() : Json(sp.back())},
                       {"kendall", std::isnan(kd.back()) ? Json() : Json(kd.back())},
                       {"top_k_overlap", ov.back()},
                       {"rows", n}});
    }
  Table t(static_cast<int64_t>(an.size()));
  t.add_strings("a", MIEN_ROLE_VALUE, an)
      .add_strings("b", MIEN_ROLE_VALUE, bn)
      .add_numbers("spearman", MIEN_ROLE_VALUE, sp)
      .add_numbers("kendall", MIEN_ROLE_VALUE, kd)
      .add_numbers("top_k_overlap", MIEN_ROLE_VALUE, ov)
      .add_numbers("rows", MIEN_ROLE_VALUE, cnt);
  ctx.set(kPairs, std::move(t));
  ctx.set(QPorts::kSummary, Json{{"metric", "agreement"}, {"k", k_}, {"rank_by", rank_by_}, {"pairs", pairs}});
}

// ====================================================================================
ComponentInfo Stability::info() {
  return ComponentInfo("metric.stability", 1, MIEN_KIND_METRIC,
                       "How much attributions change under small input noise (explainer re-run upstream)")
      .params(kK)
      .ports(kAttributions, kNoisy, kPerSample, QPorts::kSummary);
}

Stability::Stability(const Setup& s) : k_(kK.read(s.params())) {}

void Stability::process(Context& ctx) {
  const std::string who = "metric.stability";
  const Attributions base = read_attributions(ctx.table(kAttributions), who, "attributions");
  const uint32_t D = ctx.count(kNoisy);
  if (D == 0) throw Error(who + ": input 'attributions_noisy' has no tables; connect the explainer run on noisy samples");
  std::vector<Attributions> noisy;
  for (uint32_t d = 0; d < D; ++d) {
    noisy.push_back(read_attributions(ctx.table(kNoisy, d), who, "attributions_noisy"));
    same_columns(base, noisy.back(), who);
  }
  std::vector<std::map<std::string, int64_t>> keys;
  for (const auto& a : noisy) keys.push_back(keyed(a));
  std::vector<std::string> ids;
  std::vector<double> rel, relmax, sp, ov;
  for (int64_t r = 0; r < base.rows; ++r) {
    const auto a = row(base, r, false);
    double norm = 0;
    for (double v : a) norm += v * v;
    norm = std::sqrt(norm);
    double s_rel = 0, m_rel = 0, s_sp = 0, s_ov = 0;
    int n = 0, nsp = 0;
    for (uint32_t d = 0; d < D; ++d) {
      auto it = keys[d].find(base.ids[r] + "\x1f" + base.explained[r]);
      if (it == keys[d].end()) continue;
      const auto b = row(noisy[d], it->second, false);
      double diff = 0;
      for (size_t j = 0; j < a.size(); ++j) diff += (a[j] - b[j]) * (a[j] - b[j]);
      const double rc = norm > 0 ? std::sqrt(diff) / norm : std::numeric_limits<double>::quiet_NaN();
      s_rel += rc;
      m_rel = std::max(m_rel, rc);
      std::vector<double> aa(a), bb(b);
      for (auto& v : aa) v = std::fabs(v);
      for (auto& v : bb) v = std::fabs(v);
      const double sv = spearman(aa, bb);
      if (!std::isnan(sv)) {
        s_sp += sv;
        ++nsp;
      }
      s_ov += top_k_overlap(aa, bb, k_);
      ++n;
    }
    if (n == 0) continue;
    ids.push_back(base.ids[r]);
    rel.push_back(s_rel / n);
    relmax.push_back(m_rel);
    sp.push_back(nsp ? s_sp / nsp : std::numeric_limits<double>::quiet_NaN());
    ov.push_back(s_ov / n);
  }
  if (ids.empty())
    throw Error(who + ": no row of attributions_noisy has an id of attributions; perturb the samples keeping their "
                      "ids (transform.jitter does)");
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    int n = 0;
    for (double x : v)
      if (!std::isnan(x)) {
        s += x;
        ++n;
      }
    return n ? Json(s / n) : Json();
  };
  Table t(static_cast<int64_t>(ids.size()));
  t.add_strings("id", MIEN_ROLE_ID, ids)
      .add_numbers("relative_change", MIEN_ROLE_VALUE, rel)
      .add_numbers("max_relative_change", MIEN_ROLE_VALUE, relmax)
      .add_numbers("spearman", MIEN_ROLE_VALUE, sp)
      .add_numbers("top_k_overlap", MIEN_ROLE_VALUE, ov);
  ctx.set(kPerSample, std::move(t));
  ctx.set(QPorts::kSummary, Json{{"metric", "stability"},
                                 {"relative_change", mean(rel)},
                                 {"max_relative_change", *std::max_element(relmax.begin(), relmax.end())},
                                 {"spearman", mean(sp)},
                                 {"top_k_overlap", mean(ov)},
                                 {"k", k_},
                                 {"samples", ids.size()},
                                 {"noisy_tables", D},
                                 {"explainer", base.name}});
}

// ====================================================================================
ComponentInfo Jitter::info() {
  return ComponentInfo("transform.jitter", 1, MIEN_KIND_TRANSFORM,
                       "Adds seeded Gaussian noise to the feature columns, keeping ids (for metric.stability)")
      .params(kNoiseStd)
      .ports(kTable, kReference, kOut);
}

Jitter::Jitter(const Setup& s) : noise_std_(kNoiseStd.read(s.params())), seed_(s.seed()) {}

void Jitter::process(Context& ctx) {
  const TableView t = ctx.table(kTable);
  const TableView ref = ctx.connected(kReference) ? ctx.table(kReference) : t;
  Table out(t.num_rows());
  uint32_t feature = 0;
  for (uint32_t c = 0; c < t.num_columns(); ++c) {
    const ColumnView col = t.column(c);
    if (col.role() != MIEN_ROLE_FEATURE) {
      out.add_copy(col);
      continue;
    }
    auto rc = ref.find(col.name());
    if (!rc) throw Error("transform.jitter: the reference table has no column '" + std::string(col.name()) + "'");
    const auto rv = rc->numbers();
    double m = 0, s = 0;
    for (double v : rv) m += v / static_cast<double>(rv.size());
    for (double v : rv) s += (v - m) * (v - m) / static_cast<double>(rv.size());
    s = std::sqrt(s);
    auto v = col.numbers();
    Rng rng(derive_seed(seed_, feature++));
    for (auto& x : v) x += noise_std_ * s * rng.normal();
    out.add_numbers(col.name(), MIEN_ROLE_FEATURE, std::move(v));
  }
  if (t.raw()->meta_json && *t.raw()->meta_json) out.meta(t.meta());
  ctx.set(kOut, std::move(out));
}

}  // namespace mien::quality
