// Shared machinery of the quality plugin: reading attribution tables (plugins/CONVENTIONS.md)
// and matching their rows to samples and model features. The model wrapper, feature
// matching and seeded RNG are plugins/lib/explain_core's, shared with the explainers.
#pragma once

#include <mien/plugin.hpp>

#include <map>
#include <string>
#include <vector>

#include <mien_explain_core/model.hpp>
#include <mien_explain_core/random.hpp>

namespace mien::quality {

using explain::Predictor;
using explain::Rng;
using explain::derive_seed;

// An attributions table, read.
struct Attributions {
  std::string name;                    // explainer (meta "explainer") or "attributions"
  int64_t rows = 0;
  std::vector<std::string> ids;        // ID column text
  std::vector<std::string> sample_ids; // sample_id GROUP column when present, else ids
  std::vector<std::string> explained;  // explained_class ("" when absent)
  std::vector<std::string> predicted;  // predicted_class ("" when absent)
  std::vector<std::string> players;    // FEATURE column names
  std::vector<double> values;          // rows x players
  Json meta;
};
Attributions read_attributions(const TableView& t, const std::string& who, const std::string& port);

// Players of an attributions table mapped onto model features (a player is a feature or a
// group from meta "groups").
std::vector<std::vector<int>> player_features(const Attributions& a, const std::vector<std::string>& features,
                                              const std::string& who);

// For each sample row: the attributions row that explains the model's predicted class
// (or the sample's only row). Throws naming samples without any row.
struct Matching {
  std::vector<int64_t> row;  // attributions row per sample
  int64_t not_predicted = 0; // samples whose row explains another class
};
Matching match_rows(const Attributions& a, const TableView& samples, const std::vector<int64_t>& predicted,
                    const std::vector<std::string>& classes, const std::string& who, const Host& host);

// Sample ids (ID column text, or row00001.. like the explainers generate).
std::vector<std::string> sample_ids(const TableView& samples);

// Players ranked by |value| (or value) descending, ties by column order.
std::vector<int> ranking(const double* values, size_t players, bool absolute);

// Labels of the samples as model class indices (-1 = unknown / not a model class).
std::vector<int64_t> label_indices(const TableView& samples, const std::vector<std::string>& classes);

// Column means of a table's model features (the training mean of paper §7).
std::vector<double> feature_means(const TableView& t, const std::vector<std::string>& features, const std::string& who,
                                  const std::string& port, std::vector<double>* sd = nullptr);

inline int64_t argmax(const double* p, int64_t C) { return std::max_element(p, p + C) - p; }

}  // namespace mien::quality
