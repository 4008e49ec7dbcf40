// select.rfe, select.sequential, select.importance_topk, select.columns.
#include <mien/suggest.hpp>
#include <mien_face_geometry/geometric.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "components.hpp"

namespace mien::select {

using namespace mien::logreg;  // the model and RFE of plugins/lib/logreg

namespace {

// The SDK's suggestion, or else the first FEATURE columns so the user sees what exists.
std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates) {
  const std::string suggestion = mien::did_you_mean(name, candidates);
  if (!suggestion.empty()) return suggestion;
  std::string list;
  for (size_t i = 0; i < candidates.size() && i < 12; ++i) list += (i ? ", " : "") + candidates[i];
  if (candidates.size() > 12) list += ", ...";
  return " (FEATURE columns: " + list + ")";
}

Json names_json(const std::vector<std::string>& names, const std::vector<int64_t>& idx) {
  Json a = Json::array();
  for (int64_t i : idx) a.push_back(names[static_cast<size_t>(i)]);
  return a;
}

std::vector<std::string> pick(const std::vector<std::string>& names, const std::vector<int64_t>& idx) {
  std::vector<std::string> out;
  for (int64_t i : idx) out.push_back(names[static_cast<size_t>(i)]);
  return out;
}

LogRegOptions lr_options(double C, int64_t max_iter) {
  LogRegOptions o;
  o.C = C;
  o.max_iter = static_cast<int>(std::min<int64_t>(max_iter, 1000000));
  return o;
}

}  // namespace

// ------------------------------------------------------------------------------------
// Shared helpers
// ------------------------------------------------------------------------------------

int64_t resolve_k(int64_t k, int64_t features, const std::string& component) {
  if (features < 1) throw Error(component + ": the feature set is empty; expected at least one FEATURE column");
  if (k == 0) return std::max<int64_t>(1, features / 2);
  if (k > features)
    throw Error(component + ": parameter 'k' is " + std::to_string(k) + " but the table has only " +
                std::to_string(features) + " FEATURE columns; expected k between 1 and " + std::to_string(features));
  return k;
}

Table keep_features(const TableView& t, const std::vector<std::string>& keep) {
  const std::set<std::string> keep_set(keep.begin(), keep.end());
  Table out(t.num_rows());
  for (uint32_t i = 0; i < t.num_columns(); ++i) {
    const ColumnView c = t.column(i);
    if (c.role() == MIEN_ROLE_FEATURE && !keep_set.count(c.name())) continue;
    if (c.dtype() == MIEN_DTYPE_F32) out.add_numbers(c.name(), c.role(), c.numbers());
    else out.add_copy(c);
  }
  if (t.raw()->meta_json && *t.raw()->meta_json) out.meta(t.meta());
  return out;
}

Table ranking_table(const std::vector<std::string>& names, const std::vector<double>& scores, int64_t selected_count) {
  const auto n = static_cast<int64_t>(names.size());
  std::vector<int64_t> rank(static_cast<size_t>(n)), sel(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    rank[static_cast<size_t>(i)] = i + 1;
    sel[static_cast<size_t>(i)] = i < selected_count ? 1 : 0;
  }
  Table t(n);
  t.add_strings("feature", MIEN_ROLE_ID, names);
  t.add_codes("rank", MIEN_ROLE_VALUE, rank);
  t.add_numbers("score", MIEN_ROLE_VALUE, scores);
  t.add_codes("selected", MIEN_ROLE_VALUE, sel);
  return t;
}

// ------------------------------------------------------------------------------------
// select.rfe
// ------------------------------------------------------------------------------------
ComponentInfo SelectRfe::info() {
  return ComponentInfo("select.rfe", 1, MIEN_KIND_TRANSFORM,
                       "Recursive feature elimination with an L2 multinomial logistic regression")
      .params(kK, kStep, kC, kMaxIter)
      .ports(kTable, kTableOut, kSelected, kRanking);
}

SelectRfe::SelectRfe(const Setup& s)
    : k_(kK.read(s.params())), step_(kStep.read(s.params())),
      opt_(lr_options(kC.read(s.params()), kMaxIter.read(s.params()))) {}

void SelectRfe::process(Context& ctx) {
  const Host& host = ctx.host();
  const TableView t = ctx.table(kTable);
  const Labelled d = read_labelled(t, "select.rfe");
  const int64_t k = resolve_k(k_, d.x.cols, "select.rfe");
  std::vector<double> mean, sd;
  column_stats(d.x, mean, sd);
  const Matrix xs = standardize(d.x, mean, sd);
  const RfeResult r = rfe(xs, d.y, d.classes, k, step_, opt_, [&](int64_t done, int64_t total) {
    host.check_cancelled();
    host.progress(static_cast<uint64_t>(done), static_cast<uint64_t>(total), "eliminating features");
  });
  // Rank: survivors by final importance, then the eliminated in reverse removal order.
  std::vector<int64_t> order = r.selected;
  std::vector<double> scores = r.selected_importance;
  for (size_t q = r.eliminated.size(); q-- > 0;) {
    order.push_back(r.eliminated[q]);
    scores.push_back(r.eliminated_importance[q]);
  }
  Json steps = Json::array();
  for (size_t q = 0; q < r.rounds.size(); ++q) {
    const RfeRound& rr = r.rounds[q];
    Json imp = Json::object();
    for (size_t j = 0; j < rr.active.size(); ++j) imp[d.names[static_cast<size_t>(rr.active[j])]] = rr.importance[j];
    steps.push_back({{"round", q + 1},
                     {"features", rr.active.size()},
                     {"importance", imp},
                     {"removed", names_json(d.names, rr.removed)},
                     {"loss", rr.loss},
                     {"iterations", rr.iterations}});
  }
  const std::vector<std::string> chosen = pick(d.names, r.selected);
  host.info("select.rfe: kept " + std::to_string(k) + " of " + std::to_string(d.x.cols) + " features in " +
            std::to_string(r.rounds.size()) + " rounds");
  ctx.set(kTableOut, keep_features(t, chosen));
  ctx.set(kSelected, Json{{"method", "rfe"},
                          {"k", k},
                          {"features", chosen},
                          {"scores", r.selected_importance},
                          {"score", "sum over classes of |coefficient| on standardised features"},
                          {"C", opt_.C},
                          {"step", step_},
                          {"rows", d.x.rows},
                          {"steps", steps}});
  ctx.set(kRanking, ranking_table(pick(d.names, order), scores, k));
}

// ------------------------------------------------------------------------------------
// select.sequential
// ------------------------------------------------------------------------------------
ComponentInfo SelectSequential::info() {
  return ComponentInfo("select.sequential", 1, MIEN_KIND_TRANSFORM,
                       "Forward or backward sequential feature selection by cross-validated logistic regression")
      .params(kK, kDirection, kCv, kGroup, kC, kMaxIter)
      .ports(kTable, kTableOut, kSelected, kRanking);
}

SelectSequential::SelectSequential(const Setup& s)
    : k_(kK.read(s.params())), cv_(kCv.read(s.params())), forward_(kDirection.read(s.params()) == "forward"),
      group_(kGroup.read(s.params())), opt_(lr_options(kC.read(s.params()), kMaxIter.read(s.params()))),
      seed_(s.seed()) {}

void SelectSequential::process(Context& ctx) {
  const Host& host = ctx.host();
  const TableView t = ctx.table(kTable);
  const Labelled d = read_labelled(t, "select.sequential");
  const int64_t p = d.x.cols;
  const int64_t k = resolve_k(k_, p, "select.sequential");
  std::vector<int64_t> groups;
  if (!group_.empty()) {
    auto gcol = t.find(group_);
    if (!gcol) {
      std::vector<std::string> names;
      for (uint32_t i = 0; i < t.num_columns(); ++i) names.emplace_back(t.column(i).name());
      throw Error("select.sequential: parameter 'group' names column '" + group_ + "', which the table lacks" +
                  did_you_mean(group_, names));
    }
    std::map<std::string, int64_t> ids;
    for (int64_t i : d.kept_rows) {
      const std::string g = gcol->text(i);
      auto it = ids.emplace(g, static_cast<int64_t>(ids.size())).first;
      groups.push_back(it->second);
    }
  }
  std::vector<int64_t> fold_of;
  try {
    fold_of = make_folds(d.y, groups, cv_, seed_);
  } catch (const std::invalid_argument& e) {
    throw Error("select.sequential: parameter 'cv' is " + std::to_string(cv_) + ", but " + e.what() +
                "; expected cv at most the number of " + (group_.empty() ? "samples" : "groups of '" + group_ + "'"));
  }
  const CrossValidator cvr(d.x, d.y, d.classes, fold_of, cv_);
  auto poll = [&] { host.check_cancelled(); };

  std::vector<int64_t> current;
  std::vector<bool> in(static_cast<size_t>(p), !forward_);
  if (!forward_) {
    current.resize(static_cast<size_t>(p));
    std::iota(current.begin(), current.end(), int64_t{0});
  }
  const int64_t rounds = forward_ ? k : p - k;
  std::vector<int64_t> changed;         // added (forward) or removed (backward), in order
  std::vector<double> changed_score;    // CV accuracy after that step
  std::vector<double> last_candidate(static_cast<size_t>(p), 0.0);
  Json steps = Json::array();
  for (int64_t round = 0; round < rounds; ++round) {
    host.progress(static_cast<uint64_t>(round), static_cast<uint64_t>(rounds),
                  forward_ ? "adding features" : "removing features");
    int64_t best = -1;
    double best_score = -1;
    Json cand = Json::object();
    for (int64_t j = 0; j < p; ++j) {
      if (in[static_cast<size_t>(j)] != !forward_) continue;  // forward: j not in; backward: j in
      host.check_cancelled();
      std::vector<int64_t> trial;
      if (forward_) {
        trial = current;
        trial.push_back(j);
        std::sort(trial.begin(), trial.end());
      } else {
        for (int64_t c : current)
          if (c != j) trial.push_back(c);
      }
      const double s = cvr.accuracy(trial, opt_, poll);
      last_candidate[static_cast<size_t>(j)] = s;
      cand[d.names[static_cast<size_t>(j)]] = s;
      if (s > best_score) {  // ties: the earlier feature
        best_score = s;
        best = j;
      }
    }
    in[static_cast<size_t>(best)] = forward_;
    if (forward_) {
      current.push_back(best);
      std::sort(current.begin(), current.end());
    } else {
      current.erase(std::find(current.begin(), current.end(), best));
    }
    changed.push_back(best);
    changed_score.push_back(best_score);
    steps.push_back({{"step", round + 1},
                     {forward_ ? "added" : "removed", d.names[static_cast<size_t>(best)]},
                     {"cv_accuracy", best_score},
                     {"candidates", cand}});
  }
  host.progress(static_cast<uint64_t>(rounds), static_cast<uint64_t>(rounds), "done");

  // Selected order: forward = order of addition; backward = table order of the survivors.
  std::vector<int64_t> selected, order;
  std::vector<double> scores;
  if (forward_) {
    selected = changed;
    order = changed;
    scores = changed_score;
    std::vector<int64_t> rest;
    for (int64_t j = 0; j < p; ++j)
      if (!in[static_cast<size_t>(j)]) rest.push_back(j);
    std::stable_sort(rest.begin(), rest.end(), [&](int64_t a, int64_t b) {
      return last_candidate[static_cast<size_t>(a)] > last_candidate[static_cast<size_t>(b)];
    });
    for (int64_t j : rest) {
      order.push_back(j);
      scores.push_back(rounds > 0 ? last_candidate[static_cast<size_t>(j)] : 0.0);
    }
  } else {
    selected = current;
    const double final_score = changed_score.empty() ? cvr.accuracy(current, opt_, poll) : changed_score.back();
    order = current;
    scores.assign(current.size(), final_score);
    for (size_t q = changed.size(); q-- > 0;) {
      order.push_back(changed[q]);
      scores.push_back(changed_score[q]);
    }
  }
  const std::vector<std::string> chosen = pick(d.names, selected);
  host.info(std::string("select.sequential: ") + (forward_ ? "forward" : "backward") + " selection kept " +
            std::to_string(k) + " of " + std::to_string(p) + " features" +
            (changed_score.empty() ? std::string() : ", CV accuracy " + std::to_string(changed_score.back())));
  ctx.set(kTableOut, keep_features(t, chosen));
  ctx.set(kSelected, Json{{"method", forward_ ? "sequential_forward" : "sequential_backward"},
                          {"k", k},
                          {"features", chosen},
                          {"cv", cv_},
                          {"group", group_},
                          {"C", opt_.C},
                          {"cv_accuracy", changed_score.empty() ? Json(nullptr) : Json(changed_score.back())},
                          {"steps", steps}});
  ctx.set(kRanking, ranking_table(pick(d.names, order), scores, k));
}

// ------------------------------------------------------------------------------------
// select.importance_topk
// ------------------------------------------------------------------------------------
ComponentInfo SelectImportanceTopK::info() {
  return ComponentInfo("select.importance_topk", 1, MIEN_KIND_TRANSFORM,
                       "Keeps the k features with the largest mean |attribution| (SHAP-based selection)")
      .params(kK, kClass)
      .ports(kTable, kAttributions, kTableOut, kSelected, kRanking);
}

SelectImportanceTopK::SelectImportanceTopK(const Setup& s) : k_(kK.read(s.params())), class_(kClass.read(s.params())) {}

void SelectImportanceTopK::process(Context& ctx) {
  const Host& host = ctx.host();
  const TableView t = ctx.table(kTable);
  const TableView a = ctx.table(kAttributions);
  const std::string who = "select.importance_topk";
  const std::vector<std::string> names = t.feature_names();
  const int64_t k = resolve_k(k_, static_cast<int64_t>(names.size()), who);
  const std::vector<std::string> attr_names = a.feature_names();
  if (attr_names.empty())
    throw Error(who + ": input 'attributions' has no FEATURE columns; expected one attribution column per feature "
                      "(plugins/CONVENTIONS.md)");
  std::vector<int64_t> rows;
  if (!class_.empty()) {
    auto ec = a.find("explained_class");
    if (!ec)
      throw Error(who + ": parameter 'class' is '" + class_ +
                  "' but input 'attributions' has no explained_class column; set class to \"\"");
    for (int64_t i = 0; i < a.num_rows(); ++i)
      if (ec->text(i) == class_) rows.push_back(i);
  } else {
    for (int64_t i = 0; i < a.num_rows(); ++i) rows.push_back(i);
  }
  if (rows.empty())
    throw Error(who + ": input 'attributions' has no rows" +
                (class_.empty() ? std::string() : " with explained_class '" + class_ + "'") +
                "; expected at least one explained sample");
  std::vector<double> score(names.size());
  for (size_t j = 0; j < names.size(); ++j) {
    auto col = a.find(names[j]);
    if (!col || col->role() != MIEN_ROLE_FEATURE)
      throw Error(who + ": feature '" + names[j] + "' of input 'table' has no FEATURE column in input 'attributions'" +
                  did_you_mean(names[j], attr_names) + "; expected attributions for every feature of the table");
    double s = 0;
    for (int64_t i : rows) {
      const double v = col->number(i);
      if (!std::isfinite(v))
        throw Error(who + ": attribution column '" + names[j] + "' holds a non-finite value in row " +
                    std::to_string(i) + "; expected finite numbers");
      s += std::fabs(v);
    }
    score[j] = s / static_cast<double>(rows.size());
  }
  host.check_cancelled();
  std::vector<int64_t> order(names.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t x, int64_t y) { return score[static_cast<size_t>(x)] > score[static_cast<size_t>(y)]; });
  std::vector<double> ordered_scores;
  for (int64_t j : order) ordered_scores.push_back(score[static_cast<size_t>(j)]);
  const std::vector<int64_t> top(order.begin(), order.begin() + k);
  const std::vector<std::string> chosen = pick(names, top);
  host.info(who + ": kept the " + std::to_string(k) + " of " + std::to_string(names.size()) +
            " features with the largest mean |attribution| over " + std::to_string(rows.size()) + " rows");
  ctx.set(kTableOut, keep_features(t, chosen));
  ctx.set(kSelected, Json{{"method", "importance_topk"},
                          {"k", k},
                          {"features", chosen},
                          {"scores", std::vector<double>(ordered_scores.begin(), ordered_scores.begin() + k)},
                          {"score", "mean |attribution|"},
                          {"class", class_},
                          {"rows", rows.size()}});
  ctx.set(kRanking, ranking_table(pick(names, order), ordered_scores, k));
}

// ------------------------------------------------------------------------------------
// select.columns
// ------------------------------------------------------------------------------------
ComponentInfo SelectColumns::info() {
  return ComponentInfo("select.columns", 1, MIEN_KIND_TRANSFORM,
                       "Keeps named FEATURE columns or a per-pose subset of the paper (S, HL, HR)")
      .params(kColumns, kSubset)
      .ports(kTable, kTableOut, kSelected, kRanking);
}

SelectColumns::SelectColumns(const Setup& s) : columns_(kColumns.read(s.params())), subset_(kSubset.read(s.params())) {
  if (columns_.empty() == subset_.empty())
    throw Error(columns_.empty() ? "select.columns: set parameter 'columns' (a list of feature names) or 'subset' "
                                   "(S, HL, HR or all)"
                                 : "select.columns: parameters 'columns' and 'subset' are both set; expected only one");
  std::set<std::string> seen;
  for (const auto& c : columns_)
    if (!seen.insert(c).second) throw Error("select.columns: parameter 'columns' names '" + c + "' twice");
}

void SelectColumns::process(Context& ctx) {
  const TableView t = ctx.table(kTable);
  const std::vector<std::string> names = t.feature_names();
  if (names.empty()) throw Error("select.columns: the feature set is empty; input 'table' has no FEATURE columns");
  std::vector<std::string> want = columns_;
  if (!subset_.empty()) {
    try {
      want = mien::face::feature_subset(subset_);
    } catch (const std::invalid_argument& e) {
      throw Error(std::string("select.columns: parameter 'subset': ") + e.what());
    }
  }
  const std::set<std::string> have(names.begin(), names.end());
  for (const auto& w : want)
    if (!have.count(w))
      throw Error("select.columns: " +
                  (subset_.empty() ? std::string("parameter 'columns' names '") + w + "'"
                                   : "subset '" + subset_ + "' needs feature '" + w + "'") +
                  ", which is not a FEATURE column of the table" + did_you_mean(w, names));
  std::vector<std::string> order = want;
  std::vector<double> scores(want.size(), 1.0);
  const std::set<std::string> wanted(want.begin(), want.end());
  for (const auto& n : names)
    if (!wanted.count(n)) {
      order.push_back(n);
      scores.push_back(0.0);
    }
  ctx.host().info("select.columns: kept " + std::to_string(want.size()) + " of " + std::to_string(names.size()) +
                  " features" + (subset_.empty() ? std::string() : " (subset " + subset_ + ")"));
  ctx.set(kTableOut, keep_features(t, want));
  ctx.set(kSelected, Json{{"method", "columns"}, {"k", want.size()}, {"features", want}, {"subset", subset_}});
  ctx.set(kRanking, ranking_table(order, scores, static_cast<int64_t>(want.size())));
}

}  // namespace mien::select
