// Deterministic random numbers for dataset.synthetic_faces.
//
// Every draw comes from splitmix64 (Steele, Lea & Flood 2014) with our own uniform and
// normal transforms, so a seed gives the same faces with every compiler and standard
// library (std::*_distribution are implementation-defined). Streams are keyed: the
// identity stream depends on (seed, identity) only, a sample's stream on (seed, identity,
// pose, repeat, class), so changing one parameter (e.g. the number of identities) leaves
// the other samples' draws unchanged and samples can be generated in any order.
#pragma once

#include <mien/random.hpp>

#include <cstdint>
#include <initializer_list>

namespace mien::faces_synth {

using mien::splitmix64;

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

// The SDK's splitmix64-based generator (uniform, normal, below) plus the two draws only
// the face renderer needs.
class Rng : public mien::KeyedRng {
 public:
  explicit Rng(uint64_t key) : mien::KeyedRng(key) {}
  using mien::KeyedRng::normal;
  using mien::KeyedRng::uniform;
  double uniform(double lo, double hi) { return between(lo, hi); }
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
};

}  // namespace mien::faces_synth
