#include "kernel_sampling.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

namespace mien::explain {

namespace {

double binomial(size_t n, size_t k) {
  double b = 1;
  for (size_t i = 1; i <= k; ++i) b = b * static_cast<double>(n - k + i) / static_cast<double>(i);
  return b;
}

// The coalition as a 64-bit key (P <= 64 players; more are sampled through a hash of the
// mask, see below).
uint64_t key_of(const std::vector<uint8_t>& m) {
  uint64_t h = 1469598103934665603ULL;
  for (uint8_t b : m) h = (h ^ b) * 1099511628211ULL;
  return h;
}

}  // namespace

std::vector<double> StratifiedDesign::weights(const std::vector<uint8_t>& keep) const {
  std::vector<double> w(fixed);
  std::vector<double> count(mass.size(), 0.0);
  for (size_t u = 0; u < units.size(); ++u)
    if (keep[u]) count[static_cast<size_t>(units[u].stratum)] += static_cast<double>(units[u].coalitions.size());
  for (size_t u = 0; u < units.size(); ++u) {
    if (!keep[u]) continue;
    const auto s = static_cast<size_t>(units[u].stratum);
    for (uint32_t k : units[u].coalitions) w[k] = mass[s] / count[s];
  }
  return w;
}

StratifiedDesign stratified_kernel_design(size_t P, int64_t budget, Rng& rng) {
  StratifiedDesign d;
  d.P = P;
  // Strata: sizes s and P - s together (s <= P/2), kernel mass (P-1)/(s(P-s)) per size.
  const size_t strata = P / 2;
  std::vector<double> mass(strata + 1, 0.0), count(strata + 1, 0.0);
  double total = 0;
  for (size_t s = 1; s <= strata; ++s) {
    const bool self = 2 * s == P;
    mass[s] = (self ? 1.0 : 2.0) * static_cast<double>(P - 1) / (static_cast<double>(s) * static_cast<double>(P - s));
    count[s] = (self ? 1.0 : 2.0) * binomial(P, s);
    total += mass[s];
  }
  for (auto& m : mass) m /= total;

  std::vector<uint8_t> m(P), comp(P);
  auto push = [&](const std::vector<uint8_t>& mask, double fixed_w, int stratum) {
    d.masks.insert(d.masks.end(), mask.begin(), mask.end());
    d.fixed.push_back(fixed_w);
    d.stratum.push_back(stratum);
    return static_cast<uint32_t>(d.fixed.size() - 1);
  };
  // Enumerate strata from the outside in while each fits the budget share it would get.
  double left = static_cast<double>(budget), mass_left = 1.0;
  size_t s_first = 1;
  for (; s_first <= strata; ++s_first) {
    const double share = left * mass[s_first] / mass_left;
    if (count[s_first] > share + 1e-9) break;
    const double w = mass[s_first] / count[s_first];
    const bool self = 2 * s_first == P;
    std::vector<size_t> comb(s_first);
    std::iota(comb.begin(), comb.end(), 0);
    for (;;) {
      std::fill(m.begin(), m.end(), uint8_t{0});
      for (size_t i : comb) m[i] = 1;
      push(m, w, -1);
      if (!self) {
        for (size_t i = 0; i < P; ++i) comp[i] = static_cast<uint8_t>(1 - m[i]);
        push(comp, w, -1);
      }
      size_t i = s_first;
      while (i > 0 && comb[i - 1] == P - s_first + i - 1) --i;
      if (i == 0) break;
      ++comb[i - 1];
      for (size_t j = i; j < s_first; ++j) comb[j] = comb[j - 1] + 1;
    }
    left -= count[s_first];
    mass_left -= mass[s_first];
  }
  d.enumerated = d.size();
  if (s_first > strata || left < 1) return d;

  // Units (pairs) per remaining stratum, in proportion to its mass; at least one pair each,
  // at most the stratum's size; what a full stratum cannot take goes to the others.
  const size_t R = strata - s_first + 1;
  std::vector<double> units_per(R, 0.0);
  std::vector<double> unit_cap(R);
  for (size_t r = 0; r < R; ++r) {
    const size_t s = s_first + r;
    unit_cap[r] = 2 * s == P ? count[s] / 2 : count[s] / 2;  // distinct pairs {S, complement}
  }
  double pairs_left = std::floor(left / 2);
  std::vector<uint8_t> open(R, 1);
  for (int round = 0; round < 64 && pairs_left >= 1; ++round) {
    double open_mass = 0;
    for (size_t r = 0; r < R; ++r)
      if (open[r]) open_mass += mass[s_first + r];
    if (open_mass <= 0) break;
    double given = 0;
    for (size_t r = 0; r < R; ++r) {
      if (!open[r]) continue;
      const double want = std::floor(pairs_left * mass[s_first + r] / open_mass + 0.5);
      const double take = std::min(unit_cap[r] - units_per[r], std::max(round == 0 ? 1.0 : 0.0, want));
      units_per[r] += take;
      given += take;
      if (units_per[r] >= unit_cap[r]) open[r] = 0;
    }
    pairs_left -= given;
    if (given == 0) break;
  }
  d.mass.assign(R, 0.0);
  for (size_t r = 0; r < R; ++r) d.mass[r] = mass[s_first + r];

  // Draw the pairs of each stratum without replacement, strata interleaved so that the
  // jackknife groups (units dealt round-robin) each see every stratum.
  std::vector<std::unordered_set<uint64_t>> seen(R);
  std::vector<double> drawn(R, 0.0);
  std::vector<size_t> perm(P);
  bool more = true;
  while (more) {
    more = false;
    for (size_t r = 0; r < R; ++r) {
      if (drawn[r] >= units_per[r]) continue;
      more = true;
      const size_t s = s_first + r;
      const bool self = 2 * s == P;
      for (int attempt = 0; attempt < 1000; ++attempt) {
        std::iota(perm.begin(), perm.end(), 0);
        for (size_t i = 0; i < s; ++i) std::swap(perm[i], perm[i + rng.below(P - i)]);
        std::fill(m.begin(), m.end(), uint8_t{0});
        for (size_t i = 0; i < s; ++i) m[perm[i]] = 1;
        for (size_t i = 0; i < P; ++i) comp[i] = static_cast<uint8_t>(1 - m[i]);
        // One key per unordered pair {S, complement}: the mask holding player 0.
        const uint64_t key = key_of(m[0] ? m : comp);
        if (!seen[r].insert(key).second) continue;
        StratifiedDesign::Unit u{static_cast<int>(r), {}};
        u.coalitions.push_back(push(m, 0.0, static_cast<int>(r)));
        u.coalitions.push_back(push(comp, 0.0, static_cast<int>(r)));
        (void)self;  // a self-complementary size still gives a distinct pair
        d.units.push_back(std::move(u));
        break;
      }
      drawn[r] += 1;
    }
  }
  return d;
}

}  // namespace mien::explain
