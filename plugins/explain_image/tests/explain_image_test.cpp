// Tests of the image explainers on hand-built models (image_models.hpp).
#include <gtest/gtest.h>
#include <mien/testing.hpp>

#include <cstring>

#include "components.hpp"
#include "image_models.hpp"

using mien::Json;
using namespace mien::ximg;
using namespace ximg_test;

namespace {

template <typename C>
using Runner = mien::testing::ComponentRunner<C>;

template <typename C>
std::unique_ptr<Runner<C>> run(Json params, ImageModel& m, mien::Tensor images, uint32_t threads = 1,
                               uint64_t seed = 7) {
  auto r = std::make_unique<Runner<C>>(std::move(params), seed);
  r->set_num_threads(threads);
  r->set_input("model", m.ref());
  r->set_input("images", std::move(images));
  return r;
}

// Share of the (non-negative) map mass in rows [r0, r1) x cols [c0, c1) of image i.
double mass_in(const mien::TensorView& t, int64_t i, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
  const int64_t H = t.dim(1), W = t.dim(2);
  double in = 0, all = 0;
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      const double v = std::max(0.0, t.at((i * H + y) * W + x));
      all += v;
      if (y >= r0 && y < r1 && x >= c0 && x < c1) in += v;
    }
  return all > 0 ? in / all : 0.0;
}

}  // namespace

// ---- Grad-CAM / Grad-CAM++ --------------------------------------------------------------

template <typename T>
class CamTest : public ::testing::Test {};
using CamTypes = ::testing::Types<GradCam, GradCamPP>;
TYPED_TEST_SUITE(CamTest, CamTypes);

TYPED_TEST(CamTest, LightsTheQuadrantTheModelReads) {
  for (int quad = 0; quad < 4; ++quad) {
    QuadCnn cnn(16, 16, quad);
    auto r = run<TypeParam>({{"target", "class"}, {"class", "c1"}}, cnn, noise_images(3, 16, 16, 1, 60, 250, 11));
    ASSERT_EQ(r->run(), MIEN_OK) << r->error();
    const auto maps = r->tensor("maps");
    ASSERT_EQ(maps.shape(), (std::vector<int64_t>{3, 16, 16}));
    const int64_t r0 = quad >= 2 ? 8 : 0, c0 = quad % 2 ? 8 : 0;
    for (int64_t i = 0; i < 3; ++i) {
      // The upsampling blurs one pixel across the quadrant's border, no further.
      EXPECT_GT(mass_in(maps, i, r0, r0 + 8, c0, c0 + 8), 0.92) << "quad " << quad;
      EXPECT_DOUBLE_EQ(mass_in(maps, i, std::max<int64_t>(r0 - 1, 0), std::min<int64_t>(r0 + 9, 16),
                               std::max<int64_t>(c0 - 1, 0), std::min<int64_t>(c0 + 9, 16)),
                       1.0);
    }
    const auto t = r->table("attributions");
    EXPECT_EQ(t.get("explained_class").text(0), "c1");
    EXPECT_EQ(t.get("id").text(2), "i00002");
    EXPECT_EQ(t.num_rows(), 3);
  }
}

TYPED_TEST(CamTest, DefaultLayerAndBatching) {
  QuadCnn cnn(16, 16, 1);
  auto r = run<TypeParam>({{"target", "class"}, {"class", "1"}, {"batch_size", 2}}, cnn,
                          noise_images(5, 16, 16, 1, 0, 255, 3));
  ASSERT_EQ(r->run(), MIEN_OK) << r->error();
  EXPECT_LE(cnn.max_batch.load(), 2);
  EXPECT_EQ(r->table("attributions").meta()["layer"], "conv");
  // Progress ends at total.
  ASSERT_FALSE(r->progress().empty());
  EXPECT_EQ(r->progress().back().done, r->progress().back().total);
}

TEST(GradCam, EqualsAHandComputation) {
  // K = 2 channels on a 2 x 2 layer, image 2 x 2: no resize.
  const std::vector<float> A = {1, 2, 3, 4, /*k1*/ 4, 0, 1, 2};
  const std::vector<float> G = {0.5f, 0.5f, -0.5f, 1.5f, /*k1*/ -1, -1, -1, -1};
  // w0 = mean(G0) = 0.5, w1 = -1; cam = 0.5 A0 - A1 = {-3.5, 1, 0.5, 0} -> relu.
  StubCam stub(2, 2, 2, 2, 2, A, G);
  auto r = run<GradCam>({}, stub, noise_images(1, 2, 2, 1, 0, 255, 1));
  ASSERT_EQ(r->run(), MIEN_OK) << r->error();
  EXPECT_EQ(r->tensor("maps").to_vector<float>(), (std::vector<float>{0.0f, 1.0f, 0.5f, 0.0f}));
  EXPECT_DOUBLE_EQ(r->table("attributions").get("output").number(0), 1.0);  // the model's score

  auto raw = run<GradCam>({{"relu", false}}, stub, noise_images(1, 2, 2, 1, 0, 255, 1));
  ASSERT_EQ(raw->run(), MIEN_OK);
  EXPECT_EQ(raw->tensor("maps").to_vector<float>(), (std::vector<float>{-3.5f, 1.0f, 0.5f, 0.0f}));

  auto norm = run<GradCam>({{"normalize", true}}, stub, noise_images(1, 2, 2, 1, 0, 255, 1));
  ASSERT_EQ(norm->run(), MIEN_OK);
  EXPECT_EQ(norm->tensor("maps").to_vector<float>(), (std::vector<float>{0.0f, 1.0f, 0.5f, 0.0f}));

  // Grad-CAM++ by hand: alpha = g^2 / (2 g^2 + sum(A) g^3), w = sum alpha relu(g).
  auto pp = run<GradCamPP>({}, stub, noise_images(1, 2, 2, 1, 0, 255, 1));
  ASSERT_EQ(pp->run(), MIEN_OK) << pp->error();
  double w0 = 0;
  for (int p = 0; p < 4; ++p) {
    const double g = G[p], sa = 10.0;
    w0 += g * g / (2 * g * g + sa * g * g * g + 1e-7) * std::max(g, 0.0);
  }
  // Channel 1 has only negative gradients: weight 0.
  const auto m = pp->tensor("maps").to_vector<float>();
  for (int p = 0; p < 4; ++p) EXPECT_FLOAT_EQ(m[p], static_cast<float>(w0 * A[p]));
}

TEST(GradCam, WarnsAboutAllZeroMaps) {
  // Only negative evidence: relu leaves nothing; the warning says what to try.
  StubCam neg(2, 2, 1, 2, 2, {1, 2, 3, 4}, {-1, -1, -1, -1});
  auto r = run<GradCam>({}, neg, noise_images(2, 2, 2, 1, 0, 255, 1));
  ASSERT_EQ(r->run(), MIEN_OK) << r->error();
  bool warned = false;
  for (const auto& l : r->logs())
    warned = warned || (l.level == MIEN_LOG_WARNING && l.message.find("2 of 2") != std::string::npos &&
                        l.message.find("relu: false") != std::string::npos);
  EXPECT_TRUE(warned);
  for (float v : r->tensor("maps").to_vector<float>()) EXPECT_EQ(v, 0.0f);
}

TEST(GradCam, UpsamplesBilinearly) {
  // A constant 2 x 2 layer upsampled to 8 x 8 stays constant; a ramp stays monotone.
  StubCam flat(8, 8, 1, 2, 2, {2, 2, 2, 2}, {1, 1, 1, 1});
  auto r = run<GradCam>({}, flat, noise_images(1, 8, 8, 1, 0, 255, 1));
  ASSERT_EQ(r->run(), MIEN_OK) << r->error();
  for (float v : r->tensor("maps").to_vector<float>()) EXPECT_FLOAT_EQ(v, 2.0f);
  StubCam ramp(8, 8, 1, 1, 2, {0, 4}, {1, 1});
  auto q = run<GradCam>({}, ramp, noise_images(1, 8, 8, 1, 0, 255, 1));
  ASSERT_EQ(q->run(), MIEN_OK);
  const auto m = q->tensor("maps").to_vector<float>();
  for (int x = 1; x < 8; ++x) EXPECT_GE(m[x], m[x - 1]);
  EXPECT_FLOAT_EQ(m[0], 0.0f);
  EXPECT_FLOAT_EQ(m[7], 4.0f);
}

TEST(GradCam, UnknownLayerListsTheLayers) {
  QuadCnn cnn(16, 16, 0);
  auto r = run<GradCam>({{"layer", "block9"}}, cnn, noise_images(1, 16, 16, 1, 0, 255, 1));
  EXPECT_EQ(r->run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(r->error().find("'layer'"), std::string::npos) << r->error();
  EXPECT_NE(r->error().find("stem, conv"), std::string::npos) << r->error();
  EXPECT_EQ(cnn.calls.load(), 0);  // rejected before the first model call
}

TEST(GradCam, DeclaresTheCapabilityItNeeds) {
  const auto* d = mien::detail::Adapter<GradCam>::descriptor();
  uint64_t caps = 0;
  for (uint32_t i = 0; i < d->num_ports; ++i)
    if (std::string(d->ports[i].name) == "model") caps = d->ports[i].requires_caps;
  EXPECT_TRUE(caps & MIEN_CAP_LAYER_GRADIENT);
  const auto* o = mien::detail::Adapter<OcclusionImage>::descriptor();
  for (uint32_t i = 0; i < o->num_ports; ++i)
    if (std::string(o->ports[i].name) == "model") {
      EXPECT_EQ(o->ports[i].requires_caps, MIEN_CAP_PREDICT);
    }
}

TEST(GradCam, ErrorsNameTheParameter) {
  QuadCnn cnn(16, 16, 0);
  auto r = run<GradCam>({{"target", "class"}, {"class", "smile"}}, cnn, noise_images(1, 16, 16, 1, 0, 255, 1));
  EXPECT_EQ(r->run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(r->error().find("c0, c1"), std::string::npos) << r->error();
  auto s = run<GradCam>({}, cnn, noise_images(1, 12, 16, 1, 0, 255, 1));
  EXPECT_EQ(s->run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(s->error().find("input_shape"), std::string::npos) << s->error();
  auto t = run<GradCam>({{"target", "true"}}, cnn, noise_images(1, 16, 16, 1, 0, 255, 1));
  EXPECT_EQ(t->run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(t->error().find("LABEL"), std::string::npos) << t->error();
  EXPECT_EQ(cnn.calls.load(), 0);
  auto u = run<GradCam>({{"target", "class"}}, cnn, noise_images(1, 16, 16, 1, 0, 255, 1));
  EXPECT_EQ(u->run(), MIEN_ERR_INVALID_ARGUMENT);  // at construction
  EXPECT_NE(u->error().find("'class'"), std::string::npos) << u->error();
}

TEST(GradCam, CopiesTheSampleTableAndUsesTrueLabels) {
  QuadCnn cnn(16, 16, 0);
  auto r = run<GradCam>({{"target", "true"}}, cnn, noise_images(2, 16, 16, 1, 0, 255, 1));
  mien::Table t(2);
  t.add_strings("id", MIEN_ROLE_ID, {"a", "b"}).add_codes("label", MIEN_ROLE_LABEL, {1, 0}, {"c0", "c1"});
  t.add_strings("subject", MIEN_ROLE_GROUP, {"s1", "s2"});
  r->set_input("table", std::move(t));
  ASSERT_EQ(r->run(), MIEN_OK) << r->error();
  const auto a = r->table("attributions");
  EXPECT_EQ(a.get("id").text(1), "b");
  EXPECT_EQ(a.get("subject").text(0), "s1");
  EXPECT_EQ(a.get("explained_class").text(0), "c1");
  EXPECT_EQ(a.get("explained_class").text(1), "c0");
}

TEST(GradCam, Cancels) {
  QuadCnn cnn(16, 16, 0);
  auto r = run<GradCam>({{"batch_size", 1}}, cnn, noise_images(4, 16, 16, 1, 0, 255, 1));
  r->cancel_after(3);
  EXPECT_EQ(r->run(), MIEN_ERR_CANCELLED);
}

// ---- Occlusion --------------------------------------------------------------------------

TEST(OcclusionImage, LightsOnlyTheRegionTheModelReads) {
  RegionModel m(16, 16, 1, 4, 8, 8, 12);  // one 4 x 4 cell
  auto imgs = with_region(noise_images(2, 16, 16, 1, 100, 200, 5), 4, 8, 8, 12);
  for (const char* fill : {"zero", "mean", "blur"}) {
    auto r = run<OcclusionImage>({{"patch", 4}, {"stride", 4}, {"fill", fill}, {"target", "class"}, {"class", "c1"},
                                  {"batch_size", 5}},
                                 m, mien::Tensor::from<uint8_t>({2, 16, 16, 1}, imgs.view().to_vector<uint8_t>()));
    ASSERT_EQ(r->run(), MIEN_OK) << r->error();
    EXPECT_LE(m.max_batch.load(), 5);
    const auto maps = r->tensor("maps");
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t y = 0; y < 16; ++y)
        for (int64_t x = 0; x < 16; ++x) {
          const double v = maps.at((i * 16 + y) * 16 + x);
          if (m.inside(y, x)) {
            EXPECT_GT(v, 0.0) << fill;
          } else {
            EXPECT_EQ(v, 0.0) << fill << " " << y << "," << x;
          }
        }
    EXPECT_DOUBLE_EQ(mass_in(maps, 0, 4, 8, 8, 12), 1.0);
  }
}

TEST(OcclusionImage, OverlappingPatchesAverageAndCoverTheBorder) {
  RegionModel m(10, 10, 1, 0, 10, 0, 10);  // reads everything
  auto r = run<OcclusionImage>({{"patch", 4}, {"stride", 3}, {"fill", "zero"}, {"target", "class"}, {"class", "c1"}},
                               m, noise_images(1, 10, 10, 1, 200, 200, 1));
  ASSERT_EQ(r->run(), MIEN_OK) << r->error();
  // origins 0, 3, 6 -> 6 + 4 = 10 covers the border; every pixel gets a value > 0.
  for (float v : r->tensor("maps").to_vector<float>()) EXPECT_GT(v, 0.0f);
}

// ---- LIME -------------------------------------------------------------------------------

TEST(LimeImage, RanksTheCellTheModelReadsFirst) {
  RegionModel m(16, 16, 1, 4, 8, 8, 12);  // grid cell (1, 2) of a 4 x 4 grid
  auto r = run<LimeImage>({{"segmentation", "grid"}, {"cells", 4}, {"num_samples", 300}, {"target", "class"},
                           {"class", "c1"}, {"batch_size", 64}},
                          m, with_region(noise_images(2, 16, 16, 1, 100, 200, 9), 4, 8, 8, 12));
  ASSERT_EQ(r->run(), MIEN_OK) << r->error();
  const auto maps = r->tensor("maps");
  const auto t = r->table("attributions");
  for (int64_t i = 0; i < 2; ++i) {
    EXPECT_EQ(t.get("segments").number(i), 16.0);
    const double in = maps.at((i * 16 + 5) * 16 + 9);
    for (int64_t y = 0; y < 16; ++y)
      for (int64_t x = 0; x < 16; ++x)
        if (!m.inside(y, x)) {
          EXPECT_GT(in, 10 * std::fabs(maps.at((i * 16 + y) * 16 + x)));
        }
    EXPECT_GT(t.get("r2").number(i), 0.9);
  }
  EXPECT_EQ(m.rows.load(), 2 + 2 * 300);
}

TEST(LimeImage, SlicSegmentsAreCompactLabels) {
  // Run through the component: 32 x 32 RGB, region 8 -> on the order of 16 superpixels.
  RegionModel m(32, 32, 3, 0, 16, 0, 16);
  auto r = run<LimeImage>({{"region_size", 8}, {"num_samples", 50}}, m, noise_images(1, 32, 32, 3, 0, 255, 2));
  ASSERT_EQ(r->run(), MIEN_OK) << r->error();
  const double s = r->table("attributions").get("segments").number(0);
  EXPECT_GE(s, 4);
  EXPECT_LE(s, 64);
}

// ---- Determinism ------------------------------------------------------------------------

template <typename C>
std::vector<float> maps_for(Json p, ImageModel& m, uint32_t threads, uint64_t seed = 7) {
  auto r = run<C>(p, m, noise_images(2, 16, 16, 1, 0, 255, 4), threads, seed);
  EXPECT_EQ(r->run(), MIEN_OK) << r->error();
  return r->tensor("maps").template to_vector<float>();
}

TEST(Determinism, MapsAreBitIdenticalAcrossRunsAndThreads) {
  QuadCnn cnn(16, 16, 2);
  RegionModel reg(16, 16, 1, 4, 12, 4, 12);
  auto same = [](const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
  };
  EXPECT_TRUE(same(maps_for<GradCam>({}, cnn, 1), maps_for<GradCam>({}, cnn, 4)));
  EXPECT_TRUE(same(maps_for<GradCamPP>({}, cnn, 1), maps_for<GradCamPP>({}, cnn, 4)));
  EXPECT_TRUE(same(maps_for<OcclusionImage>({{"fill", "blur"}}, reg, 1), maps_for<OcclusionImage>({{"fill", "blur"}}, reg, 4)));
  const Json lp = {{"num_samples", 100}, {"region_size", 6}};
  const auto l1 = maps_for<LimeImage>(lp, reg, 1);
  EXPECT_TRUE(same(l1, maps_for<LimeImage>(lp, reg, 4)));
  EXPECT_TRUE(same(l1, maps_for<LimeImage>(lp, reg, 1)));
  EXPECT_FALSE(same(l1, maps_for<LimeImage>(lp, reg, 1, 8)));  // the seed matters
}

TEST(Cancellation, PerturbationExplainersStopBetweenBatches) {
  RegionModel m(16, 16, 1, 4, 8, 8, 12);
  auto l = run<LimeImage>({{"segmentation", "grid"}, {"cells", 4}, {"num_samples", 400}, {"batch_size", 50}}, m,
                          noise_images(1, 16, 16, 1, 0, 255, 1));
  l->cancel_after(3);
  EXPECT_EQ(l->run(), MIEN_ERR_CANCELLED);
  EXPECT_LT(m.rows.load(), 400);
  auto o = run<OcclusionImage>({{"patch", 2}, {"stride", 1}, {"batch_size", 10}}, m,
                               noise_images(1, 16, 16, 1, 0, 255, 1));
  o->cancel_after(3);
  EXPECT_EQ(o->run(), MIEN_ERR_CANCELLED);
}
