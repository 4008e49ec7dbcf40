// Seeded randomness for explainers and explanation metrics: the SDK's mien::Rng, seeded
// and bounded the way the explainers always have been, so every explanation mien has
// written draws the same numbers again.
#pragma once

#include <mien/random.hpp>

#include <cstdint>
#include <random>

namespace mien::explain {

using mien::derive_seed;
using mien::splitmix64;

// The explainers' stream (fixed before the SDK had an Rng): std::mt19937_64 seeded through
// a seed sequence of four splitmix64 draws, and below(n <= 1) answers 0 without a draw
// (Kernel SHAP's partial shuffles ask for below(1)). Everything else is mien::Rng.
class Rng : public mien::Rng {
 public:
  explicit Rng(uint64_t seed) : mien::Rng(mixed_engine(seed)) {}
  uint64_t below(uint64_t n) { return n <= 1 ? 0 : mien::Rng::below(n); }

 private:
  static std::mt19937_64 mixed_engine(uint64_t seed) {
    uint64_t s = seed;
    std::seed_seq seq{static_cast<uint32_t>(splitmix64(s)), static_cast<uint32_t>(splitmix64(s)),
                      static_cast<uint32_t>(splitmix64(s)), static_cast<uint32_t>(splitmix64(s))};
    return std::mt19937_64(seq);
  }
};

}  // namespace mien::explain
