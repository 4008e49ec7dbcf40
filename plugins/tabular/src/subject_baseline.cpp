// transform.subject_baseline: features relative to the same person's neutral face.
#include <cmath>
#include <map>
#include <set>

#include "components.hpp"
#include "table_access.hpp"

namespace mien::tabular {

namespace {

const char* const kWho = "transform.subject_baseline";

std::string first_few(const std::vector<std::string>& items, size_t limit = 5) {
  std::string s;
  for (size_t i = 0; i < items.size() && i < limit; ++i) s += (i ? ", " : "") + items[i];
  if (items.size() > limit) s += ", ... (" + std::to_string(items.size()) + " in all)";
  return s;
}

std::vector<std::string> column_names(const TableView& t) {
  std::vector<std::string> names;
  for (uint32_t i = 0; i < t.num_columns(); ++i) names.emplace_back(t.column(i).name());
  return names;
}

// The LABEL column with the neutral class removed from its categories (codes above it shift
// down by one), so a model trained on the output does not carry a class without rows.
void add_label_without(Table& out, const ColumnView& label, const std::vector<int64_t>& rows, int64_t neutral_code) {
  std::vector<std::string> categories = label.categories();
  categories.erase(categories.begin() + neutral_code);
  std::vector<int64_t> codes;
  codes.reserve(rows.size());
  for (int64_t r : rows) {
    const int64_t c = label.code(r);
    codes.push_back(c > neutral_code ? c - 1 : c);
  }
  out.add_codes(label.name(), label.role(), std::move(codes), std::move(categories));
}

}  // namespace

ComponentInfo SubjectBaseline::info() {
  return ComponentInfo(kWho, 1, MIEN_KIND_TRANSFORM,
                       "Expresses each face's features relative to the same person's neutral face (difference or ratio)")
      .params(kMode, kGroup, kMatch, kNeutral, kKeepNeutral, kMissing)
      .ports(kTableIn, kTableOut, kBaseline, kRelativeBaseline, kSummary);
}

SubjectBaseline::SubjectBaseline(const Setup& s)
    : mode_(kMode.read(s.params())),
      group_(kGroup.read(s.params())),
      neutral_(kNeutral.read(s.params())),
      missing_(kMissing.read(s.params())),
      match_(kMatch.read(s.params())),
      keep_neutral_(kKeepNeutral.read(s.params())) {
  if (neutral_.empty()) throw Error("neutral: give the label of the neutral faces, e.g. neutral");
}

struct SubjectBaseline::Keys {
  std::string group;                    // the person's column
  std::vector<std::string> match_used;  // the matched columns the table has
  std::vector<std::string> key;         // per row: "person (pose S)"
  std::vector<bool> is_neutral;
  int64_t neutral_rows = 0;
};

struct SubjectBaseline::Selection {
  std::vector<int64_t> rows;         // the output rows, in input order
  std::vector<std::string> missing;  // keys without a neutral face, first appearance order
  int64_t rows_missing = 0;
};

// The person's column (`group`, else `subject`, else the first GROUP column), the matched
// columns, each row's key and which rows are neutral.
SubjectBaseline::Keys SubjectBaseline::row_keys(const TableView& in, const Host& host) const {
  const int64_t n = in.num_rows();
  const std::vector<std::string> names = column_names(in);
  const auto label = in.label();
  Keys k;
  k.group = group_;
  if (k.group.empty()) {
    if (in.find("subject")) {
      k.group = "subject";
    } else {
      const auto groups = in.with_role(MIEN_ROLE_GROUP);
      if (groups.empty())
        throw Error(std::string(kWho) + ": group: the table has no `subject` and no GROUP column; name the column "
                    "that says which person a face is" + did_you_mean("subject", names));
      k.group = groups.front().name();
    }
  }
  const ColumnView person = require_column(in, k.group, kWho, "group");
  std::vector<ColumnView> match;
  for (const auto& m : match_) {
    if (m == k.group) continue;
    if (auto c = in.find(m)) {
      match.push_back(*c);
      k.match_used.push_back(m);
    } else if (!mien::closest_name(m, names).empty()) {
      require_column(in, m, kWho, "match");  // a likely misspelling: throws with the suggestion
    } else {
      host.info(std::string(kWho) + ": the table has no column '" + m + "' to match; neutral faces are matched "
                "without it");
    }
  }
  k.key.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    std::string key = person.text(i);
    for (size_t m = 0; m < match.size(); ++m) key += " (" + k.match_used[m] + " " + match[m].text(i) + ")";
    k.key[static_cast<size_t>(i)] = key;
  }
  k.is_neutral.resize(static_cast<size_t>(n));
  std::set<std::string> labels_seen;
  for (int64_t i = 0; i < n; ++i) {
    const std::string l = label->text(i);
    labels_seen.insert(l);
    k.is_neutral[static_cast<size_t>(i)] = l == neutral_;
    k.neutral_rows += l == neutral_;
  }
  if (k.neutral_rows == 0)
    throw Error(std::string(kWho) + ": no row has the label '" + neutral_ + "'; the labels are: " +
                first_few(std::vector<std::string>(labels_seen.begin(), labels_seen.end()), 20) +
                " (set `neutral` to the label of the neutral faces)");
  return k;
}

// The rows that get a baseline: neutral ones only with keep_neutral, and a person without
// a neutral face stops the run (missing: error) or is left out with a warning.
SubjectBaseline::Selection SubjectBaseline::select_rows(const Keys& keys,
                                                        const std::map<std::string, std::vector<double>>& neutral,
                                                        const Host& host) const {
  Selection sel;
  std::set<std::string> missing_seen;
  for (size_t i = 0; i < keys.key.size(); ++i) {
    if (keys.is_neutral[i] && !keep_neutral_) continue;
    const std::string& k = keys.key[i];
    if (neutral.count(k) == 0) {
      ++sel.rows_missing;
      if (missing_seen.insert(k).second) sel.missing.push_back(k);
      continue;
    }
    sel.rows.push_back(static_cast<int64_t>(i));
  }
  const std::string with_match = keys.match_used.empty() ? "" : " with the same " + first_few(keys.match_used);
  if (!sel.missing.empty()) {
    if (missing_ == "error")
      throw Error(std::string(kWho) + ": " + std::to_string(sel.missing.size()) +
                  " of the persons have no neutral face (label '" + neutral_ + "')" + with_match + ": " +
                  first_few(sel.missing) +
                  "; add their neutral faces, set `neutral` to the neutral label, match: [] to accept another pose's "
                  "neutral face, or missing: drop to leave their " + std::to_string(sel.rows_missing) + " rows out");
    host.warn(std::string(kWho) + ": dropped " + std::to_string(sel.rows_missing) + " rows of " +
              std::to_string(sel.missing.size()) + " persons without a neutral face" + with_match + ": " +
              first_few(sel.missing));
  }
  if (sel.rows.empty()) throw Error(std::string(kWho) + ": no row is left once the neutral faces are taken out");
  return sel;
}

namespace {

// The mean features of each key's neutral faces (`averaged`: keys with more than one).
std::map<std::string, std::vector<double>> neutral_means(const std::vector<ColumnView>& features,
                                                         const std::vector<std::string>& key,
                                                         const std::vector<bool>& is_neutral, int64_t* averaged) {
  const size_t M = features.size();
  std::map<std::string, std::vector<double>> sums;
  std::map<std::string, int64_t> counts;
  for (size_t i = 0; i < key.size(); ++i) {
    if (!is_neutral[i]) continue;
    std::vector<double>& sum = sums[key[i]];
    sum.resize(M, 0.0);
    for (size_t j = 0; j < M; ++j) {
      const double v = features[j].number(static_cast<int64_t>(i));
      if (!std::isfinite(v))
        throw Error(std::string(kWho) + ": feature '" + features[j].name() + "' of the neutral face in row " +
                    std::to_string(i + 1) + " (" + key[i] + ") is not finite");
      sum[j] += v;
    }
    ++counts[key[i]];
  }
  *averaged = 0;
  for (auto& [k, sum] : sums) {
    for (double& v : sum) v /= static_cast<double>(counts[k]);
    *averaged += counts[k] > 1;
  }
  return sums;
}

}  // namespace

// Key every row by its person (and pose); average each key's neutral faces; pick the rows;
// write the relative table and the two baseline tables.
void SubjectBaseline::process(Context& ctx) {
  const Host& host = ctx.host();
  const TableView in = ctx.table(kTableIn);
  const int64_t n = in.num_rows();
  const auto label = in.label();
  if (!label) throw Error(std::string(kWho) + ": the table has no LABEL column, so no row is known to be neutral");
  const auto features = in.with_role(MIEN_ROLE_FEATURE);
  if (features.empty()) throw Error(std::string(kWho) + ": the table has no FEATURE columns");
  const Keys keys = row_keys(in, host);
  int64_t several = 0;
  const auto baselines = neutral_means(features, keys.key, keys.is_neutral, &several);
  const Selection sel = select_rows(keys, baselines, host);
  const std::vector<int64_t>& rows = sel.rows;
  const size_t M = features.size();

  const bool ratio = mode_ == "ratio";
  const bool unchanged = mode_ == "none";  // the same rows and classes, absolute features (for comparisons)
  if (ratio) {
    // Rule: a neutral value of exactly 0 cannot divide; stop rather than write inf.
    for (const auto& [k, b] : baselines)
      for (size_t j = 0; j < M; ++j)
        if (b[j] == 0.0)
          throw Error(std::string(kWho) + ": mode ratio: feature '" + features[j].name() +
                      "' of the neutral face of " + k + " is 0, so the ratio is undefined; use mode: difference "
                      "(or leave that feature out of the table)");
  }

  // Neutral code of the LABEL column, when neutral rows go and the class can be removed.
  int64_t neutral_code = -1;
  if (!keep_neutral_) {
    const auto cats = label->categories();
    for (size_t c = 0; c < cats.size(); ++c)
      if (cats[c] == neutral_) neutral_code = static_cast<int64_t>(c);
  }

  const int64_t R = static_cast<int64_t>(rows.size());
  Table out(R), base(R), rel_base(R);
  size_t f = 0;
  for (uint32_t c = 0; c < in.num_columns(); ++c) {
    host.check_cancelled();
    const ColumnView col = in.column(c);
    if (col.role() == MIEN_ROLE_FEATURE) {
      std::vector<double> rel, used;
      rel.reserve(rows.size());
      used.reserve(rows.size());
      for (int64_t r : rows) {
        const double nv = baselines.at(keys.key[static_cast<size_t>(r)])[f];
        const double x = col.number(r);
        rel.push_back(ratio ? x / nv : unchanged ? x : x - nv);
        used.push_back(nv);
      }
      out.add_numbers(col.name(), MIEN_ROLE_FEATURE, std::move(rel));
      base.add_numbers(col.name(), MIEN_ROLE_FEATURE, used);
      if (unchanged)
        rel_base.add_numbers(col.name(), MIEN_ROLE_FEATURE, used);
      else
        rel_base.add_numbers(col.name(), MIEN_ROLE_FEATURE, std::vector<double>(rows.size(), ratio ? 1.0 : 0.0));
      ++f;
    } else if (col.role() == MIEN_ROLE_LABEL && neutral_code >= 0 && std::string(col.name()) == label->name()) {
      for (Table* t : {&out, &base, &rel_base}) add_label_without(*t, col, rows, neutral_code);
    } else {
      for (Table* t : {&out, &base, &rel_base}) t->add_copy(col, &rows);
    }
  }
  Json meta = in.meta();
  meta["subject_baseline"] = {{"mode", mode_}, {"group", keys.group}, {"match", keys.match_used}, {"neutral", neutral_}};
  out.meta(meta);
  Json base_meta = in.meta();
  base_meta["subject_baseline"] = {{"baseline_of", "neutral faces"}, {"group", keys.group}, {"match", keys.match_used},
                                   {"neutral", neutral_}};
  base.meta(base_meta);
  base_meta["subject_baseline"]["baseline_of"] = "neutral faces, relative to themselves (" + mode_ + ")";
  rel_base.meta(base_meta);

  const int64_t kept_neutral = keep_neutral_ ? keys.neutral_rows : 0;
  const std::string with_match = keys.match_used.empty() ? "" : " with the same " + first_few(keys.match_used);
  Json summary{{"mode", mode_},
               {"group", keys.group},
               {"match", keys.match_used},
               {"neutral", neutral_},
               {"rows_in", n},
               {"rows_out", rows.size()},
               {"neutral_rows", keys.neutral_rows},
               {"neutral_rows_kept", kept_neutral},
               {"baselines", baselines.size()},
               {"baselines_averaged", several},
               {"without_neutral", sel.missing},
               {"rows_without_neutral", sel.rows_missing},
               {"features", M}};
  host.info(std::string(kWho) + ": " + std::to_string(rows.size()) + " rows relative to " +
            std::to_string(baselines.size()) + " neutral baselines (" + mode_ + ")" + with_match +
            (keep_neutral_ ? "" : "; " + std::to_string(keys.neutral_rows) + " neutral rows dropped"));
  ctx.set(kTableOut, std::move(out));
  ctx.set(kBaseline, std::move(base));
  ctx.set(kRelativeBaseline, std::move(rel_base));
  ctx.set(kSummary, summary);
}

}  // namespace mien::tabular
