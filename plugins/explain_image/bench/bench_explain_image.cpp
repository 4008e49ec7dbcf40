// bench_explain_image: wall time of each component on 112 x 112 images with the cheap
// plain-C++ models of tests/image_models.hpp, so the figures are the explainer's own cost
// (image building, segmentation, regression, resizing) plus a trivial model. Not run by CI.
//   build-ximg/plugins/explain_image/bench_explain_image --benchmark_min_time=1
#include <benchmark/benchmark.h>
#include <mien/testing.hpp>

#include "components.hpp"
#include "image_models.hpp"

using mien::Json;
using namespace mien::ximg;
using namespace ximg_test;

namespace {

template <typename C>
void run_explainer(benchmark::State& state, Json params, ImageModel& m, int64_t n) {
  const auto imgs = noise_images(n, m.H, m.W, m.C, 0, 255, 1).view().to_vector<uint8_t>();
  for (auto _ : state) {
    mien::testing::ComponentRunner<C> r(params, 7);
    r.set_input("model", m.ref());
    r.set_input("images", mien::Tensor::from<uint8_t>({n, m.H, m.W, m.C}, imgs));
    if (r.run() != MIEN_OK) state.SkipWithError(r.error().c_str());
  }
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(n * state.iterations()), benchmark::Counter::kIsRate);
}

void BM_GradCam(benchmark::State& s) {
  QuadCnn m(112, 112, 0);
  run_explainer<GradCam>(s, {}, m, 32);
}
void BM_GradCamPP(benchmark::State& s) {
  QuadCnn m(112, 112, 0);
  run_explainer<GradCamPP>(s, {}, m, 32);
}
void BM_Occlusion(benchmark::State& s) {
  RegionModel m(112, 112, 3, 40, 70, 30, 80);
  run_explainer<OcclusionImage>(s, {{"patch", 8}, {"stride", 4}, {"fill", "blur"}}, m, 1);
}
void BM_LimeSlic(benchmark::State& s) {
  RegionModel m(112, 112, 3, 40, 70, 30, 80);
  run_explainer<LimeImage>(s, {{"num_samples", 1000}, {"region_size", 16}, {"batch_size", 128}}, m, 1);
}
void BM_Deletion(benchmark::State& s) {
  RegionModel m(112, 112, 3, 40, 70, 30, 80);
  const int64_t n = 4;
  const auto imgs = noise_images(n, 112, 112, 3, 0, 255, 1).view().to_vector<uint8_t>();
  std::vector<float> maps(static_cast<size_t>(n * 112 * 112));
  for (size_t i = 0; i < maps.size(); ++i) maps[i] = static_cast<float>((i * 7919) % 1000);
  for (auto _ : s) {
    mien::testing::ComponentRunner<ImageDeletion> r(
        Json{{"steps", 20}, {"replacement", s.range(0) ? "noisy" : "blur"}, {"target", "predicted"}}, 7);
    r.set_input("model", m.ref());
    r.set_input("images", mien::Tensor::from<uint8_t>({n, 112, 112, 3}, imgs));
    r.set_input("maps", mien::Tensor::from<float>({n, 112, 112}, maps));
    if (r.run() != MIEN_OK) s.SkipWithError(r.error().c_str());
  }
  s.counters["images/s"] = benchmark::Counter(static_cast<double>(n * s.iterations()), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_GradCam)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GradCamPP)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Occlusion)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LimeSlic)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Deletion)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
