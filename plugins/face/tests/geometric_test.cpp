// The header-only geometric features and alignment math (no images).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <regex>
#include <set>

#include "face_fixture.hpp"
#include "mien_face_geometry/alignment.hpp"
#include "mien_face_geometry/geometric.hpp"

using namespace mien::face;

namespace {

const double kPi = 3.14159265358979323846;
double deg(double rad) { return rad * 180.0 / kPi; }

double value(const std::vector<double>& g, const std::string& name) {
  const int k = geometric_feature_index(name);
  EXPECT_GE(k, 0) << name;
  return k >= 0 ? g[static_cast<size_t>(k)] : NAN;
}

std::vector<double> aligned(const std::vector<double>& p) {
  std::vector<double> out = p;
  const auto t = eye_alignment(out.data(), AlignParams{});
  EXPECT_TRUE(t.has_value());
  transform_landmarks(*t, out.data());
  return out;
}

bool has_warning(const std::vector<std::string>& w, const std::string& feature) {
  return std::any_of(w.begin(), w.end(), [&](const std::string& s) { return s.rfind(feature + ":", 0) == 0; });
}

}  // namespace

TEST(GeometricFeatures, FortyUniqueSnakeCaseNamesWithDescriptionsKindsAndLandmarks) {
  const auto& f = geometric_features();
  ASSERT_EQ(f.size(), 40u);
  std::set<std::string> names;
  const std::regex snake("[a-z][a-z0-9]*(_[a-z0-9]+)*");
  const std::set<std::string> kinds = {"distance", "angle_horizontal", "angle_vertical", "ratio", "curvature", "opening"};
  for (const auto& x : f) {
    EXPECT_TRUE(names.insert(x.name).second) << "duplicate " << x.name;
    EXPECT_TRUE(std::regex_match(x.name, snake)) << x.name;
    EXPECT_FALSE(x.description.empty()) << x.name;
    EXPECT_TRUE(kinds.count(x.kind)) << x.name << " kind " << x.kind;
    EXPECT_GE(x.landmarks.size(), 2u) << x.name;
    for (int l : x.landmarks) {
      EXPECT_GE(l, 0);
      EXPECT_LT(l, 68);
    }
    // iBUG 60 and 64 (inner mouth corners) are absent from the 49-point scheme.
    EXPECT_EQ(std::count(x.landmarks.begin(), x.landmarks.end(), 60), 0) << x.name;
    EXPECT_EQ(std::count(x.landmarks.begin(), x.landmarks.end(), 64), 0) << x.name;
    if (x.kind.rfind("angle", 0) == 0) {
      EXPECT_EQ(x.landmarks.size(), 2u) << x.name;
    }
    if (x.kind == "curvature") {
      EXPECT_EQ(x.landmarks.size(), 3u) << x.name;
    }
  }
  // The paper's order: first, last and a few in between.
  EXPECT_EQ(f[0].name, "eye_aspect_ratio_l");
  EXPECT_EQ(f[2].name, "mouth_aspect_ratio");
  EXPECT_EQ(f[3].name, "upper_lip_angle_l");
  EXPECT_EQ(f[24].name, "mouth_opening");
  EXPECT_EQ(f[25].name, "mouth_up_low");
  EXPECT_EQ(f[39].name, "outer_mid_eyebrow_slope_r");
  EXPECT_EQ(f[0].description, "Image-left eye aspect ratio (ratio between eye width and eye height)");
  EXPECT_EQ(f[5].description, "Angle from nose tip to image-left mouth corner");
  EXPECT_EQ(f[6].description, "Angle from nose tip to image-right mouth corner");
  // Note (a): the text/ancestor definition, corner to the second upper-lip point.
  EXPECT_EQ(f[17].landmarks, (std::vector<int>{48, 50}));
  EXPECT_EQ(f[18].landmarks, (std::vector<int>{54, 52}));
  EXPECT_EQ(geometric_feature_index("no_such_feature"), -1);
}

TEST(GeometricFeatures, SubsetsMatchThePapersFlags) {
  EXPECT_EQ(feature_subset("all").size(), 40u);
  ASSERT_EQ(feature_subset("S").size(), 30u);
  ASSERT_EQ(feature_subset("HL").size(), 25u);
  ASSERT_EQ(feature_subset("HR").size(), 30u);
  // Transcribed independently from ter Burg & Kaya 2022 (doi:10.3390/a15100367) (1-based feature numbers).
  auto numbers = [](const std::string& subset) {
    std::vector<int> out;
    for (const auto& n : feature_subset(subset)) out.push_back(geometric_feature_index(n) + 1);
    return out;
  };
  EXPECT_EQ(numbers("S"), (std::vector<int>{1, 3, 4, 6, 7, 8, 9, 10, 12, 13, 14, 16, 17, 18, 19, 21, 22, 23, 25, 26,
                                            27, 28, 29, 30, 31, 32, 34, 35, 39, 40}));
  EXPECT_EQ(numbers("HL"), (std::vector<int>{1, 3, 4, 5, 6, 7, 9, 14, 16, 18, 19, 23, 25, 26, 27, 28, 29, 30, 31, 33,
                                             34, 36, 37, 39, 40}));
  EXPECT_EQ(numbers("HR"), (std::vector<int>{1, 3, 4, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 21, 22, 23,
                                             25, 26, 29, 30, 31, 32, 33, 35, 36, 39, 40}));
  // 16 features in all three; three never selected.
  std::set<std::string> s(feature_subset("S").begin(), feature_subset("S").end());
  std::set<std::string> hl(feature_subset("HL").begin(), feature_subset("HL").end());
  std::set<std::string> hr(feature_subset("HR").begin(), feature_subset("HR").end());
  int in_all = 0;
  std::set<std::string> never;
  for (const auto& f : geometric_features()) {
    const int c = static_cast<int>(s.count(f.name) + hl.count(f.name) + hr.count(f.name));
    in_all += c == 3;
    if (c == 0) never.insert(f.name);
  }
  EXPECT_EQ(in_all, 16);
  EXPECT_EQ(never, (std::set<std::string>{"eye_aspect_ratio_r", "bottom_lip_curvature", "lower_mouth_height"}));
  EXPECT_THROW(feature_subset("FL"), std::invalid_argument);
}

TEST(GeometricFeatures, HandComputedValuesOnAHandMadeFace) {
  const std::vector<double> p = face_test::template_face();
  std::vector<std::string> w;
  const std::vector<double> g = compute_geometric_features(p, &w);
  EXPECT_TRUE(w.empty()) << w.front();
  const double N = 37.0;  // |30-21| = |(60,75)-(48,40)| = 37
  EXPECT_NEAR(value(g, "eye_aspect_ratio_l"), 15.0 / std::sqrt(89.0), 1e-12);
  EXPECT_NEAR(value(g, "mouth_aspect_ratio"), 40.0 / 20.0, 1e-12);
  EXPECT_NEAR(value(g, "upper_lip_angle_l"), deg(std::atan2(8.0, 20.0)), 1e-9);
  EXPECT_NEAR(value(g, "nose_tip_mouth_corner_angle_l"), 45.0, 1e-9);
  EXPECT_NEAR(value(g, "lower_lip_angle_l"), deg(std::atan2(10.0, 13.0)), 1e-9);
  EXPECT_NEAR(value(g, "eyebrow_slope_l"), deg(std::atan2(2.0, 23.0)), 1e-9);
  EXPECT_NEAR(value(g, "lower_eye_outer_angle_l"), deg(std::atan2(4.0, 5.0)), 1e-9);
  EXPECT_NEAR(value(g, "lower_eye_inner_angle_l"), deg(std::atan2(4.0, 5.0)), 1e-9);
  EXPECT_NEAR(value(g, "mouth_corner_mouth_bottom_angle_l"), deg(std::atan2(12.0, 20.0)), 1e-9);
  EXPECT_NEAR(value(g, "upper_mouth_angle_l"), deg(std::atan2(7.0, 13.0)), 1e-9);
  EXPECT_NEAR(value(g, "outer_mid_eyebrow_slope_l"), deg(std::atan2(7.0, 12.0)), 1e-9);
  // Menger curvature of (59, 58, 48) = (47,106), (53,110), (40,100): 4 * area / product of sides.
  EXPECT_NEAR(value(g, "curvature_of_lower_outer_lips_l"), 1000.0 * 4.0 * 4.0 / std::sqrt(52.0 * 269.0 * 85.0), 1e-9);
  // (57, 54, 48): base 40, height 12, sides sqrt(544).
  EXPECT_NEAR(value(g, "bottom_lip_curvature"), 1000.0 * 4.0 * 240.0 / (40.0 * 544.0), 1e-9);
  EXPECT_NEAR(value(g, "mouth_opening"), (4.0 + 6.0 + 4.0) / 3.0 / 40.0, 1e-12);
  EXPECT_NEAR(value(g, "mouth_up_low"), 14.0 / 6.0, 1e-12);
  EXPECT_NEAR(value(g, "eye_middle_eyebrow_distance_l"), std::sqrt(82.0) / std::sqrt(23.5 * 23.5 + 71.0 * 71.0), 1e-12);
  EXPECT_NEAR(value(g, "eye_inner_eyebrow_distance_l"),
              std::hypot(48 - 37.5, 40 - 50.0) / std::sqrt(23.5 * 23.5 + 71.0 * 71.0), 1e-12);
  EXPECT_NEAR(value(g, "inner_eye_eyebrow_center_l"), 17.0 / N, 1e-12);
  EXPECT_NEAR(value(g, "inner_eye_mouth_top_distance_l"), std::hypot(15.0, 42.0) / N, 1e-12);
  EXPECT_NEAR(value(g, "mouth_width"), 40.0 / N, 1e-12);
  EXPECT_NEAR(value(g, "mouth_height"), 20.0 / N, 1e-12);
  EXPECT_NEAR(value(g, "upper_mouth_height"), 9.0 / N, 1e-12);
  EXPECT_NEAR(value(g, "lower_mouth_height"), 11.0 / N, 1e-12);
}

TEST(GeometricFeatures, LeftAndRightAgreeOnASymmetricFace) {
  const std::vector<double> g = compute_geometric_features(face_test::template_face());
  int pairs = 0;
  for (const auto& f : geometric_features()) {
    if (f.name.size() < 2 || f.name.compare(f.name.size() - 2, 2, "_l") != 0) continue;
    const std::string right = f.name.substr(0, f.name.size() - 2) + "_r";
    ASSERT_GE(geometric_feature_index(right), 0) << right;
    EXPECT_NEAR(value(g, f.name), value(g, right), 1e-9) << f.name;
    ++pairs;
  }
  EXPECT_EQ(pairs, 16);  // 15 split ancestor pairs + outer_mid_eyebrow_slope
}

TEST(GeometricFeatures, InvariantToTranslationScaleAndRotationAfterAlignment) {
  // An asymmetric face, so that mistakes in mirrored features cannot cancel out.
  face_test::Rng rng(20220101);
  std::vector<double> base = face_test::template_face();
  for (double& v : base) v += rng.between(-1.5, 1.5);
  const std::vector<double> ref = compute_geometric_features(aligned(base));
  const auto& f = geometric_features();
  for (int trial = 0; trial < 50; ++trial) {
    const double theta = rng.between(-40, 40), scale = rng.between(0.25, 6.0);
    const std::vector<double> moved =
        face_test::similarity(base, theta, scale, rng.between(-800, 800), rng.between(-800, 800));
    std::vector<std::string> w;
    const std::vector<double> g = compute_geometric_features(aligned(moved), &w);
    EXPECT_TRUE(w.empty());
    for (size_t k = 0; k < 40; ++k) {
      if (f[k].kind.rfind("angle", 0) == 0) {
        EXPECT_NEAR(g[k], ref[k], 1e-6) << f[k].name << " trial " << trial;
      } else {
        EXPECT_NEAR(g[k], ref[k], 1e-9 * std::max(1.0, std::fabs(ref[k]))) << f[k].name << " trial " << trial;
      }
    }
  }
}

TEST(GeometricFeatures, DistancesAndRatiosAreScaleInvariantWithoutAlignmentButAnglesNeedIt) {
  const std::vector<double> base = face_test::template_face();
  const std::vector<double> ref = compute_geometric_features(base);
  const std::vector<double> scaled = compute_geometric_features(face_test::similarity(base, 0, 3.7, 11, -5));
  const std::vector<double> rotated = compute_geometric_features(face_test::similarity(base, 20, 1.0, 0, 0));
  const auto& f = geometric_features();
  for (size_t k = 0; k < 40; ++k) {
    if (f[k].kind == "curvature") {
      EXPECT_NEAR(scaled[k] * 3.7, ref[k], 1e-9 * std::max(1.0, ref[k])) << f[k].name;  // 1/length
    } else {
      EXPECT_NEAR(scaled[k], ref[k], 1e-9 * std::max(1.0, std::fabs(ref[k]))) << f[k].name;
    }
  }
  // In-plane rotation without alignment moves the angles: the test above has teeth.
  EXPECT_GT(std::fabs(value(rotated, "eyebrow_slope_l") - value(ref, "eyebrow_slope_l")), 5.0);
  EXPECT_NEAR(value(rotated, "mouth_aspect_ratio"), value(ref, "mouth_aspect_ratio"), 1e-9);
}

TEST(GeometricFeatures, AllPointsCoincidentGivesZerosAndAWarningPerFeature) {
  std::vector<double> p(136);
  for (size_t k = 0; k < 136; k += 2) {
    p[k] = 12.5;
    p[k + 1] = -3.0;
  }
  std::vector<std::string> w;
  const std::vector<double> g = compute_geometric_features(p, &w);
  ASSERT_EQ(g.size(), 40u);
  for (size_t k = 0; k < 40; ++k) {
    EXPECT_TRUE(std::isfinite(g[k]));
    EXPECT_EQ(g[k], 0.0) << geometric_features()[k].name;
    EXPECT_TRUE(has_warning(w, geometric_features()[k].name)) << geometric_features()[k].name;
  }
}

TEST(GeometricFeatures, ClosedFlatMouthIsFiniteAndWarned) {
  std::vector<double> p = face_test::template_face();
  // Every lip point on the line y = 100; the top, bottom and inner centre points coincide.
  for (int k = 48; k < 68; ++k) p[2 * k + 1] = 100;
  for (int k : {51, 57, 62, 66}) p[2 * k] = 60;
  std::vector<std::string> w;
  const std::vector<double> g = compute_geometric_features(p, &w);
  for (double v : g) EXPECT_TRUE(std::isfinite(v));
  EXPECT_TRUE(has_warning(w, "mouth_aspect_ratio"));
  EXPECT_TRUE(has_warning(w, "mouth_up_low"));
  EXPECT_EQ(value(g, "mouth_aspect_ratio"), 0.0);
  EXPECT_EQ(value(g, "mouth_up_low"), 0.0);
  EXPECT_EQ(value(g, "mouth_opening"), 0.0);
  EXPECT_EQ(value(g, "bottom_lip_curvature"), 0.0);  // collinear: a defined zero, no warning needed
  EXPECT_FALSE(has_warning(w, "eye_aspect_ratio_l"));
  EXPECT_FALSE(has_warning(w, "mouth_width"));
}

TEST(GeometricFeatures, MouthUpLowIsClippedLikeTheAncestor) {
  std::vector<double> p = face_test::template_face();
  // Upper mouth height 0.25 px, lower 14 px: ratio 56 > 25 -> 5.
  p[2 * 62 + 1] = p[2 * 51 + 1] + 0.25;
  EXPECT_DOUBLE_EQ(value(compute_geometric_features(p), "mouth_up_low"), 5.0);
  // Zero upper height with a lower height: the ancestor's infinity, clipped to 5, warned.
  p[2 * 62 + 1] = p[2 * 51 + 1];
  std::vector<std::string> w;
  EXPECT_DOUBLE_EQ(value(compute_geometric_features(p, &w), "mouth_up_low"), 5.0);
  EXPECT_TRUE(has_warning(w, "mouth_up_low"));
}

TEST(GeometricFeatures, NonFiniteInputGivesZerosAndAWarning) {
  std::vector<double> p = face_test::template_face();
  p[2 * 30] = NAN;
  std::vector<std::string> w;
  const std::vector<double> g = compute_geometric_features(p, &w);
  for (double v : g) EXPECT_EQ(v, 0.0);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("landmark 30"), std::string::npos);
  EXPECT_THROW(compute_geometric_features(std::vector<double>(10)), std::invalid_argument);
}

TEST(Alignment, EyesLevelAtTheRequestedPlaceAndTheInverseRoundTrips) {
  face_test::Rng rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    const std::vector<double> p = face_test::similarity(face_test::template_face(), rng.between(-60, 60),
                                                        rng.between(0.5, 4), rng.between(-100, 300),
                                                        rng.between(-100, 300));
    const AlignParams params{160, 0.3, 0.4};
    const auto t = eye_alignment(p.data(), params);
    ASSERT_TRUE(t.has_value());
    std::vector<double> q = p;
    transform_landmarks(*t, q.data());
    double l[2], r[2];
    eye_centres(q.data(), l, r);
    EXPECT_NEAR(l[1], r[1], 1e-9);
    EXPECT_NEAR(r[0] - l[0], 0.3 * 160, 1e-9);
    EXPECT_NEAR((l[0] + r[0]) / 2, 80.0, 1e-9);
    EXPECT_NEAR(l[1], 0.4 * 160, 1e-9);
    const auto inv = invert_affine(*t);
    ASSERT_TRUE(inv.has_value());
    transform_landmarks(*inv, q.data());
    for (size_t k = 0; k < 136; ++k) EXPECT_NEAR(q[k], p[k], 1e-9);
  }
  std::vector<double> flat(136, 1.0);
  EXPECT_FALSE(eye_alignment(flat.data(), AlignParams{}).has_value());
}
