// Shared machinery of the explain plugin: parameters every explainer takes, the model
// wrapper (batched predict), feature matching, background reduction, targets, the
// coalition evaluator (interventional value function, batched over samples), seeded
// randomness and the output tables of plugins/CONVENTIONS.md.
#pragma once

#include <mien/plugin.hpp>

#include <cstdint>
#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace mien::explain {

// ------------------------------------------------------------------------------------
// Randomness: std::mt19937_64 seeded through splitmix64, with our own transforms
// (the standard distributions differ between library implementations).
// ------------------------------------------------------------------------------------
inline uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
// A seed for stream `k` of `seed` (e.g. one stream per explained sample).
inline uint64_t derive_seed(uint64_t seed, uint64_t k) {
  uint64_t s = seed ^ (0xD1B54A32D192ED03ULL * (k + 1));
  splitmix64(s);
  return splitmix64(s);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t s = seed;
    std::seed_seq seq{static_cast<uint32_t>(splitmix64(s)), static_cast<uint32_t>(splitmix64(s)),
                      static_cast<uint32_t>(splitmix64(s)), static_cast<uint32_t>(splitmix64(s))};
    g_.seed(seq);
  }
  uint64_t next() { return g_(); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(g_() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n), unbiased (rejection).
  uint64_t below(uint64_t n) {
    if (n <= 1) return 0;
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    for (;;) {
      const uint64_t r = g_();
      if (r < limit) return r % n;
    }
  }
  // Standard normal (Box-Muller, both values used).
  double normal();
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  std::mt19937_64 g_;
  bool has_spare_ = false;
  double spare_ = 0;
};

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

// ------------------------------------------------------------------------------------
// Model, data and background.
// ------------------------------------------------------------------------------------
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
