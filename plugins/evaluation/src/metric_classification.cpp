// metric.classification: accuracy, balanced accuracy, per-class scores, confusion and
// bootstrap confidence intervals over one or more concatenated prediction tables.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <random>

#include <mien/random.hpp>  // mien::Rng: portable seeded draws
#include <mien/text.hpp>
#include <mien_stats/correlation.hpp>

#include "components.hpp"

namespace mien::evaluation {

namespace {

constexpr const char* kId = "metric.classification";


using mien::stats::quantile;  // numpy's default percentile

// The classes a prediction table was made with: its meta "classes", else its p_<class> columns.
std::vector<std::string> table_classes(const TableView& t, size_t index) {
  const Json meta = t.meta();
  std::vector<std::string> out;
  if (meta.contains("classes") && meta.at("classes").is_array()) {
    for (const auto& c : meta.at("classes"))
      if (c.is_string()) out.push_back(c.get<std::string>());
  } else {
    for (uint32_t i = 0; i < t.num_columns(); ++i) {
      const std::string name = t.column(i).name();
      if (name.rfind("p_", 0) == 0 && name.size() > 2) out.push_back(name.substr(2));
    }
  }
  if (out.empty())
    throw Error(std::string(kId) + ": predictions #" + std::to_string(index + 1) +
                " names no classes (no meta \"classes\" and no p_<class> columns); make it with eval.predict");
  return out;
}

struct Row {
  int64_t truth, pred;
  size_t group;
};

}  // namespace

ComponentInfo MetricClassification::info() {
  return ComponentInfo(kId, 2, MIEN_KIND_METRIC,
                       "Accuracy, balanced accuracy, per-class F1, confusion and bootstrap CIs of prediction tables")
      .params(kGroupBy, kBootstrap, kConfidence, kArm)
      .ports(kPredictions, kMetrics, kConfusion);
}

MetricClassification::MetricClassification(const Setup& s)
    : group_by_(kGroupBy.read(s.params())),
      arm_(kArm.read(s.params())),
      bootstrap_(kBootstrap.read(s.params())),
      confidence_(kConfidence.read(s.params())),
      seed_(s.seed()) {
  if (bootstrap_ < 0) throw Error(std::string(kId) + ": parameter 'bootstrap' must be >= 0");
  if (!(confidence_ > 0 && confidence_ < 1))
    throw Error(std::string(kId) + ": parameter 'confidence' must be in (0, 1), got " + std::to_string(confidence_));
}

MetricClassification::Scores MetricClassification::score(const std::vector<int64_t>& truth,
                                                          const std::vector<int64_t>& pred, size_t classes) {
  Scores s;
  s.n = static_cast<int64_t>(truth.size());
  s.confusion.assign(classes, std::vector<int64_t>(classes, 0));
  for (size_t i = 0; i < truth.size(); ++i) ++s.confusion[static_cast<size_t>(truth[i])][static_cast<size_t>(pred[i])];
  s.support.assign(classes, 0);
  s.predicted.assign(classes, 0);
  int64_t correct = 0;
  for (size_t a = 0; a < classes; ++a) {
    correct += s.confusion[a][a];
    for (size_t b = 0; b < classes; ++b) {
      s.support[a] += s.confusion[a][b];
      s.predicted[b] += s.confusion[a][b];
    }
  }
  s.accuracy = s.n > 0 ? static_cast<double>(correct) / static_cast<double>(s.n) : 0.0;
  s.precision.assign(classes, 0.0);
  s.recall.assign(classes, 0.0);
  s.f1.assign(classes, 0.0);
  double recall_sum = 0, p_sum = 0, r_sum = 0, f_sum = 0, wf_sum = 0;
  int64_t with_support = 0, in_use = 0;
  for (size_t k = 0; k < classes; ++k) {
    const auto tp = static_cast<double>(s.confusion[k][k]);
    if (s.predicted[k] > 0) s.precision[k] = tp / static_cast<double>(s.predicted[k]);
    if (s.support[k] > 0) s.recall[k] = tp / static_cast<double>(s.support[k]);
    if (s.precision[k] + s.recall[k] > 0) s.f1[k] = 2 * s.precision[k] * s.recall[k] / (s.precision[k] + s.recall[k]);
    if (s.support[k] > 0) {
      ++with_support;
      recall_sum += s.recall[k];
      wf_sum += s.f1[k] * static_cast<double>(s.support[k]);
    }
    // Macro averages over the classes that occur in the labels or the predictions (as scikit-learn).
    if (s.support[k] > 0 || s.predicted[k] > 0) {
      ++in_use;
      p_sum += s.precision[k];
      r_sum += s.recall[k];
      f_sum += s.f1[k];
    }
  }
  s.balanced_accuracy = with_support > 0 ? recall_sum / static_cast<double>(with_support) : 0.0;
  s.macro_precision = in_use > 0 ? p_sum / static_cast<double>(in_use) : 0.0;
  s.macro_recall = in_use > 0 ? r_sum / static_cast<double>(in_use) : 0.0;
  s.macro_f1 = in_use > 0 ? f_sum / static_cast<double>(in_use) : 0.0;
  s.weighted_f1 = s.n > 0 ? wf_sum / static_cast<double>(s.n) : 0.0;
  return s;
}

namespace {

// Every labelled row of every prediction table, with the class and group vocabularies in
// order of first appearance, and what each table says about itself.
struct Gathered {
  std::vector<std::string> classes;
  std::vector<std::string> group_names;
  std::vector<Row> rows;
  Json inputs = Json::array();
  int64_t unlabelled = 0;
};

Gathered gather_rows(Context& ctx, const Input& port, const std::string& group_by) {
  Gathered g;
  std::map<std::string, size_t> group_index;
  auto class_index = [&](const std::string& name) {
    auto it = std::find(g.classes.begin(), g.classes.end(), name);
    if (it != g.classes.end()) return static_cast<int64_t>(it - g.classes.begin());
    g.classes.push_back(name);
    return static_cast<int64_t>(g.classes.size() - 1);
  };
  const uint32_t count = ctx.count(port);
  for (uint32_t t = 0; t < count; ++t) {
    ctx.host().check_cancelled();
    const TableView table = ctx.table(port, t);
    const std::string which = "predictions #" + std::to_string(t + 1);
    const std::vector<std::string> model_classes = table_classes(table, t);
    for (const auto& c : model_classes) class_index(c);
    const auto label = table.label();
    if (!label) throw Error(std::string(kId) + ": " + which + " has no LABEL column (the true classes)");
    const auto predicted = table.find("predicted");
    if (!predicted) throw Error(std::string(kId) + ": " + which + " has no 'predicted' column; make it with eval.predict");
    std::optional<ColumnView> group;
    if (!group_by.empty()) {
      group = table.find(group_by);
      if (!group) {
        std::vector<std::string> names;
        for (uint32_t i = 0; i < table.num_columns(); ++i) names.emplace_back(table.column(i).name());
        throw Error(std::string(kId) + ": parameter 'group_by': " + which + " has no column '" + group_by +
                    "' (columns: " + join(names) + ")");
      }
    }
    int64_t n = 0, correct = 0;
    for (int64_t i = 0; i < table.num_rows(); ++i) {
      if (label->code(i) < 0) {
        ++g.unlabelled;
        continue;
      }
      const std::string truth = label->text(i);
      if (std::find(model_classes.begin(), model_classes.end(), truth) == model_classes.end())
        throw Error(std::string(kId) + ": class '" + truth + "' appears in the labels of " + which +
                    " but is not among the model's classes (" + join(model_classes) + ")");
      const std::string pred = predicted->text(i);
      if (std::find(model_classes.begin(), model_classes.end(), pred) == model_classes.end())
        throw Error(std::string(kId) + ": " + which + " row " + std::to_string(i + 1) + " predicts '" + pred +
                    "', which is not among its classes (" + join(model_classes) + ")");
      Row r{class_index(truth), class_index(pred), 0};
      if (group) {
        const std::string gv = group->text(i);
        auto it = group_index.find(gv);
        if (it == group_index.end()) {
          it = group_index.emplace(gv, g.group_names.size()).first;
          g.group_names.push_back(gv);
        }
        r.group = it->second;
      }
      ++n;
      correct += r.truth == r.pred ? 1 : 0;
      g.rows.push_back(r);
    }
    const Json meta = table.meta();
    Json in{{"index", t},
            {"rows", n},
            {"accuracy", n > 0 ? Json(static_cast<double>(correct) / static_cast<double>(n)) : Json()}};
    for (const char* key : {"model", "input", "mode", "best_epoch", "epochs_run"})
      if (meta.is_object() && meta.contains(key)) in[key] = meta[key];
    g.inputs.push_back(std::move(in));
  }
  return g;
}

// The metrics JSON of one scope's scores: per class, confusion (counts and row-normalised).
Json scores_json(const MetricClassification::Scores& s, const std::vector<std::string>& classes) {
  const size_t C = classes.size();
  Json per_class = Json::object();
  Json counts = Json::array(), normalized = Json::array();
  for (size_t k = 0; k < C; ++k) {
    per_class[classes[k]] = {{"precision", s.precision[k]},
                             {"recall", s.recall[k]},
                             {"f1", s.f1[k]},
                             {"support", s.support[k]},
                             {"predicted", s.predicted[k]}};
    counts.push_back(s.confusion[k]);
    Json row = Json::array();
    for (size_t b = 0; b < C; ++b)
      row.push_back(s.support[k] > 0 ? static_cast<double>(s.confusion[k][b]) / static_cast<double>(s.support[k]) : 0.0);
    normalized.push_back(row);
  }
  return {{"n", s.n},
          {"accuracy", s.accuracy},
          {"balanced_accuracy", s.balanced_accuracy},
          {"macro_precision", s.macro_precision},
          {"macro_recall", s.macro_recall},
          {"macro_f1", s.macro_f1},
          {"weighted_f1", s.weighted_f1},
          {"per_class", per_class},
          {"confusion", {{"classes", classes}, {"counts", counts}, {"normalized", normalized}}}};
}

// Mean and sample SD of the input tables' own accuracies (one per fold or per pose model),
// shown beside the pooled figure.
Json per_table_accuracy(const Json& inputs) {
  std::vector<double> acc;
  for (const auto& in : inputs)
    if (in["accuracy"].is_number()) acc.push_back(in["accuracy"].get<double>());
  double mean = 0, ss = 0;
  for (double a : acc) mean += a;
  mean /= static_cast<double>(std::max<size_t>(1, acc.size()));
  for (double a : acc) ss += (a - mean) * (a - mean);
  return {{"tables", acc.size()},
          {"mean", acc.empty() ? Json() : Json(mean)},
          {"sd", acc.size() > 1 ? Json(std::sqrt(ss / static_cast<double>(acc.size() - 1))) : Json()},
          {"values", acc}};
}

// The models that made the predictions (eval.predict's meta), so a comparison can name the arm.
std::vector<std::string> models_of(const Json& inputs) {
  std::vector<std::string> models;
  for (const auto& in : inputs)
    if (in.contains("model") && in["model"].is_string() &&
        std::find(models.begin(), models.end(), in["model"].get<std::string>()) == models.end())
      models.push_back(in["model"].get<std::string>());
  return models;
}

// One row per (scope, true class): support and the counts predicted as each class.
Table confusion_table(const std::vector<std::string>& scope_names,
                      const std::vector<MetricClassification::Scores>& scope_scores,
                      const std::vector<std::string>& classes) {
  const size_t C = classes.size();
  std::vector<std::string> scope_col, true_col;
  std::vector<int64_t> support_col;
  std::vector<std::vector<int64_t>> pred_cols(C);
  for (size_t s = 0; s < scope_scores.size(); ++s) {
    for (size_t k = 0; k < C; ++k) {
      scope_col.push_back(scope_names[s]);
      true_col.push_back(classes[k]);
      support_col.push_back(scope_scores[s].support[k]);
      for (size_t b = 0; b < C; ++b) pred_cols[b].push_back(scope_scores[s].confusion[k][b]);
    }
  }
  Table confusion(static_cast<int64_t>(scope_col.size()));
  confusion.add_strings("group", MIEN_ROLE_GROUP, std::move(scope_col));
  confusion.add_strings("true_class", MIEN_ROLE_VALUE, std::move(true_col));
  confusion.add_codes("support", MIEN_ROLE_VALUE, std::move(support_col));
  for (size_t b = 0; b < C; ++b) confusion.add_codes("pred_" + classes[b], MIEN_ROLE_VALUE, std::move(pred_cols[b]));
  return confusion;
}

// The scores of `subset` of the rows, with `bootstrap` percentile-bootstrap intervals drawn
// from `rng` (the scopes are evaluated in a fixed order, so they always draw the same numbers).
std::pair<Json, MetricClassification::Scores> evaluate_scope(const std::vector<Row>& rows,
                                                             const std::vector<size_t>& subset,
                                                             const std::vector<std::string>& classes,
                                                             int64_t bootstrap_, double confidence_, Rng& rng,
                                                             const Host& host) {
  using Scores = MetricClassification::Scores;
  const auto score = &MetricClassification::score;
  const size_t C = classes.size();
  std::vector<int64_t> truth, pred;
  for (size_t i : subset) {
    truth.push_back(rows[i].truth);
    pred.push_back(rows[i].pred);
  }
  const Scores s = score(truth, pred, C);
  Json j = scores_json(s, classes);
  if (bootstrap_ <= 0) {
    j["bootstrap"] = nullptr;
    return {j, s};
  }
  const double alpha = (1.0 - confidence_) / 2.0;
  std::vector<double> acc, bal;
  acc.reserve(static_cast<size_t>(bootstrap_));
  bal.reserve(static_cast<size_t>(bootstrap_));
  std::vector<int64_t> bt(subset.size()), bp(subset.size());
  for (int64_t b = 0; b < bootstrap_; ++b) {
    if (b % 64 == 0) host.check_cancelled();
    for (size_t i = 0; i < subset.size(); ++i) {
      const size_t pick = static_cast<size_t>(rng.below(subset.size()));
      bt[i] = truth[pick];
      bp[i] = pred[pick];
    }
    const Scores r = score(bt, bp, C);
    acc.push_back(r.accuracy);
    bal.push_back(r.balanced_accuracy);
  }
  j["bootstrap"] = {{"samples", bootstrap_},
                    {"confidence", confidence_},
                    {"method", "percentile"},
                    {"accuracy", {{"low", quantile(acc, alpha)}, {"high", quantile(acc, 1 - alpha)}}},
                    {"balanced_accuracy", {{"low", quantile(bal, alpha)}, {"high", quantile(bal, 1 - alpha)}}}};
  return {j, s};
}

}  // namespace

// Gather the labelled rows of every table; score them all, then each group; write the
// metrics and the confusion table.
void MetricClassification::process(Context& ctx) {
  const Host& host = ctx.host();
  const uint32_t count = ctx.count(kPredictions);
  if (count == 0) throw Error(std::string(kId) + ": no prediction table is connected");
  const Gathered g = gather_rows(ctx, kPredictions, group_by_);
  if (g.rows.empty()) throw Error(std::string(kId) + ": the predictions have no labelled rows");
  if (g.unlabelled > 0)
    host.warn(std::string(kId) + ": " + std::to_string(g.unlabelled) + " row(s) without a label are skipped");

  Rng rng(seed_);
  std::vector<size_t> all(g.rows.size());
  for (size_t i = 0; i < g.rows.size(); ++i) all[i] = i;
  auto [metrics, overall] = evaluate_scope(g.rows, all, g.classes, bootstrap_, confidence_, rng, host);
  Json result = {{"metric", "classification"}, {"classes", g.classes}};
  result.update(metrics);
  result["inputs"] = g.inputs;
  if (!arm_.empty()) result["arm"] = arm_;
  result["models"] = models_of(g.inputs);
  if (count > 1) result["per_table_accuracy"] = per_table_accuracy(g.inputs);
  result["unlabelled_rows"] = g.unlabelled;
  result["seed"] = seed_;

  std::vector<std::string> scope_names = {"all"};
  std::vector<Scores> scope_scores = {overall};
  if (!group_by_.empty()) {
    result["group_by"] = group_by_;
    result["group_order"] = g.group_names;
    Json groups = Json::object();
    for (size_t gi = 0; gi < g.group_names.size(); ++gi) {
      std::vector<size_t> subset;
      for (size_t i = 0; i < g.rows.size(); ++i)
        if (g.rows[i].group == gi) subset.push_back(i);
      auto [gj, gs] = evaluate_scope(g.rows, subset, g.classes, bootstrap_, confidence_, rng, host);
      groups[g.group_names[gi]] = gj;
      scope_names.push_back(g.group_names[gi]);
      scope_scores.push_back(gs);
    }
    result["groups"] = groups;
  }

  char buf[160];
  std::snprintf(buf, sizeof buf, "%s: %lld rows from %u table(s): accuracy %.4f, balanced accuracy %.4f", kId,
                static_cast<long long>(overall.n), count, overall.accuracy, overall.balanced_accuracy);
  host.info((arm_.empty() ? std::string() : arm_ + ": ") + buf);
  ctx.set(kMetrics, result);
  ctx.set(kConfusion, confusion_table(scope_names, scope_scores, g.classes));
}

}  // namespace mien::evaluation
