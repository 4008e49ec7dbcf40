// bench_gradcam_faceapi: explain.gradcam on the face-api.js expression network, as a run
// does it (the component's artifact opened through its model vtable, explain.gradcam
// through the component adapter), 112 x 112 RGB images. Not run by CI.
//
//   build/bin/bench_gradcam_faceapi [--images N] [--reps N] [--threads 1,2]
//
// Prints images/s (wall) and CPU ms per image per batch size (1, 16, 64) and thread count
// (CPU time is the fairer figure on a shared machine), and the process's peak RSS
// after each batch size (batch sizes run in increasing order, so each figure is the peak
// of that batch size or a smaller one).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <mien/testing.hpp>

#include "plugins/explain_image/src/components.hpp"
#include "plugins/faceapi/src/model_faceapi.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// User + system CPU seconds of the process so far (all threads).
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 64;
  int reps = 2;
  std::vector<uint32_t> threads = {1, 2};
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--images") == 0) n = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--reps") == 0) reps = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--threads") == 0) {
      threads.clear();
      for (const char* p = argv[i + 1]; *p;) {
        threads.push_back(static_cast<uint32_t>(std::max(1L, std::strtol(p, const_cast<char**>(&p), 10))));
        if (*p == ',') ++p;
        else if (*p) break;
      }
    }
  }
  using mien::Json;
  mien::testing::ComponentRunner<mien::faceapi::ModelFaceApiExpression> model_node(Json::object(), 1);
  if (model_node.run() != MIEN_OK) {
    std::fprintf(stderr, "model.faceapi_expression failed: %s\n", model_node.error().c_str());
    return 1;
  }
  const std::string dir = model_node.output_dir("model");
  std::mt19937_64 g(1);
  std::vector<uint8_t> px(static_cast<size_t>(n * 112 * 112 * 3));
  for (auto& v : px) v = static_cast<uint8_t>(g() % 256);
  std::printf("explain.gradcam on model.faceapi_expression (layer block3, 112x112x3), %lld images\n",
              static_cast<long long>(n));
  std::printf("%7s %6s %10s %10s %14s %12s\n", "threads", "batch", "images/s", "ms/image", "CPU ms/image",
              "peak RSS MB");
  for (uint32_t t : threads) {
    mien::testing::HostedModel m(mien::detail::Adapter<mien::faceapi::ModelFaceApiExpression>::descriptor(), dir, t);
    if (m.status() != MIEN_OK) {
      std::fprintf(stderr, "cannot open the model: %s\n", m.error().c_str());
      return 1;
    }
    for (int64_t batch : {int64_t{1}, int64_t{16}, int64_t{64}}) {
      double best = 1e300, best_cpu = 1e300;
      for (int r = 0; r < reps; ++r) {
        mien::testing::ComponentRunner<mien::ximg::GradCam> cam(Json{{"batch_size", batch}}, 1);
        cam.set_num_threads(t);
        cam.set_input("model", m.ref()).set_input("images", mien::Tensor::from<uint8_t>({n, 112, 112, 3}, px),
                                                  MIEN_PIXEL_RGB);
        const auto t0 = Clock::now();
        const double c0 = cpu_seconds();
        if (cam.run() != MIEN_OK) {
          std::fprintf(stderr, "explain.gradcam failed: %s\n", cam.error().c_str());
          return 1;
        }
        best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
        best_cpu = std::min(best_cpu, cpu_seconds() - c0);
      }
      std::printf("%7u %6lld %10.1f %10.2f %14.2f %12.1f\n", t, static_cast<long long>(batch),
                  static_cast<double>(n) / best, best * 1e3 / static_cast<double>(n),
                  best_cpu * 1e3 / static_cast<double>(n), peak_rss_mb());
    }
  }
  return 0;
}
