// bench_explain: speed of the explainers on the paper's S-size MLP (40-352-256-7, random
// weights, float32 forward in plain C++ loops), not run by CI.
//
//   build-explain/plugins/explain/bench_explain                 # all
//   build-explain/plugins/explain/bench_explain --benchmark_filter=Kernel
//
// Counters: model_rows/s (rows the explainer sent to the model per second), samples/s,
// vs_forward (model_rows/s divided by the raw batched forward rate measured first),
// peak_rss_MB (getrusage, the process's peak so far; benchmarks run in increasing size).
#include <benchmark/benchmark.h>
#include <mien/testing.hpp>
#include <sys/resource.h>

#include <chrono>

#include "components.hpp"
#include <mien_explain_core/test_models.hpp>

using namespace explain_test;
using namespace mien::explain;
using mien::Json;

namespace {

Mlp& model() {
  static Mlp m([] {
    Mlp::Spec s;
    s.inputs = 40;
    s.hidden = {352, 256};
    s.dropout = {0.3, 0.8};
    s.classes = 7;
    s.affine = true;
    s.seed = 2022;
    return s;
  }());
  return m;
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

double g_forward_rate = 0;

void BM_Forward(benchmark::State& state) {
  const int64_t batch = state.range(0);
  const auto x = random_rows(batch, 40, 1, -2, 2);
  std::vector<float> out(static_cast<size_t>(batch * 7));
  int64_t rows = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    model().predict(x.data(), batch, out.data());
    benchmark::DoNotOptimize(out.data());
    rows += batch;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  g_forward_rate = std::max(g_forward_rate, rows / secs);
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
  state.counters["peak_rss_MB"] = peak_rss_mb();
}

template <typename C>
void explain(benchmark::State& state, Json params, int64_t samples, int64_t background, uint32_t threads) {
  const auto xs = random_rows(samples, 40, 2, -2, 2), bg = random_rows(background, 40, 3, -2, 2);
  int64_t rows = 0, done = 0;
  double secs = 0;
  for (auto _ : state) {
    mien::testing::ComponentRunner<C> r(params, 7);
    r.set_num_threads(threads);
    r.set_input("model", model().ref());
    r.set_input("samples", make_table(xs, 40, model().class_names()));
    r.set_input("background", make_table(bg, 40, model().class_names(), {}, "b"));
    const int64_t before = model().rows.load();
    const auto t0 = std::chrono::steady_clock::now();
    if (r.run() != MIEN_OK) state.SkipWithError(r.error().c_str());
    secs += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rows += model().rows.load() - before;
    done += samples;
  }
  state.counters["model_rows/s"] = rows / secs;
  state.counters["samples/s"] = done / secs;
  if (g_forward_rate > 0) state.counters["vs_forward"] = rows / secs / g_forward_rate;
  state.counters["peak_rss_MB"] = peak_rss_mb();
}

void BM_KernelShap(benchmark::State& state) {
  // nsamples 0 = 2M + 2048 = 2128 coalitions x 100 background rows per sample.
  explain<KernelShap>(state, Json{{"nsamples", 0}, {"batch_size", state.range(0)}}, 4, 100, 1);
}
void BM_PermutationShap(benchmark::State& state) {
  explain<PermutationShap>(state, Json{{"permutations", 10}}, 8, 100, 1);
}
void BM_DeepShap(benchmark::State& state) {
  // The paper's setting: the whole training set as references. 2,940 samples (KDEF, 3 poses).
  explain<DeepShap>(state, Json{{"background_size", 0}}, state.range(0), state.range(1),
                    static_cast<uint32_t>(state.range(2)));
}
void BM_DeepShapFloat32(benchmark::State& state) {
  explain<DeepShap>(state, Json{{"background_size", 0}, {"precision", "float32"}}, state.range(0), state.range(1),
                    static_cast<uint32_t>(state.range(2)));
}

}  // namespace

BENCHMARK(BM_Forward)->Arg(4096)->Arg(256)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_KernelShap)->Arg(4096)->Arg(512)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_PermutationShap)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_DeepShap)
    ->Args({2940, 100, 2})
    ->Args({294, 2000, 1})
    ->Args({2940, 2000, 2})
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->UseRealTime();
BENCHMARK(BM_DeepShapFloat32)
    ->Args({294, 2000, 1})
    ->Args({2940, 2000, 2})
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->UseRealTime();

BENCHMARK_MAIN();
