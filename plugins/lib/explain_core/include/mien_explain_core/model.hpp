// The model as explainers and explanation metrics see it: its info (features in input
// order, classes, score), a table's FEATURE columns matched to those features, and batched
// prediction through the SDK's ModelRef.
#pragma once

#include <mien/plugin.hpp>
#include <mien/text.hpp>  // mien::join for messages

#include <cstdint>
#include <string>
#include <vector>

namespace mien::explain {

struct ModelInfo {
  Json info;
  std::vector<std::string> features;  // model input order
  std::vector<std::string> classes;
  std::string score;                  // info "score" ("logit" | "probability"), "" when absent
};
ModelInfo read_model_info(const ModelRef& m, const std::string& who, const TableView& samples, const Host& host);

// The FEATURE columns named `features`, in that order, as float32 rows. Throws naming
// every missing feature (`what` = "samples" / "background").
std::vector<float> feature_rows(const TableView& t, const std::vector<std::string>& features, const std::string& who,
                                const std::string& what, const Host* host = nullptr);

// Calls the model in batches of at most batch_size rows.
class Predictor {
 public:
  Predictor(const ModelRef& model, int64_t num_features, int64_t num_classes, int64_t batch_size, const Host& host)
      : model_(model), m_(num_features), c_(num_classes), batch_(batch_size), host_(host) {}
  // rows [n x M] -> probabilities [n x C] (float64).
  std::vector<double> predict(const float* rows, int64_t n);
  // One call (n <= batch_size), results added as out[i*C+c] (exact copy of the model's floats).
  void predict_into(const float* rows, int64_t n, double* out);
  int64_t batch_size() const { return batch_; }
  int64_t num_features() const { return m_; }
  int64_t num_classes() const { return c_; }
  int64_t rows_evaluated() const { return rows_; }
  int64_t calls() const { return calls_; }
  const Host& host() const { return host_; }
  const ModelRef& model() const { return model_; }

 private:
  ModelRef model_;
  int64_t m_, c_, batch_;
  const Host& host_;
  int64_t rows_ = 0, calls_ = 0;
};


}  // namespace mien::explain
