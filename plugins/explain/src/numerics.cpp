// Small numerics the explainers share: a deterministic parallel loop and an SPD solver.
#include "explainer_kit.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <thread>

namespace mien::explain {

void parallel_for(int64_t n, uint32_t threads, const std::function<void(int64_t, int64_t)>& f, int64_t grain) {
  if (n <= 0) return;
  const int64_t T = std::max<int64_t>(1, std::min<int64_t>(threads, (n + grain - 1) / grain));
  if (T == 1) {
    f(0, n);
    return;
  }
  // Contiguous ranges, multiples of `grain`.
  const int64_t units = (n + grain - 1) / grain;
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) {
    const int64_t b = std::min(n, (units * t / T) * grain), e = std::min(n, (units * (t + 1) / T) * grain);
    pool.emplace_back([&, t, b, e] {
      try {
        f(b, e);
      } catch (...) {
        errors[t] = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

bool solve_spd(std::vector<double> A, int n, std::vector<double>& B, int k) {
  double maxdiag = 0;
  for (int i = 0; i < n; ++i) maxdiag = std::max(maxdiag, std::fabs(A[i * n + i]));
  if (maxdiag == 0) maxdiag = 1;
  const std::vector<double> A0 = A;
  double ridge = 0;
  for (int attempt = 0; attempt < 8; ++attempt) {
    A = A0;
    for (int i = 0; i < n; ++i) A[i * n + i] += ridge;
    bool ok = true;
    for (int j = 0; j < n && ok; ++j) {
      double s = A[j * n + j];
      for (int p = 0; p < j; ++p) s -= A[j * n + p] * A[j * n + p];
      if (!(s > 1e-13 * maxdiag)) {
        ok = false;
        break;
      }
      const double l = std::sqrt(s);
      A[j * n + j] = l;
      for (int i = j + 1; i < n; ++i) {
        double t = A[i * n + j];
        for (int p = 0; p < j; ++p) t -= A[i * n + p] * A[j * n + p];
        A[i * n + j] = t / l;
      }
    }
    if (!ok) {
      ridge = ridge == 0 ? 1e-10 * maxdiag : ridge * 100;
      continue;
    }
    for (int c = 0; c < k; ++c) {
      for (int i = 0; i < n; ++i) {
        double t = B[i * k + c];
        for (int p = 0; p < i; ++p) t -= A[i * n + p] * B[p * k + c];
        B[i * k + c] = t / A[i * n + i];
      }
      for (int i = n - 1; i >= 0; --i) {
        double t = B[i * k + c];
        for (int p = i + 1; p < n; ++p) t -= A[p * n + i] * B[p * k + c];
        B[i * k + c] = t / A[i * n + i];
      }
    }
    return ridge == 0;
  }
  throw Error("a linear system could not be solved (the design is degenerate)", MIEN_ERR_INTERNAL);
}

}  // namespace mien::explain
