// Background data for the explainers: weighted rows, their mean and SD, and the reductions
// the background / background_size parameters ask for (all rows, a seeded sample, k-means).
#include "explainer_kit.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mien::explain {

std::vector<double> Background::mean() const {
  const size_t m = rows ? x.size() / static_cast<size_t>(rows) : 0;
  std::vector<double> mu(m, 0.0);
  for (int64_t b = 0; b < rows; ++b)
    for (size_t j = 0; j < m; ++j) mu[j] += w[b] * x[static_cast<size_t>(b) * m + j];
  return mu;
}

std::vector<double> Background::stddev() const {
  const size_t m = rows ? x.size() / static_cast<size_t>(rows) : 0;
  const auto mu = mean();
  std::vector<double> sd(m, 0.0);
  for (int64_t b = 0; b < rows; ++b)
    for (size_t j = 0; j < m; ++j) {
      const double d = x[static_cast<size_t>(b) * m + j] - mu[j];
      sd[j] += w[b] * d * d;
    }
  for (auto& v : sd) v = std::sqrt(v);
  return sd;
}

Background reduce_background(const std::vector<float>& x, int64_t n, int64_t m, const std::string& how, int size,
                             uint64_t seed, const Host& host) {
  Background bg;
  if (n == 0) throw Error("the background table has no rows");
  if (how == "mean") {
    Background all;
    all.rows = n;
    all.x = x;
    all.w.assign(static_cast<size_t>(n), 1.0 / static_cast<double>(n));
    const auto mu = all.mean();
    bg.rows = 1;
    bg.x.assign(mu.begin(), mu.end());
    bg.w = {1.0};
    bg.how = "mean of " + std::to_string(n) + " rows";
    return bg;
  }
  if (size == 0 || n <= size) {
    bg.rows = n;
    bg.x = x;
    bg.w.assign(static_cast<size_t>(n), 1.0 / static_cast<double>(n));
    bg.how = "all " + std::to_string(n) + " rows";
    return bg;
  }
  Rng rng(derive_seed(seed, 0xB6ULL));
  if (how == "sample") {
    std::vector<int64_t> idx(static_cast<size_t>(n));
    std::iota(idx.begin(), idx.end(), 0);
    for (int i = 0; i < size; ++i) std::swap(idx[i], idx[i + rng.below(static_cast<uint64_t>(n - i))]);
    idx.resize(static_cast<size_t>(size));
    std::sort(idx.begin(), idx.end());
    bg.rows = size;
    for (int64_t r : idx) bg.x.insert(bg.x.end(), x.begin() + r * m, x.begin() + (r + 1) * m);
    bg.w.assign(static_cast<size_t>(size), 1.0 / size);
    bg.how = "seeded random sample of " + std::to_string(size) + " of " + std::to_string(n) + " rows";
    return bg;
  }
  // kmeans: k-means++ initialisation, Lloyd iterations, weights = cluster sizes.
  const int k = size;
  std::vector<double> cent(static_cast<size_t>(k * m));
  std::vector<double> d2(static_cast<size_t>(n), std::numeric_limits<double>::infinity());
  auto dist = [&](int64_t r, const double* c) {
    double s = 0;
    for (int64_t j = 0; j < m; ++j) {
      const double d = x[r * m + j] - c[j];
      s += d * d;
    }
    return s;
  };
  int64_t first = static_cast<int64_t>(rng.below(static_cast<uint64_t>(n)));
  for (int64_t j = 0; j < m; ++j) cent[j] = x[first * m + j];
  for (int c = 1; c < k; ++c) {
    double total = 0;
    for (int64_t r = 0; r < n; ++r) {
      d2[r] = std::min(d2[r], dist(r, &cent[(c - 1) * m]));
      total += d2[r];
    }
    int64_t pick = n - 1;
    if (total > 0) {
      double u = rng.uniform() * total;
      for (int64_t r = 0; r < n; ++r) {
        u -= d2[r];
        if (u < 0) {
          pick = r;
          break;
        }
      }
    } else {
      pick = static_cast<int64_t>(rng.below(static_cast<uint64_t>(n)));
    }
    for (int64_t j = 0; j < m; ++j) cent[c * m + j] = x[pick * m + j];
  }
  std::vector<int> assign(static_cast<size_t>(n), -1);
  std::vector<double> count(static_cast<size_t>(k));
  for (int it = 0; it < 100; ++it) {
    host.check_cancelled();
    bool changed = false;
    for (int64_t r = 0; r < n; ++r) {
      int best = 0;
      double bd = std::numeric_limits<double>::infinity();
      for (int c = 0; c < k; ++c) {
        const double d = dist(r, &cent[c * m]);
        if (d < bd) {
          bd = d;
          best = c;
        }
      }
      if (assign[r] != best) changed = true;
      assign[r] = best;
    }
    if (!changed && it > 0) break;
    std::vector<double> sum(static_cast<size_t>(k * m), 0.0);
    std::fill(count.begin(), count.end(), 0.0);
    for (int64_t r = 0; r < n; ++r) {
      count[assign[r]] += 1;
      for (int64_t j = 0; j < m; ++j) sum[assign[r] * m + j] += x[r * m + j];
    }
    for (int c = 0; c < k; ++c)
      if (count[c] > 0)
        for (int64_t j = 0; j < m; ++j) cent[c * m + j] = sum[c * m + j] / count[c];
  }
  std::fill(count.begin(), count.end(), 0.0);
  for (int64_t r = 0; r < n; ++r) count[assign[r]] += 1;
  for (int c = 0; c < k; ++c) {
    if (count[c] == 0) continue;
    for (int64_t j = 0; j < m; ++j) bg.x.push_back(static_cast<float>(cent[c * m + j]));
    bg.w.push_back(count[c] / static_cast<double>(n));
    ++bg.rows;
  }
  bg.how = "k-means, " + std::to_string(bg.rows) + " weighted centroids of " + std::to_string(n) + " rows";
  return bg;
}

}  // namespace mien::explain
