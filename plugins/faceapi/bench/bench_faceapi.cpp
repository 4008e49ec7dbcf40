// bench_faceapi: speed of model.faceapi_expression's network (not run by CI).
//
//   build/bin/bench_faceapi [--reps N]
//
// Images per second through the model side (the code a consumer's predict runs, 112x112
// RGB uint8 crops, preprocessing included) at batch 1 and 64, with 1 and 2 LibTorch threads,
// and the same for input_gradient at batch 64. The network costs about 0.1 GFLOP per face.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "model_faceapi.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

int main(int argc, char** argv) {
  int reps = 3;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--reps") == 0) reps = std::max(1, std::atoi(argv[i + 1]));
  using namespace mien::faceapi;
  FaceApiNet net = shipped_net(kCanonicalOrder, "");
  std::mt19937_64 g(1);
  const int64_t max_batch = 64;
  std::vector<float> pixels(static_cast<size_t>(max_batch * kSide * kSide * 3));
  for (float& v : pixels) v = static_cast<float>(g() % 256);
  std::printf("model.faceapi_expression (face-api.js expression CNN, LibTorch), 112x112x3 inputs\n");
  std::printf("%-16s %7s %8s %12s %12s\n", "what", "threads", "batch", "images/s", "ms/image");
  for (int threads : {1, 2}) {
    set_compute_threads(threads);
    for (int64_t batch : {int64_t{1}, int64_t{64}}) {
      const Batch b{pixels.data(), batch, kSide, kSide, 3};
      (void)net.probabilities(b);  // warm-up
      const int64_t calls = batch == 1 ? 64 : 4;
      double best = 1e300;
      for (int r = 0; r < reps; ++r) {
        const auto t0 = Clock::now();
        for (int64_t c = 0; c < calls; ++c) (void)net.probabilities(b);
        best = std::min(best, seconds_since(t0) / static_cast<double>(calls * batch));
      }
      std::printf("%-16s %7d %8lld %12.1f %12.3f\n", "predict", threads, static_cast<long long>(batch), 1.0 / best,
                  best * 1e3);
    }
    const Batch b{pixels.data(), max_batch, kSide, kSide, 3};
    std::vector<int64_t> cls(static_cast<size_t>(max_batch), 3);
    std::vector<float> grad, scores;
    net.input_gradient(b, cls.data(), grad, scores);
    double best = 1e300;
    for (int r = 0; r < reps; ++r) {
      const auto t0 = Clock::now();
      net.input_gradient(b, cls.data(), grad, scores);
      best = std::min(best, seconds_since(t0) / static_cast<double>(max_batch));
    }
    std::printf("%-16s %7d %8lld %12.1f %12.3f\n", "input_gradient", threads, static_cast<long long>(max_batch),
                1.0 / best, best * 1e3);
  }
  return 0;
}
