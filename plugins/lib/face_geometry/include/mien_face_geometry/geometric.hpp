// mien_face_geometry/geometric.hpp: the 40 geometric facial-expression features of ter Burg & Kaya
// (2022), computed from 68 iBUG landmarks. Header-only, standard library only, so data
// generators and tests can use it without the face plugin.
//
// Source of the definitions: ter Burg & Kaya 2022 (doi:10.3390/a15100367) ("Computation (ancestor)",
// i.e. lms_to_geo.m by F. Gürpınar, 2015, translated from 49 IntraFace points to iBUG-68
// with the §2.3 mapping: i68 = i49 + 17 for i49 in 0..42; inner lip 43→61, 44→62, 45→63,
// 46→65, 47→66, 48→67). The ancestor averages left and right; here every bilateral
// feature is split into an _l and an _r feature, as GeomExp does. "Left" (_l) means the
// image-left side (iBUG points 0–4, 17–21, 36–41, 48), as in GeomExp's lists: on a frontal,
// unmirrored photo that is the person's RIGHT side. The descriptions below, which the text
// explanations quote, therefore say "image-left"/"image-right", never a bare left/right.
//
// Units:
//  * angles ("angle_horizontal", "angle_vertical"): degrees in [0, 180], acos of the dot
//    product of the unit segment vector with the axis ([-1,0] for image-left features,
//    [1,0] for image-right ones, [0,1] for the vertical ones; image y points down).
//    Angles are NOT invariant to in-plane rotation: compute them on aligned landmarks
//    (eyes level, see alignment.hpp / align.eyes).
//  * curvatures: Menger curvature (4·area / product of the sides) × 1000, in 1/pixels of
//    the coordinates given: compute on aligned landmarks so the face scale is fixed.
//  * distances: divided by a face-size reference (N = mean nose-tip–inner-eyebrow
//    distance, or the eyebrow-midpoint–mouth-bottom distance), so scale invariant.
//  * ratios and the mouth opening: dimensionless.
//
// Degenerate input (a zero-length segment, coincident points, a zero denominator) never
// gives NaN or inf: the feature gets a defined value (0; mouth_up_low gets 5, the value
// the ancestor clips to) and a warning naming the feature is appended to *warnings.
// Non-finite input coordinates give all-zero features and one warning.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace mien::face {

struct GeometricFeature {
  std::string name;         // snake_case, e.g. "eye_aspect_ratio_l"
  std::string description;  // the text used in textual explanations (GeomExp feature_to_text)
  std::string kind;         // "distance" | "angle_horizontal" | "angle_vertical" | "ratio" |
                            // "curvature" | "opening"
  // iBUG-68 landmarks (0-based) that define the feature, in drawing order:
  //  * angle_*: [from, to]; the measured vector is to − from.
  //  * curvature: the three points of the Menger curvature, along the curve.
  //  * ratio: consecutive pairs; the first pair is the numerator segment, the following
  //    pairs the denominator segments (averaged when there are two).
  //  * opening: three inner-lip pairs (averaged) then the mouth-width pair.
  //  * distance: 2 points → the segment between them; 3 points → from the first point to
  //    the midpoint of the last two; 4 points → between the midpoints of the two pairs.
  //    (The face-size normaliser is not listed.)
  std::vector<int> landmarks;
};

namespace detail {

struct Flags {
  bool s, hl, hr;
};

struct FeatureRow {
  GeometricFeature f;
  Flags flags;
};

inline const std::vector<FeatureRow>& feature_rows() {
  // clang-format off
  static const std::vector<FeatureRow> rows = {
    // # 1-3
    {{"eye_aspect_ratio_l", "Image-left eye aspect ratio (ratio between eye width and eye height)", "ratio", {36, 39, 37, 40, 38, 41}}, {true, true, true}},
    {{"eye_aspect_ratio_r", "Image-right eye aspect ratio (ratio between eye width and eye height)", "ratio", {42, 45, 43, 46, 44, 47}}, {false, false, false}},
    {{"mouth_aspect_ratio", "Mouth aspect ratio (ratio between mouth width and mouth height)", "ratio", {48, 54, 51, 57}}, {true, true, true}},
    // # 4-9
    {{"upper_lip_angle_l", "Angle from image-left mouth corner to top of the mouth", "angle_horizontal", {51, 48}}, {true, true, true}},
    {{"upper_lip_angle_r", "Angle from image-right mouth corner to top of the mouth", "angle_horizontal", {51, 54}}, {false, true, false}},
    {{"nose_tip_mouth_corner_angle_l", "Angle from nose tip to image-left mouth corner", "angle_vertical", {33, 48}}, {true, true, true}},
    {{"nose_tip_mouth_corner_angle_r", "Angle from nose tip to image-right mouth corner", "angle_vertical", {33, 54}}, {true, true, false}},
    {{"lower_lip_angle_l", "Angle from image-left lower lip to image-left mouth corner", "angle_horizontal", {58, 48}}, {true, false, true}},
    {{"lower_lip_angle_r", "Angle from image-right lower lip to image-right mouth corner", "angle_horizontal", {56, 54}}, {true, true, true}},
    // # 10-15
    {{"eyebrow_slope_l", "Image-left eyebrow angle", "angle_horizontal", {21, 17}}, {true, false, true}},
    {{"eyebrow_slope_r", "Image-right eyebrow angle", "angle_horizontal", {22, 26}}, {false, false, true}},
    {{"lower_eye_outer_angle_l", "Image-left lower eye outer angle", "angle_horizontal", {36, 41}}, {true, false, true}},
    {{"lower_eye_inner_angle_l", "Image-left lower eye inner angle", "angle_horizontal", {40, 39}}, {true, false, true}},
    {{"lower_eye_outer_angle_r", "Image-right lower eye outer angle", "angle_horizontal", {45, 46}}, {true, true, true}},
    {{"lower_eye_inner_angle_r", "Image-right lower eye inner angle", "angle_horizontal", {47, 42}}, {false, false, true}},
    // # 16-19
    {{"mouth_corner_mouth_bottom_angle_l", "Angle from image-left mouth corner to mouth bottom", "angle_horizontal", {48, 57}}, {true, true, true}},
    {{"mouth_corner_mouth_bottom_angle_r", "Angle from image-right mouth corner to mouth bottom", "angle_horizontal", {54, 57}}, {true, false, true}},
    // Note (a) of ter Burg & Kaya 2022 (doi:10.3390/a15100367): GeomExp's plotting lists use [33, 40] / [35, 40] (49-pt),
    // but its text and the ancestor define the feature from the mouth corner to the second
    // upper-lip point; we follow the text and the ancestor: iBUG 48→50 and 54→52.
    {{"upper_mouth_angle_l", "Angle from image-left mouth corner to image-left upper mouth", "angle_horizontal", {48, 50}}, {true, true, true}},
    {{"upper_mouth_angle_r", "Angle from image-right mouth corner to image-right upper mouth", "angle_horizontal", {54, 52}}, {true, true, false}},
    // # 20-24
    {{"curvature_of_lower_outer_lips_l", "Curve of the image-left lower-outer lip", "curvature", {59, 58, 48}}, {false, false, true}},
    {{"curvature_of_lower_outer_lips_r", "Curve of the image-right lower-outer lip", "curvature", {55, 56, 54}}, {true, false, true}},
    {{"curvature_of_lower_inner_lips_l", "Curve of the image-left lower-inner lip", "curvature", {57, 58, 48}}, {true, false, true}},
    {{"curvature_of_lower_inner_lips_r", "Curve of the image-right lower-inner lip", "curvature", {57, 56, 54}}, {true, true, true}},
    {{"bottom_lip_curvature", "Curve of the bottom lip", "curvature", {48, 57, 54}}, {false, false, false}},
    // # 25-26
    {{"mouth_opening", "Opening of the mouth", "opening", {61, 67, 62, 66, 63, 65, 48, 54}}, {true, true, true}},
    {{"mouth_up_low", "Ratio between the lower mouth height and the upper mouth height", "ratio", {62, 57, 62, 51}}, {true, true, true}},
    // # 27-30
    {{"eye_middle_eyebrow_distance_l", "Distance between the centre of the image-left eye and the centre of the image-left eyebrow", "distance", {36, 39, 17, 21}}, {true, true, false}},
    {{"eye_middle_eyebrow_distance_r", "Distance between the centre of the image-right eye and the centre of the image-right eyebrow", "distance", {42, 45, 22, 26}}, {true, true, false}},
    {{"eye_inner_eyebrow_distance_l", "Distance between the centre of the image-left eye and the image-left inner eyebrow", "distance", {21, 36, 39}}, {true, true, true}},
    {{"eye_inner_eyebrow_distance_r", "Distance between the centre of the image-right eye and the image-right inner eyebrow", "distance", {22, 42, 45}}, {true, true, true}},
    // # 31-38
    {{"inner_eye_eyebrow_center_l", "Distance between the image-left inner eye and the centre of the image-left eyebrow", "distance", {39, 19}}, {true, true, true}},
    {{"inner_eye_eyebrow_center_r", "Distance between the image-right inner eye and the centre of the image-right eyebrow", "distance", {42, 24}}, {true, false, true}},
    {{"inner_eye_mouth_top_distance_l", "Distance between the image-left inner eye and the mouth top", "distance", {39, 51}}, {false, true, true}},
    {{"inner_eye_mouth_top_distance_r", "Distance between the image-right inner eye and the mouth top", "distance", {42, 51}}, {true, true, false}},
    {{"mouth_width", "Width of the mouth", "distance", {48, 54}}, {true, false, true}},
    {{"mouth_height", "Height of the mouth", "distance", {51, 57}}, {false, true, true}},
    {{"upper_mouth_height", "Distance from the mouth centre to the top of the mouth", "distance", {51, 62, 66}}, {false, true, false}},
    {{"lower_mouth_height", "Distance from the mouth centre to the bottom of the mouth", "distance", {57, 62, 66}}, {false, false, false}},
    // # 39-40 (new in the 40-feature set, not in the ancestor): an angle against the
    // horizontal like eyebrow_slope, from the eyebrow centre to its outer end.
    {{"outer_mid_eyebrow_slope_l", "Slope of the outer to centre part of the image-left eyebrow", "angle_horizontal", {19, 17}}, {true, true, true}},
    {{"outer_mid_eyebrow_slope_r", "Slope of the outer to centre part of the image-right eyebrow", "angle_horizontal", {24, 26}}, {true, true, true}},
  };
  // clang-format on
  return rows;
}

struct P {
  double x, y;
};
inline P pt(const double* xy, int i) { return {xy[2 * i], xy[2 * i + 1]}; }
inline P mid(P a, P b) { return {(a.x + b.x) / 2, (a.y + b.y) / 2}; }
inline double dist(P a, P b) { return std::hypot(a.x - b.x, a.y - b.y); }

struct Ctx {
  const double* xy;
  double tol;  // lengths at or below tol count as zero
  std::vector<std::string>* warnings;
  void warn(const std::string& name, const std::string& what) const {
    if (warnings) warnings->push_back(name + ": " + what);
  }
};

// Angle in degrees between unit(to − from) and the axis (ax, ay); 0 + warning if the
// segment has zero length.
inline double angle(const Ctx& c, const std::string& name, int from, int to, double ax,
                    double ay) {
  P a = pt(c.xy, from), b = pt(c.xy, to);
  double vx = b.x - a.x, vy = b.y - a.y, len = std::hypot(vx, vy);
  if (!(len > c.tol)) {
    c.warn(name, "landmarks " + std::to_string(from) + " and " + std::to_string(to) +
                     " coincide, the angle is undefined; value set to 0");
    return 0.0;
  }
  double d = (vx * ax + vy * ay) / len;
  d = std::max(-1.0, std::min(1.0, d));
  return std::acos(d) * (180.0 / 3.14159265358979323846);
}

// Menger curvature × 1000 of three points; 0 + warning when two of them coincide.
inline double curvature(const Ctx& c, const std::string& name, int i, int j, int k) {
  P a = pt(c.xy, i), b = pt(c.xy, j), d = pt(c.xy, k);
  double ab = dist(a, b), bd = dist(b, d), ad = dist(a, d);
  if (!(ab > c.tol && bd > c.tol && ad > c.tol)) {
    c.warn(name, "two of landmarks " + std::to_string(i) + ", " + std::to_string(j) + ", " +
                     std::to_string(k) + " coincide, the curvature is undefined; value set to 0");
    return 0.0;
  }
  double cross = (b.x - a.x) * (d.y - a.y) - (b.y - a.y) * (d.x - a.x);  // 2 × signed area
  return 1000.0 * 2.0 * std::fabs(cross) / (ab * bd * ad);
}

// num / den; `fallback` + warning when den is zero.
inline double ratio(const Ctx& c, const std::string& name, double num, double den,
                    const std::string& den_what, double fallback = 0.0) {
  if (!(den > c.tol)) {
    std::string v = std::to_string(fallback);
    v.erase(v.find_last_not_of('0') + 1);
    if (!v.empty() && v.back() == '.') v.pop_back();
    c.warn(name, den_what + " is zero; value set to " + v);
    return fallback;
  }
  return num / den;
}

}  // namespace detail

// The 40 features, in the paper's order (ter Burg & Kaya 2022, doi:10.3390/a15100367).
inline const std::vector<GeometricFeature>& geometric_features() {
  static const std::vector<GeometricFeature> features = [] {
    std::vector<GeometricFeature> out;
    for (const auto& r : detail::feature_rows()) out.push_back(r.f);
    return out;
  }();
  return features;
}

// Index of a feature name in geometric_features(), or -1.
inline int geometric_feature_index(const std::string& name) {
  const auto& f = geometric_features();
  for (std::size_t i = 0; i < f.size(); ++i)
    if (f[i].name == name) return static_cast<int>(i);
  return -1;
}

// Feature names of a per-pose subset: "all" (40), "S" (30), "HL" (25), "HR" (30), in the
// paper's order (GeomExp feature_set_S / _HL / _HR). Throws std::invalid_argument otherwise.
inline const std::vector<std::string>& feature_subset(const std::string& name) {
  static const std::map<std::string, std::vector<std::string>> subsets = [] {
    std::map<std::string, std::vector<std::string>> m;
    for (const auto& r : detail::feature_rows()) {
      m["all"].push_back(r.f.name);
      if (r.flags.s) m["S"].push_back(r.f.name);
      if (r.flags.hl) m["HL"].push_back(r.f.name);
      if (r.flags.hr) m["HR"].push_back(r.f.name);
    }
    return m;
  }();
  auto it = subsets.find(name);
  if (it == subsets.end())
    throw std::invalid_argument("unknown geometric feature subset '" + name +
                                "': expected one of all, S, HL, HR");
  return it->second;
}

// The 40 features of one face. xy68: 68 (x, y) pairs, interleaved x0,y0,x1,y1,...
// Never returns NaN or inf; degenerate features are reported in *warnings (one string per
// feature, starting with its name).
inline std::vector<double> compute_geometric_features(const double* xy68,
                                                      std::vector<std::string>* warnings = nullptr) {
  using namespace detail;
  std::vector<double> g(40, 0.0);
  double minx = 0, maxx = 0, miny = 0, maxy = 0;
  for (int i = 0; i < 68; ++i) {
    double x = xy68[2 * i], y = xy68[2 * i + 1];
    if (!std::isfinite(x) || !std::isfinite(y)) {
      if (warnings)
        warnings->push_back("all features: landmark " + std::to_string(i) +
                            " is not finite; every feature set to 0");
      return g;
    }
    if (i == 0 || x < minx) minx = x;
    if (i == 0 || x > maxx) maxx = x;
    if (i == 0 || y < miny) miny = y;
    if (i == 0 || y > maxy) maxy = y;
  }
  // Lengths below 1e-9 of the face's extent count as zero (scale-free threshold).
  const Ctx c{xy68, 1e-9 * std::max(maxx - minx, maxy - miny), warnings};
  auto L = [&](int i) { return pt(xy68, i); };
  auto d = [&](int i, int j) { return dist(L(i), L(j)); };
  const auto& f = geometric_features();
  auto nm = [&](int k) -> const std::string& { return f[static_cast<std::size_t>(k)].name; };

  // 1-2 eye aspect ratio: width / mean of two lid distances. The ancestor pairs the lid
  // points as (20,23) and (21,24) in 49-pt indexing = iBUG (37,40) and (38,41).
  g[0] = ratio(c, nm(0), d(36, 39), (d(37, 40) + d(38, 41)) / 2,
               "the image-left eye height (landmarks 37-40, 38-41)");
  g[1] = ratio(c, nm(1), d(42, 45), (d(43, 46) + d(44, 47)) / 2,
               "the image-right eye height (landmarks 43-46, 44-47)");
  // 3 mouth aspect ratio
  g[2] = ratio(c, nm(2), d(48, 54), d(51, 57), "the mouth height (landmarks 51-57)");
  // 4-9 lip and nose angles
  g[3] = angle(c, nm(3), 51, 48, -1, 0);
  g[4] = angle(c, nm(4), 51, 54, 1, 0);
  g[5] = angle(c, nm(5), 33, 48, 0, 1);
  g[6] = angle(c, nm(6), 33, 54, 0, 1);
  g[7] = angle(c, nm(7), 58, 48, -1, 0);
  g[8] = angle(c, nm(8), 56, 54, 1, 0);
  // 10-11 eyebrow slopes (outer − inner)
  g[9] = angle(c, nm(9), 21, 17, -1, 0);
  g[10] = angle(c, nm(10), 22, 26, 1, 0);
  // 12-15 lower eye angles
  g[11] = angle(c, nm(11), 36, 41, 1, 0);
  g[12] = angle(c, nm(12), 40, 39, 1, 0);
  g[13] = angle(c, nm(13), 45, 46, -1, 0);
  g[14] = angle(c, nm(14), 47, 42, -1, 0);
  // 16-17 mouth corner → mouth bottom
  g[15] = angle(c, nm(15), 48, 57, 1, 0);
  g[16] = angle(c, nm(16), 54, 57, -1, 0);
  // 18-19 mouth corner → second upper-lip point (note (a): text/ancestor definition)
  g[17] = angle(c, nm(17), 48, 50, 1, 0);
  g[18] = angle(c, nm(18), 54, 52, -1, 0);
  // 20-24 Menger curvatures × 1000
  g[19] = curvature(c, nm(19), 59, 58, 48);
  g[20] = curvature(c, nm(20), 55, 56, 54);
  g[21] = curvature(c, nm(21), 57, 58, 48);
  g[22] = curvature(c, nm(22), 57, 56, 54);
  g[23] = curvature(c, nm(23), 57, 54, 48);
  // 25 mouth opening / mouth width
  g[24] = ratio(c, nm(24), (d(67, 61) + d(66, 62) + d(63, 65)) / 3, d(48, 54),
                "the mouth width (landmarks 48-54)");
  // 26 lower / upper mouth height; the ancestor clips values above 25 (and the infinite
  // value of a zero upper height) to 5.
  {
    double num = d(62, 57), den = d(62, 51);
    if (!(den > c.tol)) {
      g[25] = ratio(c, nm(25), num, den, "the upper mouth height (landmarks 62-51)",
                    num > c.tol ? 5.0 : 0.0);
    } else {
      g[25] = num / den;
      if (g[25] > 25) g[25] = 5.0;
    }
  }
  // 27-30 eye–eyebrow distances / eyebrow-midpoint–mouth-bottom distance (per side; the
  // ancestor averages the two sides' denominators, see note (b)).
  {
    P brow_l = mid(L(17), L(21)), brow_r = mid(L(22), L(26));
    P eye_l = mid(L(36), L(39)), eye_r = mid(L(42), L(45));
    double den_l = dist(brow_l, L(57)), den_r = dist(brow_r, L(57));
    const std::string wl = "the image-left eyebrow-centre to mouth-bottom distance (17,21 - 57)";
    const std::string wr = "the image-right eyebrow-centre to mouth-bottom distance (22,26 - 57)";
    g[26] = ratio(c, nm(26), dist(brow_l, eye_l), den_l, wl);
    g[27] = ratio(c, nm(27), dist(brow_r, eye_r), den_r, wr);
    g[28] = ratio(c, nm(28), dist(L(21), eye_l), den_l, wl);
    g[29] = ratio(c, nm(29), dist(L(22), eye_r), den_r, wr);
  }
  // 31-38 distances / N, N = mean nose-tip–inner-eyebrow distance (Saeed et al. 2012).
  {
    const double n = (d(30, 21) + d(30, 22)) / 2;
    const std::string wn = "the nose-tip to inner-eyebrow distance N (30-21, 30-22)";
    P mouth_centre = mid(L(62), L(66));
    g[30] = ratio(c, nm(30), d(39, 19), n, wn);
    g[31] = ratio(c, nm(31), d(42, 24), n, wn);
    g[32] = ratio(c, nm(32), d(39, 51), n, wn);
    g[33] = ratio(c, nm(33), d(42, 51), n, wn);
    g[34] = ratio(c, nm(34), d(48, 54), n, wn);
    g[35] = ratio(c, nm(35), d(51, 57), n, wn);
    g[36] = ratio(c, nm(36), dist(mouth_centre, L(51)), n, wn);
    g[37] = ratio(c, nm(37), dist(mouth_centre, L(57)), n, wn);
  }
  // 39-40 outer-to-centre eyebrow slopes
  g[38] = angle(c, nm(38), 19, 17, -1, 0);
  g[39] = angle(c, nm(39), 24, 26, 1, 0);

  for (auto& v : g)
    if (!std::isfinite(v)) v = 0.0;  // belt and braces: never NaN/inf
  return g;
}

inline std::vector<double> compute_geometric_features(const std::vector<double>& xy68,
                                                      std::vector<std::string>* warnings = nullptr) {
  if (xy68.size() != 136)
    throw std::invalid_argument("compute_geometric_features: expected 136 values (68 x,y pairs), got " +
                                std::to_string(xy68.size()));
  return compute_geometric_features(xy68.data(), warnings);
}

}  // namespace mien::face
