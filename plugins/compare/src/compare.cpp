// report.compare_explainers: one row per explainer, from the attribution tables and the
// quality metrics' summaries (see components.hpp).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include <mien/suggest.hpp>

#include "components.hpp"

namespace mien::compare {

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const char* const kWho = "report.compare_explainers";

Json num(double v) { return std::isnan(v) ? Json() : Json(v); }

std::string strip_prefix(const std::string& type_id) {
  return type_id.rfind("explain.", 0) == 0 ? type_id.substr(8) : type_id;
}

// An attributions table, as far as this report needs it.
struct Explainer {
  std::string name, type_id;
  std::string explains;              // meta "output": probability, logit, ...; "" when unsaid
  std::vector<std::string> keys;     // id + explained class, per row
  std::vector<std::string> players;  // FEATURE columns
  std::vector<double> values;        // rows x players
  std::vector<double> base, output;  // empty when the table lacks them
  double seconds = kNaN, model_rows = kNaN;
  int64_t rows = 0;
};

double meta_number(const Json& meta, const char* key) {
  return meta.contains(key) && meta[key].is_number() ? meta[key].get<double>() : kNaN;
}

Explainer read_explainer(const TableView& t, size_t index) {
  Explainer e;
  const Json meta = t.meta();
  e.type_id = meta.contains("explainer") && meta["explainer"].is_string() ? meta["explainer"].get<std::string>() : "";
  e.rows = t.num_rows();
  e.players = t.feature_names();
  const std::string where = "input 'attributions' #" + std::to_string(index + 1) +
                            (e.type_id.empty() ? "" : " (" + e.type_id + ")");
  if (e.players.empty())
    throw Error(std::string(kWho) + ": " + where +
                " has no FEATURE columns; connect an explainer's 'attributions' output (plugins/CONVENTIONS.md)");
  if (e.rows == 0) throw Error(std::string(kWho) + ": " + where + " has no rows");
  e.values = t.feature_matrix<double>();
  auto ids = t.with_role(MIEN_ROLE_ID);
  auto expl = t.find("explained_class");
  e.keys.resize(static_cast<size_t>(e.rows));
  for (int64_t r = 0; r < e.rows; ++r) {
    const std::string id = ids.empty() ? "row" + std::to_string(r) : ids.front().text(r);
    e.keys[r] = id + '\x1f' + (expl ? expl->text(r) : "");
  }
  if (auto b = t.find("base_value"), o = t.find("output"); b && o && !b->is_string() && !o->is_string()) {
    e.base = b->numbers();
    e.output = o->numbers();
  }
  e.explains = meta.contains("output") && meta["output"].is_string() ? meta["output"].get<std::string>() : "";
  e.seconds = meta_number(meta, "seconds");
  e.model_rows = meta_number(meta, "model_rows");
  return e;
}

// Which summary on a port belongs to which explainer: by position when the port lists one
// summary per explainer in the same order (checked against the summaries' "explainer"),
// else by explainer type when that is unambiguous. -1 = none.
std::vector<int> match_summaries(const std::vector<Explainer>& ex, const std::vector<Json>& sums,
                                 const std::string& port, const Host& host) {
  std::vector<int> at(ex.size(), -1);
  if (sums.empty()) return at;
  auto type_of = [&](size_t s) {
    return sums[s].contains("explainer") && sums[s]["explainer"].is_string() ? sums[s]["explainer"].get<std::string>()
                                                                              : std::string();
  };
  bool positional = sums.size() == ex.size();
  for (size_t i = 0; positional && i < ex.size(); ++i) {
    const std::string t = type_of(i);
    positional = t.empty() || ex[i].type_id.empty() || t == ex[i].type_id;
  }
  if (positional) {
    for (size_t i = 0; i < ex.size(); ++i) at[i] = static_cast<int>(i);
    return at;
  }
  std::vector<bool> used(sums.size(), false);
  for (size_t i = 0; i < ex.size(); ++i) {
    std::vector<size_t> hits;
    for (size_t s = 0; s < sums.size(); ++s)
      if (!ex[i].type_id.empty() && type_of(s) == ex[i].type_id) hits.push_back(s);
    size_t same_type = 0;
    for (const auto& e : ex) same_type += e.type_id == ex[i].type_id;
    if (hits.size() > 1 || (hits.size() == 1 && same_type > 1))
      throw Error(std::string(kWho) + ": input '" + port + "' has " + std::to_string(hits.size()) + " summaries of " +
                  ex[i].type_id + " for " + std::to_string(same_type) +
                  " attribution tables of that explainer; list exactly one summary per attributions table, in the "
                  "same order");
    if (hits.empty()) {
      host.warn(std::string(kWho) + ": no summary on '" + port + "' for " + ex[i].name + " (" + ex[i].type_id +
                "); its " + port + " cells stay empty");
      continue;
    }
    at[i] = static_cast<int>(hits.front());
    used[hits.front()] = true;
  }
  for (size_t s = 0; s < sums.size(); ++s)
    if (!used[s])
      host.warn(std::string(kWho) + ": summary #" + std::to_string(s + 1) + " on '" + port + "' (" +
                (type_of(s).empty() ? "no explainer named" : type_of(s)) + ") matches no attributions table; ignored");
  return at;
}

std::vector<Json> read_jsons(Context& ctx, const Input& port) {
  std::vector<Json> out;
  for (uint32_t i = 0; i < ctx.count(port); ++i) {
    try {
      out.push_back(ctx.json(port, i));
    } catch (const Json::exception& e) {
      throw Error(std::string(kWho) + ": input '" + port.name + "' #" + std::to_string(i + 1) + " is not valid JSON (" +
                  e.what() + ")");
    }
    if (!out.back().is_object())
      throw Error(std::string(kWho) + ": input '" + port.name + "' #" + std::to_string(i + 1) +
                  " is not a JSON object; connect a metric node's 'summary' output");
  }
  return out;
}

// Value at n of a sweep array in a metric.fidelity summary.
double at_n(const Json& s, const char* key, int n, const std::string& who) {
  if (!s.contains("n") || !s["n"].is_array())
    throw Error(std::string(kWho) + ": the fidelity summary of " + who +
                " has no 'n' list; connect metric.fidelity's 'summary' output");
  const Json& ns = s["n"];
  for (size_t i = 0; i < ns.size(); ++i)
    if (ns[i].is_number() && ns[i].get<double>() == n) {
      if (!s.contains(key) || !s[key].is_array() || s[key].size() <= i) return kNaN;
      return s[key][i].is_number() ? s[key][i].get<double>() : kNaN;
    }
  throw Error(std::string(kWho) + ": parameter 'n' is " + std::to_string(n) + ", but the fidelity summary of " + who +
              " has n = " + ns.dump() + "; set 'n' to one of those or add " + std::to_string(n) +
              " to that metric.fidelity node's n");
}

double number_field(const Json& s, const char* key) {
  return s.contains(key) && s[key].is_number() ? s[key].get<double>() : kNaN;
}

}  // namespace

ComponentInfo CompareExplainers::info() {
  return ComponentInfo("report.compare_explainers", 1, MIEN_KIND_REPORT,
                       "One table comparing explainers: fidelity, accuracy, deletion AUC, agreement and error against "
                       "a reference explainer, efficiency gap, time and model rows")
      .params(kNames, kReference, kN, kTitle)
      .ports(kAttributions, kFidelity, kDeletion, kInsertion, kAgreement, kTable, kSummary, kText, kHeadline);
}

CompareExplainers::CompareExplainers(const Setup& s)
    : names_(kNames.read(s.params())),
      reference_(kReference.read(s.params())),
      n_(kN.read(s.params())),
      title_(kTitle.read(s.params())) {
  reference_is_default_ = reference_ == "exact_shapley";
}

void CompareExplainers::process(Context& ctx) {
  const Host& host = ctx.host();
  const uint32_t T = ctx.count(kAttributions);
  if (T == 0) throw Error(std::string(kWho) + ": input 'attributions' is empty; connect one or more explainers");
  if (!names_.empty() && names_.size() != T)
    throw Error(std::string(kWho) + ": parameter 'names' has " + std::to_string(names_.size()) + " names for " +
                std::to_string(T) + " attribution tables; give one per table, in order, or [] for the explainers' own");
  std::vector<Explainer> ex;
  for (uint32_t i = 0; i < T; ++i) ex.push_back(read_explainer(ctx.table(kAttributions, i), i));

  // Display names: given, or the explainer type without "explain."; repeats numbered.
  std::map<std::string, int> seen;
  for (uint32_t i = 0; i < T; ++i) {
    std::string base = names_.empty() ? strip_prefix(ex[i].type_id.empty() ? "explainer" : ex[i].type_id) : names_[i];
    const int k = ++seen[base];
    ex[i].name = k == 1 ? base : base + "#" + std::to_string(k);
    if (!names_.empty() && k > 1)
      throw Error(std::string(kWho) + ": parameter 'names' lists '" + base + "' twice; names must be unique");
  }
  std::string all_names;
  for (const auto& e : ex) all_names += (all_names.empty() ? "" : ", ") + e.name;

  // The reference explainer.
  int ref = -1;
  if (!reference_.empty()) {
    for (uint32_t i = 0; i < T && ref < 0; ++i)
      if (ex[i].name == reference_) ref = static_cast<int>(i);
    for (uint32_t i = 0; i < T && ref < 0; ++i)
      if (ex[i].type_id == reference_ || strip_prefix(ex[i].type_id) == reference_) ref = static_cast<int>(i);
    if (ref < 0 && !reference_is_default_) {
      std::vector<std::string> candidates;
      for (const auto& e : ex) candidates.push_back(e.name);
      const std::string hint = did_you_mean(reference_, candidates);
      throw Error(std::string(kWho) + ": parameter 'reference' is '" + reference_ + "', which is none of the " +
                  "explainers compared (" + all_names + ")" + (hint.empty() ? "." : hint) +
                  " Name one of them, or \"\" for no reference");
    }
    if (ref < 0)
      host.warn(std::string(kWho) + ": no exact_shapley among the explainers (" + all_names +
                "); set 'reference' to compare against another one. The reference columns stay empty");
  }
  const Explainer* R = ref >= 0 ? &ex[ref] : nullptr;

  // Columns computed from the tables.
  const size_t E = ex.size();
  std::vector<double> max_err(E, kNaN), mean_err(E, kNaN), gap_mean(E, kNaN), gap_max(E, kNaN);
  for (size_t i = 0; i < E; ++i) {
    const Explainer& e = ex[i];
    const size_t P = e.players.size();
    if (!e.base.empty()) {
      double s = 0, m = 0;
      for (int64_t r = 0; r < e.rows; ++r) {
        double sum = 0;
        for (size_t p = 0; p < P; ++p) sum += e.values[r * P + p];
        const double g = std::fabs(sum - (e.output[r] - e.base[r]));
        s += g;
        m = std::max(m, g);
      }
      gap_mean[i] = s / static_cast<double>(e.rows);
      gap_max[i] = m;
    }
    if (!R) continue;
    // Same players (by name) as the reference; rows matched by id and explained class.
    std::vector<size_t> col(P);
    for (size_t p = 0; p < P; ++p) {
      auto it = std::find(R->players.begin(), R->players.end(), e.players[p]);
      if (it == R->players.end() || R->players.size() != P)
        throw Error(std::string(kWho) + ": " + e.name + " and the reference " + R->name +
                    " explain different features or groups (" + e.players[p] +
                    " in one only, or another count); compare explanations of the same model inputs");
      col[p] = static_cast<size_t>(it - R->players.begin());
    }
    std::map<std::string, int64_t> ref_row;
    for (int64_t r = 0; r < R->rows; ++r) ref_row.emplace(R->keys[r], r);
    // Errors only mean something when both explain the same quantity (integrated gradients
    // explains the logit, exact Shapley the probability): same f(x) on every shared row, or
    // the same meta "output" when a table has no output column.
    bool same_quantity = true;
    if (!e.output.empty() && !R->output.empty()) {
      for (int64_t r = 0; r < e.rows && same_quantity; ++r) {
        auto it = ref_row.find(e.keys[r]);
        if (it != ref_row.end())
          same_quantity = std::fabs(e.output[r] - R->output[it->second]) <=
                          1e-4 * std::max(1.0, std::fabs(R->output[it->second]));
      }
    } else if (!e.explains.empty() && !R->explains.empty()) {
      same_quantity = e.explains == R->explains;
    }
    if (!same_quantity) {
      host.info(std::string(kWho) + ": " + e.name + " explains " + (e.explains.empty() ? "another output" : e.explains) +
                ", the reference " + R->name + " " + (R->explains.empty() ? "another" : R->explains) +
                ": its error columns stay empty (rank agreement still compares them)");
      continue;
    }
    double mx = 0, sum = 0;
    int64_t cells = 0;
    for (int64_t r = 0; r < e.rows; ++r) {
      auto it = ref_row.find(e.keys[r]);
      if (it == ref_row.end()) continue;
      for (size_t p = 0; p < P; ++p) {
        const double d = std::fabs(e.values[r * P + p] - R->values[it->second * P + col[p]]);
        mx = std::max(mx, d);
        sum += d;
        ++cells;
      }
    }
    if (cells == 0)
      throw Error(std::string(kWho) + ": " + e.name + " and the reference " + R->name +
                  " share no rows (matched by id and explained class); explain the same samples and classes");
    max_err[i] = mx;
    mean_err[i] = sum / static_cast<double>(cells);
  }

  // Columns from the quality metrics' summaries.
  std::vector<double> fid(E, kNaN), acc(E, kNaN), rfid(E, kNaN), del(E, kNaN), rdel(E, kNaN), ins(E, kNaN);
  const auto fs = read_jsons(ctx, kFidelity);
  const auto fm = match_summaries(ex, fs, kFidelity.name, host);
  for (size_t i = 0; i < E; ++i)
    if (fm[i] >= 0) {
      fid[i] = at_n(fs[fm[i]], "fidelity", n_, ex[i].name);
      acc[i] = at_n(fs[fm[i]], "accuracy", n_, ex[i].name);
      rfid[i] = at_n(fs[fm[i]], "random_fidelity", n_, ex[i].name);
    }
  const auto ds = read_jsons(ctx, kDeletion);
  const auto dm = match_summaries(ex, ds, kDeletion.name, host);
  for (size_t i = 0; i < E; ++i)
    if (dm[i] >= 0) {
      del[i] = number_field(ds[dm[i]], "auc");
      rdel[i] = number_field(ds[dm[i]], "random_auc");
    }
  const auto is = read_jsons(ctx, kInsertion);
  const auto im = match_summaries(ex, is, kInsertion.name, host);
  for (size_t i = 0; i < E; ++i)
    if (im[i] >= 0) ins[i] = number_field(is[im[i]], "auc");

  // Agreement with the reference: metric.agreement names its tables "<index>:<explainer>".
  std::vector<double> rho(E, kNaN), overlap(E, kNaN);
  int k = 0;
  if (ctx.connected(kAgreement)) {
    const Json a = read_jsons(ctx, kAgreement).front();
    if (!a.contains("pairs") || !a["pairs"].is_array())
      throw Error(std::string(kWho) + ": input 'agreement' has no 'pairs'; connect metric.agreement's 'summary'");
    k = a.contains("k") && a["k"].is_number_integer() ? a["k"].get<int>() : 0;
    std::map<int, std::string> agr;  // agreement index -> explainer type
    auto parse = [&](const Json& v) {
      const std::string s = v.is_string() ? v.get<std::string>() : "";
      const size_t c = s.find(':');
      if (c == std::string::npos) return -1;
      try {
        const int idx = std::stoi(s.substr(0, c));
        agr[idx] = s.substr(c + 1);
        return idx;
      } catch (const std::exception&) {
        return -1;
      }
    };
    struct Pair { int a, b; double rho, overlap; };
    std::vector<Pair> pairs;
    for (const auto& p : a["pairs"])
      pairs.push_back({parse(p.value("a", Json())), parse(p.value("b", Json())), number_field(p, "spearman"),
                       number_field(p, "top_k_overlap")});
    // Agreement index of each explainer: the same position when the types agree there,
    // else the one table of that type.
    std::vector<int> where(E, -1);
    bool positional = agr.size() == E;
    for (size_t i = 0; positional && i < E; ++i)
      positional = agr.count(static_cast<int>(i)) > 0 &&
                   (ex[i].type_id.empty() || agr[static_cast<int>(i)] == ex[i].type_id);
    for (size_t i = 0; i < E; ++i) {
      if (positional) {
        where[i] = static_cast<int>(i);
        continue;
      }
      int hit = -1, hits = 0;
      for (const auto& [idx, type] : agr)
        if (type == ex[i].type_id) {
          hit = idx;
          ++hits;
        }
      if (hits == 1) where[i] = hit;
      else if (hits > 1)
        throw Error(std::string(kWho) + ": input 'agreement' compared " + std::to_string(hits) + " tables of " +
                    ex[i].type_id + " in another order than 'attributions'; give metric.agreement the same list");
    }
    if (R && where[ref] < 0)
      host.warn(std::string(kWho) + ": the agreement summary does not include the reference " + R->name +
                "; give metric.agreement the same attribution tables");
    for (size_t i = 0; R && i < E; ++i) {
      if (static_cast<int>(i) == ref) {
        rho[i] = 1.0;  // an explainer agrees perfectly with itself
        overlap[i] = 1.0;
        continue;
      }
      if (where[i] < 0 || where[ref] < 0) continue;
      for (const auto& p : pairs)
        if ((p.a == where[i] && p.b == where[ref]) || (p.b == where[i] && p.a == where[ref])) {
          rho[i] = p.rho;
          overlap[i] = p.overlap;
        }
    }
  }

  // The table.
  const std::string at = "@" + std::to_string(n_);
  std::vector<std::string> names, types, explains;
  std::vector<double> rows, secs, mrows;
  for (const auto& e : ex) {
    names.push_back(e.name);
    types.push_back(e.type_id);
    explains.push_back(e.explains);
    rows.push_back(static_cast<double>(e.rows));
    secs.push_back(e.seconds);
    mrows.push_back(e.model_rows);
  }
  struct Col {
    std::string name, label, doc;
    const std::vector<double>* v;
  };
  const std::string refname = R ? R->name : "reference";
  const std::vector<Col> cols = {
      {"rows", "rows", "attribution rows (explained samples x classes)", &rows},
      {"fidelity" + at, "fidelity" + at,
       "share of samples whose prediction is unchanged when only the top-n features are kept (metric.fidelity)", &fid},
      {"accuracy" + at, "accuracy" + at, "accuracy on those reduced inputs (explanation accuracy, metric.fidelity)",
       &acc},
      {"random_fidelity" + at, "random fidelity" + at, "fidelity with random rankings (control)", &rfid},
      {"deletion_auc", "deletion AUC", "area under the deletion curve, lower = more faithful (metric.deletion)", &del},
      {"deletion_random_auc", "deletion AUC random", "the same for random orders (control)", &rdel},
      {"insertion_auc", "insertion AUC", "area under the insertion curve, higher = more faithful (metric.insertion)",
       &ins},
      {"spearman_vs_reference", "Spearman vs " + refname,
       "mean Spearman rank correlation with the reference explainer's attributions (metric.agreement)", &rho},
      {"top_k_overlap_vs_reference", "top-" + (k ? std::to_string(k) : std::string("k")) + " overlap vs " + refname,
       "mean |top-k & top-k of the reference| / k (metric.agreement)", &overlap},
      {"max_abs_error_vs_reference", "max abs error vs " + refname,
       "largest |phi - phi_reference| over shared rows and features", &max_err},
      {"mean_abs_error_vs_reference", "mean abs error vs " + refname, "mean |phi - phi_reference|", &mean_err},
      {"efficiency_gap_mean", "efficiency gap mean", "mean over rows of |sum phi - (output - base_value)|", &gap_mean},
      {"efficiency_gap_max", "efficiency gap max", "largest |sum phi - (output - base_value)|", &gap_max},
      {"seconds", "seconds", "the explainer's own wall time (table meta 'seconds')", &secs},
      {"model_rows", "model rows", "rows the explainer sent through the model (table meta 'model_rows')", &mrows},
  };
  Table t(static_cast<int64_t>(E));
  t.add_strings("explainer", MIEN_ROLE_ID, names)
      .add_strings("type_id", MIEN_ROLE_VALUE, types)
      .add_strings("explains", MIEN_ROLE_VALUE, explains);
  Json defs = Json::object();
  defs["explains"] = "what the attributions explain (table meta 'output': probability, logit)";
  for (const auto& c : cols) {
    t.add_numbers(c.name, MIEN_ROLE_VALUE, *c.v);
    defs[c.name] = c.doc;
  }
  Json meta{{"metric", "compare_explainers"}, {"reference", R ? Json(R->name) : Json()}, {"n", n_},
            {"k", k ? Json(k) : Json()}, {"definitions", defs}};
  t.meta(meta);

  // JSON rows.
  Json jrows = Json::array();
  for (size_t i = 0; i < E; ++i) {
    Json r{{"explainer", names[i]}, {"type_id", types[i]}, {"explains", explains[i]}};
    for (const auto& c : cols) r[c.name] = num((*c.v)[i]);
    jrows.push_back(r);
  }
  Json summary = meta;
  summary["explainers"] = jrows;

  // Markdown: only the columns that hold a value somewhere.
  std::vector<const Col*> shown;
  for (const auto& c : cols)
    if (std::any_of(c.v->begin(), c.v->end(), [](double v) { return !std::isnan(v); })) shown.push_back(&c);
  std::vector<std::string> header{"explainer", "explains"};
  for (const Col* c : shown) header.push_back(c->label);
  std::vector<std::vector<std::string>> mrows_text;
  for (size_t i = 0; i < E; ++i) {
    std::vector<std::string> r{names[i] + (static_cast<int>(i) == ref ? " (reference)" : ""),
                               explains[i].empty() ? "n/a" : explains[i]};
    for (const Col* c : shown) r.push_back(format_number((*c->v)[i]));
    mrows_text.push_back(r);
  }
  std::string md = "# Explainers compared\n\n" + markdown_table(header, mrows_text) + "\n";
  for (const Col* c : shown) md += "- **" + c->label + "**: " + c->doc + "\n";

  // Headline: one line per explainer with what is known.
  const std::string title = !title_.empty() ? title_
                            : "Explainers compared on " + std::to_string(ex.front().rows) + " rows" +
                                  (R ? " (reference: " + R->name + ")" : "");
  Json hrows = Json::array();
  for (size_t i = 0; i < E; ++i) {
    std::vector<std::string> parts;
    auto add = [&](const std::string& label, double v) {
      if (!std::isnan(v)) parts.push_back(label + " " + format_short(v));
    };
    add("fid" + at, fid[i]);
    add("acc" + at, acc[i]);
    add("del AUC", del[i]);
    if (static_cast<int>(i) != ref) {
      add("rho", rho[i]);
      add("max err", max_err[i]);
    }
    add("eff gap", gap_max[i]);
    if (!std::isnan(secs[i])) parts.push_back(format_short(secs[i]) + " s");
    std::string value;
    for (const auto& p : parts) value += (value.empty() ? "" : ", ") + p;
    hrows.push_back({{"label", names[i] + (static_cast<int>(i) == ref ? " (ref)" : "")}, {"value", value}});
  }

  const std::string dir = host.output_dir(nullptr);
  {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    // The Markdown also as a file beside the node's outputs, for papers and READMEs.
    if (FILE* f = std::fopen((dir + "/comparison.md").c_str(), "wb")) {
      std::fwrite(md.data(), 1, md.size(), f);
      std::fclose(f);
    } else {
      throw Error(std::string(kWho) + ": cannot write " + dir + "/comparison.md", MIEN_ERR_IO);
    }
  }
  ctx.set(kTable, std::move(t));
  ctx.set(kSummary, summary);
  ctx.set_text(kText, md);
  ctx.set(kHeadline, Json{{"title", title}, {"rows", hrows}});
}

}  // namespace mien::compare
