// report.held_out_accuracy: the study's comparison of arms (geometric MLP, CNN zero-shot,
// CNN fine-tuned, ...) from their metric.classification outputs, as a table, Markdown and
// the headline `mien run` prints.
#include <cmath>
#include <cstdio>

#include "components.hpp"

namespace mien::evaluation {

namespace {

constexpr const char* kId = "report.held_out_accuracy";

std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

double number(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j.at(key).is_number() ? j.at(key).get<double>() : std::nan("");
}

// "0.62 [0.55, 0.69]" from one scope of metric.classification's JSON.
struct Scope {
  std::string scope;
  double n = 0, accuracy = NAN, low = NAN, high = NAN, balanced = NAN;
};

Scope read_scope(const std::string& name, const Json& j) {
  Scope s;
  s.scope = name;
  s.n = number(j, "n");
  s.accuracy = number(j, "accuracy");
  s.balanced = number(j, "balanced_accuracy");
  if (j.contains("bootstrap") && j["bootstrap"].is_object() && j["bootstrap"].contains("accuracy")) {
    s.low = number(j["bootstrap"]["accuracy"], "low");
    s.high = number(j["bootstrap"]["accuracy"], "high");
  }
  return s;
}

std::string with_ci(const Scope& s, int digits) {
  std::string v = fixed(s.accuracy, digits);
  if (std::isfinite(s.low)) v += " [" + fixed(s.low, digits) + ", " + fixed(s.high, digits) + "]";
  return v;
}

}  // namespace

ComponentInfo HeldOutAccuracy::info() {
  return ComponentInfo(kId, 1, MIEN_KIND_REPORT,
                       "The comparison of arms: accuracy with confidence interval per arm and pose, from "
                       "metric.classification outputs, as a table and the run's headline")
      .params(kNames, kTitle)
      .ports(kMetrics, kTable, kText, kHeadline);
}

HeldOutAccuracy::HeldOutAccuracy(const Setup& s) : names_(kNames.read(s.params())), title_(kTitle.read(s.params())) {}

void HeldOutAccuracy::process(Context& ctx) {
  const uint32_t count = ctx.count(kMetrics);
  if (count == 0) throw Error(std::string(kId) + ": no metrics are connected");
  if (!names_.empty() && names_.size() != count)
    throw Error(std::string(kId) + ": parameter 'names' has " + std::to_string(names_.size()) + " name(s) but " +
                std::to_string(count) + " metrics are connected to 'metrics'; give one name per metrics, in order");

  std::vector<std::string> arm_col, scope_col, models_col;
  std::vector<double> n_col, acc_col, low_col, high_col, bal_col, tables_col, mean_col, sd_col;
  Json rows = Json::array();
  std::string md = "| arm | scope | n | accuracy | " + std::string("CI") + " | balanced accuracy | per table (mean ± sd) |\n"
                   "|---|---|---:|---:|---|---:|---|\n";
  double confidence = NAN;

  for (uint32_t i = 0; i < count; ++i) {
    const Json j = ctx.json(kMetrics, i);
    if (!j.is_object() || j.value("metric", std::string()) != "classification")
      throw Error(std::string(kId) + ": metrics #" + std::to_string(i + 1) +
                  " is not a metric.classification output (connect e.g. accuracy.metrics)");
    std::string models;
    if (j.contains("models") && j["models"].is_array())
      for (const auto& m : j["models"]) models += (models.empty() ? "" : ", ") + m.get<std::string>();
    std::string arm = !names_.empty() ? names_[i] : j.value("arm", std::string());
    if (arm.empty()) arm = models.empty() ? "arm " + std::to_string(i + 1) : models;
    if (j.contains("bootstrap") && j["bootstrap"].is_object()) confidence = number(j["bootstrap"], "confidence");

    // Per input table (folds, pose models): mean ± sd beside the pooled figure.
    double tables = 1, mean = NAN, sd = NAN;
    std::string per_table;
    if (j.contains("per_table_accuracy") && j["per_table_accuracy"].is_object()) {
      const Json& pt = j["per_table_accuracy"];
      tables = number(pt, "tables");
      mean = number(pt, "mean");
      sd = number(pt, "sd");
      per_table = fixed(mean, 2) + " ± " + fixed(sd, 2) + " over " + fixed(tables, 0) + " tables";
    }
    // Fine-tuned models: the epoch kept (best on person-held-out validation).
    std::string epochs;
    if (j.contains("inputs") && j["inputs"].is_array())
      for (const auto& in : j["inputs"])
        if (in.contains("best_epoch") && in["best_epoch"].is_number())
          epochs += (epochs.empty() ? "" : ", ") + std::to_string(in["best_epoch"].get<int64_t>()) +
                    (in.contains("epochs_run") ? "/" + std::to_string(in["epochs_run"].get<int64_t>()) : "");

    std::vector<Scope> scopes = {read_scope("all", j)};
    if (j.contains("groups") && j["groups"].is_object()) {
      std::vector<std::string> order = j.value("group_order", std::vector<std::string>());
      for (const auto& g : order)
        if (j["groups"].contains(g)) scopes.push_back(read_scope(g, j["groups"][g]));
    }
    const std::string by = j.value("group_by", std::string("group"));
    for (size_t k = 0; k < scopes.size(); ++k) {
      const Scope& s = scopes[k];
      arm_col.push_back(arm);
      scope_col.push_back(s.scope);
      models_col.push_back(models);
      n_col.push_back(s.n);
      acc_col.push_back(s.accuracy);
      low_col.push_back(s.low);
      high_col.push_back(s.high);
      bal_col.push_back(s.balanced);
      tables_col.push_back(k == 0 ? tables : NAN);
      mean_col.push_back(k == 0 ? mean : NAN);
      sd_col.push_back(k == 0 ? sd : NAN);
      std::string value = with_ci(s, 2) + " (n = " + fixed(s.n, 0) + ")";
      if (k == 0 && !per_table.empty()) value += "; " + per_table;
      if (k == 0 && !epochs.empty()) value += "; best epoch " + epochs;
      const std::string label = k == 0 ? arm : arm + ", " + by + " " + s.scope;
      rows.push_back({{"label", label}, {"value", value}});
      md += "| " + arm + " | " + (k == 0 ? std::string("all") : by + " " + s.scope) + " | " + fixed(s.n, 0) + " | " +
            fixed(s.accuracy, 3) + " | " + (std::isfinite(s.low) ? "[" + fixed(s.low, 3) + ", " + fixed(s.high, 3) + "]" : "") +
            " | " + fixed(s.balanced, 3) + " | " + (k == 0 ? per_table : std::string()) + " |\n";
    }
  }

  const std::string ci = std::isfinite(confidence) ? fixed(100 * confidence, 0) + " % CI" : "CI";
  const std::string title = title_ + " (" + ci + ")";
  md = "### " + title + "\n\n" + md;
  Table t(static_cast<int64_t>(arm_col.size()));
  t.add_strings("arm", MIEN_ROLE_GROUP, std::move(arm_col));
  t.add_strings("scope", MIEN_ROLE_GROUP, std::move(scope_col));
  t.add_numbers("n", MIEN_ROLE_VALUE, std::move(n_col));
  t.add_numbers("accuracy", MIEN_ROLE_VALUE, std::move(acc_col));
  t.add_numbers("ci_low", MIEN_ROLE_VALUE, std::move(low_col));
  t.add_numbers("ci_high", MIEN_ROLE_VALUE, std::move(high_col));
  t.add_numbers("balanced_accuracy", MIEN_ROLE_VALUE, std::move(bal_col));
  t.add_numbers("tables", MIEN_ROLE_VALUE, std::move(tables_col));
  t.add_numbers("table_mean", MIEN_ROLE_VALUE, std::move(mean_col));
  t.add_numbers("table_sd", MIEN_ROLE_VALUE, std::move(sd_col));
  t.add_strings("models", MIEN_ROLE_VALUE, std::move(models_col));
  t.meta(Json{{"report", kId}, {"confidence", std::isfinite(confidence) ? Json(confidence) : Json()}});
  ctx.host().info(std::string(kId) + ": " + std::to_string(count) + " arm(s), " + std::to_string(rows.size()) +
                  " row(s); the table is in text.txt and the headline");
  ctx.set(kTable, std::move(t));
  ctx.set_text(kText, md);
  ctx.set(kHeadline, Json{{"title", title}, {"rows", rows}});
}

}  // namespace mien::evaluation
