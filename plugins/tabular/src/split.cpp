// split.holdout and split.group_kfold.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "components.hpp"
#include "table_access.hpp"

namespace mien::tabular {

namespace {

// Per-row class codes; -1 (unknown) rows form their own stratum.
std::vector<int64_t> label_codes(const TableView& t) {
  auto label = t.label();
  if (!label) return std::vector<int64_t>(static_cast<size_t>(t.num_rows()), 0);
  return label->codes();
}

// Splits `total` into parts proportional to `sizes` that sum to `total`: floors first,
// then the largest remainders (ties: the larger stratum, then the earlier one).
std::vector<size_t> apportion(const std::vector<size_t>& sizes, size_t total) {
  const size_t n = std::accumulate(sizes.begin(), sizes.end(), size_t{0});
  std::vector<size_t> out(sizes.size(), 0);
  if (n == 0) return out;
  std::vector<double> frac(sizes.size());
  size_t given = 0;
  for (size_t s = 0; s < sizes.size(); ++s) {
    const double ideal = static_cast<double>(total) * static_cast<double>(sizes[s]) / static_cast<double>(n);
    out[s] = std::min(sizes[s], static_cast<size_t>(std::floor(ideal)));
    frac[s] = ideal - static_cast<double>(out[s]);
    given += out[s];
  }
  std::vector<size_t> order(sizes.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (frac[a] != frac[b]) return frac[a] > frac[b];
    return sizes[a] > sizes[b];
  });
  for (size_t k = 0; given < total && k < order.size() * 2; ++k) {
    const size_t s = order[k % order.size()];
    if (out[s] < sizes[s]) {
      ++out[s];
      ++given;
    }
  }
  return out;
}

// The assignment table: the id column and one GROUP column.
Table assignment_strings(const TableView& t, const std::string& name, const std::vector<std::string>& values) {
  Table a(t.num_rows());
  a.add_strings(id_column_name(t), MIEN_ROLE_ID, row_ids(t));
  a.add_strings(name, MIEN_ROLE_GROUP, values);
  return a;
}

}  // namespace

// ------------------------------------------------------------------------------------
// split.holdout
// ------------------------------------------------------------------------------------
ComponentInfo SplitHoldout::info() {
  return ComponentInfo("split.holdout", 1, MIEN_KIND_TRANSFORM,
                       "Splits a table into train and test rows, stratified and group-aware")
      .params(kTestSize, kStratify, kGroup)
      .ports(kTable, kTrain, kTest, kAssignment);
}

SplitHoldout::SplitHoldout(const Setup& s)
    : test_size_(kTestSize.read(s.params())), stratify_(kStratify.read(s.params())),
      group_(kGroup.read(s.params())), seed_(s.seed()) {
  if (!(test_size_ > 0.0 && test_size_ < 1.0))
    throw Error("test_size must lie strictly between 0 and 1, not " + std::to_string(test_size_));
}

void SplitHoldout::process(Context& ctx) {
  const Host& host = ctx.host();
  const TableView t = ctx.table(kTable);
  const int64_t n = t.num_rows();
  if (n < 2) throw Error("split.holdout: the table has " + std::to_string(n) + " rows; at least 2 are needed");
  bool stratify = stratify_;
  if (stratify && !t.label()) {
    host.warn("split.holdout: the table has no LABEL column; splitting without stratification");
    stratify = false;
  }
  const std::vector<int64_t> codes = label_codes(t);

  // Units are rows, or groups (with their majority label).
  std::vector<size_t> unit_of_row(static_cast<size_t>(n));
  std::vector<int64_t> unit_label;
  size_t units = 0;
  if (group_.empty()) {
    units = static_cast<size_t>(n);
    std::iota(unit_of_row.begin(), unit_of_row.end(), size_t{0});
    unit_label = codes;
  } else {
    const ColumnView gcol = require_column(t, group_, "split.holdout", "group");
    Grouping g = group_rows(gcol, n);
    units = g.names.size();
    if (units < 2)
      throw Error("split.holdout: column '" + group_ + "' has only " + std::to_string(units) +
                  " distinct value; at least 2 groups are needed");
    unit_of_row = g.of_row;
    std::vector<std::map<int64_t, int64_t>> counts(units);
    for (int64_t i = 0; i < n; ++i) ++counts[unit_of_row[static_cast<size_t>(i)]][codes[static_cast<size_t>(i)]];
    unit_label.resize(units);
    for (size_t u = 0; u < units; ++u) {
      int64_t best = 0, best_n = -1;
      for (const auto& [code, cnt] : counts[u])  // ascending code: ties go to the smallest
        if (cnt > best_n) {
          best = code;
          best_n = cnt;
        }
      unit_label[u] = best;
    }
  }

  const size_t n_test = std::clamp<size_t>(static_cast<size_t>(std::llround(test_size_ * static_cast<double>(units))),
                                           1, units - 1);
  Rng rng(seed_);
  std::vector<bool> unit_test(units, false);
  if (stratify) {
    std::map<int64_t, std::vector<size_t>> strata;  // ascending code
    for (size_t u = 0; u < units; ++u) strata[unit_label[u]].push_back(u);
    std::vector<size_t> sizes;
    for (const auto& [code, members] : strata) sizes.push_back(members.size());
    const std::vector<size_t> take = apportion(sizes, n_test);
    size_t s = 0;
    for (auto& [code, members] : strata) {
      rng.shuffle(members);
      for (size_t k = 0; k < take[s]; ++k) unit_test[members[k]] = true;
      ++s;
    }
  } else {
    std::vector<size_t> order(units);
    std::iota(order.begin(), order.end(), size_t{0});
    rng.shuffle(order);
    for (size_t k = 0; k < n_test; ++k) unit_test[order[k]] = true;
  }

  host.check_cancelled();
  host.progress(units, units, "assigning rows");
  std::vector<int64_t> train_rows, test_rows;
  std::vector<std::string> side(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const bool test = unit_test[unit_of_row[static_cast<size_t>(i)]];
    (test ? test_rows : train_rows).push_back(i);
    side[static_cast<size_t>(i)] = test ? "test" : "train";
  }
  host.info("split.holdout: " + std::to_string(train_rows.size()) + " train rows, " +
            std::to_string(test_rows.size()) + " test rows" +
            (group_.empty() ? std::string() : " (" + std::to_string(units) + " groups of '" + group_ + "')"));
  ctx.set(kTrain, subset(t, train_rows));
  ctx.set(kTest, subset(t, test_rows));
  ctx.set(kAssignment, assignment_strings(t, "split", side));
}

// ------------------------------------------------------------------------------------
// split.group_kfold
// ------------------------------------------------------------------------------------
ComponentInfo SplitGroupKFold::info() {
  return ComponentInfo("split.group_kfold", 1, MIEN_KIND_TRANSFORM,
                       "K-fold cross-validation split that keeps groups together and balances labels")
      .params(kFolds, kFold, kGroup, kStratify, kSeed)
      .ports(kTable, kTrain, kTest, kAssignment);
}

SplitGroupKFold::SplitGroupKFold(const Setup& s)
    : folds_(kFolds.read(s.params())), fold_(kFold.read(s.params())), group_(kGroup.read(s.params())),
      stratify_(kStratify.read(s.params())) {
  const int64_t seed = kSeed.read(s.params());
  seed_ = seed >= 0 ? static_cast<uint64_t>(seed) : s.seed();
  if (folds_ < 2) throw Error("folds must be at least 2, not " + std::to_string(folds_));
  if (fold_ < 0 || fold_ >= folds_)
    throw Error("fold = " + std::to_string(fold_) + " but folds = " + std::to_string(folds_) +
                " (fold counts from 0 to folds-1)");
  if (group_.empty()) throw Error("group is empty; name the column whose groups must stay together");
}

std::vector<int64_t> SplitGroupKFold::assign_folds(const std::vector<std::vector<int64_t>>& counts, int64_t folds,
                                                   bool stratify, uint64_t seed) {
  const size_t G = counts.size();
  const size_t K = static_cast<size_t>(folds);
  const size_t C = G ? counts[0].size() : 0;
  std::vector<int64_t> size(G, 0);
  for (size_t g = 0; g < G; ++g) size[g] = std::accumulate(counts[g].begin(), counts[g].end(), int64_t{0});

  std::vector<size_t> order(G);
  std::iota(order.begin(), order.end(), size_t{0});
  Rng rng(seed);
  rng.shuffle(order);

  std::vector<int64_t> fold_of(G, -1);
  std::vector<std::vector<int64_t>> per_fold(K, std::vector<int64_t>(C, 0));
  std::vector<int64_t> fold_rows(K, 0);

  if (stratify && C > 1) {
    // scikit-learn's StratifiedGroupKFold: groups with the most uneven label counts
    // first; each goes to the fold that keeps the class shares most even.
    std::vector<int64_t> total(C, 0);
    for (size_t g = 0; g < G; ++g)
      for (size_t c = 0; c < C; ++c) total[c] += counts[g][c];
    std::vector<double> spread(G, 0.0);
    for (size_t g = 0; g < G; ++g) {
      double mean = 0;
      for (size_t c = 0; c < C; ++c) mean += static_cast<double>(counts[g][c]);
      mean /= static_cast<double>(C);
      double var = 0;
      for (size_t c = 0; c < C; ++c) var += (static_cast<double>(counts[g][c]) - mean) * (static_cast<double>(counts[g][c]) - mean);
      spread[g] = std::sqrt(var / static_cast<double>(C));
    }
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return spread[a] > spread[b]; });
    for (size_t g : order) {
      size_t best = 0;
      double best_eval = std::numeric_limits<double>::infinity();
      int64_t best_rows = std::numeric_limits<int64_t>::max();
      for (size_t f = 0; f < K; ++f) {
        // Mean over classes of the std over folds of each fold's share of the class.
        double eval = 0;
        size_t used = 0;
        for (size_t c = 0; c < C; ++c) {
          if (total[c] == 0) continue;
          double mean = 0, sq = 0;
          for (size_t h = 0; h < K; ++h) {
            const double share =
                static_cast<double>(per_fold[h][c] + (h == f ? counts[g][c] : 0)) / static_cast<double>(total[c]);
            mean += share;
            sq += share * share;
          }
          mean /= static_cast<double>(K);
          eval += std::sqrt(std::max(0.0, sq / static_cast<double>(K) - mean * mean));
          ++used;
        }
        if (used) eval /= static_cast<double>(used);
        // As numpy.isclose(eval, best_eval): then the fold with fewer rows wins.
        const bool close = std::isfinite(best_eval) && std::fabs(eval - best_eval) <= 1e-8 + 1e-5 * std::fabs(best_eval);
        if (eval < best_eval || (close && fold_rows[f] < best_rows)) {
          best = f;
          best_eval = eval;
          best_rows = fold_rows[f];
        }
      }
      fold_of[g] = static_cast<int64_t>(best);
      fold_rows[best] += size[g];
      for (size_t c = 0; c < C; ++c) per_fold[best][c] += counts[g][c];
    }
  } else {
    // Largest groups first, each into the fold with the fewest rows (ties: lowest index).
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return size[a] > size[b]; });
    for (size_t g : order) {
      const size_t best = static_cast<size_t>(std::min_element(fold_rows.begin(), fold_rows.end()) - fold_rows.begin());
      fold_of[g] = static_cast<int64_t>(best);
      fold_rows[best] += size[g];
    }
  }

  // Never leave a fold without groups: move the smallest group of the fold with the
  // most groups into it.
  for (;;) {
    std::vector<size_t> groups_in(K, 0);
    for (size_t g = 0; g < G; ++g) ++groups_in[static_cast<size_t>(fold_of[g])];
    const size_t empty = static_cast<size_t>(std::find(groups_in.begin(), groups_in.end(), size_t{0}) - groups_in.begin());
    if (empty == K) break;
    const size_t fullest = static_cast<size_t>(std::max_element(groups_in.begin(), groups_in.end()) - groups_in.begin());
    size_t pick = G;
    for (size_t g : order)
      if (static_cast<size_t>(fold_of[g]) == fullest && (pick == G || size[g] < size[pick])) pick = g;
    fold_of[pick] = static_cast<int64_t>(empty);
  }
  return fold_of;
}

void SplitGroupKFold::process(Context& ctx) {
  const Host& host = ctx.host();
  const TableView t = ctx.table(kTable);
  const int64_t n = t.num_rows();
  const ColumnView gcol = require_column(t, group_, "split.group_kfold", "group");
  const Grouping g = group_rows(gcol, n);
  const size_t G = g.names.size();
  if (static_cast<int64_t>(G) < folds_)
    throw Error("split.group_kfold: " + std::to_string(G) + (G == 1 ? " group" : " groups") + " in column '" +
                group_ + "' but folds = " + std::to_string(folds_));
  bool stratify = stratify_;
  auto label = t.label();
  if (stratify && !label) {
    host.warn("split.group_kfold: the table has no LABEL column; folds are balanced by size only");
    stratify = false;
  }
  // Class index per row: codes 0..K-1, unknown (-1) last.
  size_t C = 1;
  std::vector<size_t> cls(static_cast<size_t>(n), 0);
  if (label) {
    const size_t k = label->categories().size();
    const auto codes = label->codes();
    int64_t max_code = -1;
    for (int64_t c : codes) max_code = std::max(max_code, c);
    const size_t known = std::max(k, static_cast<size_t>(max_code + 1));
    C = known + 1;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t c = codes[static_cast<size_t>(i)];
      cls[static_cast<size_t>(i)] = c < 0 ? known : static_cast<size_t>(c);
    }
  }
  std::vector<std::vector<int64_t>> counts(G, std::vector<int64_t>(C, 0));
  for (int64_t i = 0; i < n; ++i) ++counts[g.of_row[static_cast<size_t>(i)]][cls[static_cast<size_t>(i)]];
  host.check_cancelled();
  const std::vector<int64_t> fold_of = assign_folds(counts, folds_, stratify, seed_);
  host.progress(G, G, "assigning groups to folds");

  std::vector<int64_t> train_rows, test_rows, fold_col(static_cast<size_t>(n));
  std::vector<int64_t> fold_rows(static_cast<size_t>(folds_), 0);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t f = fold_of[g.of_row[static_cast<size_t>(i)]];
    fold_col[static_cast<size_t>(i)] = f;
    ++fold_rows[static_cast<size_t>(f)];
    (f == fold_ ? test_rows : train_rows).push_back(i);
  }
  std::string sizes;
  for (size_t f = 0; f < fold_rows.size(); ++f) sizes += (f ? ", " : "") + std::to_string(fold_rows[f]);
  host.info("split.group_kfold: " + std::to_string(G) + " groups of '" + group_ + "' in " + std::to_string(folds_) +
            " folds of " + sizes + " rows; fold " + std::to_string(fold_) + " is the test part");
  Table a(n);
  a.add_strings(id_column_name(t), MIEN_ROLE_ID, row_ids(t));
  // int64 fold index with categories "0".."k-1", so it also reads as text (a GROUP value).
  std::vector<std::string> fold_names;
  for (int64_t f = 0; f < folds_; ++f) fold_names.push_back(std::to_string(f));
  a.add_codes("fold", MIEN_ROLE_GROUP, fold_col, fold_names);
  ctx.set(kTrain, subset(t, train_rows));
  ctx.set(kTest, subset(t, test_rows));
  ctx.set(kAssignment, std::move(a));
}

}  // namespace mien::tabular
