#include "attribution_rows.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mien::quality {

namespace {
std::string first_few(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < 8; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > 8) s += ", ... (" + std::to_string(v.size()) + " in all)";
  return s;
}
}  // namespace

std::vector<std::string> sample_ids(const TableView& samples) {
  auto idcols = samples.with_role(MIEN_ROLE_ID);
  std::vector<std::string> ids(static_cast<size_t>(samples.num_rows()));
  for (int64_t i = 0; i < samples.num_rows(); ++i) {
    if (!idcols.empty()) {
      ids[i] = idcols.front().text(i);
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "row%05lld", static_cast<long long>(i + 1));
      ids[i] = buf;
    }
  }
  return ids;
}

Attributions read_attributions(const TableView& t, const std::string& who, const std::string& port) {
  Attributions a;
  a.rows = t.num_rows();
  a.meta = t.meta();
  a.name = a.meta.contains("explainer") && a.meta["explainer"].is_string() ? a.meta["explainer"].get<std::string>()
                                                                           : port;
  auto idcols = t.with_role(MIEN_ROLE_ID);
  if (idcols.empty())
    throw Error(who + ": input '" + port + "' has no ID column; attributions tables carry the sample id (id)");
  a.ids = idcols.front().texts();
  auto sid = t.find("sample_id");
  a.sample_ids = sid ? sid->texts() : a.ids;
  auto ex = t.find("explained_class");
  auto pr = t.find("predicted_class");
  a.explained = ex ? ex->texts() : std::vector<std::string>(static_cast<size_t>(a.rows));
  a.predicted = pr ? pr->texts() : std::vector<std::string>(static_cast<size_t>(a.rows));
  a.players = t.feature_names();
  if (a.players.empty()) throw Error(who + ": input '" + port + "' has no FEATURE columns (the attributions)");
  a.values = t.feature_matrix<double>();
  for (size_t i = 0; i < a.values.size(); ++i)
    if (!std::isfinite(a.values[i]))
      throw Error(who + ": input '" + port + "' holds a non-finite attribution in row " +
                  std::to_string(i / a.players.size() + 1) + ", column '" + a.players[i % a.players.size()] + "'");
  return a;
}

std::vector<std::vector<int>> player_features(const Attributions& a, const std::vector<std::string>& features,
                                              const std::string& who) {
  std::map<std::string, int> index;
  for (size_t j = 0; j < features.size(); ++j) index[features[j]] = static_cast<int>(j);
  const Json groups = a.meta.contains("groups") ? a.meta["groups"] : Json::object();
  std::vector<std::vector<int>> out;
  std::vector<std::string> unknown;
  for (const auto& p : a.players) {
    auto it = index.find(p);
    if (it != index.end()) {
      out.push_back({it->second});
      continue;
    }
    if (groups.is_object() && groups.contains(p)) {
      std::vector<int> f;
      for (const auto& name : groups[p]) {
        auto k = index.find(name.get<std::string>());
        if (k == index.end()) {
          unknown.push_back(name.get<std::string>());
          continue;
        }
        f.push_back(k->second);
      }
      out.push_back(f);
      continue;
    }
    unknown.push_back(p);
  }
  if (!unknown.empty())
    throw Error(who + ": attribution columns are neither model features nor groups of its meta data: " +
                first_few(unknown) + " (the attributions must come from an explainer of this model)");
  return out;
}

Matching match_rows(const Attributions& a, const TableView& samples, const std::vector<int64_t>& predicted,
                    const std::vector<std::string>& classes, const std::string& who, const Host& host) {
  std::map<std::string, std::vector<int64_t>> by_id;
  for (int64_t r = 0; r < a.rows; ++r) by_id[a.sample_ids[r]].push_back(r);
  const auto ids = sample_ids(samples);
  Matching m;
  m.row.resize(ids.size());
  std::vector<std::string> missing;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto it = by_id.find(ids[i]);
    if (it == by_id.end()) {
      missing.push_back(ids[i]);
      continue;
    }
    const std::string& want = classes[predicted[i]];
    int64_t pick = -1;
    for (int64_t r : it->second)
      if (a.explained[r] == want) pick = r;
    if (pick < 0) {
      pick = it->second.front();
      ++m.not_predicted;
    }
    m.row[i] = pick;
  }
  if (!missing.empty())
    throw Error(who + ": " + std::to_string(missing.size()) + " samples have no attributions row (matched by id): " +
                first_few(missing) + "; explain the same samples table");
  if (m.not_predicted > 0)
    host.warn(who + ": for " + std::to_string(m.not_predicted) +
              " samples the attributions explain another class than the model's prediction; their ranking is used "
              "anyway (explain with target: predicted or all to follow the paper)");
  return m;
}

std::vector<int> ranking(const double* values, size_t players, bool absolute) {
  std::vector<int> idx(players);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) {
    const double va = absolute ? std::fabs(values[a]) : values[a];
    const double vb = absolute ? std::fabs(values[b]) : values[b];
    return va > vb;
  });
  return idx;
}

std::vector<int64_t> label_indices(const TableView& samples, const std::vector<std::string>& classes) {
  std::vector<int64_t> out(static_cast<size_t>(samples.num_rows()), -1);
  auto label = samples.label();
  if (!label) return out;
  const auto cats = label->categories();
  for (int64_t i = 0; i < samples.num_rows(); ++i) {
    const int64_t code = label->code(i);
    if (code < 0 || code >= static_cast<int64_t>(cats.size())) continue;
    auto it = std::find(classes.begin(), classes.end(), cats[code]);
    if (it != classes.end()) out[i] = it - classes.begin();
  }
  return out;
}

std::vector<double> feature_means(const TableView& t, const std::vector<std::string>& features, const std::string& who,
                                  const std::string& port, std::vector<double>* sd) {
  const auto x = explain::feature_rows(t, features, who, port);
  const int64_t n = t.num_rows();
  if (n == 0) throw Error(who + ": the " + port + " table has no rows");
  const size_t M = features.size();
  std::vector<double> mu(M, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (size_t j = 0; j < M; ++j) mu[j] += x[i * M + j];
  for (auto& v : mu) v /= static_cast<double>(n);
  if (sd) {
    sd->assign(M, 0.0);
    for (int64_t i = 0; i < n; ++i)
      for (size_t j = 0; j < M; ++j) (*sd)[j] += (x[i * M + j] - mu[j]) * (x[i * M + j] - mu[j]);
    for (auto& v : *sd) v = std::sqrt(v / static_cast<double>(n));
  }
  return mu;
}

}  // namespace mien::quality
