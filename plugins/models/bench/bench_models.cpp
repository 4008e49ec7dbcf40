// bench_models: speed figures of model.mlp (not run by CI).
//
//   build/bin/bench_models [--reps N] [--threads 1,2]
//
// Prints the BLAS actually loaded (so a reader can check OpenBLAS is in use), training
// time of the paper's S architecture (30-352-256-7, dropout 0.3/0.8, L2 0.01, Adam 1e-3)
// on 3,000 x 30 random features, 7 classes, 50 epochs, batch 32, at each thread count,
// and inference throughput (rows/s) through the model side (the code a consumer's
// predict runs) at batch 1 and 64.
#include <dlfcn.h>
#include <link.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "model_mlp.hpp"

namespace {

using namespace mien::models;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// CPU seconds (user + system) of the whole process: on a shared machine this shows the
// work done, independent of how long other processes kept the cores.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

int find_blas(dl_phdr_info* info, size_t, void* data) {
  const std::string name = info->dlpi_name ? info->dlpi_name : "";
  auto* out = static_cast<std::vector<std::string>*>(data);
  if (name.find("libblas") != std::string::npos || name.find("libopenblas") != std::string::npos ||
      name.find("libmkl") != std::string::npos)
    out->push_back(name);
  return 0;
}

void print_blas() {
  std::vector<std::string> libs;
  dl_iterate_phdr(find_blas, &libs);
  if (libs.empty()) std::printf("BLAS: none of libblas/libopenblas/libmkl is loaded\n");
  for (const auto& lib : libs) {
    std::error_code ec;
    const auto real = std::filesystem::canonical(lib, ec);
    std::printf("BLAS loaded: %s -> %s\n", lib.c_str(), ec ? "?" : real.c_str());
    if (void* h = dlopen(lib.c_str(), RTLD_NOW | RTLD_NOLOAD)) {
      using ConfigFn = char* (*)();
      using ThreadsFn = int (*)();
      if (auto fn = reinterpret_cast<ConfigFn>(dlsym(h, "openblas_get_config"))) std::printf("  openblas_get_config: %s\n", fn());
      if (auto fn = reinterpret_cast<ThreadsFn>(dlsym(h, "openblas_get_num_threads")))
        std::printf("  openblas threads: %d\n", fn());
      dlclose(h);
    }
  }
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "?";
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

struct Data {
  Matrix x;
  std::vector<int64_t> y;
  std::vector<double> mean, std;
};

Data make_random_data(int64_t rows, int64_t cols, int64_t classes, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  Data d;
  d.x = Matrix{std::vector<float>(static_cast<size_t>(rows * cols)), rows, cols};
  for (auto& v : d.x.values) v = normal(gen);
  for (int64_t i = 0; i < rows; ++i) d.y.push_back(static_cast<int64_t>(gen() % static_cast<uint64_t>(classes)));
  d.mean.assign(static_cast<size_t>(cols), 0.0);
  d.std.assign(static_cast<size_t>(cols), 1.0);
  return d;
}

MlpArch s_arch(int64_t inputs, int64_t classes) { return MlpArch{inputs, {352, 256}, {0.3, 0.8}, classes}; }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 3;
  int64_t epochs = 50;
  std::vector<int> thread_counts = {1, 2};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--epochs" && i + 1 < argc) epochs = std::max(1, std::atoi(argv[++i]));
    else if (a == "--threads" && i + 1 < argc) {
      thread_counts.clear();
      std::stringstream ss(argv[++i]);
      std::string t;
      while (std::getline(ss, t, ',')) thread_counts.push_back(std::max(1, std::atoi(t.c_str())));
    } else {
      std::fprintf(stderr, "usage: %s [--reps N] [--epochs N] [--threads 1,2]\n", argv[0]);
      return 2;
    }
  }
  const int64_t kRows = 3000, kCols = 30, kClasses = 7, kEpochs = epochs, kBatch = 32;
  std::printf("bench_models: model.mlp\n");
  std::printf("machine: %s, %u hardware threads, load average %s\n", cpu_model().c_str(),
              std::thread::hardware_concurrency(), load_average().c_str());
  const char* ob = std::getenv("OPENBLAS_NUM_THREADS");
  const char* omp = std::getenv("OMP_NUM_THREADS");
  const char* wait = std::getenv("OMP_WAIT_POLICY");
  std::printf("OPENBLAS_NUM_THREADS=%s OMP_NUM_THREADS=%s OMP_WAIT_POLICY=%s\n", ob ? ob : "(unset)",
              omp ? omp : "(unset)", wait ? wait : "(unset)");

  const Data d = make_random_data(kRows, kCols, kClasses, 1);
  // One tiny warm-up so library start-up is not timed.
  {
    MlpNet warm(s_arch(kCols, kClasses), 0);
    TrainOptions o;
    o.l2 = {0.01, 0.01, 0};
    o.epochs = 1;
    Matrix small{std::vector<float>(d.x.values.begin(), d.x.values.begin() + 64 * kCols), 64, kCols};
    warm.train(small, std::vector<int64_t>(d.y.begin(), d.y.begin() + 64), nullptr, nullptr, o, {});
  }
  print_blas();  // after torch ran, so its BLAS is surely loaded
  std::fflush(stdout);

  std::printf("\ntraining: S architecture %lld-352-256-%lld, dropout 0.3/0.8, L2 0.01, Adam 1e-3, %lld x %lld "
              "random features, %lld epochs, batch %lld (%lld steps), %d rep(s)\n",
              static_cast<long long>(kCols), static_cast<long long>(kClasses), static_cast<long long>(kRows),
              static_cast<long long>(kCols), static_cast<long long>(kEpochs), static_cast<long long>(kBatch),
              static_cast<long long>(kEpochs * ((kRows + kBatch - 1) / kBatch)), reps);
  for (int threads : thread_counts) {
    set_compute_threads(threads);
    std::vector<double> times, cpu;
    double final_loss = 0;
    for (int r = 0; r < reps; ++r) {
      MlpNet net(s_arch(kCols, kClasses), 7);
      net.set_standardization(d.mean, d.std);
      TrainOptions o;
      o.l2 = {0.01, 0.01, 0};
      o.epochs = kEpochs;
      o.batch_size = kBatch;
      o.patience = 0;
      o.seed = 7;
      const auto t0 = Clock::now();
      const double c0 = cpu_seconds();
      const TrainReport rep = net.train(d.x, d.y, nullptr, nullptr, o, {});
      times.push_back(seconds_since(t0));
      cpu.push_back(cpu_seconds() - c0);
      final_loss = rep.history.back().train_loss;
    }
    std::printf("  threads %d: wall median %.2f s (min %.2f, max %.2f), cpu median %.2f s, %.1f ms/epoch, final "
                "train loss %.4f\n",
                threads, median(times), *std::min_element(times.begin(), times.end()),
                *std::max_element(times.begin(), times.end()), median(cpu), 1000 * median(times) / kEpochs,
                final_loss);
    std::fflush(stdout);
  }

  // Inference through the model side, as a consumer's predict reaches it.
  const std::string dir = (std::filesystem::temp_directory_path() / ("bench-models-" + std::to_string(::getpid()))).string();
  {
    MlpNet net(s_arch(kCols, kClasses), 3);
    net.set_standardization(d.mean, d.std);
    MlpArtifact a;
    a.arch = s_arch(kCols, kClasses);
    for (int64_t j = 0; j < kCols; ++j) a.feature_names.push_back("f" + std::to_string(j));
    for (int64_t k = 0; k < kClasses; ++k) a.classes.push_back("c" + std::to_string(k));
    a.mean = d.mean;
    a.std = d.std;
    write_artifact(dir, a, net);
  }
  std::printf("\ninference: model side predict (checks, standardisation, forward, softmax), S architecture\n");
  for (int threads : thread_counts) {
    set_compute_threads(threads);
    MlpModel model(load_artifact(dir));
    const mien::Host host(nullptr, nullptr);
    for (int64_t batch : {int64_t{1}, int64_t{64}}) {
      mien::Tensor in = mien::Tensor::from<float>(
          {batch, kCols}, std::vector<float>(d.x.values.begin(), d.x.values.begin() + batch * kCols));
      for (int w = 0; w < 20; ++w) (void)model.predict(in.view(), host);
      int64_t rows = 0;
      const auto t0 = Clock::now();
      while (seconds_since(t0) < 1.0) {
        for (int k = 0; k < 50; ++k) (void)model.predict(in.view(), host);
        rows += 50 * batch;
      }
      const double s = seconds_since(t0);
      std::printf("  threads %d, batch %3lld: %10.0f rows/s (%.1f us per call)\n", threads,
                  static_cast<long long>(batch), static_cast<double>(rows) / s,
                  1e6 * s / (static_cast<double>(rows) / static_cast<double>(batch)));
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::printf("\nload average at the end: %s\n", load_average().c_str());
  return 0;
}
