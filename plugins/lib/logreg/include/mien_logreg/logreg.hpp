// Multinomial logistic regression with an L2 penalty, trained by L-BFGS, plus the
// helpers feature selection needs (standardisation, stratified / group-aware folds,
// cross-validated accuracy, recursive feature elimination). Plain C++17, no LibTorch,
// deterministic: the same inputs give bit-identical results on every run.
//
// Objective (the same minimiser as scikit-learn's LogisticRegression(C, multinomial)):
//   f(W, b) = (1/n) * sum_i -log softmax(W x_i + b)[y_i]  +  ||W||^2 / (2 * C * n)
// The intercepts b are not penalised.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mien::logreg {

// A row-major [rows x cols] matrix of doubles.
struct Matrix {
  std::vector<double> v;
  int64_t rows = 0;
  int64_t cols = 0;
  double at(int64_t i, int64_t j) const { return v[static_cast<size_t>(i * cols + j)]; }
};

struct LogRegOptions {
  double C = 1.0;          // inverse L2 strength (> 0)
  int max_iter = 100;      // L-BFGS iterations
  double tol = 1e-6;       // stop when max |gradient| < tol
  int memory = 10;         // L-BFGS history
};

struct LogRegModel {
  int64_t classes = 0, features = 0;
  std::vector<double> W;   // [classes x features], row-major
  std::vector<double> b;   // [classes]
  double loss = 0;         // objective at the solution
  double grad_norm = 0;    // max |gradient| at the solution
  int iterations = 0;
  bool converged = false;
  // Predicted class per row of x ([rows x features]); ties -> the smaller class.
  std::vector<int64_t> predict(const Matrix& x) const;
  // Summed |W[c][j]| over classes, per feature.
  std::vector<double> importance() const;
};

// Objective and gradient at theta = [W (classes*features), b (classes)].
double logreg_objective(const Matrix& x, const std::vector<int64_t>& y, int64_t classes, double C,
                        const std::vector<double>& theta, std::vector<double>* grad);

// Fits on x (rows = samples) with labels y in [0, classes). `poll` (may be empty) is
// called once per iteration and may throw (cancellation).
LogRegModel fit_logreg(const Matrix& x, const std::vector<int64_t>& y, int64_t classes, const LogRegOptions& o,
                       const std::function<void()>& poll = {});

// Column means and population standard deviations (a constant column gets std 1).
void column_stats(const Matrix& x, std::vector<double>& mean, std::vector<double>& sd);
Matrix standardize(const Matrix& x, const std::vector<double>& mean, const std::vector<double>& sd);
// The given columns (in the given order) of x.
Matrix columns(const Matrix& x, const std::vector<int64_t>& cols);
// The given rows of x.
Matrix rows(const Matrix& x, const std::vector<int64_t>& r);

// Fold index (0..folds-1) of every row. With groups (one id per row, ids >= 0), all
// rows of a group share a fold: groups are shuffled by the seed and placed, largest
// first, into the fold with the fewest rows. Without groups (empty vector), each class's
// rows are shuffled and dealt round-robin (stratified). Throws std::invalid_argument
// when there are fewer rows (groups) than folds.
std::vector<int64_t> make_folds(const std::vector<int64_t>& y, const std::vector<int64_t>& groups, int64_t folds,
                                uint64_t seed);

// Cross-validation over precomputed folds: each fold's training rows standardised with
// their own statistics, the test rows with the same. Reused for many feature subsets.
class CrossValidator {
 public:
  CrossValidator(const Matrix& x, const std::vector<int64_t>& y, int64_t classes, const std::vector<int64_t>& fold_of,
                 int64_t folds);
  // Mean accuracy over folds of a logistic regression on the feature columns `cols`.
  double accuracy(const std::vector<int64_t>& cols, const LogRegOptions& o,
                  const std::function<void()>& poll = {}) const;
  int64_t folds() const { return static_cast<int64_t>(train_x_.size()); }

 private:
  int64_t classes_;
  std::vector<Matrix> train_x_, test_x_;
  std::vector<std::vector<int64_t>> train_y_, test_y_;
};

// Recursive feature elimination: fit on the standardised active columns, drop the
// `step` columns with the smallest summed |coefficient| (ties: the later column first),
// repeat until `k` remain. `elimination` receives the removed columns in removal order
// with the importance they had when removed; `rounds` one entry per fit.
struct RfeRound {
  std::vector<int64_t> active;       // columns fitted in this round
  std::vector<double> importance;    // per active column
  std::vector<int64_t> removed;      // columns removed after this round (empty for the last)
  double loss = 0;
  int iterations = 0;
};
struct RfeResult {
  std::vector<int64_t> selected;               // the k survivors, by final importance (desc)
  std::vector<double> selected_importance;
  std::vector<int64_t> eliminated;             // removal order
  std::vector<double> eliminated_importance;
  std::vector<RfeRound> rounds;
};
RfeResult rfe(const Matrix& x_std, const std::vector<int64_t>& y, int64_t classes, int64_t k, int64_t step,
              const LogRegOptions& o, const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace mien::logreg
