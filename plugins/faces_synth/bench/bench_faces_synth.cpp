// Speed of dataset.synthetic_faces (not run by CI). Reports samples/s.
//   build-*/bin/bench_faces_synth [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include "generator.hpp"

using namespace mien::faces_synth;

namespace {

// The whole data set as the component makes it: identities × 7 classes × 3 poses,
// images, masks and landmarks (5,040 samples at 240 identities).
void BM_Generate(benchmark::State& state) {
  Options o;
  o.identities = static_cast<int>(state.range(0));
  o.size = static_cast<int>(state.range(1));
  o.threads = static_cast<int>(state.range(2));
  size_t n = 0;
  for (auto _ : state) {
    Dataset d = generate(o, 7);
    n += d.samples.size();
    benchmark::DoNotOptimize(d.images.data());
  }
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsRate);
}
// args: identities, size, threads
BENCHMARK(BM_Generate)
    ->Args({240, 128, 1})
    ->Args({240, 128, 2})
    ->Args({240, 64, 1})
    ->Args({48, 224, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Landmarks only (render = false): the geometry, without images.
void BM_GeometryOnly(benchmark::State& state) {
  Options o;
  o.identities = 240;
  o.render = false;
  size_t n = 0;
  for (auto _ : state) {
    Dataset d = generate(o, 7);
    n += d.samples.size();
    benchmark::DoNotOptimize(d.samples.data());
  }
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GeometryOnly)->Unit(benchmark::kMillisecond)->UseRealTime();

// The ground truth of 5,040 samples (80 features per sample).
void BM_GroundTruth(benchmark::State& state) {
  Options o;
  o.identities = 240;
  o.render = false;
  const Dataset d = generate(o, 7);
  for (auto _ : state) benchmark::DoNotOptimize(ground_truth(d));
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(d.samples.size()) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GroundTruth)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
