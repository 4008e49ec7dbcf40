// Deterministic random numbers for dataset.synthetic_faces.
//
// Every draw comes from splitmix64 (Steele, Lea & Flood 2014) with our own uniform and
// normal transforms, so a seed gives the same faces with every compiler and standard
// library (std::*_distribution are implementation-defined). Streams are keyed: the
// identity stream depends on (seed, identity) only, a sample's stream on (seed, identity,
// pose, repeat, class), so changing one parameter (e.g. the number of identities) leaves
// the other samples' draws unchanged and samples can be generated in any order.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>

namespace mien::faces_synth {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// A stream key from a seed and a list of integers (order matters).
inline uint64_t stream_key(uint64_t seed, std::initializer_list<uint64_t> parts) {
  uint64_t s = seed ^ 0x6A09E667F3BCC909ULL;
  uint64_t k = splitmix64(s);
  for (uint64_t p : parts) {
    s = k ^ (p + 0x9E3779B97F4A7C15ULL + (k << 6) + (k >> 2));
    k = splitmix64(s);
  }
  return k;
}

class Rng {
 public:
  explicit Rng(uint64_t key) : state_(key) {}
  uint64_t next() { return splitmix64(state_); }
  // Uniform in [0, 1): the top 53 bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal by the Box-Muller transform (both values used).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double t = 6.283185307179586 * u2;
    spare_ = r * std::sin(t);
    has_spare_ = true;
    return r * std::cos(t);
  }
  // A cheap, approximately standard normal value (for pixel noise): the sum of four
  // uniform 16-bit fields of one draw (Irwin-Hall, n = 4), centred and scaled to unit
  // variance; bounded by ±3.46.
  double fast_normal() {
    const uint64_t v = next();
    const double s = static_cast<double>((v & 0xFFFF) + ((v >> 16) & 0xFFFF) + ((v >> 32) & 0xFFFF) + (v >> 48));
    return (s / 65536.0 - 2.0) * 1.7320508075688772;  // variance of the sum: 4/12
  }
  // Normal with standard deviation sd, clipped to ±clip·sd.
  double normal(double sd, double clip = 2.5) {
    double z = normal();
    if (z > clip) z = clip;
    if (z < -clip) z = -clip;
    return sd * z;
  }

 private:
  uint64_t state_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace mien::faces_synth
