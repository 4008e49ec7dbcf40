// mien C++ SDK: the attribution table an explainer outputs, built without bookkeeping.
//
// The bundled metrics (metric.fidelity, metric.explanation_accuracy, metric.deletion, ...),
// report.compare_explainers and the reports read one layout (plugin_api/README.md,
// "Attribution tables"): one row per explained (sample, class), with
//   id (ID)                 the sample's id; "<id>/<class>" when a sample has several rows
//   the samples' LABEL and GROUP columns, copied
//   sample_id (GROUP)       only when some sample has several rows (one per class)
//   explained_class (VALUE) the class this row explains, by name
//   predicted_class (VALUE) the model's prediction for the sample, by name
//   base_value (VALUE)      the explained quantity at the reference (e.g. E f(background))
//   output (VALUE)          the explained quantity at the sample, f(x)
//   one FEATURE column per player (a model feature, or a group from groups()), by name
// and meta data: explainer, classes, target, seconds, model_rows, output (what was
// explained: "probability" or "logit"), groups.
//
//   mien::AttributionTable at(samples, model_info["feature_names"], model_info["classes"]);
//   at.explainer("acme.explain.occlusion").explains("probability");
//   for (int64_t i = 0; i < samples.num_rows(); ++i)
//     at.add(i, /*explained=*/yhat[i], /*predicted=*/yhat[i], base[i], out[i], phi_row_i);
//   at.cost(seconds, model_rows);
//   ctx.set(kAttributions, at.build());
//
// build() checks what the consumers rely on (class indices in range, one value per player,
// finite numbers, no (sample, class) twice) and throws mien::Error naming the row.
#pragma once

#include <mien/plugin.hpp>

#include <cmath>
#include <cstdio>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace mien {

class AttributionTable {
 public:
  // samples: the table that was explained (rows are referred to by index into it);
  // players: one name per attribution value (model feature names, or group names);
  // classes: the model's class names, in its output order (info_json "classes").
  AttributionTable(const TableView& samples, std::vector<std::string> players, std::vector<std::string> classes)
      : samples_(samples), players_(std::move(players)), classes_(std::move(classes)) {
    if (players_.empty()) throw Error("AttributionTable: no players (attribution columns) given", MIEN_ERR_INTERNAL);
    if (classes_.empty()) throw Error("AttributionTable: the model names no classes", MIEN_ERR_INTERNAL);
    std::set<std::string> seen;
    for (const auto& p : players_)
      if (!seen.insert(p).second) throw Error("AttributionTable: player '" + p + "' given twice", MIEN_ERR_INTERNAL);
  }
  // Convenience for JSON arrays of names, e.g. ModelRef::info()["feature_names"].
  AttributionTable(const TableView& samples, const Json& players, const Json& classes)
      : AttributionTable(samples, names(players, "players"), names(classes, "classes")) {}

  // One explained (sample, class). `attributions` holds one value per player.
  AttributionTable& add(int64_t sample_row, int64_t explained_class, int64_t predicted_class, double base_value,
                        double output, const double* attributions) {
    Row r{sample_row, explained_class, predicted_class, base_value, output,
          std::vector<double>(attributions, attributions + players_.size())};
    rows_.push_back(std::move(r));
    return *this;
  }
  AttributionTable& add(int64_t sample_row, int64_t explained_class, int64_t predicted_class, double base_value,
                        double output, const std::vector<double>& attributions) {
    if (attributions.size() != players_.size())
      throw Error("AttributionTable: row for sample " + std::to_string(sample_row) + " has " +
                      std::to_string(attributions.size()) + " attributions, expected one per player (" +
                      std::to_string(players_.size()) + ")",
                  MIEN_ERR_INTERNAL);
    return add(sample_row, explained_class, predicted_class, base_value, output, attributions.data());
  }

  // Meta data the consumers read.
  AttributionTable& explainer(std::string type_id) { return meta("explainer", std::move(type_id)); }
  // What base_value, output and the attributions are in: "probability" or "logit".
  AttributionTable& explains(std::string quantity) { return meta("output", std::move(quantity)); }
  // The explaining work's wall time and the rows sent to the model (predict + gradients).
  AttributionTable& cost(double seconds, int64_t model_rows) {
    meta("seconds", seconds);
    return meta("model_rows", model_rows);
  }
  // Players that are groups of features: {"mouth": ["mouth_width", "mouth_open"], ...}.
  AttributionTable& groups(Json g) { return meta("groups", std::move(g)); }
  AttributionTable& meta(const std::string& key, Json value) {
    meta_[key] = std::move(value);
    return *this;
  }
  // An extra VALUE column, one number per added row (e.g. "convergence_delta").
  AttributionTable& extra(const std::string& name, std::vector<double> values) {
    extra_.emplace_back(name, std::move(values));
    return *this;
  }

  int64_t num_rows() const { return static_cast<int64_t>(rows_.size()); }

  Table build() const {
    const int64_t S = samples_.num_rows();
    const int64_t C = static_cast<int64_t>(classes_.size());
    const size_t P = players_.size();
    const int64_t T = num_rows();
    std::set<std::pair<int64_t, int64_t>> pairs;
    std::set<int64_t> samples_seen;
    bool several = false;
    for (int64_t t = 0; t < T; ++t) {
      const Row& r = rows_[static_cast<size_t>(t)];
      const std::string where = "AttributionTable: row " + std::to_string(t + 1) + " (sample " +
                                std::to_string(r.sample) + ")";
      if (r.sample < 0 || r.sample >= S)
        throw Error(where + ": the sample index is outside the samples table's " + std::to_string(S) + " rows",
                    MIEN_ERR_INTERNAL);
      if (r.explained < 0 || r.explained >= C || r.predicted < 0 || r.predicted >= C)
        throw Error(where + ": a class index is outside 0.." + std::to_string(C - 1), MIEN_ERR_INTERNAL);
      if (!pairs.insert({r.sample, r.explained}).second)
        throw Error(where + " explains class '" + classes_[static_cast<size_t>(r.explained)] + "' a second time",
                    MIEN_ERR_INTERNAL);
      several = several || !samples_seen.insert(r.sample).second;
      for (size_t p = 0; p < P; ++p)
        if (!std::isfinite(r.values[p]))
          throw Error(where + ": the attribution of '" + players_[p] + "' is not finite", MIEN_ERR_INTERNAL);
      if (!std::isfinite(r.base) || !std::isfinite(r.output))
        throw Error(where + ": base_value or output is not finite", MIEN_ERR_INTERNAL);
    }
    for (const auto& [name, values] : extra_)
      if (static_cast<int64_t>(values.size()) != T)
        throw Error("AttributionTable: extra column '" + name + "' has " + std::to_string(values.size()) +
                        " values for " + std::to_string(T) + " rows",
                    MIEN_ERR_INTERNAL);

    std::vector<int64_t> sample_rows(static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t) sample_rows[static_cast<size_t>(t)] = rows_[static_cast<size_t>(t)].sample;
    const auto id_cols = samples_.with_role(MIEN_ROLE_ID);
    std::vector<std::string> ids(static_cast<size_t>(T)), sample_ids(static_cast<size_t>(T));
    std::vector<std::string> explained(static_cast<size_t>(T)), predicted(static_cast<size_t>(T));
    std::vector<double> base(static_cast<size_t>(T)), output(static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t) {
      const Row& r = rows_[static_cast<size_t>(t)];
      const size_t u = static_cast<size_t>(t);
      sample_ids[u] = id_cols.empty() ? generated_id(r.sample) : id_cols.front().text(r.sample);
      explained[u] = classes_[static_cast<size_t>(r.explained)];
      predicted[u] = classes_[static_cast<size_t>(r.predicted)];
      ids[u] = several ? sample_ids[u] + "/" + explained[u] : sample_ids[u];
      base[u] = r.base;
      output[u] = r.output;
    }
    Table out(T);
    out.add_strings(id_cols.empty() ? "id" : id_cols.front().name(), MIEN_ROLE_ID, ids);
    if (auto label = samples_.label()) out.add_copy(*label, &sample_rows);
    for (const auto& g : samples_.with_role(MIEN_ROLE_GROUP))
      if (!several || std::string(g.name()) != "sample_id") out.add_copy(g, &sample_rows);
    if (several) out.add_strings("sample_id", MIEN_ROLE_GROUP, sample_ids);
    out.add_strings("explained_class", MIEN_ROLE_VALUE, explained);
    out.add_strings("predicted_class", MIEN_ROLE_VALUE, predicted);
    out.add_numbers("base_value", MIEN_ROLE_VALUE, base);
    out.add_numbers("output", MIEN_ROLE_VALUE, output);
    for (const auto& [name, values] : extra_) out.add_numbers(name, MIEN_ROLE_VALUE, values);
    for (size_t p = 0; p < P; ++p) {
      std::vector<double> v(static_cast<size_t>(T));
      for (int64_t t = 0; t < T; ++t) v[static_cast<size_t>(t)] = rows_[static_cast<size_t>(t)].values[p];
      out.add_numbers(players_[p], MIEN_ROLE_FEATURE, std::move(v));
    }
    Json m = meta_;
    m["classes"] = classes_;
    if (!m.contains("target")) m["target"] = several ? "all" : all_predicted() ? "predicted" : "class";
    out.meta(m);
    return out;
  }

 private:
  struct Row {
    int64_t sample, explained, predicted;
    double base, output;
    std::vector<double> values;
  };
  static std::vector<std::string> names(const Json& j, const char* what) {
    if (!j.is_array()) throw Error(std::string("AttributionTable: ") + what + " must be a JSON array of names");
    std::vector<std::string> out;
    for (const auto& x : j) {
      if (!x.is_string()) throw Error(std::string("AttributionTable: ") + what + " must be a JSON array of names");
      out.push_back(x.get<std::string>());
    }
    return out;
  }
  // What the bundled explainers and metrics call a row of a samples table without ids.
  static std::string generated_id(int64_t row) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "row%05lld", static_cast<long long>(row + 1));
    return buf;
  }
  bool all_predicted() const {
    for (const auto& r : rows_)
      if (r.explained != r.predicted) return false;
    return true;
  }

  TableView samples_;
  std::vector<std::string> players_, classes_;
  std::vector<Row> rows_;
  std::vector<std::pair<std::string, std::vector<double>>> extra_;
  Json meta_ = Json::object();
};

}  // namespace mien
