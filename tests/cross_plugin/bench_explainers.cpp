// bench_explainers: the explainers on the user's path. A model.mlp (30 -> 352 -> 256 -> 7,
// ReLU, softmax) is trained through the component and opened through its model vtable as
// the host does (LibTorch forward), then every explainer runs through ComponentRunner at
// 1 and 2 threads. Printed per thread count: the raw batched forward rate of that model
// and, per explainer, s per explained row, model rows/s, its share of the forward rate
// and the peak RSS of that run.
//
//   build/bin/bench_explainers              # the issue-17 settings (about 2 minutes on 2 cores)
//   build/bin/bench_explainers --quick      # tiny settings: only checks that it runs (ctest -L bench)
//   build/bin/bench_explainers --threads 2  # one thread count
//
// Like `mien run`, it runs with OPENBLAS_NUM_THREADS=1, MKL_NUM_THREADS=1 and passive
// OpenMP waiting (it re-executes itself with them when unset); it never sets
// OPENBLAS_CORETYPE.
#include <mien/testing.hpp>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "plugins/explain/src/components.hpp"
#include "plugins/explain/src/parallel_eval.hpp"
#include "plugins/models/src/model_mlp.hpp"

using mien::Json;
using mien::testing::ComponentRunner;
using mien::testing::HostedModel;
namespace ex = mien::explain;

namespace {

constexpr int64_t kFeatures = 30, kClasses = 7;

std::vector<std::string> class_names() {
  std::vector<std::string> c;
  for (int64_t k = 0; k < kClasses; ++k) c.push_back("c" + std::to_string(k));
  return c;
}

// Rows of N(0, 1) features; labels = argmax of a fixed random projection (a learnable task).
std::vector<float> normal_rows(int64_t n, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::normal_distribution<double> z(0.0, 1.0);
  std::vector<float> x(static_cast<size_t>(n * kFeatures));
  for (auto& v : x) v = static_cast<float>(z(g));
  return x;
}
std::vector<int64_t> labels_of(const std::vector<float>& x) {
  std::mt19937_64 g(99);
  std::normal_distribution<double> z(0.0, 1.0);
  std::vector<double> w(static_cast<size_t>(kClasses * kFeatures));
  for (auto& v : w) v = z(g);
  const int64_t n = static_cast<int64_t>(x.size()) / kFeatures;
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    double best = -1e300;
    for (int64_t k = 0; k < kClasses; ++k) {
      double s = 0;
      for (int64_t j = 0; j < kFeatures; ++j) s += w[k * kFeatures + j] * x[i * kFeatures + j];
      if (s > best) best = s, y[i] = k;
    }
  }
  return y;
}
mien::Table feature_table(const std::vector<float>& x, const std::vector<int64_t>& labels, const char* prefix) {
  const int64_t n = static_cast<int64_t>(x.size()) / kFeatures;
  mien::Table t(n);
  std::vector<std::string> ids;
  for (int64_t i = 0; i < n; ++i) ids.push_back(prefix + std::to_string(i));
  t.add_strings("id", MIEN_ROLE_ID, ids);
  if (!labels.empty()) t.add_codes("label", MIEN_ROLE_LABEL, labels, class_names());
  for (int64_t j = 0; j < kFeatures; ++j) {
    std::vector<double> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[i] = x[i * kFeatures + j];
    t.add_numbers("f" + std::to_string(j), MIEN_ROLE_FEATURE, v);
  }
  return t;
}

// Peak RSS of what ran since the last reset (Linux: clear_refs 5 resets VmHWM).
void reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
}
double peak_rss_mb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  return 0;
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Rows/s of model.predict on 4096-row batches: `callers` threads at once, each with one
// OpenMP thread when there are several (as the explainers call it), for about `secs`.
double forward_rate(HostedModel& hm, int callers, double secs) {
  const int64_t batch = 4096;
  const std::vector<float> x = normal_rows(batch, 5);
  std::atomic<int64_t> rows{0};
  auto work = [&](bool pin) {
    if (pin) ex::limit_openmp_threads_of_this_thread(1);
    mien::Tensor in = mien::Tensor::from<float>({batch, kFeatures}, x);
    mien::ModelRef m = hm.model();
    (void)m.predict(in);  // warm-up
    const double t0 = now();
    int64_t mine = 0;
    while (now() - t0 < secs) {
      (void)m.predict(in);
      mine += batch;
    }
    rows += mine;
  };
  const double t0 = now();
  if (callers == 1) {
    work(false);
  } else {
    std::vector<std::thread> pool;
    for (int c = 0; c < callers; ++c) pool.emplace_back(work, true);
    for (auto& t : pool) t.join();
  }
  return static_cast<double>(rows.load()) / (now() - t0);
}

struct Case {
  std::string name, settings;
  int64_t rows;  // explained rows
  int64_t background;
  std::function<std::unique_ptr<mien::testing::Runner>()> make;
};

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::vector<uint32_t> thread_counts = {1, 2};
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) thread_counts = {static_cast<uint32_t>(std::atoi(argv[++i]))};
    else {
      std::fprintf(stderr, "usage: %s [--quick] [--threads N]\n", argv[0]);
      return 2;
    }
  }
  // The thread settings `mien run` uses (host/src/cli/main.cpp), read when the libraries load.
  if (!std::getenv("MIEN_BENCH_ENV")) {
    setenv("MIEN_BENCH_ENV", "1", 1);
    setenv("OPENBLAS_NUM_THREADS", "1", 0);
    setenv("MKL_NUM_THREADS", "1", 0);
    setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    setenv("MIEN_NO_PROGRESS", "1", 0);
    execv("/proc/self/exe", argv);
    std::perror("bench_explainers: re-exec");
  }
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf("bench_explainers%s: OPENBLAS_NUM_THREADS=%s OMP_WAIT_POLICY=%s OPENBLAS_CORETYPE=%s, %u hardware threads\n",
              quick ? " --quick" : "", std::getenv("OPENBLAS_NUM_THREADS"), std::getenv("OMP_WAIT_POLICY"),
              coretype ? coretype : "(unset)", std::thread::hardware_concurrency());

  // ---- the model, through model.mlp's LibTorch path ----
  const std::vector<float> train_x = normal_rows(quick ? 300 : 3000, 1);
  ComponentRunner<mien::models::ModelMlp> train(
      Json{{"hidden", quick ? Json{32, 16} : Json{352, 256}}, {"dropout", {0.3, 0.3}}, {"epochs", quick ? 1 : 5},
           {"batch_size", 64}, {"validation_split", 0.0}},
      2022);
  train.set_input("train", feature_table(train_x, labels_of(train_x), "t"));
  if (train.run() != MIEN_OK) {
    std::fprintf(stderr, "training model.mlp failed: %s\n", train.error().c_str());
    return 1;
  }
  const std::string artifact = train.output_dir("model");
  std::printf("model.mlp %s, trained %s\n", quick ? "30-32-16-7 (quick)" : "30-352-256-7", artifact.c_str());

  const int64_t n_kernel = quick ? 2 : 20, n_perm = quick ? 2 : 20, n_deep = quick ? 4 : 300, n_ig = quick ? 4 : 300;
  const int64_t n_lime = quick ? 2 : 40, n_occl = quick ? 4 : 300, n_gs = quick ? 4 : 300, n_exact = quick ? 2 : 20;
  const std::vector<float> samples = normal_rows(300, 2), background = normal_rows(2000, 3);
  auto table_of = [&](int64_t n) {
    return feature_table(std::vector<float>(samples.begin(), samples.begin() + n * kFeatures), {}, "s");
  };
  const int bg_small = quick ? 10 : 100, bg_large = quick ? 20 : 2000;
  // Ten groups of three features for exact Shapley (2^10 coalitions).
  Json groups = Json::object();
  for (int g = 0; g < 10; ++g)
    groups["g" + std::to_string(g)] = {"f" + std::to_string(3 * g), "f" + std::to_string(3 * g + 1), "f" + std::to_string(3 * g + 2)};

  const double fwd_secs = quick ? 0.05 : 1.5;
  for (uint32_t T : thread_counts) {
    HostedModel hm(mien::detail::Adapter<mien::models::ModelMlp>::descriptor(), artifact, T);
    if (hm.status() != MIEN_OK) {
      std::fprintf(stderr, "opening the model failed: %s\n", hm.error().c_str());
      return 1;
    }
    const double f1 = forward_rate(hm, 1, fwd_secs);
    const double fT = T > 1 ? forward_rate(hm, static_cast<int>(T), fwd_secs) : f1;
    const double forward = std::max(f1, fT);
    std::printf("\n--threads %u: raw forward (4096-row batches) %.0f rows/s with one caller, %.0f rows/s with %u "
                "callers of one thread each; share = model rows/s / %.0f\n",
                T, f1, fT, T, forward);
    std::printf("%-22s %-44s %6s %10s %12s %7s %9s\n", "explainer", "settings", "rows", "s/row", "model rows/s",
                "share", "peak MB");
    auto bench = [&](const char* name, const std::string& settings, auto runner, int64_t n, int bg_rows) {
      runner->set_num_threads(T);
      runner->set_input("model", hm.ref());
      runner->set_input("samples", table_of(n));
      if (bg_rows > 0)
        runner->set_input("background",
                          feature_table(std::vector<float>(background.begin(), background.begin() + bg_rows * kFeatures),
                                        {}, "b"));
      reset_peak_rss();
      const double t0 = now();
      if (runner->run() != MIEN_OK) {
        std::fprintf(stderr, "%s failed: %s\n", name, runner->error().c_str());
        std::exit(1);
      }
      const double wall = now() - t0;
      const Json meta = runner->table("attributions").meta();
      const double secs = meta.value("seconds", wall);
      const double rows = meta.value("model_rows", 0.0);
      std::printf("%-22s %-44s %6lld %10.5f %12.0f %6.0f%% %9.0f\n", name, settings.c_str(), static_cast<long long>(n),
                  secs / static_cast<double>(n), rows / secs, 100.0 * rows / secs / forward, peak_rss_mb());
      std::fflush(stdout);
    };
    using namespace mien::explain;
    const std::string bs = std::to_string(bg_small), bl = std::to_string(bg_large);
    bench("kernel_shap", bs + " bg, 2M+2048 coalitions",
          std::make_unique<ComponentRunner<KernelShap>>(Json{{"background_size", bg_small}, {"nsamples", quick ? 100 : 0}}, 7),
          n_kernel, bg_small);
    bench("permutation_shap", bs + " bg, 8 pairs (8*2*29 = 464 coalitions)",
          std::make_unique<ComponentRunner<PermutationShap>>(Json{{"background_size", bg_small}, {"permutations", quick ? 2 : 8}}, 7),
          n_perm, bg_small);
    bench("exact_shapley", bs + " bg, 10 groups of 3 (1024 coalitions)",
          std::make_unique<ComponentRunner<ExactShapley>>(Json{{"background_size", bg_small}, {"groups", groups}}, 7),
          n_exact, bg_small);
    bench("lime", "5000 perturbations (default)",
          std::make_unique<ComponentRunner<Lime>>(Json{{"num_samples", quick ? 100 : 5000}}, 7), n_lime, bg_small);
    bench("occlusion", bs + " bg, baseline rows",
          std::make_unique<ComponentRunner<Occlusion>>(Json{{"background_size", bg_small}, {"baseline", "rows"}}, 7),
          n_occl, bg_small);
    bench("gradient_shap", bs + " bg, default samples",
          std::make_unique<ComponentRunner<GradientShap>>(Json{{"background_size", bg_small}}, 7), n_gs, bg_small);
    bench("integrated_gradients", "50 steps, mean baseline",
          std::make_unique<ComponentRunner<IntegratedGradients>>(Json{{"steps", 50}}, 7), n_ig, bg_small);
    bench("deep_shap", bl + " bg, softmax",
          std::make_unique<ComponentRunner<DeepShap>>(Json{{"background_size", bg_large}}, 7), n_deep, bg_large);
    bench("deep_shap", bs + " bg, softmax",
          std::make_unique<ComponentRunner<DeepShap>>(Json{{"background_size", bg_small}}, 7), n_deep, bg_small);
  }
  return 0;
}
