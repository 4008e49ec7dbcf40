// Tests of the image-explanation metrics.
#include <gtest/gtest.h>
#include <mien/testing.hpp>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <numeric>
#include <random>

#include "components.hpp"
#include "image_models.hpp"

using mien::Json;
using namespace mien::ximg;
using namespace ximg_test;

namespace {

template <typename C>
using Runner = mien::testing::ComponentRunner<C>;

// Images: a bright region (rows 4..8, cols 8..12) on a dark noisy background.
mien::Tensor region_images(int64_t n, uint64_t seed) {
  mien::Tensor t = noise_images(n, 16, 16, 1, 20, 80, seed);
  uint8_t* p = t.data<uint8_t>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t y = 4; y < 8; ++y)
      for (int64_t x = 8; x < 12; ++x) p[(i * 16 + y) * 16 + x] = 250;
  return t;
}

mien::Tensor region_maps(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n * 256), 0.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t y = 4; y < 8; ++y)
      for (int64_t x = 8; x < 12; ++x) v[static_cast<size_t>((i * 16 + y) * 16 + x)] = 1.0f + 0.01f * (y + x);
  return mien::Tensor::from<float>({n, 16, 16}, v);
}

mien::Tensor random_maps(int64_t n, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n * 256));
  for (float& x : v) x = u(g);
  return mien::Tensor::from<float>({n, 16, 16}, v);
}

mien::Table explained(int64_t n, const std::string& cls) {
  mien::Table t(n);
  std::vector<std::string> ids, ex;
  for (int64_t i = 0; i < n; ++i) {
    ids.push_back("s" + std::to_string(i));
    ex.push_back(cls);
  }
  t.add_strings("id", MIEN_ROLE_ID, ids).add_strings("explained_class", MIEN_ROLE_VALUE, ex);
  return t;
}

template <typename C>
double auc_of(Json params, RegionModel& m, mien::Tensor maps, int64_t n) {
  const int steps = params.value("steps", 20);
  Runner<C> r(std::move(params), 7);
  r.set_input("model", m.ref());
  r.set_input("images", region_images(n, 3));
  r.set_input("maps", std::move(maps));
  r.set_input("table", explained(n, "c1"));
  EXPECT_EQ(r.run(), MIEN_OK) << r.error();
  const Json s = r.json("summary");
  EXPECT_EQ(r.table("curve").num_rows(), n * (steps + 1));
  EXPECT_EQ(s["n"], n);
  if (std::getenv("XIMG_DEBUG")) std::cerr << s.dump() << "\n";
  return s["auc_mean"].get<double>();
}

}  // namespace

TEST(ImageDeletion, TrueRegionMapBeatsARandomMap) {
  RegionModel m(16, 16, 1, 4, 8, 8, 12);
  for (const char* rep : {"mean", "blur", "noisy"}) {
    const Json p = {{"replacement", rep}, {"steps", 16}, {"batch_size", 8}};
    const double good = auc_of<ImageDeletion>(p, m, region_maps(3), 3);
    const double rnd = auc_of<ImageDeletion>(p, m, random_maps(3, 5), 3);
    EXPECT_LT(good, rnd - 0.2) << rep;
    const double igood = auc_of<ImageInsertion>(p, m, region_maps(3), 3);
    const double irnd = auc_of<ImageInsertion>(p, m, random_maps(3, 5), 3);
    // ROAD-like imputation fills scattered gaps from their neighbours: a smaller gap.
    EXPECT_GT(igood, irnd + (std::string(rep) == "noisy" ? 0.05 : 0.2)) << rep;
  }
  EXPECT_LE(m.max_batch.load(), 8);
}

TEST(ImageDeletion, CurveStartsAtTheIntactImageAndEndsFullyRemoved) {
  RegionModel m(16, 16, 1, 4, 8, 8, 12);
  Runner<ImageDeletion> r(Json{{"replacement", "mean"}, {"steps", 4}, {"target", "predicted"}}, 7);
  r.set_input("model", m.ref());
  r.set_input("images", region_images(1, 3));
  r.set_input("maps", region_maps(1));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const auto c = r.table("curve");
  ASSERT_EQ(c.num_rows(), 5);
  EXPECT_DOUBLE_EQ(c.get("fraction").number(0), 0.0);
  EXPECT_DOUBLE_EQ(c.get("fraction").number(4), 1.0);
  float p[2];
  std::vector<float> x = region_images(1, 3).view().to_vector<float>();
  m.predict(x.data(), 1, p);
  EXPECT_FLOAT_EQ(static_cast<float>(c.get("probability").number(0)), p[1]);
  // Fully removed = the mean image: the region's mean is the image mean.
  const double mean = std::accumulate(x.begin(), x.end(), 0.0) / 256.0;
  EXPECT_NEAR(c.get("probability").number(4), 1.0 / (1.0 + std::exp(-8.0 * (mean / 255.0 - 0.5))), 1e-5);
  EXPECT_EQ(c.get("id").text(0), "i00000");
}

TEST(ImageDeletion, NeedsTheExplainedClassOrPredicted) {
  RegionModel m(16, 16, 1, 4, 8, 8, 12);
  Runner<ImageDeletion> r(Json::object(), 7);
  r.set_input("model", m.ref());
  r.set_input("images", region_images(1, 3));
  r.set_input("maps", region_maps(1));
  EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(r.error().find("target: predicted"), std::string::npos) << r.error();
  Runner<ImageDeletion> s(Json::object(), 7);
  s.set_input("model", m.ref());
  s.set_input("images", region_images(2, 3));
  s.set_input("maps", region_maps(1));
  EXPECT_EQ(s.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(m.calls.load(), 0);
}

// ---- Ground truth -----------------------------------------------------------------------

TEST(GroundTruth, MapInsideTheMaskHasAllItsMass) {
  std::vector<uint8_t> mask(2 * 256, 0);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t y = 2; y < 10; ++y)
      for (int64_t x = 3; x < 12; ++x) mask[static_cast<size_t>((i * 16 + y) * 16 + x)] = 255;
  std::vector<float> maps(2 * 256, -0.5f);  // negative values do not count
  for (int64_t y = 4; y < 8; ++y)
    for (int64_t x = 5; x < 9; ++x) maps[static_cast<size_t>((0 * 16 + y) * 16 + x)] = 2.0f;
  // Image 1: half the mass inside, the maximum outside.
  maps[static_cast<size_t>((1 * 16 + 5) * 16 + 5)] = 1.0f;
  maps[static_cast<size_t>((1 * 16 + 14) * 16 + 14)] = 1.01f;
  Runner<GroundTruth> r(Json::object(), 7);
  r.set_input("maps", mien::Tensor::from<float>({2, 16, 16}, maps));
  r.set_input("masks", mien::Tensor::from<uint8_t>({2, 16, 16}, mask));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const auto t = r.table("per_sample");
  ASSERT_EQ(t.num_rows(), 2);
  EXPECT_DOUBLE_EQ(t.get("mass").number(0), 1.0);
  EXPECT_DOUBLE_EQ(t.get("pointing").number(0), 1.0);
  EXPECT_NEAR(t.get("mass").number(1), 1.0 / 2.01, 1e-6);
  EXPECT_DOUBLE_EQ(t.get("pointing").number(1), 0.0);
  EXPECT_DOUBLE_EQ(t.get("mask_area").number(0), 72.0 / 256.0);
  const Json s = r.json("summary");
  EXPECT_DOUBLE_EQ(s["image"]["pointing_rate"].get<double>(), 0.5);
  EXPECT_EQ(r.table("per_class").num_rows(), 0);
}

TEST(GroundTruth, SkipsEmptyMasks) {
  std::vector<uint8_t> mask(256, 0);
  std::vector<float> maps(256, 1.0f);
  Runner<GroundTruth> r(Json::object(), 7);
  r.set_input("maps", mien::Tensor::from<float>({1, 16, 16}, maps));
  r.set_input("masks", mien::Tensor::from<uint8_t>({1, 16, 16}, mask));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_EQ(r.json("summary")["image"]["skipped_empty_mask"], 1);
  EXPECT_EQ(r.table("per_sample").num_rows(), 0);
}

TEST(GroundTruth, PrecisionAndRecallAtKByHand) {
  // Features a..e. Class happy changes {a, b}; class sad changes {c}; neutral nothing.
  const Json gt = {{"class_order", {"happy", "sad", "neutral"}},
                   {"classes",
                    {{"happy", {{"name", "happy"}, {"features", {"a", "b"}}}},
                     {"sad", {{"name", "sad"}, {"features", {"c"}}}},
                     {"neutral", {{"name", "neutral"}, {"features", Json::array()}}}}}};
  mien::Table t(4);
  t.add_strings("id", MIEN_ROLE_ID, {"x1", "x2", "x3", "x4"})
      .add_codes("label", MIEN_ROLE_LABEL, {0, 0, 1, 2}, {"happy", "sad", "neutral"})
      .add_strings("explained_class", MIEN_ROLE_VALUE, {"happy", "happy", "sad", "neutral"})
      .add_numbers("a", MIEN_ROLE_FEATURE, {0.9, 0.1, 0.0, 1.0})
      .add_numbers("b", MIEN_ROLE_FEATURE, {-0.8, 0.2, 0.1, 1.0})
      .add_numbers("c", MIEN_ROLE_FEATURE, {0.1, 0.9, -0.5, 1.0})
      .add_numbers("d", MIEN_ROLE_FEATURE, {0.0, 0.8, 0.6, 1.0})
      .add_numbers("e", MIEN_ROLE_FEATURE, {0.0, 0.0, 0.2, 1.0});
  Runner<GroundTruth> r(Json{{"k", {1, 2}}}, 7);
  r.set_input("attributions", std::move(t));
  r.set_input("ground_truth", gt);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json f = r.json("summary")["features"];
  // x1 (happy): top1 {a} -> p 1, r .5; top2 {a, b} -> p 1, r 1.
  // x2 (happy): top1 {c} -> 0, 0; top2 {c, d} -> 0, 0.
  // x3 (sad): top1 {d} -> 0, 0; top2 {d, c} -> p .5, r 1.   x4 neutral: skipped.
  EXPECT_EQ(f["n"], 3);
  EXPECT_EQ(f["skipped"], 1);
  EXPECT_DOUBLE_EQ(f["per_class"]["happy"]["precision"][0].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(f["per_class"]["happy"]["recall"][0].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(f["per_class"]["happy"]["precision"][1].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(f["per_class"]["happy"]["recall"][1].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(f["per_class"]["sad"]["precision"][1].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(f["per_class"]["sad"]["recall"][1].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(f["precision"][1].get<double>(), (1.0 + 0.0 + 0.5) / 3.0);
  EXPECT_DOUBLE_EQ(f["recall"][0].get<double>(), 0.5 / 3.0);
  const auto pc = r.table("per_class");
  EXPECT_EQ(pc.num_rows(), 4);  // happy and sad, k = 1, 2
  EXPECT_EQ(pc.get("class").text(0), "happy");
}

TEST(GroundTruth, NeedsAPairOfInputs) {
  Runner<GroundTruth> r(Json::object(), 7);
  r.set_input("maps", mien::Tensor::from<float>({1, 2, 2}, {1, 2, 3, 4}));
  EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(r.error().find("masks"), std::string::npos) << r.error();
}

// ---- Randomisation check ----------------------------------------------------------------

TEST(RandomizationCheck, IdenticalMapsFailUnrelatedMapsPass) {
  Runner<RandomizationCheck> same(Json::object(), 7);
  same.set_input("maps", region_maps(2));
  same.set_input("maps_randomized", region_maps(2));
  ASSERT_EQ(same.run(), MIEN_OK) << same.error();
  EXPECT_NEAR(same.json("summary")["spearman_mean"].get<double>(), 1.0, 1e-12);
  EXPECT_NEAR(same.json("summary")["ssim_mean"].get<double>(), 1.0, 1e-9);
  EXPECT_FALSE(same.json("summary")["passed"].get<bool>());

  Runner<RandomizationCheck> diff(Json::object(), 7);
  diff.set_input("maps", random_maps(4, 1));
  diff.set_input("maps_randomized", random_maps(4, 2));
  ASSERT_EQ(diff.run(), MIEN_OK) << diff.error();
  EXPECT_LT(std::fabs(diff.json("summary")["spearman_mean"].get<double>()), 0.2);
  EXPECT_LT(diff.json("summary")["ssim_mean"].get<double>(), 0.5);
  EXPECT_TRUE(diff.json("summary")["passed"].get<bool>());
  EXPECT_EQ(diff.table("per_sample").num_rows(), 4);
}

TEST(RandomizationCheck, ComparesAttributionTables) {
  auto table = [](std::vector<double> a, std::vector<double> b, std::vector<double> c) {
    mien::Table t(2);
    t.add_strings("id", MIEN_ROLE_ID, {"p", "q"})
        .add_numbers("f0", MIEN_ROLE_FEATURE, a)
        .add_numbers("f1", MIEN_ROLE_FEATURE, b)
        .add_numbers("f2", MIEN_ROLE_FEATURE, c);
    return t;
  };
  Runner<RandomizationCheck> r(Json{{"absolute", false}}, 7);
  r.set_input("attributions", table({1, 3}, {2, 2}, {3, 1}));
  r.set_input("attributions_randomized", table({3, 3}, {2, 2}, {1, 1}));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const auto t = r.table("per_sample");
  EXPECT_DOUBLE_EQ(t.get("spearman").number(0), -1.0);
  EXPECT_DOUBLE_EQ(t.get("spearman").number(1), 1.0);
  EXPECT_EQ(t.get("id").text(1), "q");
}

TEST(ImageDeletion, NoisyCurvesAreSeeded) {
  RegionModel m(16, 16, 1, 4, 8, 8, 12);
  auto curve = [&](uint64_t seed) {
    Runner<ImageInsertion> r(Json{{"replacement", "noisy"}, {"steps", 8}}, seed);
    r.set_input("model", m.ref());
    r.set_input("images", region_images(2, 3));
    r.set_input("maps", random_maps(2, 1));
    r.set_input("table", explained(2, "c1"));
    EXPECT_EQ(r.run(), MIEN_OK) << r.error();
    return r.table("curve").get("probability").numbers();
  };
  EXPECT_EQ(curve(7), curve(7));
  EXPECT_NE(curve(7), curve(8));
}
