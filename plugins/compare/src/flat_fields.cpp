// Helpers of the compare plugin: flattening JSON and tables into numeric fields, number
// formatting, Markdown tables.
#include <cmath>
#include <cstdio>
#include <map>

#include "components.hpp"

namespace mien::compare {

namespace {

using OJson = nlohmann::ordered_json;

void put(Flat& f, std::map<std::string, size_t>& seen, const std::string& name, double v) {
  auto it = seen.find(name);
  if (it != seen.end()) {  // a repeated path (e.g. two table rows with one id): the first wins
    return;
  }
  seen.emplace(name, f.names.size());
  f.names.push_back(name);
  f.values.push_back(v);
}

// The text of an "n" value as a field suffix: 5 -> "5", 0.5 -> "0.5".
std::string n_text(double v) {
  if (std::isfinite(v) && std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

bool numeric_array(const OJson& a) {
  if (!a.is_array()) return false;
  for (const auto& e : a)
    if (!e.is_number() && !e.is_null()) return false;
  return true;
}

void walk(const OJson& j, const std::string& path, Flat& f, std::map<std::string, size_t>& seen) {
  if (j.is_number()) {
    // Booleans are not numbers in nlohmann; integers and floats both land here.
    put(f, seen, path, j.get<double>());
    return;
  }
  if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) walk(j[i], path + "[" + std::to_string(i) + "]", f, seen);
    return;
  }
  if (!j.is_object()) return;  // strings, booleans, null carry no number
  const std::string prefix = path.empty() ? "" : path + ".";
  // A sweep: arrays parallel to a numeric "n" array are keyed by n (fidelity@5).
  const OJson* n = nullptr;
  if (j.contains("n") && numeric_array(j["n"]) && !j["n"].empty()) n = &j["n"];
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const OJson& v = it.value();
    if (n != nullptr && key == "n") continue;
    if (n != nullptr && numeric_array(v) && v.size() == n->size()) {
      for (size_t i = 0; i < v.size(); ++i)
        if (v[i].is_number() && (*n)[i].is_number())
          put(f, seen, prefix + key + "@" + n_text((*n)[i].get<double>()), v[i].get<double>());
      continue;
    }
    walk(v, prefix + key, f, seen);
  }
}

bool numeric_column(const ColumnView& c) {
  return !c.is_string() && c.role() != MIEN_ROLE_ID && c.raw()->num_categories == 0;
}

}  // namespace

Flat flatten_json(const OJson& j) {
  Flat f;
  std::map<std::string, size_t> seen;
  walk(j, "", f, seen);
  return f;
}

Flat flatten_table(const TableView& t) {
  Flat f;
  std::map<std::string, size_t> seen;
  const int64_t rows = t.num_rows();
  std::optional<ColumnView> key;  // names the rows of a longer table
  if (auto ids = t.with_role(MIEN_ROLE_ID); !ids.empty()) key = ids.front();
  for (uint32_t c = 0; !key && c < t.num_columns(); ++c)
    if (t.column(c).is_string()) key = t.column(c);
  std::optional<ColumnView> n;
  if (auto c = t.find("n"); c && numeric_column(*c)) n = c;
  for (int64_t r = 0; r < rows; ++r) {
    for (uint32_t c = 0; c < t.num_columns(); ++c) {
      const ColumnView col = t.column(c);
      if (!numeric_column(col)) continue;
      std::string name = col.name();
      if (rows > 1) {
        if (n) {
          if (name == "n") continue;
          name += "@" + n_text(n->number(r));
        } else if (key) {
          name = key->text(r) + "." + name;
        } else {
          name += "[" + std::to_string(r) + "]";
        }
      }
      put(f, seen, name, col.number(r));
    }
  }
  return f;
}

bool wildcard_match(const std::string& p, const std::string& s) {
  // Iterative glob with backtracking to the last '*'.
  size_t i = 0, j = 0, star = std::string::npos, mark = 0;
  while (j < s.size()) {
    if (i < p.size() && p[i] != '*' && p[i] == s[j]) {
      ++i;
      ++j;
    } else if (i < p.size() && p[i] == '*') {
      star = i++;
      mark = j;
    } else if (star != std::string::npos) {
      i = star + 1;
      j = ++mark;
    } else {
      return false;
    }
  }
  while (i < p.size() && p[i] == '*') ++i;
  return i == p.size();
}

std::string format_number(double v) {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  const double a = std::fabs(v);
  if (a != 0 && (a < 1e-3 || a >= 1e6)) std::snprintf(buf, sizeof buf, "%.2e", v);
  else std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string format_short(double v) {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  const double a = std::fabs(v);
  if (a != 0 && (a < 1e-3 || a >= 1e6)) std::snprintf(buf, sizeof buf, "%.1e", v);
  else std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::string format_fixed(double v, int digits) {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string markdown_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  auto cell = [](const std::string& s) {
    std::string out;
    for (char ch : s) {
      if (ch == '|') out += "\\|";
      else if (ch == '\n') out += ' ';
      else out += ch;
    }
    return out;
  };
  std::string md = "|";
  for (const auto& h : header) md += " " + cell(h) + " |";
  md += "\n|";
  for (size_t i = 0; i < header.size(); ++i) md += i == 0 ? "---|" : "---:|";
  md += "\n";
  for (const auto& r : rows) {
    md += "|";
    for (const auto& c : r) md += " " + cell(c) + " |";
    md += "\n";
  }
  return md;
}

}  // namespace mien::compare
