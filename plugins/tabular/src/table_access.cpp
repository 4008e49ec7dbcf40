#include "table_access.hpp"

#include <algorithm>
#include <cctype>
#include <unordered_map>

namespace mien::tabular {

std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates) {
  const std::string best = mien::closest_name(name, candidates);
  if (!best.empty()) return "; did you mean '" + best + "'?";
  std::string list;
  for (size_t i = 0; i < candidates.size() && i < 20; ++i) list += (i ? ", " : "") + candidates[i];
  if (candidates.size() > 20) list += ", ...";
  return " (columns: " + list + ")";
}

Table subset(const TableView& src, const std::vector<int64_t>& rows) {
  Table t(static_cast<int64_t>(rows.size()));
  for (uint32_t i = 0; i < src.num_columns(); ++i) t.add_copy(src.column(i), &rows);
  if (src.raw()->meta_json != nullptr && *src.raw()->meta_json != 0) t.meta(src.meta());
  return t;
}

ColumnView require_column(const TableView& t, const std::string& name, const std::string& component,
                          const std::string& param) {
  if (auto c = t.find(name)) return *c;
  std::vector<std::string> names;
  for (uint32_t i = 0; i < t.num_columns(); ++i) names.emplace_back(t.column(i).name());
  throw Error(component + ": " + param + " = '" + name + "', but the table has no column '" + name + "'" +
              did_you_mean(name, names));
}

std::string generated_id(int64_t number, int64_t total) {
  std::string digits = std::to_string(number);
  const size_t width = std::max<size_t>(4, std::to_string(total).size());
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return "row" + digits;
}

std::vector<std::string> row_ids(const TableView& t) {
  const auto ids = t.with_role(MIEN_ROLE_ID);
  if (!ids.empty()) return ids.front().texts();
  std::vector<std::string> out(static_cast<size_t>(t.num_rows()));
  for (int64_t i = 0; i < t.num_rows(); ++i) out[static_cast<size_t>(i)] = generated_id(i + 1, t.num_rows());
  return out;
}

std::string id_column_name(const TableView& t) {
  const auto ids = t.with_role(MIEN_ROLE_ID);
  return ids.empty() ? std::string("id") : std::string(ids.front().name());
}

Grouping group_rows(const ColumnView& col, int64_t rows) {
  Grouping g;
  g.of_row.resize(static_cast<size_t>(rows));
  std::unordered_map<std::string, size_t> index;
  for (int64_t i = 0; i < rows; ++i) {
    const std::string v = col.text(i);
    auto it = index.find(v);
    if (it == index.end()) {
      it = index.emplace(v, g.names.size()).first;
      g.names.push_back(v);
    }
    g.of_row[static_cast<size_t>(i)] = it->second;
  }
  return g;
}

}  // namespace mien::tabular
