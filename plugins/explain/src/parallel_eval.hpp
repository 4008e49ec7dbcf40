// The interventional value function v_x(S) = sum_b w_b f(x_S, b_rest) evaluated by several
// threads at once: the coalition jobs queued since the last flush are split into
// contiguous ranges of about equal model rows, and each thread fills, predicts and sums
// its own jobs in background-row order. A job's value depends only on its own rows, so
// results are bit-identical at any thread count and batch size (given a model whose
// output for a row does not depend on the other rows of its batch).
#pragma once

#include <cstdint>
#include <vector>

#include "explainer_kit.hpp"

namespace mien::explain {

// Caps the OpenMP team of the calling thread (LibTorch's intra-op threads) at `threads`,
// when the process has libgomp loaded: explainer threads that each call the model must not
// each start a team of --threads workers (2 callers x 2 = 4 threads on 2 cores).
void limit_openmp_threads_of_this_thread(int threads);

// f(rows) for n rows [n x M] -> [n x C] (float64), split into contiguous ranges over
// `threads` threads with their own predictors (batches of d's batch_size); rows are
// counted into d. Each row's output is the model's own, whatever the thread count.
std::vector<double> parallel_predict(Prepared& d, const float* rows, int64_t n, uint32_t threads);

class ParallelCoalitionEvaluator {
 public:
  // Uses d.predictor's model, batch size and host; rows are counted into d (model_rows()).
  // `background` defaults to d.bg; it must outlive the evaluator.
  ParallelCoalitionEvaluator(Prepared& d, uint32_t threads, const Background* background = nullptr);
  // Queues v(x, S), S per player (mask[p] != 0: present). x must stay valid until flush().
  size_t add(const float* x, const uint8_t* mask);
  // Queues f(row) itself (one model row, weight 1). row must stay valid until flush().
  size_t add_row(const float* row);
  // Evaluates every queued job (values stay until clear()).
  void flush();
  const double* value(size_t j) const { return &values_[j * static_cast<size_t>(c_)]; }
  size_t jobs() const { return jobs_.size(); }
  void clear();
  uint32_t threads() const { return threads_; }

 private:
  struct Job {
    const float* x;
    uint32_t mask;  // offset into masks_ (feature mask, M bytes); UINT32_MAX = one row
  };
  void run_range(size_t j0, size_t j1, int64_t& rows);
  Prepared& d_;
  const Background& bg_;
  uint32_t threads_;
  int64_t m_, c_, batch_;
  std::vector<Job> jobs_;
  std::vector<uint8_t> masks_;  // per coalition job, the feature mask
  std::vector<double> values_;
  size_t done_ = 0;  // jobs evaluated by earlier flushes
};

}  // namespace mien::explain
