// mien SDK: suggestions for misspelt names in error messages ("did you mean ...?"), so
// every plugin suggests alike. Header-only, no dependencies beyond the standard library.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

namespace mien {

// Levenshtein distance (insertions, deletions, substitutions cost 1).
inline size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// The candidate closest to `name` when it is a likely typo, else "". A case-insensitive
// match always is; otherwise one edit for names of up to 3 characters (codes such as AF,
// S, 01), else up to 2 edits or a third of the name.
inline std::string closest_name(const std::string& name, const std::vector<std::string>& candidates) {
  const auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
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
  const size_t limit = name.size() <= 3 ? 1 : std::max<size_t>(2, name.size() / 3);
  return best_d <= limit ? best : "";
}

// "; did you mean 'fear'?" when a close candidate exists, else "".
inline std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates) {
  const std::string best = closest_name(name, candidates);
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}

}  // namespace mien
