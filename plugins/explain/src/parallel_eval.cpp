#include "parallel_eval.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cstring>

namespace mien::explain {

void limit_openmp_threads_of_this_thread(int threads) {
  using SetThreads = void (*)(int);
  // RTLD_NOLOAD: only when LibTorch (or anything else) already brought libgomp in; the
  // plugin itself never loads an OpenMP runtime.
  static const SetThreads set = [] {
    void* gomp = dlopen("libgomp.so.1", RTLD_LAZY | RTLD_NOLOAD);
    return gomp ? reinterpret_cast<SetThreads>(dlsym(gomp, "omp_set_num_threads")) : nullptr;
  }();
  if (set) set(std::max(1, threads));
}

std::vector<double> parallel_predict(Prepared& d, const float* rows, int64_t n, uint32_t threads) {
  const Predictor& main = *d.predictor;
  const int64_t M = main.num_features(), C = main.num_classes(), batch = main.batch_size();
  std::vector<double> out(static_cast<size_t>(n * C));
  // At least two batches per thread, else threads cost more than they save.
  const int64_t T = std::max<int64_t>(1, std::min<int64_t>(threads, n / std::max<int64_t>(1, 2 * batch)));
  std::vector<int64_t> counted(static_cast<size_t>(T), 0);
  parallel_for(T, static_cast<uint32_t>(T), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      if (T > 1) limit_openmp_threads_of_this_thread(1);
      Predictor p(main.model(), M, C, batch, main.host());
      const int64_t r0 = n * t / T, r1 = n * (t + 1) / T;
      for (int64_t s = r0; s < r1; s += batch) {
        p.host().check_cancelled();
        const int64_t k = std::min(batch, r1 - s);
        p.predict_into(rows + s * M, k, out.data() + s * C);
      }
      counted[t] = p.rows_evaluated();
    }
  });
  for (int64_t r : counted) d.gradient_rows += r;  // see ParallelCoalitionEvaluator::flush
  return out;
}

ParallelCoalitionEvaluator::ParallelCoalitionEvaluator(Prepared& d, uint32_t threads, const Background* background)
    : d_(d),
      bg_(background ? *background : d.bg),
      threads_(std::max<uint32_t>(1, threads)),
      m_(d.predictor->num_features()),
      c_(d.predictor->num_classes()),
      batch_(d.predictor->batch_size()) {}

size_t ParallelCoalitionEvaluator::add(const float* x, const uint8_t* mask) {
  const size_t job = jobs_.size();
  const auto at = static_cast<uint32_t>(masks_.size());
  masks_.resize(masks_.size() + static_cast<size_t>(m_), uint8_t{0});
  uint8_t* fm = &masks_[at];
  for (size_t p = 0; p < d_.players.size(); ++p)
    if (mask[p])
      for (int j : d_.players.features[p]) fm[j] = 1;
  jobs_.push_back({x, at});
  values_.resize(values_.size() + static_cast<size_t>(c_), 0.0);
  return job;
}

size_t ParallelCoalitionEvaluator::add_row(const float* row) {
  const size_t job = jobs_.size();
  jobs_.push_back({row, UINT32_MAX});
  values_.resize(values_.size() + static_cast<size_t>(c_), 0.0);
  return job;
}

void ParallelCoalitionEvaluator::clear() {
  jobs_.clear();
  masks_.clear();
  values_.clear();
  done_ = 0;
}

// Fills, predicts and accumulates jobs [j0, j1) with this thread's own buffers and
// predictor (Predictor counts rows and is not shared between threads).
void ParallelCoalitionEvaluator::run_range(size_t j0, size_t j1, int64_t& rows) {
  if (j0 >= j1) return;
  Predictor p(d_.predictor->model(), m_, c_, batch_, d_.predictor->host());
  const Background& bg = bg_;
  std::vector<float> buf(static_cast<size_t>(batch_ * m_));
  std::vector<uint32_t> row_job(static_cast<size_t>(batch_));
  std::vector<double> row_w(static_cast<size_t>(batch_)), probs(static_cast<size_t>(batch_ * c_));
  int64_t filled = 0;
  auto flush_batch = [&] {
    if (filled == 0) return;
    p.host().check_cancelled();
    p.predict_into(buf.data(), filled, probs.data());
    for (int64_t r = 0; r < filled; ++r) {
      double* v = &values_[static_cast<size_t>(row_job[r]) * c_];
      const double w = row_w[r];
      const double* pr = &probs[r * c_];
      for (int64_t c = 0; c < c_; ++c) v[c] += w * pr[c];
    }
    filled = 0;
  };
  for (size_t j = j0; j < j1; ++j) {
    const Job& job = jobs_[j];
    if (job.mask == UINT32_MAX) {
      std::memcpy(&buf[filled * m_], job.x, static_cast<size_t>(m_) * sizeof(float));
      row_job[filled] = static_cast<uint32_t>(j);
      row_w[filled] = 1.0;
      if (++filled == batch_) flush_batch();
      continue;
    }
    const uint8_t* fm = &masks_[job.mask];
    for (int64_t b = 0; b < bg.rows; ++b) {
      float* row = &buf[filled * m_];
      const float* br = &bg.x[b * m_];
      for (int64_t k = 0; k < m_; ++k) row[k] = fm[k] ? job.x[k] : br[k];
      row_job[filled] = static_cast<uint32_t>(j);
      row_w[filled] = bg.w[b];
      if (++filled == batch_) flush_batch();
    }
  }
  flush_batch();
  rows = p.rows_evaluated();
}

void ParallelCoalitionEvaluator::flush() {
  const size_t n = jobs_.size() - done_;
  if (n == 0) return;
  d_.predictor->host().check_cancelled();
  // Split by model rows, so every thread gets about the same forward work.
  std::vector<int64_t> cum(n + 1, 0);
  for (size_t i = 0; i < n; ++i)
    cum[i + 1] = cum[i] + (jobs_[done_ + i].mask == UINT32_MAX ? 1 : bg_.rows);
  const int64_t total = cum[n];
  // At least two batches per thread, else threads cost more than they save.
  const auto T = static_cast<uint32_t>(
      std::max<int64_t>(1, std::min<int64_t>(threads_, total / std::max<int64_t>(1, 2 * batch_))));
  std::vector<size_t> cut(T + 1, n);
  cut[0] = 0;
  for (uint32_t t = 1; t < T; ++t)
    cut[t] = static_cast<size_t>(std::lower_bound(cum.begin(), cum.end(), total * t / T) - cum.begin());
  std::vector<int64_t> rows(T, 0);
  parallel_for(T, T, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      if (T > 1) limit_openmp_threads_of_this_thread(1);
      run_range(done_ + cut[t], done_ + cut[t + 1], rows[t]);
    }
  });
  int64_t sum = 0;
  for (int64_t r : rows) sum += r;
  // Prepared::model_rows() = d.predictor's rows + this counter; these rows went to the
  // same model through the threads' own predictors.
  d_.gradient_rows += sum;
  done_ = jobs_.size();
}

}  // namespace mien::explain
