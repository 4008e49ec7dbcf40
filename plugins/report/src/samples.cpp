#include "samples.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

namespace mien::report {

Samples read_samples(const TableView& table, bool need_landmarks, const std::string& who) {
  Samples s;
  s.n = table.num_rows();
  const auto id_cols = table.with_role(MIEN_ROLE_ID);
  s.has_ids = !id_cols.empty();
  for (int64_t i = 0; i < s.n; ++i) s.ids.push_back(s.has_ids ? id_cols[0].text(i) : "row" + std::to_string(i));
  const auto label = table.label();
  if (label) s.classes = label->categories();
  for (int64_t i = 0; i < s.n; ++i) {
    std::string t;
    if (label && !label->is_string()) {
      if (label->code(i) >= 0) t = label->text(i);
    } else if (label) {
      t = label->text(i);
    }
    s.truth.push_back(t);
  }
  const auto groups = table.with_role(MIEN_ROLE_GROUP);
  s.groups.resize(static_cast<size_t>(s.n));
  for (const auto& g : groups)
    for (int64_t i = 0; i < s.n; ++i) s.groups[static_cast<size_t>(i)][g.name()] = g.text(i);
  if (need_landmarks) {
    std::vector<std::vector<double>> xs(68), ys(68);
    for (int k = 0; k < 68; ++k) {
      auto x = table.find("x" + std::to_string(k));
      auto y = table.find("y" + std::to_string(k));
      if (!x || !y)
        throw Error(who + ": the table has no landmark column '" + std::string(!x ? "x" : "y") + std::to_string(k) +
                    "' (it needs x0..x67 and y0..y67 in the images' pixels, see plugins/CONVENTIONS.md)");
      xs[static_cast<size_t>(k)] = x->numbers();
      ys[static_cast<size_t>(k)] = y->numbers();
    }
    s.landmarks.resize(static_cast<size_t>(s.n));
    for (int64_t i = 0; i < s.n; ++i)
      for (int k = 0; k < 68; ++k)
        s.landmarks[static_cast<size_t>(i)].emplace_back(xs[static_cast<size_t>(k)][static_cast<size_t>(i)],
                                                         ys[static_cast<size_t>(k)][static_cast<size_t>(i)]);
  }
  return s;
}

namespace {
// For each row of t, the sample row it belongs to (-1 = none): by id when both have ids,
// else by position (then the counts must agree).
std::vector<int64_t> row_map(const TableView& t, const Samples& s, const std::string& who, const std::string& what) {
  std::vector<int64_t> out(static_cast<size_t>(t.num_rows()), -1);
  const auto ids = t.with_role(MIEN_ROLE_ID);
  if (s.has_ids && !ids.empty()) {
    std::unordered_map<std::string, int64_t> index;
    for (int64_t i = 0; i < s.n; ++i) index.emplace(s.ids[static_cast<size_t>(i)], i);
    int64_t found = 0;
    for (int64_t r = 0; r < t.num_rows(); ++r) {
      auto it = index.find(ids[0].text(r));
      if (it != index.end()) {
        out[static_cast<size_t>(r)] = it->second;
        ++found;
      }
    }
    if (found == 0 && t.num_rows() > 0)
      throw Error(who + ": no id of the " + what + " (e.g. '" + ids[0].text(0) + "') is in the table (e.g. '" +
                  (s.n ? s.ids[0] : std::string()) + "')");
    return out;
  }
  if (t.num_rows() != s.n)
    throw Error(who + ": the " + what + " have " + std::to_string(t.num_rows()) + " rows and the table " +
                std::to_string(s.n) + "; without id columns on both they are matched by row, so the counts must agree");
  std::iota(out.begin(), out.end(), 0);
  return out;
}
}  // namespace

Predictions match_predictions(const TableView& t, const Samples& s, const std::string& who) {
  Predictions p;
  std::vector<ColumnView> cols;
  for (uint32_t c = 0; c < t.num_columns(); ++c) {
    const std::string name = t.column(c).name();
    if (name.rfind("p_", 0) == 0 && name.size() > 2 && !t.column(c).is_string()) {
      p.classes.push_back(name.substr(2));
      cols.push_back(t.column(c));
    }
  }
  if (cols.empty()) throw Error(who + ": the predictions have no p_<class> columns (eval.predict's output is expected)");
  const auto pred = t.find("predicted");
  p.probs.resize(static_cast<size_t>(s.n));
  p.predicted.resize(static_cast<size_t>(s.n));
  const auto map = row_map(t, s, who, "predictions");
  for (int64_t r = 0; r < t.num_rows(); ++r) {
    const int64_t i = map[static_cast<size_t>(r)];
    if (i < 0) continue;
    std::vector<double> v;
    for (const auto& c : cols) v.push_back(c.number(r));
    const size_t best = static_cast<size_t>(std::max_element(v.begin(), v.end()) - v.begin());
    p.predicted[static_cast<size_t>(i)] = pred ? pred->text(r) : p.classes[best];
    p.probs[static_cast<size_t>(i)] = std::move(v);
  }
  return p;
}

Attributions match_attributions(const TableView& t, const Samples& s, const std::string& who) {
  Attributions a;
  const auto feats = t.with_role(MIEN_ROLE_FEATURE);
  if (feats.empty()) throw Error(who + ": the attributions have no FEATURE columns (see plugins/CONVENTIONS.md)");
  for (const auto& f : feats) a.features.push_back(f.name());
  const auto explained = t.find("explained_class");
  const auto predicted = t.find("predicted_class");
  a.values.resize(static_cast<size_t>(s.n));
  a.explained.resize(static_cast<size_t>(s.n));
  a.predicted.resize(static_cast<size_t>(s.n));
  std::vector<bool> exact(static_cast<size_t>(s.n), false);
  const auto map = row_map(t, s, who, "attributions");
  for (int64_t r = 0; r < t.num_rows(); ++r) {
    const int64_t i = map[static_cast<size_t>(r)];
    if (i < 0) continue;
    const size_t u = static_cast<size_t>(i);
    const std::string ex = explained ? explained->text(r) : "";
    const std::string pr = predicted ? predicted->text(r) : "";
    const bool is_exact = !ex.empty() && ex == pr;
    if (!a.values[u].empty() && (exact[u] || !is_exact)) continue;  // keep the first, or the predicted-class row
    std::vector<double> v;
    for (const auto& f : feats) v.push_back(f.number(r));
    a.values[u] = std::move(v);
    a.explained[u] = ex;
    a.predicted[u] = pr;
    exact[u] = is_exact;
  }
  return a;
}

std::vector<DrawnFeature> top_features(const std::vector<std::string>& names, const std::vector<double>& values, int n,
                                       double* weight_percent) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const double x = std::isfinite(values[a]) ? std::fabs(values[a]) : 0, y = std::isfinite(values[b]) ? std::fabs(values[b]) : 0;
    return x > y;
  });
  double total = 0;
  for (double v : values) total += std::isfinite(v) ? std::fabs(v) : 0;
  std::vector<DrawnFeature> out;
  double top = 0;
  for (size_t k = 0; k < order.size() && static_cast<int>(k) < n; ++k) {
    const size_t j = order[k];
    DrawnFeature f;
    f.name = names[j];
    f.attribution = std::isfinite(values[j]) ? values[j] : 0;
    f.share = total > 0 ? std::fabs(f.attribution) / total : 0;
    f.rank = static_cast<int>(k) + 1;
    if (const auto* g = find_geometric(f.name)) {
      f.description = g->description;
      f.kind = g->kind;
      f.landmarks = g->landmarks;
    } else {
      f.description = f.name;
    }
    top += std::fabs(f.attribution);
    out.push_back(std::move(f));
  }
  if (weight_percent) *weight_percent = total > 0 ? 100.0 * top / total : 0.0;
  return out;
}

std::vector<int64_t> choose_samples(const Samples& s, const std::vector<std::string>& predicted,
                                    const std::vector<bool>& eligible, int max_samples) {
  std::vector<std::string> keys;
  std::map<std::string, std::vector<int64_t>> buckets;
  for (int64_t i = 0; i < s.n; ++i) {
    if (!eligible[static_cast<size_t>(i)]) continue;
    const std::string& t = s.truth[static_cast<size_t>(i)];
    const std::string& p = predicted[static_cast<size_t>(i)];
    const std::string key = t + "|" + (t.empty() || p.empty() ? "?" : (t == p ? "1" : "0"));
    auto it = buckets.find(key);
    if (it == buckets.end()) {
      keys.push_back(key);
      it = buckets.emplace(key, std::vector<int64_t>()).first;
    }
    it->second.push_back(i);
  }
  std::vector<int64_t> chosen;
  for (size_t round = 0; static_cast<int>(chosen.size()) < max_samples; ++round) {
    bool any = false;
    for (const auto& k : keys) {
      const auto& b = buckets[k];
      if (round < b.size()) {
        any = true;
        if (static_cast<int>(chosen.size()) < max_samples) chosen.push_back(b[round]);
      }
    }
    if (!any) break;
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

std::string predicted_of(int64_t row, const Predictions* p, const Attributions* a) {
  const size_t u = static_cast<size_t>(row);
  if (p && !p->predicted[u].empty()) return p->predicted[u];
  if (a && !a->predicted[u].empty()) return a->predicted[u];
  if (a && !a->explained[u].empty()) return a->explained[u];
  return "";
}

}  // namespace mien::report
