// Tests of dataset.synthetic_faces, through the real C boundary (ComponentRunner) where the
// outputs are concerned, and on the generator directly for the geometry.
#include <gtest/gtest.h>

#include <mien/testing.hpp>
#include <mien_face_geometry/geometric.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "component.hpp"
#include "generator.hpp"

using mien::Json;
using mien::testing::ComponentRunner;
using namespace mien::faces_synth;

namespace {

using Runner = ComponentRunner<SyntheticFaces>;

std::vector<uint8_t> bytes(const mien::TensorView& t) { return t.to_vector<uint8_t>(); }

bool contains(const Json& arr, const std::string& s) {
  for (const auto& v : arr)
    if (v.get<std::string>() == s) return true;
  return false;
}

bool contains_int(const Json& arr, int k) {
  for (const auto& v : arr)
    if (v.get<int>() == k) return true;
  return false;
}

// Nearest class centroid on standardised features; returns held-out accuracy.
double nearest_centroid_accuracy(const std::vector<std::vector<double>>& x, const std::vector<int>& y,
                                 const std::vector<bool>& train, int classes) {
  const size_t d = x[0].size();
  std::vector<double> mean(d, 0), sd(d, 0);
  size_t nt = 0;
  for (size_t i = 0; i < x.size(); ++i)
    if (train[i]) {
      ++nt;
      for (size_t j = 0; j < d; ++j) mean[j] += x[i][j];
    }
  for (auto& m : mean) m /= nt;
  for (size_t i = 0; i < x.size(); ++i)
    if (train[i])
      for (size_t j = 0; j < d; ++j) sd[j] += (x[i][j] - mean[j]) * (x[i][j] - mean[j]);
  for (auto& s : sd) s = std::sqrt(s / nt) + 1e-12;
  std::vector<std::vector<double>> centroid(classes, std::vector<double>(d, 0));
  std::vector<int> count(classes, 0);
  for (size_t i = 0; i < x.size(); ++i)
    if (train[i]) {
      ++count[y[i]];
      for (size_t j = 0; j < d; ++j) centroid[y[i]][j] += (x[i][j] - mean[j]) / sd[j];
    }
  for (int c = 0; c < classes; ++c)
    for (auto& v : centroid[c]) v /= std::max(1, count[c]);
  int correct = 0, total = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (train[i]) continue;
    int best = -1;
    double bd = 0;
    for (int c = 0; c < classes; ++c) {
      double dist = 0;
      for (size_t j = 0; j < d; ++j) {
        const double z = (x[i][j] - mean[j]) / sd[j] - centroid[c][j];
        dist += z * z;
      }
      if (best < 0 || dist < bd) {
        bd = dist;
        best = c;
      }
    }
    correct += best == y[i];
    ++total;
  }
  return static_cast<double>(correct) / total;
}

}  // namespace

TEST(SyntheticFaces, SameSeedSameBytesOtherSeedDiffers) {
  const Json params = {{"identities", 2}, {"size", 64}};
  Runner a(params, 11), b(params, 11), c(params, 12);
  ASSERT_EQ(a.run(), MIEN_OK) << a.error();
  ASSERT_EQ(b.run(), MIEN_OK) << b.error();
  ASSERT_EQ(c.run(), MIEN_OK) << c.error();
  EXPECT_EQ(bytes(a.tensor("images")), bytes(b.tensor("images")));
  EXPECT_EQ(bytes(a.tensor("au_masks")), bytes(b.tensor("au_masks")));
  EXPECT_EQ(a.json("ground_truth"), b.json("ground_truth"));
  const auto ta = a.table("table"), tb = b.table("table"), tc = c.table("table");
  ASSERT_EQ(ta.num_columns(), tb.num_columns());
  for (uint32_t k = 0; k < ta.num_columns(); ++k) EXPECT_EQ(ta.column(k).texts(), tb.column(k).texts()) << k;
  EXPECT_NE(bytes(a.tensor("images")), bytes(c.tensor("images")));
  EXPECT_NE(ta.get("x48").numbers(), tc.get("x48").numbers());
}

TEST(SyntheticFaces, ThreadsDoNotChangeTheOutput) {
  Options o;
  o.identities = 3;
  o.size = 48;
  const Dataset one = generate(o, 77);
  o.threads = 3;
  size_t last = 0;
  const Dataset three = generate(o, 77, [&](size_t done, size_t total) {
    EXPECT_GE(done, last);
    EXPECT_EQ(total, one.samples.size());
    last = done;
  });
  EXPECT_EQ(last, one.samples.size());
  EXPECT_EQ(one.images, three.images);
  EXPECT_EQ(one.masks, three.masks);
  EXPECT_EQ(ground_truth(one), ground_truth(three));
  // cancelling from the progress callback stops the workers and reaches the caller
  EXPECT_THROW(generate(o, 77, [](size_t, size_t) { throw mien::Cancelled(); }), mien::Cancelled);
}

TEST(SyntheticFaces, CancelledThroughTheHost) {
  Runner r({{"identities", 3}, {"size", 32}}, 1);
  r.set_num_threads(2);
  r.cancel_after(0);
  EXPECT_EQ(r.run(), MIEN_ERR_CANCELLED);
}

TEST(SyntheticFaces, OutputsHaveTheDocumentedShapes) {
  Runner r({{"identities", 2}, {"size", 48}, {"repeats", 2}}, 3);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const int64_t n = 2 * 7 * 3 * 2;
  EXPECT_EQ(r.tensor("images").shape(), (std::vector<int64_t>{n, 48, 48, 1}));
  EXPECT_EQ(r.output("images").pixel_format, MIEN_PIXEL_GRAY);
  EXPECT_EQ(r.tensor("au_masks").shape(), (std::vector<int64_t>{n, 48, 48}));
  const auto t = r.table("table");
  EXPECT_EQ(t.num_rows(), n);
  EXPECT_EQ(t.get("id").text(0), "s00000");
  EXPECT_EQ(t.get("id").role(), MIEN_ROLE_ID);
  EXPECT_EQ(t.get("label").role(), MIEN_ROLE_LABEL);
  EXPECT_EQ(t.get("label").categories(),
            (std::vector<std::string>{"fear", "anger", "disgust", "happy", "neutral", "sad", "surprise"}));
  EXPECT_EQ(t.get("subject").role(), MIEN_ROLE_GROUP);
  EXPECT_EQ(t.get("pose").role(), MIEN_ROLE_GROUP);
  for (const char* c : {"x0", "y67", "au1", "au2", "au4", "au5", "au6", "au7", "au9", "au12", "au15", "au16", "au20",
                        "au23", "au26", "light_azimuth", "contrast", "background_level", "background_texture",
                        "blur_sigma", "yaw", "pitch", "roll"})
    EXPECT_TRUE(t.find(c).has_value()) << c;
  EXPECT_FALSE(t.find("au25").has_value());
  EXPECT_TRUE(t.with_role(MIEN_ROLE_FEATURE).empty());
}

TEST(SyntheticFaces, KdefLabelsAndClassSubsets) {
  Runner r({{"identities", 1}, {"size", 32}, {"label_style", "kdef"}, {"classes", {"happy", "NE"}}}, 1);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const auto t = r.table("table");
  EXPECT_EQ(t.get("label").categories(), (std::vector<std::string>{"HA", "NE"}));
  EXPECT_TRUE(t.find("au6").has_value());
  EXPECT_TRUE(t.find("au12").has_value());
  EXPECT_FALSE(t.find("au1").has_value());  // only the AUs the classes use
  const Json gt = r.json("ground_truth");
  EXPECT_EQ(gt["class_order"], Json({"HA", "NE"}));
  EXPECT_EQ(gt["classes"]["HA"]["name"], "happy");
}

TEST(SyntheticFaces, BadParametersAreNamed) {
  Runner a({{"poses", {"S", "FL"}}}, 1);
  EXPECT_NE(a.run(), MIEN_OK);
  EXPECT_NE(a.error().find("poses"), std::string::npos) << a.error();
  Runner b({{"intensity_min", 0.8}, {"intensity_max", 0.5}}, 1);
  EXPECT_NE(b.run(), MIEN_OK);
  EXPECT_NE(b.error().find("intensity_max"), std::string::npos) << b.error();
  Runner c({{"classes", {"joy"}}}, 1);
  EXPECT_NE(c.run(), MIEN_OK);
  EXPECT_NE(c.error().find("classes"), std::string::npos) << c.error();
}

TEST(SyntheticFaces, EveryIdentityInEveryClassAndPose) {
  Runner r({{"identities", 4}, {"size", 32}, {"repeats", 2}}, 9);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const auto t = r.table("table");
  std::map<std::tuple<std::string, int64_t, std::string>, int> count;
  const auto subj = t.get("subject").texts(), pose = t.get("pose").texts();
  const auto lab = t.get("label").codes();
  for (int64_t i = 0; i < t.num_rows(); ++i) ++count[{subj[i], lab[i], pose[i]}];
  EXPECT_EQ(count.size(), 4u * 7u * 3u);
  for (const auto& kv : count) EXPECT_EQ(kv.second, 2);
  // nuisance is drawn alike for every class: no class has its own brightness range
  std::set<std::string> subjects(subj.begin(), subj.end());
  EXPECT_EQ(subjects, (std::set<std::string>{"p000", "p001", "p002", "p003"}));
}

TEST(SyntheticFaces, LandmarksLieInsideTheImage) {
  for (int size : {64, 128}) {
    Options o;
    o.identities = 25;
    o.size = size;
    o.render = false;
    const Dataset d = generate(o, 21);
    for (const Sample& s : d.samples)
      for (const auto& p : s.landmarks) {
        ASSERT_GE(p.x, 0.0);
        ASSERT_GE(p.y, 0.0);
        ASSERT_LT(p.x, size);
        ASSERT_LT(p.y, size);
      }
  }
}

TEST(SyntheticFaces, GroundTruthMatchesTheActionUnits) {
  Options o;
  o.identities = 12;
  o.render = false;
  const Json gt = ground_truth(generate(o, 5));
  const Json& cls = gt["classes"];
  // neutral changes nothing
  EXPECT_TRUE(cls["neutral"]["features"].empty()) << cls["neutral"]["features"];
  EXPECT_TRUE(cls["neutral"]["moved_landmarks"].empty());
  EXPECT_EQ(cls["neutral"]["aus"], Json::array());
  // happy: the lip corners move and mouth-corner features change
  EXPECT_EQ(cls["happy"]["aus"], Json({6, 12}));
  EXPECT_TRUE(contains_int(cls["happy"]["moved_landmarks"], 48));
  EXPECT_TRUE(contains_int(cls["happy"]["moved_landmarks"], 54));
  const Json& hf = cls["happy"]["features"];
  int corner = 0;
  for (const char* f : {"upper_lip_angle_l", "upper_lip_angle_r", "mouth_corner_mouth_bottom_angle_l",
                        "mouth_corner_mouth_bottom_angle_r", "nose_tip_mouth_corner_angle_l",
                        "nose_tip_mouth_corner_angle_r", "lower_lip_angle_l", "lower_lip_angle_r", "mouth_width"})
    corner += contains(hf, f);
  EXPECT_GE(corner, 4) << hf;
  EXPECT_FALSE(contains(hf, "eye_middle_eyebrow_distance_l")) << hf;  // no brow AU in happy
  // surprise: brows up, eyes wide, mouth open
  const Json& sf = cls["surprise"]["features"];
  EXPECT_TRUE(contains(sf, "eye_middle_eyebrow_distance_l") || contains(sf, "eye_inner_eyebrow_distance_l")) << sf;
  EXPECT_TRUE(contains(sf, "eye_middle_eyebrow_distance_r") || contains(sf, "eye_inner_eyebrow_distance_r")) << sf;
  EXPECT_TRUE(contains(sf, "mouth_opening")) << sf;
  EXPECT_TRUE(contains_int(cls["surprise"]["moved_landmarks"], 57));
  EXPECT_TRUE(contains_int(cls["surprise"]["moved_landmarks"], 21));
  // per-pose lists exist for every pose, and the feature effects list all 40 features
  for (const char* p : {"S", "HL", "HR"}) EXPECT_TRUE(cls["surprise"]["features_by_pose"].contains(p));
  EXPECT_EQ(cls["fear"]["feature_effects"].size(), 40u);
}

TEST(SyntheticFaces, HalfLeftAndHalfRightAreMirrorLike) {
  Options o;
  o.identities = 12;
  o.render = false;
  const Dataset d = generate(o, 8);
  std::map<std::string, std::vector<double>> asym, jaw;
  for (const Sample& s : d.samples) {
    const auto& p = s.landmarks;
    const double iod = std::hypot(p[45].x - p[36].x, p[45].y - p[36].y);
    // nose tip relative to the middle of the outer eye corners
    asym[o.poses[s.pose]].push_back((p[30].x - (p[36].x + p[45].x) / 2) / iod);
    // visible width of the image-left half of the jaw minus the image-right half
    jaw[o.poses[s.pose]].push_back(((p[8].x - p[0].x) - (p[16].x - p[8].x)) / iod);
  }
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s / v.size();
  };
  EXPECT_LT(std::fabs(mean(asym["S"])), 0.03);
  EXPECT_LT(mean(asym["HL"]), -0.15);  // HL: the nose turns to the image left
  EXPECT_GT(mean(asym["HR"]), 0.15);
  EXPECT_NEAR(mean(asym["HL"]), -mean(asym["HR"]), 0.03);
  EXPECT_LT(std::fabs(mean(jaw["S"])), 0.05);
  EXPECT_LT(mean(jaw["HL"]), -0.2);  // the image-left half is foreshortened
  EXPECT_NEAR(mean(jaw["HL"]), -mean(jaw["HR"]), 0.05);
}

TEST(SyntheticFaces, MasksCoverTheActiveActionUnitsOnly) {
  Options o;
  o.identities = 2;
  o.size = 96;
  const Dataset d = generate(o, 4);
  const size_t px = 96 * 96;
  for (size_t i = 0; i < d.samples.size(); ++i) {
    const Sample& s = d.samples[i];
    const uint8_t* m = d.masks.data() + i * px;
    const size_t on = std::count(m, m + px, uint8_t{255});
    EXPECT_EQ(on + std::count(m, m + px, uint8_t{0}), px);
    const std::string name = class_defs()[s.cls].name;
    if (name == "neutral") {
      EXPECT_EQ(on, 0u);
      continue;
    }
    EXPECT_GT(on, px / 100) << name;
    EXPECT_LT(on, px / 2) << name;
    auto at = [&](int lm) {
      const int x = static_cast<int>(s.landmarks[lm].x), y = static_cast<int>(s.landmarks[lm].y);
      return m[y * 96 + x] == 255;
    };
    if (name == "happy") {
      EXPECT_TRUE(at(48) && at(54));
      EXPECT_FALSE(at(19) || at(24));  // brows untouched
    }
    if (name == "surprise") {
      EXPECT_TRUE(at(19) && at(24) && at(57) && at(37));
    }
    if (name == "disgust") {
      EXPECT_TRUE(at(29) && at(57));
    }
  }
}

// The labels live in the geometry, not in global image statistics: a nearest-centroid
// classifier on mean, variance and a 16-bin histogram is near chance on held-out
// identities, the same classifier on the 40 geometric features is far above it.
TEST(SyntheticFaces, GlobalImageStatisticsDoNotGiveTheLabelAway) {
  Options o;
  o.identities = 30;
  const Dataset d = generate(o, 2024);
  const size_t px = static_cast<size_t>(o.size) * o.size;
  std::vector<std::vector<double>> stats, geom;
  std::vector<int> y;
  std::vector<bool> train;
  for (size_t i = 0; i < d.samples.size(); ++i) {
    const uint8_t* im = d.images.data() + i * px;
    double s = 0, s2 = 0;
    std::vector<double> f(18, 0.0);
    for (size_t k = 0; k < px; ++k) {
      s += im[k];
      s2 += static_cast<double>(im[k]) * im[k];
      f[2 + im[k] / 16] += 1.0 / px;
    }
    f[0] = s / px;
    f[1] = s2 / px - f[0] * f[0];
    stats.push_back(f);
    geom.push_back(aligned_features(d.samples[i].landmarks));
    y.push_back(d.samples[i].cls);
    train.push_back(d.samples[i].identity < 20);  // held-out identities 20..29
  }
  const double chance = 1.0 / 7;
  const double acc_stats = nearest_centroid_accuracy(stats, y, train, 7);
  const double acc_geom = nearest_centroid_accuracy(geom, y, train, 7);
  EXPECT_LT(acc_stats, chance + 0.1) << "global statistics predict the label: " << acc_stats;
  EXPECT_GT(acc_geom, 0.6) << "geometric features: " << acc_geom;
  RecordProperty("accuracy_global_statistics", std::to_string(acc_stats));
  RecordProperty("accuracy_geometric_features", std::to_string(acc_geom));
}
