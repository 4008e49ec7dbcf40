// Speed of model.cnn (not run by CI): inference images/s at batch 1 and 64 and training
// images/s, each at 1 and 2 threads, on 64 x 64 gray images with the default
// architecture (channels [32, 64, 128]).
//   build-cnn/bin/bench_cnn [--benchmark_min_time=2]
#include <benchmark/benchmark.h>
#include <mien/testing.hpp>

#include <memory>
#include <random>

#include "../tests/cnn_host.hpp"
#include "model_cnn.hpp"

namespace {

using mien::Json;
using mien::cnn::ModelCnn;
using Runner = mien::testing::ComponentRunner<ModelCnn>;

const mien_component_desc* descriptor() { return mien::detail::Adapter<ModelCnn>::descriptor(); }

struct Data {
  int64_t n;
  std::vector<uint8_t> pixels;
  std::vector<int64_t> labels;
};
Data random_faces(int64_t n) {
  std::mt19937_64 gen(1);
  Data d{n, std::vector<uint8_t>(static_cast<size_t>(n * 64 * 64)), {}};
  for (auto& p : d.pixels) p = static_cast<uint8_t>(gen() & 0xff);
  for (int64_t i = 0; i < n; ++i) d.labels.push_back(i % 7);
  return d;
}
mien::Table table_of(const Data& d) {
  mien::Table t(d.n);
  t.add_codes("label", MIEN_ROLE_LABEL, d.labels, {"fear", "anger", "disgust", "happy", "neutral", "sad", "surprise"});
  return t;
}

std::unique_ptr<Runner> train(const Data& d, uint32_t threads, int64_t epochs) {
  auto r = std::make_unique<Runner>(Json{{"epochs", epochs}, {"validation_split", 0.0}}, 1);
  r->set_num_threads(threads);
  r->set_input("images", mien::Tensor::from<uint8_t>({d.n, 64, 64, 1}, d.pixels), MIEN_PIXEL_GRAY);
  r->set_input("table", table_of(d));
  if (r->run() != MIEN_OK) throw std::runtime_error(r->error());
  return r;
}

Runner& trained() {
  static std::unique_ptr<Runner> r = train(random_faces(64), 2, 1);
  return *r;
}

void BM_Predict(benchmark::State& state) {
  const int64_t batch = state.range(0);
  cnn_test::HostedModel m(descriptor(), trained().output_dir("model"), static_cast<uint32_t>(state.range(1)));
  const Data d = random_faces(batch);
  const mien::Tensor x = mien::Tensor::from<uint8_t>({batch, 64, 64, 1}, d.pixels);
  for (auto _ : state) benchmark::DoNotOptimize(m.model().predict(x));
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetLabel("images/s = items_per_second");
}
BENCHMARK(BM_Predict)->ArgNames({"batch", "threads"})->Args({1, 1})->Args({1, 2})->Args({64, 1})->Args({64, 2})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Train(benchmark::State& state) {
  const Data d = random_faces(256);
  for (auto _ : state) train(d, static_cast<uint32_t>(state.range(0)), 1);
  state.SetItemsProcessed(state.iterations() * d.n);
  state.SetLabel("one epoch of 256 images, batch 64, augmentation on");
}
BENCHMARK(BM_Train)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
