#include "util.hpp"

#include <algorithm>
#include <cctype>
#include <unordered_map>

namespace mien::tabular {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

static std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string closest_name(const std::string& name, const std::vector<std::string>& candidates) {
  const std::string lname = lower(name);
  for (const auto& c : candidates)
    if (lower(c) == lname) return c;
  std::string best;
  size_t best_d = std::string::npos;
  for (const auto& c : candidates) {
    const size_t d = edit_distance(lname, lower(c));
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  // Up to 2 edits, or a third of the name for long names.
  if (best.empty() || best_d > std::max<size_t>(2, name.size() / 3)) return "";
  return best;
}

std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates) {
  const std::string best = closest_name(name, candidates);
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
