// The component of the mien-tune plugin. Declared here so the unit tests can run it with
// mien::testing::ComponentRunner; plugin.cpp lists it in MIEN_PLUGIN.
#pragma once

#include <mien/plugin.hpp>
#include <mien_training/validation_groups.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace mien::tune {

// Example config:
//
//   search:
//     use: tune.hyperband
//     in: {train: split.train, validation: split.val}   # or no validation: whole people of train
//     with:
//       max_epochs: 27          # R
//       eta: 3
//       iterations: 1           # full Hyperband iterations (the paper ran 3 with R = 50)
//       budget: 0               # cap on epochs trained in all (0 = no cap)
//       feature_subset_sizes: [5, 10, 15, 20, 25, 30, 35]   # optional, the paper's fs_tuning
//   mlp:
//     use: model.mlp
//     in: {train: split.train}
//     with: {hidden: [352, 256], dropout: [0.3, 0.8], l2: 0.01}   # or copy search.best here
//
// Hyperband (Li et al., JMLR 2018) over the MLP search space of the paper (ter Burg & Kaya 2022,
// doi:10.3390/a15100367: 1-4 layers of 32..512 units, L2 {0.1, 0.01, 0.001} and dropout 0..0.9 per layer,
// Adam with learning rate {0.1, 0.01, 0.001, 0.0001}); objective: validation accuracy.
// Each bracket runs successive halving: the best 1/eta of a rung (by validation accuracy,
// ties to the earlier trial) continue training where they stopped. With
// feature_subset_sizes, each configuration also draws a size k and trains on the top-k
// features of a recursive-feature-elimination ranking (logistic regression, C = 1) fitted
// on `train`.
class TuneHyperband {
 public:
  static inline const Param<int64_t> kMaxEpochs =
      Param<int64_t>("max_epochs", 27, "R: the most epochs any configuration is trained (the last rung)").min(1);
  static inline const Param<int64_t> kEta =
      Param<int64_t>("eta", 3, "Successive-halving rate: keep 1/eta of the configurations per rung").min(2);
  static inline const Param<int64_t> kIterations =
      Param<int64_t>("iterations", 1, "Full Hyperband iterations (all brackets) to run; the paper ran 3").min(1);
  static inline const Param<int64_t> kBudget =
      Param<int64_t>("budget", 0,
                     "Cap on the epochs trained in all (a trial that would exceed it is not started and the search "
                     "stops); 0 = no cap, run `iterations` full iterations")
          .min(0);
  static inline const Param<std::vector<int64_t>> kSubsetSizes{
      "feature_subset_sizes", {},
      "Feature-subset sizes searched jointly (each configuration draws one and uses the top-k of a logistic-"
      "regression RFE ranking); [] = always every feature"};
  static inline const Param<int64_t> kBatchSize =
      Param<int64_t>("batch_size", 32, "Rows per gradient step").min(1);
  static inline const Param<int64_t> kSeed =
      Param<int64_t>("seed", -1, "Seed of the search (configurations, weights, batches); -1 = the node's seed").min(-1);

  static inline const Param<double> kValidationSplit =
      Param<double>("validation_split", 0.2,
                    "When 'validation' is not connected: fraction of the training people (validation_group) or rows "
                    "held out (seeded) as the objective, in (0, 0.9]")
          .range(0.0, 0.9);
  static inline const Param<std::string> kValidationGroup = training::validation_group_param();

  static inline const Input kTrain{"train", MIEN_VALUE_TABLE, "training rows: FEATURE columns and a LABEL"};
  static inline const Input kValidation{"validation", MIEN_VALUE_TABLE,
                                        "validation rows (the objective), same FEATURE columns and classes (optional; "
                                        "else validation_split of train's people)",
                                        MIEN_PORT_OPTIONAL};
  static inline const Output kTrials{"trials", MIEN_VALUE_TABLE,
                                     "one row per trial and rung: iteration, bracket, rung, trial, features, layers, "
                                     "hidden, dropout, l2, learning_rate, epochs, val_accuracy, promoted"};
  static inline const Output kBest{"best", MIEN_VALUE_JSON,
                                   "the best configuration in model.mlp's parameter names: hidden, dropout, l2, "
                                   "learning_rate, epochs, batch_size, optimizer"};
  static inline const Output kBestFeatures{"best_features", MIEN_VALUE_JSON,
                                           "k and the feature names the best configuration used, and the ranking"};
  static inline const Output kSummary{"summary", MIEN_VALUE_JSON,
                                      "the schedule, epochs trained, the best trial and its validation accuracy"};

  static ComponentInfo info();
  explicit TuneHyperband(const Setup& s);
  void process(Context& ctx);

 private:
  int64_t R_, eta_, iterations_, budget_, batch_size_;
  double validation_split_;
  std::string validation_group_;
  std::vector<int64_t> sizes_;
  uint64_t seed_;
  uint32_t threads_;
};

}  // namespace mien::tune
