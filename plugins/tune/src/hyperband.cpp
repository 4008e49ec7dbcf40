// Hyperband schedule arithmetic and search-space sampling.
#include "hyperband.hpp"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace mien::tune {

namespace {

int64_t ipow(int64_t b, int64_t e) {
  int64_t r = 1;
  for (int64_t i = 0; i < e; ++i) r *= b;
  return r;
}

std::string join(const std::vector<double>& v) {
  std::string s;
  char buf[32];
  for (size_t i = 0; i < v.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%g", v[i]);
    s += (i ? "," : "") + std::string(buf);
  }
  return s;
}

}  // namespace

int64_t hyperband_smax(int64_t R, int64_t eta) {
  if (R < 1 || eta < 2) throw std::invalid_argument("hyperband: R must be >= 1 and eta >= 2");
  int64_t s = 0, p = eta;
  while (p <= R) {
    ++s;
    p *= eta;
  }
  return s;
}

std::vector<Bracket> hyperband_schedule(int64_t R, int64_t eta) {
  const int64_t smax = hyperband_smax(R, eta);
  std::vector<Bracket> out;
  for (int64_t s = smax; s >= 0; --s) {
    Bracket b;
    b.s = s;
    const int64_t n = ((smax + 1) * ipow(eta, s) + s) / (s + 1);  // ceil(B/R * eta^s / (s+1))
    for (int64_t i = 0; i <= s; ++i) {
      Rung r;
      r.configs = n / ipow(eta, i);
      const double epochs = static_cast<double>(R) * std::pow(static_cast<double>(eta), static_cast<double>(i - s));
      r.epochs = std::max<int64_t>(1, std::llround(epochs));
      if (i == s) r.epochs = R;
      if (r.configs < 1) break;
      b.rungs.push_back(r);
    }
    out.push_back(b);
  }
  return out;
}

int64_t bracket_epochs(const Bracket& b) {
  int64_t total = 0, prev = 0;
  for (const Rung& r : b.rungs) {
    total += r.configs * (r.epochs - prev);
    prev = r.epochs;
  }
  return total;
}

std::string MlpConfig::hidden_text() const {
  std::string s;
  for (size_t i = 0; i < hidden.size(); ++i) s += (i ? "," : "") + std::to_string(hidden[i]);
  return s;
}
std::string MlpConfig::dropout_text() const { return join(dropout); }
std::string MlpConfig::l2_text() const { return join(l2); }

MlpConfig sample_config(Rng& rng, const std::vector<int64_t>& subset_sizes) {
  static const double kL2[] = {1e-1, 1e-2, 1e-3};
  static const double kLr[] = {1e-1, 1e-2, 1e-3, 1e-4};
  MlpConfig c;
  const int64_t layers = 1 + static_cast<int64_t>(rng.below(4));
  for (int64_t l = 0; l < layers; ++l) {
    c.hidden.push_back(32 * (1 + static_cast<int64_t>(rng.below(16))));
    c.l2.push_back(kL2[rng.below(3)]);
    c.dropout.push_back(static_cast<double>(rng.below(10)) / 10.0);
  }
  c.learning_rate = kLr[rng.below(4)];
  if (!subset_sizes.empty()) c.features = subset_sizes[rng.below(subset_sizes.size())];
  return c;
}

}  // namespace mien::tune
