// Hyperband's schedule (Li, Jamieson, DeSalvo, Rostamizadeh & Talwalkar, JMLR 2018,
// Algorithm 1) and the paper's MLP search space (ter Burg & Kaya 2022, doi:10.3390/a15100367), without LibTorch.
#pragma once

#include <mien/random.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace mien::tune {

// One rung of successive halving: `configs` configurations are each trained to a total
// of `epochs` epochs (survivors continue from where the previous rung stopped).
struct Rung {
  int64_t configs = 0;
  int64_t epochs = 0;
};

// Bracket s (s_max .. 0): n = ceil((s_max + 1) * eta^s / (s + 1)) configurations at
// r = R * eta^-s epochs; rung i keeps floor(n * eta^-i) of them at r * eta^i epochs
// (rounded to the nearest integer, at least 1; exact when R is a power of eta).
struct Bracket {
  int64_t s = 0;
  std::vector<Rung> rungs;
};

// s_max = floor(log_eta(R)), by integer arithmetic. R >= 1, eta >= 2.
int64_t hyperband_smax(int64_t R, int64_t eta);
// The brackets of one Hyperband iteration, s = s_max first (the most exploratory).
std::vector<Bracket> hyperband_schedule(int64_t R, int64_t eta);
// Epochs one bracket trains when survivors resume: sum_i configs_i * (epochs_i - epochs_{i-1}).
int64_t bracket_epochs(const Bracket& b);

// A point of the search space of ter Burg & Kaya 2022 (doi:10.3390/a15100367) (Keras Tuner build_model): 1-4 Dense
// layers, each with its own units (32..512 step 32), L2 {0.1, 0.01, 0.001} and dropout
// (0.0..0.9 step 0.1); Adam with learning rate {0.1, 0.01, 0.001, 0.0001}.
struct MlpConfig {
  std::vector<int64_t> hidden;
  std::vector<double> dropout;
  std::vector<double> l2;
  double learning_rate = 1e-3;
  int64_t features = 0;  // number of top-ranked features used; 0 = all
  std::string hidden_text() const;   // "352,256"
  std::string dropout_text() const;  // "0.3,0.8"
  std::string l2_text() const;       // "0.01,0.01"
};


// Draws one configuration; `subset_sizes` empty = all features (features = 0).
MlpConfig sample_config(Rng& rng, const std::vector<int64_t>& subset_sizes);

}  // namespace mien::tune
