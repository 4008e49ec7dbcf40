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

TEST(Threads, EveryExplainerRecordsItsBudget) {
  Mlp model(spec());
  const auto xs = random_rows(3, 7, 51), bg = random_rows(6, 7, 52);
  auto meta_of = [&](auto tag, Json params) {
    using C = typename decltype(tag)::type;
    auto r = run<C>(std::move(params), model, xs, bg, 7, 0, {}, 2);
    EXPECT_EQ(r->run(), MIEN_OK) << r->error();
    const Json m = r->table("attributions").meta();
    EXPECT_EQ(m.value("threads", 0), 2) << m.dump();
    EXPECT_GT(m.value("model_rows", int64_t{0}), 0) << m.dump();
    EXPECT_TRUE(m.contains("seconds")) << m.dump();
    return m;
  };
  struct K { using type = KernelShap; };
  struct Pm { using type = PermutationShap; };
  struct E { using type = ExactShapley; };
  struct D { using type = DeepShap; };
  struct L { using type = Lime; };
  struct O { using type = Occlusion; };
  struct I { using type = IntegratedGradients; };
  struct G { using type = GradientShap; };
  Json k = meta_of(K{}, Json{{"nsamples", 40}});
  EXPECT_EQ(k["coalitions_per_sample"], 40);
  EXPECT_EQ(k["background_rows"], 6);
  EXPECT_EQ(meta_of(Pm{}, Json{{"permutations", 3}})["coalitions_per_sample"], 3 * 2 * 6);
  EXPECT_EQ(meta_of(E{}, Json::object())["coalitions_per_sample"], 128);
  EXPECT_EQ(meta_of(D{}, Json::object())["background_rows"], 6);
  meta_of(L{}, Json{{"num_samples", 50}});
  meta_of(O{}, Json::object());
  meta_of(I{}, Json{{"steps", 8}});
  meta_of(G{}, Json{{"nsamples", 10}});
}

TEST(Threads, GradientShapGivesTheSameNumbersAtAnyThreadCount) {
  Mlp model(spec());
  const auto xs = random_rows(9, 7, 61), bg = random_rows(15, 7, 62);
  const Json gp{{"nsamples", 20}, {"batch_size", 16}};
  const auto one = attributions<GradientShap>(gp, model, xs, bg, 1);
  for (uint32_t threads : {2u, 3u}) {
    EXPECT_EQ(one, attributions<GradientShap>(gp, model, xs, bg, threads));
    EXPECT_EQ(attributions<GradientShap>(gp, model, xs, bg, 1, "standard_errors"),
              attributions<GradientShap>(gp, model, xs, bg, threads, "standard_errors"));
  }
  // Every row counted once: the same model rows at 1 and 2 threads, and at least the
  // samples, the background and 9 x (20 draws + x itself).
  int64_t rows[2] = {0, 0};
  for (uint32_t threads : {1u, 2u}) {
    auto r = run<GradientShap>(gp, model, xs, bg, 7, 0, {}, threads);
    ASSERT_EQ(r->run(), MIEN_OK) << r->error();
    rows[threads - 1] = r->table("attributions").meta()["model_rows"].get<int64_t>();
  }
  EXPECT_EQ(rows[0], rows[1]);
  EXPECT_GE(rows[1], 9 + 15 + 15 + 9 * 21);
}
