// Kernel SHAP's "stratified" coalition design: complementary pairs, coalition sizes
// enumerated completely from the outside in (1 and M-1, 2 and M-2, ...) while the budget
// allows, and the remaining budget spread over the remaining size strata in proportion
// to their Shapley-kernel mass, each stratum sampled WITHOUT replacement (distinct pairs)
// and its sampled coalitions weighted equally so that the stratum keeps its exact kernel
// mass. Compared with shap.KernelExplainer's design (sampling with replacement from all
// remaining sizes at once, weights from draw counts), no budget is spent on duplicates,
// no stratum's weight is left to chance, and a stratum sampled completely is exact.
#pragma once

#include <cstdint>
#include <vector>

#include "explainer_kit.hpp"

namespace mien::explain {

struct StratifiedDesign {
  size_t P = 0;
  std::vector<uint8_t> masks;    // K x P
  std::vector<double> fixed;     // per coalition: its weight when enumerated, else 0
  std::vector<int> stratum;      // per coalition: its sampled stratum, -1 when enumerated
  std::vector<double> mass;      // per stratum: its total (normalised) kernel weight
  struct Unit {
    int stratum;
    std::vector<uint32_t> coalitions;  // a pair (or one self-complementary coalition)
  };
  std::vector<Unit> units;  // the sampled pairs, in draw order
  size_t enumerated = 0;
  size_t size() const { return fixed.size(); }
  // Weight of every coalition when the units with keep[u] == 0 are left out (jackknife):
  // each stratum's mass spread evenly over its kept coalitions.
  std::vector<double> weights(const std::vector<uint8_t>& keep) const;
};

StratifiedDesign stratified_kernel_design(size_t P, int64_t budget, Rng& rng);

}  // namespace mien::explain
