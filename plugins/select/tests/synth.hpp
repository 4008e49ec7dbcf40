// Synthetic data for the select tests: own Gaussian transform (Box-Muller on
// std::mt19937_64), so every platform draws the same numbers.
#pragma once

#include <mien/plugin.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace select_test {

class Gauss {
 public:
  explicit Gauss(uint64_t seed) : g_(seed) {}
  double uniform() { return (static_cast<double>(g_() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
  double operator()() {
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  std::mt19937_64 g_;
};

// 10 features f0..f9, 3 classes; f2, f5, f8 are informative (each lifts one class by
// `shift`), the others pure noise. `groups` subjects (s00..), each with rows of all classes.
inline mien::Table informative_table(int64_t n = 240, double shift = 2.5, uint64_t seed = 1, int64_t groups = 12) {
  Gauss rnd(seed);
  std::vector<std::vector<double>> f(10, std::vector<double>(static_cast<size_t>(n)));
  std::vector<int64_t> y(static_cast<size_t>(n));
  std::vector<std::string> subject(static_cast<size_t>(n)), id(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = i % 3;
    y[static_cast<size_t>(i)] = c;
    subject[static_cast<size_t>(i)] = "s" + std::to_string(100 + (i / 3) % groups);
    id[static_cast<size_t>(i)] = "r" + std::to_string(i);
    for (int j = 0; j < 10; ++j) f[static_cast<size_t>(j)][static_cast<size_t>(i)] = rnd();
    f[2][static_cast<size_t>(i)] += c == 0 ? shift : 0.0;
    f[5][static_cast<size_t>(i)] += c == 1 ? shift : 0.0;
    f[8][static_cast<size_t>(i)] += c == 2 ? shift : 0.0;
  }
  mien::Table t(n);
  t.add_strings("id", MIEN_ROLE_ID, id);
  for (int j = 0; j < 10; ++j) t.add_numbers("f" + std::to_string(j), MIEN_ROLE_FEATURE, f[static_cast<size_t>(j)]);
  t.add_codes("label", MIEN_ROLE_LABEL, y, {"fear", "anger", "disgust"});
  t.add_strings("subject", MIEN_ROLE_GROUP, subject);
  return t;
}

}  // namespace select_test
