// The sampling explainers split their model rows over --threads threads; every result must
// be bit-identical to the one-thread run (each coalition's value depends only on its own
// rows, each sample has its own random stream).
#include "test_support.hpp"

using namespace explain_test;
using namespace mien::explain;

namespace {

Mlp::Spec spec() {
  Mlp::Spec s;
  s.inputs = 7;
  s.hidden = {9};
  s.classes = 3;
  s.seed = 11;
  s.weight_scale = 1.5;
  return s;
}

template <typename C>
std::vector<double> attributions(Json params, Mlp& model, const std::vector<float>& xs, const std::vector<float>& bg,
                                 uint32_t threads, const char* table = "attributions") {
  auto r = run<C>(std::move(params), model, xs, bg, 7, 0, {}, threads);
  EXPECT_EQ(r->run(), MIEN_OK) << r->error();
  return features_of(r->table(table));
}

}  // namespace

TEST(Threads, SamplingExplainersGiveTheSameNumbersAtAnyThreadCount) {
  Mlp model(spec());
  const auto xs = random_rows(9, 7, 31), bg = random_rows(15, 7, 32);
  // Small batches, so every run splits its rows over all threads.
  for (uint32_t threads : {2u, 3u}) {
    const Json kp{{"nsamples", 50}, {"batch_size", 16}};
    EXPECT_EQ(attributions<KernelShap>(kp, model, xs, bg, 1), attributions<KernelShap>(kp, model, xs, bg, threads));
    EXPECT_EQ(attributions<KernelShap>(kp, model, xs, bg, 1, "standard_errors"),
              attributions<KernelShap>(kp, model, xs, bg, threads, "standard_errors"));
    const Json pp{{"permutations", 4}, {"batch_size", 16}};
    EXPECT_EQ(attributions<PermutationShap>(pp, model, xs, bg, 1),
              attributions<PermutationShap>(pp, model, xs, bg, threads));
    const Json ep{{"batch_size", 16}};
    EXPECT_EQ(attributions<ExactShapley>(ep, model, xs, bg, 1), attributions<ExactShapley>(ep, model, xs, bg, threads));
    const Json lp{{"num_samples", 100}, {"batch_size", 16}};
    EXPECT_EQ(attributions<Lime>(lp, model, xs, bg, 1), attributions<Lime>(lp, model, xs, bg, threads));
    const Json op{{"baseline", "rows"}, {"batch_size", 4}};
    EXPECT_EQ(attributions<Occlusion>(op, model, xs, bg, 1), attributions<Occlusion>(op, model, xs, bg, threads));
  }
}

TEST(Threads, EveryModelRowIsCountedOnce) {
  Mlp model(spec());
  const auto xs = random_rows(4, 7, 41), bg = random_rows(10, 7, 42);
  for (uint32_t threads : {1u, 2u}) {
    auto r = run<ExactShapley>(Json{{"batch_size", 16}}, model, xs, bg, 7, 0, {}, threads);
    ASSERT_EQ(r->run(), MIEN_OK) << r->error();
    // the samples, the background, and (2^7 - 2) coalitions x 10 rows per sample
    EXPECT_EQ(r->table("attributions").meta()["model_rows"].get<int64_t>(), 4 + 10 + 4 * 126 * 10) << threads;
  }
}
