// Rank statistics and correlations for explanation metrics: the agreement between two
// explainers (quality), the randomisation check of heat maps (explain_image).
// Header-only, standard library only.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <vector>

namespace mien::stats {

// Ranks (1 = smallest) with ties given their average rank, as scipy.stats.rankdata.
inline std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
    const double avg = 0.5 * static_cast<double>(i + j) + 1.0;
    for (size_t k = i; k <= j; ++k) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

// Pearson's r of two equally long vectors; NaN when either is constant (or empty): no
// correlation is defined, and the caller decides what that means.
inline double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const size_t n = std::min(a.size(), b.size());
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  double ma = 0, mb = 0;
  for (size_t i = 0; i < n; ++i) {
    ma += a[i];
    mb += b[i];
  }
  ma /= static_cast<double>(n);
  mb /= static_cast<double>(n);
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < n; ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : std::numeric_limits<double>::quiet_NaN();
}

// Spearman's rho: Pearson's r of the (tie-averaged) ranks.
inline double spearman(const std::vector<double>& a, const std::vector<double>& b) { return pearson(ranks(a), ranks(b)); }

// Kendall's tau-b (ties in either vector corrected, as scipy.stats.kendalltau); NaN when
// either vector is constant. O(n^2): for attribution vectors of tens of features.
inline double kendall_tau_b(const std::vector<double>& a, const std::vector<double>& b) {
  double conc = 0, disc = 0, ta = 0, tb = 0;
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      const double da = a[i] - a[j], db = b[i] - b[j];
      if (da == 0 && db == 0) continue;
      if (da == 0) ++ta;
      else if (db == 0) ++tb;
      else if ((da > 0) == (db > 0)) ++conc;
      else ++disc;
    }
  const double den = std::sqrt((conc + disc + ta) * (conc + disc + tb));
  return den > 0 ? (conc - disc) / den : std::numeric_limits<double>::quiet_NaN();
}

// The q-quantile (0 <= q <= 1) by linear interpolation between order statistics (numpy's
// default percentile), e.g. the ends of a percentile bootstrap interval; NaN when empty.
inline double quantile(std::vector<double> v, double q) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace mien::stats
