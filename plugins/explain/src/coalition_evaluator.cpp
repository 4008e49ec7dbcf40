// The interventional value function, batched over samples and coalitions, and E f(background).
#include "explainer_kit.hpp"

#include <cstring>

namespace mien::explain {

CoalitionEvaluator::CoalitionEvaluator(Predictor& p, const Background& bg, const Players& players)
    : p_(p), bg_(bg), players_(players), m_(p.num_features()), c_(p.num_classes()) {
  buf_.resize(static_cast<size_t>(p.batch_size() * m_));
  row_job_.resize(static_cast<size_t>(p.batch_size()));
  row_w_.resize(static_cast<size_t>(p.batch_size()));
  probs_.resize(static_cast<size_t>(p.batch_size() * c_));
  fmask_.resize(static_cast<size_t>(m_));
}

void CoalitionEvaluator::push_row(const float* row, uint32_t job, double w) {
  std::memcpy(&buf_[filled_ * m_], row, static_cast<size_t>(m_) * sizeof(float));
  row_job_[filled_] = job;
  row_w_[filled_] = w;
  if (++filled_ == p_.batch_size()) flush();
}

size_t CoalitionEvaluator::add(const float* x, const uint8_t* mask) {
  const size_t job = jobs();
  values_.resize(values_.size() + static_cast<size_t>(c_), 0.0);
  std::fill(fmask_.begin(), fmask_.end(), uint8_t{0});
  for (size_t p = 0; p < players_.size(); ++p)
    if (mask[p])
      for (int j : players_.features[p]) fmask_[j] = 1;
  for (int64_t b = 0; b < bg_.rows; ++b) {
    float* row = &buf_[filled_ * m_];
    const float* br = &bg_.x[b * m_];
    for (int64_t j = 0; j < m_; ++j) row[j] = fmask_[j] ? x[j] : br[j];
    row_job_[filled_] = static_cast<uint32_t>(job);
    row_w_[filled_] = bg_.w[b];
    if (++filled_ == p_.batch_size()) flush();
  }
  return job;
}

size_t CoalitionEvaluator::add_row(const float* row) {
  const size_t job = jobs();
  values_.resize(values_.size() + static_cast<size_t>(c_), 0.0);
  push_row(row, static_cast<uint32_t>(job), 1.0);
  return job;
}

void CoalitionEvaluator::flush() {
  if (filled_ == 0) return;
  p_.host().check_cancelled();
  p_.predict_into(buf_.data(), filled_, probs_.data());
  for (int64_t r = 0; r < filled_; ++r) {
    double* v = &values_[static_cast<size_t>(row_job_[r]) * c_];
    const double w = row_w_[r];
    const double* pr = &probs_[r * c_];
    for (int64_t c = 0; c < c_; ++c) v[c] += w * pr[c];
  }
  filled_ = 0;
}

std::vector<double> background_expectation(Predictor& p, const Background& bg) {
  const auto probs = p.predict(bg.x.data(), bg.rows);
  const int64_t C = p.num_classes();
  std::vector<double> e(static_cast<size_t>(C), 0.0);
  for (int64_t b = 0; b < bg.rows; ++b)
    for (int64_t c = 0; c < C; ++c) e[c] += bg.w[b] * probs[b * C + c];
  return e;
}

}  // namespace mien::explain
