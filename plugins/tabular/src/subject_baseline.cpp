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

void SubjectBaseline::process(Context& ctx) {
  const Host& host = ctx.host();
  const TableView in = ctx.table(kTableIn);
  const int64_t n = in.num_rows();
  const std::vector<std::string> names = column_names(in);
  const auto label = in.label();
  if (!label) throw Error(std::string(kWho) + ": the table has no LABEL column, so no row is known to be neutral");
  const auto features = in.with_role(MIEN_ROLE_FEATURE);
  if (features.empty()) throw Error(std::string(kWho) + ": the table has no FEATURE columns");

  // The person's column: `group`, else `subject`, else the first GROUP column.
  std::string group = group_;
  if (group.empty()) {
    if (in.find("subject")) {
      group = "subject";
    } else {
      const auto groups = in.with_role(MIEN_ROLE_GROUP);
      if (groups.empty())
        throw Error(std::string(kWho) + ": group: the table has no `subject` and no GROUP column; name the column "
                    "that says which person a face is" + did_you_mean("subject", names));
      group = groups.front().name();
    }
  }
  const ColumnView person = require_column(in, group, kWho, "group");
  std::vector<ColumnView> match;
  std::vector<std::string> match_used;
  for (const auto& m : match_) {
    if (m == group) continue;
    if (auto c = in.find(m)) {
      match.push_back(*c);
      match_used.push_back(m);
    } else if (!mien::closest_name(m, names).empty()) {
      require_column(in, m, kWho, "match");  // a likely misspelling: throws with the suggestion
    } else {
      host.info(std::string(kWho) + ": the table has no column '" + m + "' to match; neutral faces are matched "
                "without it");
    }
  }

  // Each row's key: the person and the matched columns, as readable text.
  std::vector<std::string> key(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    std::string k = person.text(i);
    for (size_t m = 0; m < match.size(); ++m) k += " (" + match_used[m] + " " + match[m].text(i) + ")";
    key[static_cast<size_t>(i)] = k;
  }
  std::vector<bool> is_neutral(static_cast<size_t>(n));
  std::set<std::string> labels_seen;
  int64_t neutral_rows = 0;
  for (int64_t i = 0; i < n; ++i) {
    const std::string l = label->text(i);
    labels_seen.insert(l);
    is_neutral[static_cast<size_t>(i)] = l == neutral_;
    neutral_rows += l == neutral_;
  }
  if (neutral_rows == 0)
    throw Error(std::string(kWho) + ": no row has the label '" + neutral_ + "'; the labels are: " +
                first_few(std::vector<std::string>(labels_seen.begin(), labels_seen.end()), 20) +
                " (set `neutral` to the label of the neutral faces)");

  // Mean neutral features per key.
  const size_t M = features.size();
  struct Baseline {
    std::vector<double> sum;
    int64_t rows = 0;
  };
  std::map<std::string, Baseline> baselines;
  for (int64_t i = 0; i < n; ++i) {
    if (!is_neutral[static_cast<size_t>(i)]) continue;
    Baseline& b = baselines[key[static_cast<size_t>(i)]];
    b.sum.resize(M, 0.0);
    for (size_t j = 0; j < M; ++j) {
      const double v = features[j].number(i);
      if (!std::isfinite(v))
        throw Error(std::string(kWho) + ": feature '" + features[j].name() + "' of the neutral face in row " +
                    std::to_string(i + 1) + " (" + key[static_cast<size_t>(i)] + ") is not finite");
      b.sum[j] += v;
    }
    ++b.rows;
  }
  int64_t several = 0;
  for (auto& [k, b] : baselines) {
    for (double& v : b.sum) v /= static_cast<double>(b.rows);
    several += b.rows > 1;
  }

  // The output rows, and the persons without a neutral face.
  std::vector<int64_t> rows;
  std::vector<std::string> missing;
  std::set<std::string> missing_seen;
  int64_t rows_missing = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (is_neutral[static_cast<size_t>(i)] && !keep_neutral_) continue;
    const std::string& k = key[static_cast<size_t>(i)];
    if (baselines.count(k) == 0) {
      ++rows_missing;
      if (missing_seen.insert(k).second) missing.push_back(k);
      continue;
    }
    rows.push_back(i);
  }
  const std::string with_match = match_used.empty() ? "" : " with the same " + first_few(match_used);
  if (!missing.empty()) {
    if (missing_ == "error")
      throw Error(std::string(kWho) + ": " + std::to_string(missing.size()) + " of the persons have no neutral face (label '" +
                  neutral_ + "')" + with_match + ": " + first_few(missing) +
                  "; add their neutral faces, set `neutral` to the neutral label, match: [] to accept another pose's "
                  "neutral face, or missing: drop to leave their " + std::to_string(rows_missing) + " rows out");
    host.warn(std::string(kWho) + ": dropped " + std::to_string(rows_missing) + " rows of " +
              std::to_string(missing.size()) + " persons without a neutral face" + with_match + ": " + first_few(missing));
  }
  if (rows.empty()) throw Error(std::string(kWho) + ": no row is left once the neutral faces are taken out");

  const bool ratio = mode_ == "ratio";
  const bool unchanged = mode_ == "none";  // the same rows and classes, absolute features (for comparisons)
  if (ratio) {
    // Rule: a neutral value of exactly 0 cannot divide; stop rather than write inf.
    for (const auto& [k, b] : baselines)
      for (size_t j = 0; j < M; ++j)
        if (b.sum[j] == 0.0)
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
        const double nv = baselines.at(key[static_cast<size_t>(r)]).sum[f];
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
  meta["subject_baseline"] = {{"mode", mode_}, {"group", group}, {"match", match_used}, {"neutral", neutral_}};
  out.meta(meta);
  Json base_meta = in.meta();
  base_meta["subject_baseline"] = {{"baseline_of", "neutral faces"}, {"group", group}, {"match", match_used},
                                   {"neutral", neutral_}};
  base.meta(base_meta);
  base_meta["subject_baseline"]["baseline_of"] = "neutral faces, relative to themselves (" + mode_ + ")";
  rel_base.meta(base_meta);

  const int64_t kept_neutral = keep_neutral_ ? neutral_rows : 0;
  Json summary{{"mode", mode_},
               {"group", group},
               {"match", match_used},
               {"neutral", neutral_},
               {"rows_in", n},
               {"rows_out", rows.size()},
               {"neutral_rows", neutral_rows},
               {"neutral_rows_kept", kept_neutral},
               {"baselines", baselines.size()},
               {"baselines_averaged", several},
               {"without_neutral", missing},
               {"rows_without_neutral", rows_missing},
               {"features", M}};
  host.info(std::string(kWho) + ": " + std::to_string(rows.size()) + " rows relative to " +
            std::to_string(baselines.size()) + " neutral baselines (" + mode_ + ")" + with_match +
            (keep_neutral_ ? "" : "; " + std::to_string(neutral_rows) + " neutral rows dropped"));
  ctx.set(kTableOut, std::move(out));
  ctx.set(kBaseline, std::move(base));
  ctx.set(kRelativeBaseline, std::move(rel_base));
  ctx.set(kSummary, summary);
}

}  // namespace mien::tabular
