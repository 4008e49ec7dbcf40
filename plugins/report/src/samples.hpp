// Reading the inputs of the per-sample reports: the sample table (ids, labels, groups,
// landmarks), predictions (eval.predict's p_<class> columns) and attributions
// (CONVENTIONS.md), matched to the table's rows by id (or by row when there are no ids),
// and the deterministic choice of the samples to render.
#pragma once

#include "render.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mien::report {

struct Samples {
  int64_t n = 0;
  std::vector<std::string> ids;    // the ID column, else "row<i>"
  bool has_ids = false;
  std::vector<std::string> truth;  // class name, "" when unknown
  std::vector<std::string> classes;  // label categories (may be empty)
  std::vector<std::map<std::string, std::string>> groups;
  std::vector<std::vector<cv::Point2d>> landmarks;  // 68 per row; empty when no x0..y67
};
Samples read_samples(const TableView& table, bool need_landmarks, const std::string& who);

struct Predictions {
  std::vector<std::string> classes;             // from the p_<class> columns, in order
  std::vector<std::vector<double>> probs;       // per sample row; empty = no prediction
  std::vector<std::string> predicted;           // per sample row; "" = unknown
};
Predictions match_predictions(const TableView& t, const Samples& s, const std::string& who);

struct Attributions {
  std::vector<std::string> features;            // FEATURE column names, in order
  std::vector<std::vector<double>> values;      // per sample row; empty = not explained
  std::vector<std::string> explained;           // explained_class per sample row
  std::vector<std::string> predicted;           // predicted_class per sample row
};
// One row per sample: where there are several (one per class), the row explaining the
// predicted class is used (else the first).
Attributions match_attributions(const TableView& t, const Samples& s, const std::string& who);

// The top-n features by |attribution| (ties: column order), with shares.
std::vector<DrawnFeature> top_features(const std::vector<std::string>& names, const std::vector<double>& values,
                                       int n, double* weight_percent);

// Rows to render, at most max_samples, in row order: round r takes the r-th row of each
// (true class, correct?) bucket, buckets in order of first appearance, until the budget is
// spent. eligible[i] false = never chosen.
std::vector<int64_t> choose_samples(const Samples& s, const std::vector<std::string>& predicted,
                                    const std::vector<bool>& eligible, int max_samples);

// The predicted class of a row: predictions first, then the attribution table, then "".
std::string predicted_of(int64_t row, const Predictions* p, const Attributions* a);

}  // namespace mien::report
