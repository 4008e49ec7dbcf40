// Seeded randomness for explainers and explanation metrics: std::mt19937_64 seeded through
// splitmix64, with our own transforms, so every platform draws the same numbers.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace mien::explain {

inline uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
// A seed for stream `k` of `seed` (e.g. one stream per explained sample).
inline uint64_t derive_seed(uint64_t seed, uint64_t k) {
  uint64_t s = seed ^ (0xD1B54A32D192ED03ULL * (k + 1));
  splitmix64(s);
  return splitmix64(s);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t s = seed;
    std::seed_seq seq{static_cast<uint32_t>(splitmix64(s)), static_cast<uint32_t>(splitmix64(s)),
                      static_cast<uint32_t>(splitmix64(s)), static_cast<uint32_t>(splitmix64(s))};
    g_.seed(seq);
  }
  uint64_t next() { return g_(); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(g_() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n), unbiased (rejection).
  uint64_t below(uint64_t n) {
    if (n <= 1) return 0;
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    for (;;) {
      const uint64_t r = g_();
      if (r < limit) return r % n;
    }
  }
  // Standard normal (Box-Muller, both values used).
  double normal();
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  std::mt19937_64 g_;
  bool has_spare_ = false;
  double spare_ = 0;
};


}  // namespace mien::explain
