// Validation by person, shared by every trainable model (model.mlp, model.cnn,
// model.faceapi_expression, tune.hyperband): the rows held out for validation and early
// stopping are whole groups (people), so validation accuracy is measured on faces of
// people the training never saw. Header-only: each plugin compiles its own copy.
#pragma once

#include <mien/plugin.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace mien::training {

// The `validation_group` parameter every trainable model declares.
inline Param<std::string> validation_group_param() {
  return Param<std::string>(
      "validation_group", "auto",
      "Column naming the person of each row: the validation hold-out takes whole people, so no person is in both "
      "training and validation. auto = the table's GROUP column `subject` when it has one, else rows; rows = "
      "rows stratified by class (faces of training people are then in validation); or a column name");
}

// The column `param` names in `table` ("" = hold out rows). Errors name the component and
// the GROUP columns the table has.
inline std::string validation_group_column(const TableView& table, const std::string& param,
                                           const std::string& component) {
  if (param == "rows") return "";
  if (param == "auto" || param.empty()) {
    auto c = table.find("subject");
    return c && c->role() == MIEN_ROLE_GROUP ? "subject" : "";
  }
  if (!table.find(param)) {
    std::string groups;
    for (const auto& g : table.with_role(MIEN_ROLE_GROUP)) groups += (groups.empty() ? std::string() : std::string(", ")) + g.name();
    throw Error(component + ": parameter 'validation_group' is '" + param + "', but the training table has no such column" +
                (groups.empty() ? std::string(" (it has no GROUP columns; use rows)") : " (GROUP columns: " + groups + ")"));
  }
  return param;
}

struct GroupHoldOut {
  std::vector<int64_t> fit, val;            // indices into the candidate list, ascending
  std::vector<std::string> val_groups;      // the people held out, sorted
  size_t groups = 0;                        // distinct people among the candidates
};

// Whole groups to validation: round(fraction x G) of the G distinct groups (at least one,
// at most G - 1), drawn with `seed` (a portable Fisher-Yates over the sorted names, so the
// same seed picks the same people everywhere). `group_of[i]` is candidate i's group.
// Fewer than two groups: nothing is held out (the caller says so).
inline GroupHoldOut hold_out_groups(const std::vector<std::string>& group_of, double fraction, uint64_t seed) {
  GroupHoldOut out;
  std::vector<std::string> names(group_of.begin(), group_of.end());
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  out.groups = names.size();
  if (names.size() < 2 || !(fraction > 0)) {
    for (size_t i = 0; i < group_of.size(); ++i) out.fit.push_back(static_cast<int64_t>(i));
    return out;
  }
  std::mt19937_64 rng(seed ^ 0x2545f4914f6cdd1dULL);
  auto below = [&](uint64_t n) {
    const uint64_t threshold = (0 - n) % n;
    for (;;) {
      const uint64_t r = rng();
      if (r >= threshold) return r % n;
    }
  };
  for (size_t i = names.size(); i > 1; --i) std::swap(names[i - 1], names[static_cast<size_t>(below(i))]);
  auto take = static_cast<size_t>(std::llround(fraction * static_cast<double>(names.size())));
  take = std::clamp<size_t>(take, 1, names.size() - 1);
  std::map<std::string, bool> held;
  for (size_t k = 0; k < names.size(); ++k) held[names[k]] = k < take;
  for (size_t i = 0; i < group_of.size(); ++i) (held[group_of[i]] ? out.val : out.fit).push_back(static_cast<int64_t>(i));
  out.val_groups.assign(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(take));
  std::sort(out.val_groups.begin(), out.val_groups.end());
  return out;
}

// "3 of 12 people (subject) held out: AA, KL, YM" for the log and the artifact.
inline std::string describe_hold_out(const GroupHoldOut& h, const std::string& column) {
  std::string names;
  for (size_t i = 0; i < h.val_groups.size() && i < 8; ++i) names += (i ? ", " : "") + h.val_groups[i];
  if (h.val_groups.size() > 8) names += ", ...";
  return std::to_string(h.val_groups.size()) + " of " + std::to_string(h.groups) + " people (" + column +
         ") held out for validation: " + names;
}

}  // namespace mien::training
