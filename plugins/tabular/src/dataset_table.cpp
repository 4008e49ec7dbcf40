// dataset.table: a CSV/TSV file -> a table with FEATURE, LABEL, ID and GROUP columns.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

#include <mien/text.hpp>

#include "components.hpp"
#include "csv.hpp"
#include "table_access.hpp"

namespace mien::tabular {

namespace {

using OrderedJson = nlohmann::ordered_json;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Empty cells and the usual NA spellings (unquoted) are missing values.
bool is_missing(const CsvField& f) {
  if (f.text.empty()) return true;
  if (f.quoted) return false;
  const std::string l = lower(f.text);
  return l == "na" || l == "n/a" || l == "nan" || l == "null";
}

// Locale-independent number parsing; the whole cell must be a finite number.
bool parse_number(const std::string& s, double* out) {
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (b != e && *b == '+') ++b;
  if (b == e) return false;
  double v = 0;
  const auto r = std::from_chars(b, e, v);
  if (r.ec != std::errc() || r.ptr != e || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

bool parse_integer(const std::string& s, long long* out) {
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (b != e && *b == '+') ++b;
  if (b == e) return false;
  const auto r = std::from_chars(b, e, *out);
  return r.ec == std::errc() && r.ptr == e;
}

void check_unique(const std::vector<std::string>& v, const std::string& param) {
  std::set<std::string> seen;
  for (const auto& s : v) {
    if (s.empty()) throw Error(param + " contains an empty name");
    if (!seen.insert(s).second) throw Error(param + " lists '" + s + "' twice");
  }
}

}  // namespace

ComponentInfo DatasetTable::info() {
  return ComponentInfo("dataset.table", 1, MIEN_KIND_DATASET,
                       "Reads a CSV or TSV file into a table of features, labels, ids and groups")
      .params(kPath, kLabel, kId, kGroups, kFeatures, kExclude, kClasses, kMissing)
      .ports(kTable, kSummary);
}

DatasetTable::DatasetTable(const Setup& s) {
  const Params& p = s.params();
  display_ = kPath.read(p);
  if (display_.empty()) throw Error("path is empty");
  path_ = s.resolve_path(display_);
  label_ = kLabel.read(p);
  id_ = kId.read(p);
  groups_ = kGroups.read(p);
  features_ = kFeatures.read(p);
  exclude_ = kExclude.read(p);
  classes_ = kClasses.read(p);
  missing_ = kMissing.read(p);
  if (missing_ != "error" && missing_ != "drop") throw Error("missing must be 'error' or 'drop', not '" + missing_ + "'");
  check_unique(groups_, "groups");
  check_unique(features_, "features");
  check_unique(exclude_, "exclude");
  check_unique(classes_, "classes");
  if (!label_.empty() && label_ == id_) throw Error("column '" + label_ + "' cannot be both the label and the id");
  for (const auto& g : groups_) {
    if (g == label_) throw Error("column '" + g + "' cannot be both the label and a group");
    if (g == id_) throw Error("column '" + g + "' cannot be both the id and a group");
  }
  for (const auto& f : features_) {
    if (f == label_) throw Error("column '" + f + "' cannot be both the label and a feature");
    if (f == id_) throw Error("column '" + f + "' cannot be both the id and a feature");
    if (std::find(groups_.begin(), groups_.end(), f) != groups_.end())
      throw Error("column '" + f + "' cannot be both a group and a feature");
    if (std::find(exclude_.begin(), exclude_.end(), f) != exclude_.end())
      throw Error("column '" + f + "' is listed in both features and exclude");
  }
  if (label_.empty() && !classes_.empty()) throw Error("classes is set but label is \"\" (no label column)");
}

struct DatasetTable::Roles {
  std::optional<size_t> label_col, id_col;
  std::vector<size_t> group_cols, feature_cols;
  OrderedJson skipped = OrderedJson::array();  // columns left out, with the reason
};

struct DatasetTable::Converted {
  std::vector<std::vector<double>> features;  // per feature column
  std::vector<std::string> labels, ids;
  std::vector<std::vector<std::string>> groups;  // per group column
  OrderedJson dropped = OrderedJson::array();    // the first 1000 rows dropped, with the reason
  size_t num_dropped = 0;
};

// The label, id, group and feature columns by the parameters; without `features`, every
// other column whose first value is a number (the rest are listed as skipped).
DatasetTable::Roles DatasetTable::assign_roles(const CsvData& csv, const Host& host) const {
  const auto& header = csv.header;
  const size_t ncols = header.size();
  std::unordered_map<std::string, size_t> index;
  for (size_t j = 0; j < ncols; ++j)
    if (!header[j].empty() && !index.emplace(header[j], j).second)
      throw Error(display_ + ":" + std::to_string(csv.header_line) + ": column '" + header[j] +
                  "' appears twice in the header");
  const auto column = [&](const std::string& name, const std::string& param) -> size_t {
    auto it = index.find(name);
    if (it == index.end())
      throw Error(param + ": no column '" + name + "' in " + display_ + did_you_mean(name, header));
    return it->second;
  };
  Roles r;
  std::vector<bool> taken(ncols, false);
  if (!label_.empty()) taken[*(r.label_col = column(label_, "label"))] = true;
  if (!id_.empty()) taken[*(r.id_col = column(id_, "id"))] = true;
  for (const auto& g : groups_) taken[r.group_cols.emplace_back(column(g, "groups"))] = true;
  for (const auto& x : exclude_) taken[column(x, "exclude")] = true;

  if (!features_.empty()) {
    for (const auto& f : features_) r.feature_cols.push_back(column(f, "features"));
  } else {
    for (size_t j = 0; j < ncols; ++j) {
      if (taken[j]) continue;
      if (header[j].empty()) {
        r.skipped.push_back({{"column", ""}, {"index", j + 1}, {"reason", "no name in the header"}});
        continue;
      }
      const CsvRecord* first = nullptr;
      for (const auto& rec : csv.rows)
        if (!is_missing(rec.fields[j])) {
          first = &rec;
          break;
        }
      double dummy = 0;
      if (first == nullptr) {
        r.skipped.push_back({{"column", header[j]}, {"reason", "no values"}});
      } else if (!parse_number(first->fields[j].text, &dummy)) {
        r.skipped.push_back({{"column", header[j]},
                             {"reason", "not numeric (line " + std::to_string(first->line) + ": '" +
                                            first->fields[j].text + "')"}});
      } else {
        r.feature_cols.push_back(j);
      }
    }
    if (!r.skipped.empty()) {
      std::vector<std::string> names;
      for (const auto& sk : r.skipped) names.push_back(sk["column"].get<std::string>());
      host.info("dataset.table: " + display_ + ": not using column(s) " + join(names) + " (not numeric or empty)");
    }
  }
  if (r.feature_cols.empty())
    throw Error(display_ + " has no numeric feature columns besides the label, id and groups (columns: " +
                join(header) + ")");
  return r;
}

// Every record as values: a missing value in a used column stops (missing: error) or drops
// the row; a feature that is not a number, an unknown label or a repeated id stops.
DatasetTable::Converted DatasetTable::convert_rows(const CsvData& csv, const Roles& roles, const Host& host) const {
  const auto& header = csv.header;
  const auto where = [&](size_t line) { return display_ + ":" + std::to_string(line) + ": "; };
  // The columns a row needs, in the order their missing values are reported.
  std::vector<size_t> used;
  if (roles.id_col) used.push_back(*roles.id_col);
  if (roles.label_col) used.push_back(*roles.label_col);
  for (size_t g : roles.group_cols) used.push_back(g);
  for (size_t f : roles.feature_cols) used.push_back(f);
  const std::set<std::string> known_classes(classes_.begin(), classes_.end());

  const size_t nrec = csv.rows.size();
  Converted c;
  c.features.resize(roles.feature_cols.size());
  for (auto& f : c.features) f.reserve(nrec);
  c.groups.resize(roles.group_cols.size());
  std::unordered_map<std::string, size_t> id_line;
  const size_t kMaxDroppedListed = 1000;
  for (size_t r = 0; r < nrec; ++r) {
    if (r % 1024 == 0) {
      host.check_cancelled();
      host.progress(r, nrec, "converting rows");
    }
    const CsvRecord& rec = csv.rows[r];
    std::optional<size_t> missing_at;
    for (size_t j : used)
      if (is_missing(rec.fields[j])) {
        missing_at = j;
        break;
      }
    if (missing_at) {
      const CsvField& f = rec.fields[*missing_at];
      const std::string what = f.text.empty() ? "is empty" : "has the missing value '" + f.text + "'";
      if (missing_ == "error")
        throw Error(where(rec.line) + "column '" + header[*missing_at] + "' " + what +
                    " (set missing: drop to skip such rows)");
      ++c.num_dropped;
      if (c.dropped.size() < kMaxDroppedListed)
        c.dropped.push_back({{"line", rec.line}, {"reason", "column '" + header[*missing_at] + "' " + what}});
      continue;
    }
    for (size_t k = 0; k < roles.feature_cols.size(); ++k) {
      const CsvField& f = rec.fields[roles.feature_cols[k]];
      double v = 0;
      if (!parse_number(f.text, &v))
        throw Error(where(rec.line) + "column '" + header[roles.feature_cols[k]] + "': '" + f.text + "' is not a number");
      c.features[k].push_back(v);
    }
    if (roles.label_col) {
      const std::string& l = rec.fields[*roles.label_col].text;
      if (!classes_.empty() && !known_classes.count(l))
        throw Error(where(rec.line) + "label '" + l + "' in column '" + label_ + "' is not one of the classes [" +
                    join(classes_) + "]");
      c.labels.push_back(l);
    }
    if (roles.id_col) {
      const std::string& id = rec.fields[*roles.id_col].text;
      auto [it, fresh] = id_line.emplace(id, rec.line);
      if (!fresh)
        throw Error(where(rec.line) + "duplicate id '" + id + "' in column '" + id_ + "' (first on line " +
                    std::to_string(it->second) + ")");
      c.ids.push_back(id);
    } else {
      c.ids.push_back(generated_id(static_cast<int64_t>(r + 1), static_cast<int64_t>(nrec)));
    }
    for (size_t g = 0; g < roles.group_cols.size(); ++g) c.groups[g].push_back(rec.fields[roles.group_cols[g]].text);
  }
  host.progress(nrec, nrec, "converting rows");
  if (c.ids.empty())
    throw Error("every row of " + display_ + " was dropped for missing values (first: line " +
                std::to_string(c.dropped[0]["line"].get<size_t>()) + ", " + c.dropped[0]["reason"].get<std::string>() +
                ")");
  return c;
}

// Class order: as given, else sorted (numerically when every label is an integer).
std::vector<std::string> DatasetTable::class_order(const std::vector<std::string>& labels) const {
  if (!classes_.empty()) return classes_;
  std::set<std::string> distinct(labels.begin(), labels.end());
  std::vector<std::string> classes(distinct.begin(), distinct.end());
  bool all_integers = true;
  for (const auto& c : classes) {
    long long v = 0;
    all_integers = all_integers && parse_integer(c, &v);
  }
  if (all_integers)
    std::stable_sort(classes.begin(), classes.end(), [](const std::string& a, const std::string& b) {
      long long x = 0, y = 0;
      parse_integer(a, &x);
      parse_integer(b, &y);
      return x < y;
    });
  return classes;
}

// Read the file, give the columns their roles, convert the rows; write the table (id,
// label, groups, features) and the summary.
void DatasetTable::process(Context& ctx) {
  const Host& host = ctx.host();
  const CsvData csv = read_csv(path_, display_, &host);
  const auto& header = csv.header;
  const Roles roles = assign_roles(csv, host);
  Converted rows_in = convert_rows(csv, roles, host);
  const int64_t rows = static_cast<int64_t>(rows_in.ids.size());

  const std::vector<std::string> classes = roles.label_col ? class_order(rows_in.labels) : classes_;
  std::map<std::string, int64_t> class_index;
  for (size_t k = 0; k < classes.size(); ++k) class_index[classes[k]] = static_cast<int64_t>(k);
  std::vector<int64_t> codes;
  std::vector<int64_t> class_counts(classes.size(), 0);
  codes.reserve(rows_in.labels.size());
  for (const auto& l : rows_in.labels) {
    const int64_t c = class_index.at(l);
    codes.push_back(c);
    ++class_counts[static_cast<size_t>(c)];
  }

  // The table: id, label, groups, features.
  std::string id_name = roles.id_col ? id_ : "id";
  if (!roles.id_col) {
    std::set<std::string> names(groups_.begin(), groups_.end());
    names.insert(label_);
    for (size_t f : roles.feature_cols) names.insert(header[f]);
    while (names.count(id_name)) id_name = "_" + id_name;
  }
  Table table(rows);
  table.add_strings(id_name, MIEN_ROLE_ID, rows_in.ids);
  if (roles.label_col) table.add_codes(label_, MIEN_ROLE_LABEL, codes, classes);
  for (size_t g = 0; g < roles.group_cols.size(); ++g) table.add_strings(groups_[g], MIEN_ROLE_GROUP, rows_in.groups[g]);
  std::vector<std::string> feature_names;
  for (size_t k = 0; k < roles.feature_cols.size(); ++k) {
    feature_names.push_back(header[roles.feature_cols[k]]);
    table.add_numbers(header[roles.feature_cols[k]], MIEN_ROLE_FEATURE, std::move(rows_in.features[k]));
  }
  table.meta(Json{{"source", display_}, {"path", path_}});

  // The summary.
  OrderedJson summary;
  summary["file"] = display_;
  summary["path"] = path_;
  summary["delimiter"] = delimiter_name(csv.delimiter);
  summary["rows"] = rows;
  summary["rows_read"] = csv.rows.size();
  summary["rows_dropped"] = rows_in.num_dropped;
  summary["columns"] = 1 + (roles.label_col ? 1 : 0) + roles.group_cols.size() + roles.feature_cols.size();
  summary["id"] = roles.id_col ? OrderedJson(id_) : OrderedJson(nullptr);
  summary["label"] = roles.label_col ? OrderedJson(label_) : OrderedJson(nullptr);
  summary["groups"] = groups_;
  summary["features"] = feature_names;
  summary["classes"] = classes;
  OrderedJson cc = OrderedJson::object();
  for (size_t k = 0; k < classes.size(); ++k) {
    cc[classes[k]] = class_counts[k];
    if (class_counts[k] == 0) host.warn("dataset.table: class '" + classes[k] + "' has no rows in " + display_);
  }
  summary["class_counts"] = cc;
  OrderedJson gc = OrderedJson::object();
  for (size_t g = 0; g < roles.group_cols.size(); ++g) {
    std::map<std::string, int64_t> counts;
    for (const auto& v : rows_in.groups[g]) ++counts[v];
    OrderedJson o = OrderedJson::object();
    for (const auto& [v, n] : counts) o[v] = n;
    gc[groups_[g]] = o;
  }
  summary["group_counts"] = gc;
  summary["skipped_columns"] = roles.skipped;
  summary["dropped"] = rows_in.dropped;

  host.info("dataset.table: " + std::to_string(rows) + " rows, " + std::to_string(roles.feature_cols.size()) +
            " features, " + std::to_string(classes.size()) + " classes from " + display_ +
            (rows_in.num_dropped ? "; dropped " + std::to_string(rows_in.num_dropped) + " rows with missing values" : ""));
  ctx.set(kTable, std::move(table));
  ctx.set_text(kSummary, summary.dump(2));
}

}  // namespace mien::tabular
