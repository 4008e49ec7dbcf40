// tune.hyperband.
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "components.hpp"
#include "hyperband.hpp"
#include "mlp_trainer.hpp"
// The logistic regression and RFE of plugins/lib/logreg (shared with select.rfe).
#include <mien_logreg/labelled_matrix.hpp>
#include <mien_logreg/logreg.hpp>

namespace mien::tune {

namespace {

uint64_t splitmix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

struct TrialRow {
  int64_t iteration, bracket, rung, trial, features, epochs;
  MlpConfig config;
  double val_accuracy;
  int64_t promoted = 0;
};

// Standardised float32 data on the given columns.
Data make_data(const logreg::Matrix& xs, const std::vector<int64_t>& y, const std::vector<int64_t>& cols) {
  Data d;
  d.rows = xs.rows;
  d.cols = static_cast<int64_t>(cols.size());
  d.x.resize(static_cast<size_t>(d.rows * d.cols));
  for (int64_t i = 0; i < d.rows; ++i)
    for (size_t j = 0; j < cols.size(); ++j) d.x[static_cast<size_t>(i * d.cols) + j] = static_cast<float>(xs.at(i, cols[j]));
  d.y = y;
  return d;
}

// The rows `sel` of `m` (and of `y`).
logreg::Matrix take_rows(const logreg::Matrix& m, const std::vector<int64_t>& sel) {
  logreg::Matrix out;
  out.rows = static_cast<int64_t>(sel.size());
  out.cols = m.cols;
  out.v.reserve(sel.size() * static_cast<size_t>(m.cols));
  for (int64_t i : sel)
    out.v.insert(out.v.end(), m.v.begin() + i * m.cols, m.v.begin() + (i + 1) * m.cols);
  return out;
}
std::vector<int64_t> take_labels(const std::vector<int64_t>& y, const std::vector<int64_t>& sel) {
  std::vector<int64_t> out;
  for (int64_t i : sel) out.push_back(y[static_cast<size_t>(i)]);
  return out;
}

}  // namespace

ComponentInfo TuneHyperband::info() {
  return ComponentInfo("tune.hyperband", 1, MIEN_KIND_TRANSFORM,
                       "Hyperband search over the paper's MLP space (and feature-subset sizes) by validation accuracy")
      .params(kMaxEpochs, kEta, kIterations, kBudget, kSubsetSizes, kBatchSize, kSeed, kValidationSplit,
              kValidationGroup)
      .ports(kTrain, kValidation, kTrials, kBest, kBestFeatures, kSummary);
}

TuneHyperband::TuneHyperband(const Setup& s)
    : R_(kMaxEpochs.read(s.params())), eta_(kEta.read(s.params())), iterations_(kIterations.read(s.params())),
      budget_(kBudget.read(s.params())), batch_size_(kBatchSize.read(s.params())),
      validation_split_(kValidationSplit.read(s.params())), validation_group_(kValidationGroup.read(s.params())),
      sizes_(kSubsetSizes.read(s.params())), threads_(s.num_threads()) {
  const int64_t seed = kSeed.read(s.params());
  seed_ = seed >= 0 ? static_cast<uint64_t>(seed) : s.seed();
  for (int64_t k : sizes_)
    if (k < 1)
      throw Error("tune.hyperband: parameter 'feature_subset_sizes' holds " + std::to_string(k) +
                  "; expected sizes of at least 1");
}

void TuneHyperband::process(Context& ctx) {
  const Host& host = ctx.host();
  const std::string who = "tune.hyperband";
  const TableView tt = ctx.table(kTrain);
  logreg::Labelled tr = logreg::read_labelled(tt, who);
  const int64_t p = tr.x.cols;
  logreg::Matrix vx;
  std::vector<int64_t> vy;
  std::string group_column;  // "" = rows
  std::vector<std::string> validation_people;
  const bool val_connected = ctx.connected(kValidation);
  if (val_connected) {
    const TableView vt = ctx.table(kValidation);
    // Validation: the same feature names (any order) and class names.
    const auto vlabel = vt.label();
    if (!vlabel) throw Error(who + ": input 'validation' has no LABEL column; expected labelled validation rows");
    const auto tcats = tt.label()->categories();
    const auto vcats = vlabel->categories();
    std::vector<int64_t> vmap;  // validation code -> train code
    for (size_t c = 0; c < vcats.size(); ++c) {
      auto it = std::find(tcats.begin(), tcats.end(), vcats[c]);
      if (it == tcats.end() && !tcats.empty())
        throw Error(who + ": class '" + vcats[c] + "' of input 'validation' is not a class of input 'train'");
      vmap.push_back(tcats.empty() ? static_cast<int64_t>(c) : it - tcats.begin());
    }
    {
      std::vector<ColumnView> cols;
      for (const auto& n : tr.names) {
        auto c = vt.find(n);
        if (!c || c->role() != MIEN_ROLE_FEATURE)
          throw Error(who + ": feature '" + n + "' of input 'train' is not a FEATURE column of input 'validation'");
        cols.push_back(*c);
      }
      const auto codes = vlabel->codes();
      std::vector<int64_t> keep;
      for (int64_t i = 0; i < vt.num_rows(); ++i)
        if (codes[static_cast<size_t>(i)] >= 0) keep.push_back(i);
      if (keep.empty()) throw Error(who + ": input 'validation' has no labelled rows");
      vx.rows = static_cast<int64_t>(keep.size());
      vx.cols = p;
      vx.v.resize(static_cast<size_t>(vx.rows * p));
      for (size_t r = 0; r < keep.size(); ++r) {
        const int64_t code = codes[static_cast<size_t>(keep[r])];
        vy.push_back(vcats.empty() || code >= static_cast<int64_t>(vmap.size()) ? code : vmap[static_cast<size_t>(code)]);
        for (int64_t j = 0; j < p; ++j) {
          const double v = cols[static_cast<size_t>(j)].number(keep[r]);
          if (!std::isfinite(v))
            throw Error(who + ": FEATURE column '" + tr.names[static_cast<size_t>(j)] +
                        "' of input 'validation' holds a non-finite value in row " + std::to_string(keep[r]));
          vx.v[r * static_cast<size_t>(p) + static_cast<size_t>(j)] = v;
        }
      }
    }
    // The same person on both sides makes the objective optimistic: say who.
    group_column = training::validation_group_column(tt, validation_group_, who);
    if (!group_column.empty() && vt.find(group_column)) {
      const ColumnView tg = *tt.find(group_column), vg = *vt.find(group_column);
      std::set<std::string> train_people, shared;
      for (int64_t r : tr.kept_rows) train_people.insert(tg.text(r));
      for (int64_t i = 0; i < vt.num_rows(); ++i)
        if (train_people.count(vg.text(i))) shared.insert(vg.text(i));
      if (!shared.empty())
        host.warn(who + ": " + std::to_string(shared.size()) + " person(s) (" + group_column +
                  ") are in both 'train' and 'validation' (e.g. " + *shared.begin() +
                  "); the validation accuracy then sees faces of training people");
    }
    group_column.clear();
  } else {
    // No validation table: hold out whole people of train (validation_group), else rows.
    if (!(validation_split_ > 0))
      throw Error(who + ": connect 'validation', or set 'validation_split' > 0 to hold out people of 'train'");
    group_column = training::validation_group_column(tt, validation_group_, who);
    std::vector<int64_t> fit, val;
    if (!group_column.empty()) {
      const ColumnView gcol = *tt.find(group_column);
      std::vector<std::string> group_of;
      for (int64_t r : tr.kept_rows) group_of.push_back(gcol.text(r));
      const training::GroupHoldOut h = training::hold_out_groups(group_of, validation_split_, seed_);
      if (h.val.empty())
        throw Error(who + ": 'train' shows " + std::to_string(h.groups) + " person (" + group_column +
                    "); validation by person needs two or more (connect 'validation' or set validation_group: rows)");
      fit = h.fit;
      val = h.val;
      validation_people = h.val_groups;
      host.info(who + ": " + training::describe_hold_out(h, group_column));
    } else {
      host.info(who + ": validation holds out rows (stratified by class), not people: " +
                (validation_group_ == "rows" ? std::string("validation_group is rows")
                                             : std::string("the table has no GROUP column 'subject'")) +
                ", so faces of training people can be in validation");
      // Each class's rows as their own groups: a seeded hold-out of round(fraction x n) of
      // them, at least one row of every class left in training.
      std::map<int64_t, std::vector<int64_t>> by_class;
      for (size_t i = 0; i < tr.y.size(); ++i) by_class[tr.y[i]].push_back(static_cast<int64_t>(i));
      for (const auto& [c, idx] : by_class) {
        std::vector<std::string> ids;
        for (int64_t i : idx) ids.push_back(std::to_string(i));
        const training::GroupHoldOut h = training::hold_out_groups(ids, validation_split_, seed_ + static_cast<uint64_t>(c));
        for (int64_t k : h.fit) fit.push_back(idx[static_cast<size_t>(k)]);
        for (int64_t k : h.val) val.push_back(idx[static_cast<size_t>(k)]);
      }
      std::sort(fit.begin(), fit.end());
      std::sort(val.begin(), val.end());
      if (val.empty()) throw Error(who + ": 'train' is too small to hold out validation rows; connect 'validation'");
    }
    vx = take_rows(tr.x, val);
    vy = take_labels(tr.y, val);
    tr.x = take_rows(tr.x, fit);
    tr.y = take_labels(tr.y, fit);
    tr.kept_rows = take_labels(tr.kept_rows, fit);
  }
  int64_t classes = tr.classes;
  for (int64_t c : vy) classes = std::max(classes, c + 1);
  for (int64_t k : sizes_)
    if (k > p)
      throw Error(who + ": parameter 'feature_subset_sizes' holds " + std::to_string(k) + " but input 'train' has " +
                  std::to_string(p) + " FEATURE columns; expected sizes between 1 and " + std::to_string(p));

  std::vector<double> mean, sd;
  logreg::column_stats(tr.x, mean, sd);
  const logreg::Matrix xs = logreg::standardize(tr.x, mean, sd);
  const logreg::Matrix vxs = logreg::standardize(vx, mean, sd);

  // Feature ranking (only when subset sizes are searched): RFE down to one feature.
  std::vector<int64_t> ranking(static_cast<size_t>(p));
  std::iota(ranking.begin(), ranking.end(), int64_t{0});
  if (!sizes_.empty()) {
    host.info(who + ": ranking " + std::to_string(p) + " features by logistic-regression RFE");
    const logreg::RfeResult r = logreg::rfe(xs, tr.y, classes, 1, 1, logreg::LogRegOptions{},
                                            [&](int64_t, int64_t) { host.check_cancelled(); });
    ranking = r.selected;
    for (size_t q = r.eliminated.size(); q-- > 0;) ranking.push_back(r.eliminated[q]);
  }
  std::map<int64_t, std::pair<Data, Data>> data;  // k -> (train, validation); 0 = all
  auto data_for = [&](int64_t k) -> const std::pair<Data, Data>& {
    auto it = data.find(k);
    if (it == data.end()) {
      std::vector<int64_t> cols(ranking.begin(), ranking.begin() + (k == 0 ? p : k));
      if (k == 0) std::sort(cols.begin(), cols.end());
      it = data.emplace(k, std::make_pair(make_data(xs, tr.y, cols), make_data(vxs, vy, cols))).first;
    }
    return it->second;
  };

  set_torch_threads(static_cast<int>(threads_));
  const std::vector<Bracket> schedule = hyperband_schedule(R_, eta_);
  int64_t per_iteration = 0;
  for (const auto& b : schedule) per_iteration += bracket_epochs(b);
  const int64_t planned = budget_ > 0 ? std::min(budget_, per_iteration * iterations_) : per_iteration * iterations_;
  Rng rng(splitmix(seed_ ^ 0x48797065724261ULL));
  std::vector<TrialRow> rows;
  int64_t used = 0, next_trial = 0;
  bool truncated = false;
  const auto poll = [&] { host.check_cancelled(); };

  for (int64_t iter = 0; iter < iterations_ && !truncated; ++iter) {
    for (const Bracket& br : schedule) {
      if (truncated) break;
      struct Live {
        int64_t trial;
        MlpConfig config;
        std::unique_ptr<MlpTrainer> net;
        double acc = 0;
        size_t row = 0;
      };
      std::vector<Live> live;
      for (int64_t c = 0; c < br.rungs.front().configs; ++c) {
        Live l;
        l.trial = next_trial++;
        l.config = sample_config(rng, sizes_);
        live.push_back(std::move(l));
      }
      int64_t prev_epochs = 0;
      for (size_t ri = 0; ri < br.rungs.size() && !truncated; ++ri) {
        const Rung& rung = br.rungs[ri];
        const int64_t more = rung.epochs - prev_epochs;
        std::vector<Live*> done;
        for (Live& l : live) {
          if (budget_ > 0 && used + more > budget_) {
            truncated = true;
            break;
          }
          host.check_cancelled();
          const auto& d = data_for(l.config.features);
          if (!l.net)
            l.net = std::make_unique<MlpTrainer>(l.config, d.first.cols, classes, batch_size_,
                                                 splitmix(seed_ + 0x1000193ULL * static_cast<uint64_t>(l.trial + 1)));
          l.net->train(d.first, more, poll);
          used += more;
          l.acc = l.net->accuracy(d.second);
          TrialRow row{iter, br.s, static_cast<int64_t>(ri), l.trial,
                       l.config.features == 0 ? p : l.config.features, rung.epochs, l.config, l.acc, 0};
          l.row = rows.size();
          rows.push_back(row);
          done.push_back(&l);
          host.progress(static_cast<uint64_t>(std::min(used, planned)), static_cast<uint64_t>(planned),
                        "training configurations");
        }
        prev_epochs = rung.epochs;
        if (ri + 1 == br.rungs.size() || truncated) break;
        // Keep the best configs_{i+1} (ties: the earlier trial).
        std::vector<size_t> order(live.size());
        std::iota(order.begin(), order.end(), size_t{0});
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return live[a].acc > live[b].acc; });
        const auto keep = static_cast<size_t>(std::min<int64_t>(br.rungs[ri + 1].configs, static_cast<int64_t>(live.size())));
        std::vector<Live> next;
        std::vector<size_t> kept(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep));
        std::sort(kept.begin(), kept.end());  // keep trial order
        for (size_t q : kept) {
          rows[live[q].row].promoted = 1;
          next.push_back(std::move(live[q]));
        }
        live = std::move(next);
      }
    }
  }
  if (rows.empty())
    throw Error(who + ": parameter 'budget' (" + std::to_string(budget_) +
                ") is too small for even one trial; expected at least the first rung's epochs");

  // The best row: highest validation accuracy; ties: more epochs, then the earlier row.
  size_t best = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].val_accuracy > rows[best].val_accuracy ||
        (rows[i].val_accuracy == rows[best].val_accuracy && rows[i].epochs > rows[best].epochs))
      best = i;
  }
  const TrialRow& b = rows[best];

  const auto n = static_cast<int64_t>(rows.size());
  std::vector<int64_t> c_iter, c_br, c_rung, c_trial, c_feat, c_layers, c_epochs, c_prom;
  std::vector<double> c_lr, c_acc;
  std::vector<std::string> c_hidden, c_drop, c_l2;
  for (const auto& r : rows) {
    c_iter.push_back(r.iteration);
    c_br.push_back(r.bracket);
    c_rung.push_back(r.rung);
    c_trial.push_back(r.trial);
    c_feat.push_back(r.features);
    c_layers.push_back(static_cast<int64_t>(r.config.hidden.size()));
    c_hidden.push_back(r.config.hidden_text());
    c_drop.push_back(r.config.dropout_text());
    c_l2.push_back(r.config.l2_text());
    c_lr.push_back(r.config.learning_rate);
    c_epochs.push_back(r.epochs);
    c_acc.push_back(r.val_accuracy);
    c_prom.push_back(r.promoted);
  }
  Table trials(n);
  trials.add_codes("iteration", MIEN_ROLE_VALUE, c_iter)
      .add_codes("bracket", MIEN_ROLE_VALUE, c_br)
      .add_codes("rung", MIEN_ROLE_VALUE, c_rung)
      .add_codes("trial", MIEN_ROLE_VALUE, c_trial)
      .add_codes("features", MIEN_ROLE_VALUE, c_feat)
      .add_codes("layers", MIEN_ROLE_VALUE, c_layers)
      .add_strings("hidden", MIEN_ROLE_VALUE, c_hidden)
      .add_strings("dropout", MIEN_ROLE_VALUE, c_drop)
      .add_strings("l2", MIEN_ROLE_VALUE, c_l2)
      .add_numbers("learning_rate", MIEN_ROLE_VALUE, c_lr)
      .add_codes("epochs", MIEN_ROLE_VALUE, c_epochs)
      .add_numbers("val_accuracy", MIEN_ROLE_VALUE, c_acc)
      .add_codes("promoted", MIEN_ROLE_VALUE, c_prom);

  const Json best_params = {{"hidden", b.config.hidden},   {"dropout", b.config.dropout},
                            {"l2", b.config.l2},           {"learning_rate", b.config.learning_rate},
                            {"epochs", b.epochs},          {"batch_size", batch_size_},
                            {"optimizer", "adam"}};
  std::vector<std::string> all_ranked, best_names;
  for (int64_t j : ranking) all_ranked.push_back(tr.names[static_cast<size_t>(j)]);
  if (b.config.features == 0) best_names = tr.names;
  else best_names.assign(all_ranked.begin(), all_ranked.begin() + b.config.features);
  Json best_features = {{"k", b.features}, {"features", best_names}, {"searched", !sizes_.empty()}};
  if (!sizes_.empty()) best_features["ranking"] = all_ranked;

  Json sched = Json::array();
  for (const auto& br : schedule) {
    Json rungs = Json::array();
    for (const auto& r : br.rungs) rungs.push_back({{"configs", r.configs}, {"epochs", r.epochs}});
    sched.push_back({{"bracket", br.s}, {"rungs", rungs}, {"epochs", bracket_epochs(br)}});
  }
  const Json summary = {{"max_epochs", R_},
                        {"eta", eta_},
                        {"iterations", iterations_},
                        {"budget", budget_},
                        {"schedule", sched},
                        {"epochs_per_iteration", per_iteration},
                        {"epochs_trained", used},
                        {"truncated_by_budget", truncated},
                        {"trials", next_trial},
                        {"best", {{"trial", b.trial},
                                  {"iteration", b.iteration},
                                  {"bracket", b.bracket},
                                  {"rung", b.rung},
                                  {"val_accuracy", b.val_accuracy},
                                  {"features", b.features},
                                  {"params", best_params}}},
                        {"feature_subset_sizes", sizes_},
                        {"train_rows", tr.x.rows},
                        {"validation_rows", vx.rows},
                        {"validation", val_connected ? "table" : "split"},
                        {"validation_group", val_connected ? Json() : group_column.empty() ? Json("rows") : Json(group_column)},
                        {"validation_people", validation_people},
                        {"seed", seed_}};
  host.info(who + ": " + std::to_string(next_trial) + " configurations, " + std::to_string(used) +
            " epochs; best validation accuracy " + std::to_string(b.val_accuracy) + " (trial " +
            std::to_string(b.trial) + ", hidden " + b.config.hidden_text() + ", " + std::to_string(b.epochs) +
            " epochs)" + (truncated ? "; stopped by the budget" : ""));
  ctx.set(kTrials, std::move(trials));
  ctx.set(kBest, best_params);
  ctx.set(kBestFeatures, best_features);
  ctx.set(kSummary, summary);
}

}  // namespace mien::tune
