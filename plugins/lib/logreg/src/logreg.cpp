// Multinomial logistic regression (L-BFGS), folds, cross-validation and RFE.
#include <mien_logreg/logreg.hpp>

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>

namespace mien::logreg {

namespace {

// Uniform in [0, n) by rejection (std distributions differ between standard libraries).
uint64_t below(std::mt19937_64& g, uint64_t n) {
  const uint64_t threshold = (0 - n) % n;
  for (;;) {
    const uint64_t r = g();
    if (r >= threshold) return r % n;
  }
}

template <typename T>
void shuffle(std::vector<T>& v, std::mt19937_64& g) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<size_t>(below(g, i))]);
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

double max_abs(const std::vector<double>& a) {
  double m = 0;
  for (double v : a) m = std::max(m, std::fabs(v));
  return m;
}

}  // namespace

double logreg_objective(const Matrix& x, const std::vector<int64_t>& y, int64_t classes, double C,
                        const std::vector<double>& theta, std::vector<double>* grad) {
  const int64_t n = x.rows, p = x.cols, K = classes;
  const double* W = theta.data();
  const double* b = theta.data() + K * p;
  if (grad) grad->assign(theta.size(), 0.0);
  double* gW = grad ? grad->data() : nullptr;
  double* gb = grad ? grad->data() + K * p : nullptr;
  std::vector<double> z(static_cast<size_t>(K));
  double loss = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double* xi = x.v.data() + i * p;
    double zmax = -std::numeric_limits<double>::infinity();
    for (int64_t c = 0; c < K; ++c) {
      const double* wc = W + c * p;
      double s = b[c];
      for (int64_t j = 0; j < p; ++j) s += wc[j] * xi[j];
      z[static_cast<size_t>(c)] = s;
      zmax = std::max(zmax, s);
    }
    double sum = 0;
    for (int64_t c = 0; c < K; ++c) sum += std::exp(z[static_cast<size_t>(c)] - zmax);
    const double lse = zmax + std::log(sum);
    loss += lse - z[static_cast<size_t>(y[static_cast<size_t>(i)])];
    if (grad) {
      for (int64_t c = 0; c < K; ++c) {
        const double r = std::exp(z[static_cast<size_t>(c)] - lse) - (c == y[static_cast<size_t>(i)] ? 1.0 : 0.0);
        double* gwc = gW + c * p;
        for (int64_t j = 0; j < p; ++j) gwc[j] += r * xi[j];
        gb[c] += r;
      }
    }
  }
  const double inv_n = 1.0 / static_cast<double>(n);
  const double lam = 1.0 / (C * static_cast<double>(n));
  double reg = 0;
  for (int64_t k = 0; k < K * p; ++k) reg += W[k] * W[k];
  if (grad) {
    for (int64_t k = 0; k < K * p; ++k) gW[k] = gW[k] * inv_n + lam * W[k];
    for (int64_t c = 0; c < K; ++c) gb[c] *= inv_n;
  }
  return loss * inv_n + 0.5 * lam * reg;
}

LogRegModel fit_logreg(const Matrix& x, const std::vector<int64_t>& y, int64_t classes, const LogRegOptions& o,
                       const std::function<void()>& poll) {
  if (x.rows < 1) throw std::invalid_argument("logistic regression: no rows to fit");
  if (classes < 1) throw std::invalid_argument("logistic regression: no classes");
  if (!(o.C > 0)) throw std::invalid_argument("logistic regression: C must be > 0");
  const int64_t p = x.cols, K = classes;
  const size_t d = static_cast<size_t>(K * p + K);
  std::vector<double> theta(d, 0.0), g, theta_new(d), g_new, dir(d);
  double f = logreg_objective(x, y, K, o.C, theta, &g);
  std::deque<std::vector<double>> S, Y;
  std::deque<double> rho;
  LogRegModel m;
  int it = 0;
  bool converged = max_abs(g) < o.tol;
  for (; it < o.max_iter && !converged; ++it) {
    if (poll) poll();
    // Two-loop recursion: dir = -H g.
    for (size_t k = 0; k < d; ++k) dir[k] = -g[k];
    std::vector<double> alpha(S.size());
    for (size_t h = S.size(); h-- > 0;) {
      alpha[h] = rho[h] * dot(S[h], dir);
      for (size_t k = 0; k < d; ++k) dir[k] -= alpha[h] * Y[h][k];
    }
    double gamma = 1.0;
    if (!S.empty()) gamma = dot(S.back(), Y.back()) / dot(Y.back(), Y.back());
    else gamma = 1.0 / std::max(1.0, std::sqrt(dot(g, g)));
    for (size_t k = 0; k < d; ++k) dir[k] *= gamma;
    for (size_t h = 0; h < S.size(); ++h) {
      const double beta = rho[h] * dot(Y[h], dir);
      for (size_t k = 0; k < d; ++k) dir[k] += S[h][k] * (alpha[h] - beta);
    }
    double slope = dot(g, dir);
    if (!(slope < 0)) {  // not a descent direction: restart from steepest descent
      S.clear(); Y.clear(); rho.clear();
      for (size_t k = 0; k < d; ++k) dir[k] = -g[k] / std::max(1.0, std::sqrt(dot(g, g)));
      slope = dot(g, dir);
    }
    // Backtracking line search (Armijo).
    double step = 1.0, f_new = f;
    bool accepted = false;
    for (int ls = 0; ls < 60; ++ls) {
      for (size_t k = 0; k < d; ++k) theta_new[k] = theta[k] + step * dir[k];
      f_new = logreg_objective(x, y, K, o.C, theta_new, &g_new);
      if (std::isfinite(f_new) && f_new <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;  // no progress possible in floating point
    std::vector<double> s(d), yv(d);
    for (size_t k = 0; k < d; ++k) {
      s[k] = theta_new[k] - theta[k];
      yv[k] = g_new[k] - g[k];
    }
    const double sy = dot(s, yv);
    if (sy > 1e-12 * std::sqrt(dot(s, s) * dot(yv, yv))) {
      S.push_back(std::move(s));
      Y.push_back(std::move(yv));
      rho.push_back(1.0 / sy);
      if (static_cast<int>(S.size()) > o.memory) {
        S.pop_front(); Y.pop_front(); rho.pop_front();
      }
    }
    const double f_old = f;
    theta.swap(theta_new);
    g.swap(g_new);
    f = f_new;
    converged = max_abs(g) < o.tol;
    if (!converged && f_old - f <= 1e-15 * std::max(1.0, std::fabs(f)) && step < 1e-10) break;
  }
  m.classes = K;
  m.features = p;
  m.W.assign(theta.begin(), theta.begin() + K * p);
  m.b.assign(theta.begin() + K * p, theta.end());
  m.loss = f;
  m.grad_norm = max_abs(g);
  m.iterations = it;
  m.converged = converged;
  return m;
}

std::vector<int64_t> LogRegModel::predict(const Matrix& x) const {
  std::vector<int64_t> out(static_cast<size_t>(x.rows));
  for (int64_t i = 0; i < x.rows; ++i) {
    const double* xi = x.v.data() + i * x.cols;
    int64_t best = 0;
    double best_z = -std::numeric_limits<double>::infinity();
    for (int64_t c = 0; c < classes; ++c) {
      double s = b[static_cast<size_t>(c)];
      for (int64_t j = 0; j < features; ++j) s += W[static_cast<size_t>(c * features + j)] * xi[j];
      if (s > best_z) {
        best_z = s;
        best = c;
      }
    }
    out[static_cast<size_t>(i)] = best;
  }
  return out;
}

std::vector<double> LogRegModel::importance() const {
  std::vector<double> imp(static_cast<size_t>(features), 0.0);
  for (int64_t c = 0; c < classes; ++c)
    for (int64_t j = 0; j < features; ++j) imp[static_cast<size_t>(j)] += std::fabs(W[static_cast<size_t>(c * features + j)]);
  return imp;
}

void column_stats(const Matrix& x, std::vector<double>& mean, std::vector<double>& sd) {
  mean.assign(static_cast<size_t>(x.cols), 0.0);
  sd.assign(static_cast<size_t>(x.cols), 0.0);
  if (x.rows == 0) return;
  for (int64_t i = 0; i < x.rows; ++i)
    for (int64_t j = 0; j < x.cols; ++j) mean[static_cast<size_t>(j)] += x.at(i, j);
  for (double& m : mean) m /= static_cast<double>(x.rows);
  for (int64_t i = 0; i < x.rows; ++i)
    for (int64_t j = 0; j < x.cols; ++j) {
      const double dlt = x.at(i, j) - mean[static_cast<size_t>(j)];
      sd[static_cast<size_t>(j)] += dlt * dlt;
    }
  for (double& s : sd) {
    s = std::sqrt(s / static_cast<double>(x.rows));
    if (!(s > 1e-12)) s = 1.0;
  }
}

Matrix standardize(const Matrix& x, const std::vector<double>& mean, const std::vector<double>& sd) {
  Matrix out = x;
  for (int64_t i = 0; i < x.rows; ++i)
    for (int64_t j = 0; j < x.cols; ++j) {
      double& v = out.v[static_cast<size_t>(i * x.cols + j)];
      v = (v - mean[static_cast<size_t>(j)]) / sd[static_cast<size_t>(j)];
    }
  return out;
}

Matrix columns(const Matrix& x, const std::vector<int64_t>& cols) {
  Matrix out;
  out.rows = x.rows;
  out.cols = static_cast<int64_t>(cols.size());
  out.v.resize(static_cast<size_t>(out.rows * out.cols));
  for (int64_t i = 0; i < x.rows; ++i)
    for (size_t j = 0; j < cols.size(); ++j) out.v[static_cast<size_t>(i * out.cols) + j] = x.at(i, cols[j]);
  return out;
}

Matrix rows(const Matrix& x, const std::vector<int64_t>& r) {
  Matrix out;
  out.rows = static_cast<int64_t>(r.size());
  out.cols = x.cols;
  out.v.reserve(static_cast<size_t>(out.rows * out.cols));
  for (int64_t i : r) out.v.insert(out.v.end(), x.v.begin() + i * x.cols, x.v.begin() + (i + 1) * x.cols);
  return out;
}

std::vector<int64_t> make_folds(const std::vector<int64_t>& y, const std::vector<int64_t>& groups, int64_t folds,
                                uint64_t seed) {
  const size_t n = y.size();
  if (folds < 2) throw std::invalid_argument("at least 2 folds are needed");
  std::mt19937_64 gen(seed ^ 0x6a09e667f3bcc909ULL);
  std::vector<int64_t> fold_of(n, 0);
  if (!groups.empty()) {
    const int64_t G = groups.empty() ? 0 : *std::max_element(groups.begin(), groups.end()) + 1;
    std::vector<int64_t> size(static_cast<size_t>(G), 0);
    for (int64_t g : groups) ++size[static_cast<size_t>(g)];
    std::vector<int64_t> order;
    for (int64_t g = 0; g < G; ++g)
      if (size[static_cast<size_t>(g)] > 0) order.push_back(g);
    if (static_cast<int64_t>(order.size()) < folds)
      throw std::invalid_argument("there are " + std::to_string(order.size()) + " groups but " +
                                  std::to_string(folds) + " folds; every fold needs at least one group");
    shuffle(order, gen);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return size[static_cast<size_t>(a)] > size[static_cast<size_t>(b)]; });
    std::vector<int64_t> fold_rows(static_cast<size_t>(folds), 0), group_fold(static_cast<size_t>(G), 0);
    for (int64_t g : order) {
      const auto f = std::min_element(fold_rows.begin(), fold_rows.end()) - fold_rows.begin();
      group_fold[static_cast<size_t>(g)] = f;
      fold_rows[static_cast<size_t>(f)] += size[static_cast<size_t>(g)];
    }
    for (size_t i = 0; i < n; ++i) fold_of[i] = group_fold[static_cast<size_t>(groups[i])];
    return fold_of;
  }
  if (static_cast<int64_t>(n) < folds)
    throw std::invalid_argument("there are " + std::to_string(n) + " samples but " + std::to_string(folds) +
                                " folds; every fold needs at least one sample");
  const int64_t K = y.empty() ? 0 : *std::max_element(y.begin(), y.end()) + 1;
  int64_t next = 0;  // continue the deal across classes so fold sizes stay balanced
  for (int64_t c = 0; c < K; ++c) {
    std::vector<int64_t> members;
    for (size_t i = 0; i < n; ++i)
      if (y[i] == c) members.push_back(static_cast<int64_t>(i));
    shuffle(members, gen);
    for (int64_t i : members) {
      fold_of[static_cast<size_t>(i)] = next;
      next = (next + 1) % folds;
    }
  }
  return fold_of;
}

CrossValidator::CrossValidator(const Matrix& x, const std::vector<int64_t>& y, int64_t classes,
                               const std::vector<int64_t>& fold_of, int64_t folds)
    : classes_(classes) {
  for (int64_t f = 0; f < folds; ++f) {
    std::vector<int64_t> tr, te;
    for (size_t i = 0; i < fold_of.size(); ++i) (fold_of[i] == f ? te : tr).push_back(static_cast<int64_t>(i));
    if (tr.empty() || te.empty()) continue;
    Matrix xtr = rows(x, tr), xte = rows(x, te);
    std::vector<double> mean, sd;
    column_stats(xtr, mean, sd);
    train_x_.push_back(standardize(xtr, mean, sd));
    test_x_.push_back(standardize(xte, mean, sd));
    std::vector<int64_t> ytr, yte;
    for (int64_t i : tr) ytr.push_back(y[static_cast<size_t>(i)]);
    for (int64_t i : te) yte.push_back(y[static_cast<size_t>(i)]);
    train_y_.push_back(std::move(ytr));
    test_y_.push_back(std::move(yte));
  }
}

double CrossValidator::accuracy(const std::vector<int64_t>& cols, const LogRegOptions& o,
                                const std::function<void()>& poll) const {
  if (train_x_.empty()) return 0;
  double sum = 0;
  for (size_t f = 0; f < train_x_.size(); ++f) {
    const LogRegModel m = fit_logreg(columns(train_x_[f], cols), train_y_[f], classes_, o, poll);
    const std::vector<int64_t> pred = m.predict(columns(test_x_[f], cols));
    int64_t correct = 0;
    for (size_t i = 0; i < pred.size(); ++i) correct += pred[i] == test_y_[f][i] ? 1 : 0;
    sum += static_cast<double>(correct) / static_cast<double>(pred.size());
  }
  return sum / static_cast<double>(train_x_.size());
}

RfeResult rfe(const Matrix& x_std, const std::vector<int64_t>& y, int64_t classes, int64_t k, int64_t step,
              const LogRegOptions& o, const std::function<void(int64_t, int64_t)>& progress) {
  const int64_t p = x_std.cols;
  if (k < 1 || k > p) throw std::invalid_argument("rfe: k must lie in [1, number of features]");
  if (step < 1) throw std::invalid_argument("rfe: step must be >= 1");
  RfeResult r;
  std::vector<int64_t> active(static_cast<size_t>(p));
  std::iota(active.begin(), active.end(), int64_t{0});
  const int64_t total_rounds = (p - k + step - 1) / step + 1;
  int64_t round = 0;
  for (;;) {
    if (progress) progress(round, total_rounds);
    const LogRegModel m = fit_logreg(columns(x_std, active), y, classes, o);
    const std::vector<double> imp = m.importance();
    RfeRound rr;
    rr.active = active;
    rr.importance = imp;
    rr.loss = m.loss;
    rr.iterations = m.iterations;
    // Positions in `active` by importance, ascending; ties: the later column first.
    std::vector<size_t> order(active.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      if (imp[a] != imp[b]) return imp[a] < imp[b];
      return active[a] > active[b];
    });
    const int64_t remaining = static_cast<int64_t>(active.size());
    if (remaining <= k) {
      // Final: the survivors by importance, descending (ties: the earlier column first).
      for (size_t q = order.size(); q-- > 0;) {
        r.selected.push_back(active[order[q]]);
        r.selected_importance.push_back(imp[order[q]]);
      }
      r.rounds.push_back(std::move(rr));
      break;
    }
    const int64_t drop = std::min(step, remaining - k);
    std::vector<bool> gone(active.size(), false);
    for (int64_t q = 0; q < drop; ++q) {
      gone[order[static_cast<size_t>(q)]] = true;
      rr.removed.push_back(active[order[static_cast<size_t>(q)]]);
      r.eliminated.push_back(active[order[static_cast<size_t>(q)]]);
      r.eliminated_importance.push_back(imp[order[static_cast<size_t>(q)]]);
    }
    std::vector<int64_t> next;
    for (size_t q = 0; q < active.size(); ++q)
      if (!gone[q]) next.push_back(active[q]);
    active.swap(next);
    r.rounds.push_back(std::move(rr));
    ++round;
  }
  if (progress) progress(total_rounds, total_rounds);
  return r;
}

}  // namespace mien::logreg
