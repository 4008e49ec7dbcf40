// report.aggregate: mean ± std (n, min, max) of every numeric field over several JSON
// summaries or tables, typically the copies of a matrix node (seeds, folds).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include <mien/suggest.hpp>

#include "components.hpp"

namespace mien::compare {

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const char* const kWho = "report.aggregate";

Json num(double v) { return std::isnan(v) ? Json() : Json(v); }

// One input, flattened, with the kind of thing it is ("fidelity", "classification", ...).
struct Item {
  std::string kind;
  Flat flat;
};

struct Stats {
  int64_t n = 0;
  double mean = kNaN, sd = kNaN, min = kNaN, max = kNaN;
};

Stats stats(const std::vector<double>& v) {
  Stats s;
  double sum = 0;
  for (double x : v)
    if (!std::isnan(x)) {
      ++s.n;
      sum += x;
      s.min = std::isnan(s.min) ? x : std::min(s.min, x);
      s.max = std::isnan(s.max) ? x : std::max(s.max, x);
    }
  if (s.n == 0) return s;
  s.mean = sum / static_cast<double>(s.n);
  if (s.n > 1) {
    double ss = 0;  // two-pass: exact for constant columns
    for (double x : v)
      if (!std::isnan(x)) ss += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(ss / static_cast<double>(s.n - 1));
  }
  return s;
}

}  // namespace

ComponentInfo Aggregate::info() {
  return ComponentInfo("report.aggregate", 1, MIEN_KIND_REPORT,
                       "Mean ± standard deviation (n, min, max) of every numeric field over several summaries or "
                       "tables, e.g. the seeds or folds of a matrix")
      .params(kFields, kTitle, kDigits, kLabels)
      .ports(kItems, kTable, kSummary, kText, kHeadline);
}

Aggregate::Aggregate(const Setup& s)
    : fields_(kFields.read(s.params())), title_(kTitle.read(s.params())), digits_(kDigits.read(s.params())) {
  for (const auto& f : fields_)
    if (f.empty()) throw Error(std::string(kWho) + ": parameter 'fields' holds an empty name");
  const Json labels = kLabels.read(s.params());
  for (auto it = labels.begin(); it != labels.end(); ++it) {
    if (!it.value().is_string())
      throw Error(std::string(kWho) + ": parameter 'labels': the label of '" + it.key() + "' must be text, got " +
                  it.value().dump());
    labels_[it.key()] = it.value().get<std::string>();
  }
}

void Aggregate::process(Context& ctx) {
  const Host& host = ctx.host();
  const uint32_t N = ctx.count(kItems);
  if (N == 0) throw Error(std::string(kWho) + ": input 'items' is empty; connect summaries or tables to aggregate");
  std::vector<Item> items;
  for (uint32_t i = 0; i < N; ++i) {
    const mien_value& v = ctx.value(kItems, i);
    Item it;
    if (v.kind == MIEN_VALUE_TABLE) {
      const TableView t = ctx.table(kItems, i);
      const Json meta = t.meta();
      it.kind = meta.contains("metric") && meta["metric"].is_string() ? meta["metric"].get<std::string>() : "table";
      it.flat = flatten_table(t);
    } else if (v.kind == MIEN_VALUE_JSON || v.kind == MIEN_VALUE_STRING) {
      nlohmann::ordered_json j;
      try {
        j = nlohmann::ordered_json::parse(v.text ? v.text : "");
      } catch (const std::exception& e) {
        throw Error(std::string(kWho) + ": item #" + std::to_string(i + 1) + " is not JSON (" + e.what() +
                    "); connect JSON summaries or tables");
      }
      it.kind = j.is_object() && j.contains("metric") && j["metric"].is_string() ? j["metric"].get<std::string>()
                                                                                : "json";
      it.flat = flatten_json(j);
    } else {
      throw Error(std::string(kWho) + ": item #" + std::to_string(i + 1) +
                  " is neither JSON nor a table; connect metric summaries (JSON) or one-row tables");
    }
    items.push_back(std::move(it));
  }

  // A field name given by items of different kinds (say 'samples' of a fidelity and of a
  // deletion summary) would mix two quantities: such names get the kind as a prefix.
  std::map<std::string, std::set<std::string>> kinds_of;
  for (const auto& it : items)
    for (const auto& n : it.flat.names) kinds_of[n].insert(it.kind);
  std::vector<std::string> order;  // first appearance
  std::map<std::string, std::vector<double>> values;
  for (size_t i = 0; i < items.size(); ++i) {
    const Flat& f = items[i].flat;
    for (size_t k = 0; k < f.names.size(); ++k) {
      const std::string name = kinds_of[f.names[k]].size() > 1 ? items[i].kind + "." + f.names[k] : f.names[k];
      auto [pos, fresh] = values.emplace(name, std::vector<double>(items.size(), kNaN));
      if (fresh) order.push_back(name);
      pos->second[i] = f.values[k];
    }
  }
  if (order.empty())
    throw Error(std::string(kWho) + ": the " + std::to_string(N) + " items hold no numeric field to aggregate");

  // The fields asked for, in the order asked.
  std::vector<std::string> chosen;
  if (fields_.empty()) {
    chosen = order;
  } else {
    std::set<std::string> taken;
    for (const auto& pattern : fields_) {
      size_t hits = 0;
      for (const auto& name : order)
        if (wildcard_match(pattern, name)) {
          ++hits;
          if (taken.insert(name).second) chosen.push_back(name);
        }
      if (hits == 0) {
        std::string some;
        for (size_t i = 0; i < order.size() && i < 25; ++i) some += (i ? ", " : "") + order[i];
        if (order.size() > 25) some += ", ... (" + std::to_string(order.size()) + " in all)";
        const std::string hint = did_you_mean(pattern, order);
        throw Error(std::string(kWho) + ": parameter 'fields': no item has a field '" + pattern + "'" +
                    (hint.empty() ? "." : hint) + " The fields are: " + some);
      }
    }
  }

  std::vector<std::string> names, pm;
  std::vector<double> ns, means, sds, mins, maxs;
  Json jfields = Json::array();
  int64_t runs = 0;
  for (const auto& name : chosen) {
    const auto& v = values[name];
    const Stats s = stats(v);
    runs = std::max(runs, s.n);
    names.push_back(name);
    ns.push_back(static_cast<double>(s.n));
    means.push_back(s.mean);
    sds.push_back(s.sd);
    mins.push_back(s.min);
    maxs.push_back(s.max);
    pm.push_back(format_fixed(s.mean, digits_) + " ± " + format_fixed(s.sd, digits_));
    Json jv = Json::array();
    for (double x : v) jv.push_back(num(x));
    jfields.push_back({{"field", name}, {"n", s.n}, {"mean", num(s.mean)}, {"std", num(s.sd)}, {"min", num(s.min)},
                       {"max", num(s.max)}, {"values", jv}});
  }
  for (size_t i = 0; i < chosen.size(); ++i)
    if (ns[i] < static_cast<double>(runs))
      host.info(std::string(kWho) + ": field '" + chosen[i] + "' is present in " + std::to_string(int64_t(ns[i])) +
                " of the items only");

  Table t(static_cast<int64_t>(names.size()));
  t.add_strings("field", MIEN_ROLE_ID, names)
      .add_numbers("n", MIEN_ROLE_VALUE, ns)
      .add_numbers("mean", MIEN_ROLE_VALUE, means)
      .add_numbers("std", MIEN_ROLE_VALUE, sds)
      .add_numbers("min", MIEN_ROLE_VALUE, mins)
      .add_numbers("max", MIEN_ROLE_VALUE, maxs)
      .add_strings("mean_pm_std", MIEN_ROLE_VALUE, pm);
  const Json meta{{"metric", "aggregate"},
                  {"items", N},
                  {"runs", runs},
                  {"std", "sample standard deviation (divisor n - 1); null/NaN when n < 2"}};
  t.meta(meta);
  Json summary = meta;
  Json kinds = Json::array();
  for (const auto& it : items) kinds.push_back(it.kind);
  summary["item_kinds"] = kinds;
  summary["fields"] = jfields;

  // Labels for people; a label naming no chosen field is most likely a typo.
  for (const auto& [field, label] : labels_)
    if (std::find(names.begin(), names.end(), field) == names.end())
      host.warn(std::string(kWho) + ": parameter 'labels' names '" + field + "', which is not among the fields shown");
  auto label_of = [&](const std::string& f) {
    auto it = labels_.find(f);
    return it == labels_.end() ? f : it->second;
  };
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < names.size(); ++i)
    rows.push_back({label_of(names[i]), std::to_string(static_cast<int64_t>(ns[i])), format_fixed(means[i], digits_),
                    format_fixed(sds[i], digits_), format_fixed(mins[i], digits_), format_fixed(maxs[i], digits_)});
  const std::string title =
      !title_.empty() ? title_ : "mean ± std over " + std::to_string(runs) + " run" + (runs == 1 ? "" : "s");
  const std::string md = "# " + title + "\n\n" +
                         markdown_table({"field", "n", "mean", "std", "min", "max"}, rows) +
                         "\nstd: sample standard deviation (n - 1).\n";

  Json hrows = Json::array();
  const size_t shown = fields_.empty() ? std::min<size_t>(12, names.size()) : names.size();
  for (size_t i = 0; i < shown; ++i)
    hrows.push_back({{"label", label_of(names[i])},
                     {"value", pm[i] + " (n = " + std::to_string(static_cast<int64_t>(ns[i])) + ", " +
                                   format_fixed(mins[i], digits_) + " to " + format_fixed(maxs[i], digits_) + ")"}});

  ctx.set(kTable, std::move(t));
  ctx.set(kSummary, summary);
  ctx.set_text(kText, md);
  ctx.set(kHeadline, Json{{"title", title}, {"rows", hrows}});
}

}  // namespace mien::compare
