// The attributions table every explainer outputs (plugins/CONVENTIONS.md "Attributions").
#include "explainer_kit.hpp"

#include <algorithm>

namespace mien::explain {

Table attribution_table(const Prepared& d, const std::vector<double>& values, const std::vector<double>& base,
                        const std::vector<double>& output, const std::vector<ExtraColumn>& extra, const Json& meta) {
  const int64_t T = static_cast<int64_t>(d.targets.size());
  const size_t P = d.players.size();
  std::vector<int64_t> rows(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) rows[t] = d.targets[t].sample;
  Table out(T);
  // id
  std::vector<std::string> ids(static_cast<size_t>(T));
  auto idcols = d.samples.with_role(MIEN_ROLE_ID);
  std::vector<std::string> sample_ids(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) {
    const int64_t s = d.targets[t].sample;
    char buf[32];
    std::snprintf(buf, sizeof buf, "row%05lld", static_cast<long long>(s + 1));
    sample_ids[t] = idcols.empty() ? std::string(buf) : idcols.front().text(s);
    ids[t] = d.target_mode == "all" ? sample_ids[t] + "/" + d.model.classes[d.targets[t].cls] : sample_ids[t];
  }
  out.add_strings(idcols.empty() ? "id" : idcols.front().name(), MIEN_ROLE_ID, ids);
  if (auto label = d.samples.label()) out.add_copy(*label, &rows);
  for (const auto& g : d.samples.with_role(MIEN_ROLE_GROUP)) out.add_copy(g, &rows);
  if (d.target_mode == "all") out.add_strings("sample_id", MIEN_ROLE_GROUP, sample_ids);
  std::vector<std::string> expl(static_cast<size_t>(T)), pred(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) {
    expl[t] = d.model.classes[d.targets[t].cls];
    pred[t] = d.model.classes[d.predicted[d.targets[t].sample]];
  }
  out.add_strings("explained_class", MIEN_ROLE_VALUE, expl);
  out.add_strings("predicted_class", MIEN_ROLE_VALUE, pred);
  out.add_numbers("base_value", MIEN_ROLE_VALUE, base);
  out.add_numbers("output", MIEN_ROLE_VALUE, output);
  for (const auto& e : extra) out.add_numbers(e.name, MIEN_ROLE_VALUE, e.values);
  for (size_t p = 0; p < P; ++p) {
    std::vector<double> v(static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t) v[t] = values[t * P + p];
    out.add_numbers(d.players.names[p], MIEN_ROLE_FEATURE, std::move(v));
  }
  Json m = meta;
  // Timing for comparison tables (CONVENTIONS.md): wall time from prepare() to here, and
  // every row sent to the model (predict and gradients).
  m["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - d.started).count();
  m["model_rows"] = d.model_rows();
  m["classes"] = d.model.classes;
  m["target"] = d.target_mode;
  if (d.players.grouped) m["groups"] = d.players.groups_json;
  if (d.has_background) {
    m["background"] = d.bg.how;
    m["background_rows"] = d.bg.rows;
  }
  out.meta(m);
  return out;
}

}  // namespace mien::explain
