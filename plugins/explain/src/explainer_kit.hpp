// What the explainers of the explain plugin share, one section per source file: the
// parameters every explainer takes and the prepared inputs (prepare.cpp), background
// reduction (background.cpp), the coalition evaluator (coalition_evaluator.cpp), the output
// tables of plugins/CONVENTIONS.md (attribution_table.cpp) and small numerics (numerics.cpp). The model wrapper, feature
// matching and seeded randomness, which the quality metrics use too, are in
// plugins/lib/explain_core.
#pragma once

#include <mien/plugin.hpp>

#include <cstdint>
#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <mien_explain_core/model.hpp>   // ModelInfo, feature_rows, Predictor (plugins/lib/explain_core)
#include <mien_explain_core/random.hpp>  // splitmix64, derive_seed, Rng

namespace mien::explain {

// ------------------------------------------------------------------------------------
// Parameters shared by the explainers.
// ------------------------------------------------------------------------------------
struct CommonParams {
  static inline const Param<std::string> kTarget =
      Param<std::string>("target", "predicted",
                         "Which class to explain per sample: predicted = the model's prediction, true = the label "
                         "column of samples, all = every class (one row per sample and class), class = the class "
                         "named by `class`")
          .one_of({"predicted", "true", "all", "class"});
  static inline const Param<std::string> kClass{"class", "",
                                                "Class name to explain when target is 'class' (one of the model's classes)"};
  static inline const Param<std::string> kBackground =
      Param<std::string>("background", "sample",
                         "How the background table is reduced to background_size rows: sample = a seeded random "
                         "subset (all rows when there are fewer), kmeans = weighted k-means centroids (weights = "
                         "cluster sizes, like shap.kmeans), mean = one row holding the column means")
          .one_of({"sample", "kmeans", "mean"});
  static inline const Param<int> kBackgroundSize = Param<int>(
      "background_size", 100, "Rows kept from the background table (0 = all rows; ignored for background: mean)")
      .min(0);
  static inline const Param<int> kBatchSize =
      Param<int>("batch_size", 4096, "Model rows per predict call; bounds memory (rows x features floats)").min(1);
  static inline const Param<Json> kGroups =
      Param<Json>("groups", Json::object(),
                  "Feature groups explained as one player: {group name: [feature names]}; {} = every feature on "
                  "its own. Features named in no group stay single players; attributions are per group "
                  "(groups in name order, then the remaining features)")
          .json_schema(Json{{"type", "object"}});
};

struct Background {
  int64_t rows = 0;
  std::vector<float> x;   // rows x M
  std::vector<double> w;  // weights, sum 1
  std::string how;        // description for the meta data
  std::vector<double> mean() const;  // weighted column means, M entries
  std::vector<double> stddev() const;
};
// Reduces `x` (n x M) as the background / background_size parameters say.
Background reduce_background(const std::vector<float>& x, int64_t n, int64_t m, const std::string& how, int size,
                             uint64_t seed, const Host& host);

// Players: single features or groups of features.
struct Players {
  std::vector<std::string> names;
  std::vector<std::vector<int>> features;  // per player, feature indices
  bool grouped = false;
  Json groups_json = Json::object();
  size_t size() const { return names.size(); }
};
Players make_players(const Json& groups, const std::vector<std::string>& features, const std::string& who);

struct Target {
  int64_t sample;
  int64_t cls;
};

// Everything the explainers share, prepared from the inputs.
struct Prepared {
  ModelInfo model;
  TableView samples;
  int64_t n = 0, M = 0, C = 0;
  std::vector<float> x;          // n x M
  std::vector<double> probs;     // n x C, the model's output for the samples
  std::vector<int64_t> predicted;
  Background bg;
  bool has_background = false;
  Players players;
  std::vector<Target> targets;
  std::string target_mode;
  std::unique_ptr<Predictor> predictor;
  // For the output's meta data: when the explaining work began (prepare() is the first
  // thing every explainer does) and the rows sent to input_gradient (predict rows are
  // counted by the predictor).
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  int64_t gradient_rows = 0;
  int64_t model_rows() const { return (predictor ? predictor->rows_evaluated() : 0) + gradient_rows; }
};

struct PrepareOptions {
  bool need_background = true;  // else an unconnected background is allowed
  bool reduce = true;           // apply background / background_size
  // Checks that need the data (number of players, ...), run before the first model call.
  std::function<void(const Prepared&)> before_model;
};

// Reads the common parameters in a component's constructor.
struct CommonSettings {
  std::string who;  // type id
  std::string target, class_name, background;
  int background_size = 100;
  int batch_size = 4096;
  Json groups;
  uint64_t seed = 0;
  uint32_t threads = 1;
  explicit CommonSettings(std::string type_id, const Setup& s);
};

Prepared prepare(Context& ctx, const CommonSettings& cs, const Input& model_in, const Input& samples_in,
                 const Input& background_in, const PrepareOptions& opt = {});

// ------------------------------------------------------------------------------------
// The interventional value function v_x(S) = sum_b w_b f(x_S, b_notS), batched: queue
// (sample, coalition) jobs; rows stream into batches of batch_size and each job's value
// accumulates in background-row order (so batching never changes a result).
// ------------------------------------------------------------------------------------
class CoalitionEvaluator {
 public:
  CoalitionEvaluator(Predictor& p, const Background& bg, const Players& players);
  // Queues v(x, S) where S is given per player (mask[p] != 0: player present). Returns the job index.
  size_t add(const float* x, const uint8_t* mask);
  // Queues f(row) itself (one model row, weight 1). Returns the job index.
  size_t add_row(const float* row);
  void flush();
  // C values of job j (valid after flush()).
  const double* value(size_t j) const { return &values_[j * static_cast<size_t>(c_)]; }
  size_t jobs() const { return values_.size() / static_cast<size_t>(c_); }
  void clear() { values_.clear(); }

 private:
  void push_row(const float* row, uint32_t job, double w);
  Predictor& p_;
  const Background& bg_;
  const Players& players_;
  int64_t m_, c_;
  std::vector<float> buf_;
  std::vector<uint32_t> row_job_;
  std::vector<double> row_w_;
  int64_t filled_ = 0;
  std::vector<double> values_;
  std::vector<double> probs_;
  std::vector<uint8_t> fmask_;
};

// ------------------------------------------------------------------------------------
// Output tables (CONVENTIONS.md "Attributions").
// ------------------------------------------------------------------------------------
struct ExtraColumn {
  std::string name;
  std::vector<double> values;  // one per target
};
Table attribution_table(const Prepared& d, const std::vector<double>& values /* targets x P */,
                        const std::vector<double>& base, const std::vector<double>& output,
                        const std::vector<ExtraColumn>& extra, const Json& meta);

// Weighted mean of f(background) per class (C values): E f(background).
std::vector<double> background_expectation(Predictor& p, const Background& bg);

// Cancels between batches and reports progress.
inline void step(const Host& h, uint64_t done, uint64_t total, const char* note) {
  h.check_cancelled();
  h.progress(done, total, note);
}

// Runs f(begin, end) over [0, n) split into `threads` contiguous ranges (each index
// belongs to exactly one range, so results never depend on the thread count).
void parallel_for(int64_t n, uint32_t threads, const std::function<void(int64_t, int64_t)>& f, int64_t grain = 1);

// Solves the symmetric positive (semi-)definite system A x = b for several right-hand
// sides (A n x n row-major, B n x k, solution written into B). Adds a tiny ridge when A
// is singular. Returns false if that was needed.
bool solve_spd(std::vector<double> A, int n, std::vector<double>& B, int k);

}  // namespace mien::explain
