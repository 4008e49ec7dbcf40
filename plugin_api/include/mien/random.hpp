// mien SDK: seeded random numbers that are the same on every platform. Header-only,
// standard library only.
//
// Why not <random> alone: the raw output of std::mt19937_64 is fixed by the C++ standard,
// but std::uniform_int_distribution, std::normal_distribution and std::shuffle are not
// (libstdc++, libc++ and MSVC draw different numbers from the same engine). A seed in an
// experiment must give the same numbers everywhere, so the bounded draws, the uniform and
// normal transforms and the shuffle are done here.
//
//   mien::Rng rng(setup.seed());            // std::mt19937_64 seeded with the node's seed
//   size_t pick = rng.below(rows);          // uniform in [0, rows), no modulo bias
//   rng.shuffle(order);                     // Fisher-Yates
//   double x = rng.normal();                // standard normal (Box-Muller)
//
// `derive_seed(seed, k)` gives independent streams (one per sample, fold, restart, ...), so
// work can be split or reordered without changing any stream.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace mien {

// One step of splitmix64 (Steele, Lea & Flood 2014): advances `state`, returns 64 mixed bits.
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// A seed for stream `k` of `seed`; different k give unrelated streams.
inline uint64_t derive_seed(uint64_t seed, uint64_t k) {
  uint64_t s = seed ^ (0xD1B54A32D192ED03ULL * (k + 1));
  splitmix64(s);
  return splitmix64(s);
}

// splitmix64 as a standard uniform random bit generator: tiny state, fast, and keyed
// streams are cheap (a key is the whole state).
struct SplitMix64 {
  using result_type = uint64_t;
  explicit SplitMix64(uint64_t seed) : state(seed) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return UINT64_MAX; }
  result_type operator()() { return splitmix64(state); }
  uint64_t state;
};

// Portable draws on top of a 64-bit engine. Use mien::Rng (std::mt19937_64) unless you
// need splitmix64's keyed streams (mien::KeyedRng).
template <typename Engine>
class BasicRng {
 public:
  explicit BasicRng(uint64_t seed) : engine_(seed) {}
  explicit BasicRng(const Engine& engine) : engine_(engine) {}

  // 64 raw bits.
  uint64_t next() { return engine_(); }
  // Uniform integer in [0, n) by rejection sampling (no modulo bias); n must be > 0.
  // Draws at least once, also for n = 1.
  uint64_t below(uint64_t n) {
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n: the values below it are rejected
    for (;;) {
      const uint64_t r = engine_();
      if (r >= threshold) return r % n;
    }
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi).
  double between(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal by the Box-Muller transform; both values of a pair are used.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double t = 6.283185307179586476925 * u2;
    spare_ = r * std::sin(t);
    has_spare_ = true;
    return r * std::cos(t);
  }
  // Fisher-Yates shuffle (the last element first).
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<size_t>(below(i))]);
  }

 private:
  Engine engine_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

using Rng = BasicRng<std::mt19937_64>;
using KeyedRng = BasicRng<SplitMix64>;

}  // namespace mien
