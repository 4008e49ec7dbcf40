// Renders a plausible grayscale face from the projected 3D landmarks.
//
// Layers (all size × size):
//   albedo  (8-bit): hair silhouette, neck, skin, eyes, brows, nostrils, lips, mouth
//                    interior and teeth, drawn with anti-aliased OpenCV primitives;
//   head    (8-bit): coverage of the head and neck (anti-aliased), 0 = background;
//   soft    (8-bit, 128 = no change): shading details (nose sides, under-nose shadow,
//                    eye sockets, nasolabial folds, lip shadows) and the AU wrinkles
//                    (forehead lines for AU1/AU2, glabella furrows for AU4, nose-root
//                    wrinkles for AU9, crow's feet and lower-lid bulge for AU6, deeper
//                    nasolabial folds for AU12/AU9), blurred once.
// Composition: head pixels = albedo × soft/128 × Lambertian shading of a head ellipsoid
// under the sample's light; background = level + smooth random texture; then blur,
// contrast, brightness and pixel noise. Everything photometric is label-independent.
#include "render.hpp"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "rng.hpp"

namespace mien::faces_synth {

namespace {

constexpr int kShift = 4;  // sub-pixel bits for OpenCV drawing
constexpr double kSub = 16.0;
constexpr double kPi = 3.14159265358979323846;

cv::Point fix(const Vec2& p) {
  return {static_cast<int>(std::lround(p.x * kSub)), static_cast<int>(std::lround(p.y * kSub))};
}

Vec3 add(const Vec3& a, double dx, double dy, double dz) { return {a.x + dx, a.y + dy, a.z + dz}; }
Vec3 lerp(const Vec3& a, const Vec3& b, double t) {
  return {a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t, a.z + (b.z - a.z) * t};
}

struct Canvas {
  const Camera& cam;
  const Shape3& s;
  Shape2 p;  // projected landmarks
  int size;
  double k;  // pixels per face unit

  Vec2 pr(const Vec3& v) const { return project(cam, v); }
  std::vector<cv::Point> pts(std::initializer_list<int> idx) const {
    std::vector<cv::Point> out;
    for (int i : idx) out.push_back(fix(p[i]));
    return out;
  }
  std::vector<cv::Point> pts3(const std::vector<Vec3>& v) const {
    std::vector<cv::Point> out;
    for (const auto& q : v) out.push_back(fix(pr(q)));
    return out;
  }
  int px(double units) const { return std::max(1, static_cast<int>(std::lround(units * k))); }
};

void fill(cv::Mat& m, const std::vector<cv::Point>& poly, double value) {
  const cv::Point* ptr = poly.data();
  const int n = static_cast<int>(poly.size());
  cv::fillPoly(m, &ptr, &n, 1, cv::Scalar(value), cv::LINE_AA, kShift);
}

void line(cv::Mat& m, const std::vector<cv::Point>& poly, double value, int thickness, bool closed = false) {
  const cv::Point* ptr = poly.data();
  const int n = static_cast<int>(poly.size());
  cv::polylines(m, &ptr, &n, 1, closed, cv::Scalar(value), thickness, cv::LINE_AA, kShift);
}

// Draws `draw` into a copy of the bounding box of `clip`, then blends it back inside the
// anti-aliased polygon `clip` (used for the iris inside the eye, teeth inside the mouth).
template <typename F>
void clipped(cv::Mat& img, const std::vector<cv::Point>& clip, F draw) {
  cv::Rect box = cv::boundingRect(clip);  // in sub-pixel units
  box = cv::Rect(box.x / 16 - 2, box.y / 16 - 2, box.width / 16 + 5, box.height / 16 + 5) &
        cv::Rect(0, 0, img.cols, img.rows);
  if (box.width <= 0 || box.height <= 0) return;
  cv::Mat roi = img(box);
  cv::Mat layer = roi.clone();
  cv::Mat mask = cv::Mat::zeros(box.size(), CV_8U);
  std::vector<cv::Point> local;
  const cv::Point off(box.x * 16, box.y * 16);
  for (const auto& q : clip) local.push_back(q - off);
  fill(mask, local, 255);
  draw(layer, off);
  for (int y = 0; y < roi.rows; ++y) {
    uint8_t* r = roi.ptr<uint8_t>(y);
    const uint8_t* l = layer.ptr<uint8_t>(y);
    const uint8_t* m = mask.ptr<uint8_t>(y);
    for (int x = 0; x < roi.cols; ++x) r[x] = static_cast<uint8_t>((r[x] * (255 - m[x]) + l[x] * m[x] + 127) / 255);
  }
}

}  // namespace

void render_face(const Identity& id, const Shape3& s, const double* au, const Camera& cam, const Nuisance& nz,
                 int size, uint8_t* out) {
  Canvas c{cam, s, project(cam, s), size, cam.scale};
  cv::Mat albedo(size, size, CV_8U, cv::Scalar(0));
  cv::Mat head(size, size, CV_8U, cv::Scalar(0));
  cv::Mat soft(size, size, CV_8U, cv::Scalar(128));
  auto A = [&](int slot) { return au ? au[slot] : 0.0; };
  const double au1 = A(0), au2 = A(1), au4 = A(2), au6 = A(4), au9 = A(6), au12 = A(7);
  const double w = id.width, h = id.height;

  // --- hair / skull silhouette: convex hull of a projected ellipsoid
  {
    std::vector<cv::Point> cloud;
    const Vec3 centre{0, -0.35 * h, -0.55};
    const double ax = 1.0 * id.head_w * w, ay = 1.05 * id.head_h * h, az = 1.1;
    for (int i = 0; i < 9; ++i) {
      const double th = kPi * i / 8.0;  // polar angle from the top
      for (int j = 0; j < 12; ++j) {
        const double ph = 2 * kPi * j / 12.0;
        Vec3 q{centre.x + ax * std::sin(th) * std::cos(ph), centre.y - ay * std::cos(th),
               centre.z + az * std::sin(th) * std::sin(ph)};
        if (q.y > 0.35 * h) q.y = 0.35 * h;  // no hair below the ears
        cloud.push_back(fix(c.pr(q)));
      }
    }
    std::vector<cv::Point> hull;
    cv::convexHull(cloud, hull);
    fill(albedo, hull, id.hair);
    fill(head, hull, 255);
  }
  // --- shoulders and neck
  {
    std::vector<Vec3> torso = {{-0.75 * w, 1.75 * h, -0.6}, {0.75 * w, 1.75 * h, -0.6}, {1.9 * w, 2.2 * h, -0.7},
                               {2.3 * w, 3.2 * h, -0.7},    {-2.3 * w, 3.2 * h, -0.7},  {-1.9 * w, 2.2 * h, -0.7}};
    auto poly = c.pts3(torso);
    fill(albedo, poly, id.neck * 0.9);
    fill(head, poly, 255);
    std::vector<Vec3> neck = {{-0.6 * w, 0.45 * h, -0.45}, {0.6 * w, 0.45 * h, -0.45}, {0.72 * w, 1.95 * h, -0.5},
                              {-0.72 * w, 1.95 * h, -0.5}};
    poly = c.pts3(neck);
    fill(albedo, poly, id.neck);
    fill(head, poly, 255);
  }
  // --- face skin: jaw line plus the forehead up to the hairline
  const double hl = id.hairline;
  std::vector<Vec3> forehead = {
      add(s[16], 0.01, -0.22 * h, 0.03), {0.93 * w, -0.62 * h, -0.42}, {0.76 * w, hl + 0.14 * h, -0.30},
      {0.42 * w, hl + 0.03 * h, -0.12},  {0.0, hl, -0.06},             {-0.42 * w, hl + 0.03 * h, -0.12},
      {-0.76 * w, hl + 0.14 * h, -0.30}, {-0.93 * w, -0.62 * h, -0.42}, add(s[0], -0.01, -0.22 * h, 0.03)};
  {
    std::vector<cv::Point> poly = c.pts({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
    for (auto& q : c.pts3(forehead)) poly.push_back(q);
    fill(albedo, poly, id.skin);
    fill(head, poly, 255);
  }

  // --- soft shading layer
  const double lx = std::cos(nz.light_azimuth * kPi / 180.0);
  const double shadow_side = lx >= 0 ? -1.0 : 1.0;  // the nose casts its shadow away from the light
  {
    // nose sides: a darker band along the shadow side of the bridge, a lighter one opposite
    std::vector<Vec3> side_dark, side_light;
    for (int i = 27; i <= 30; ++i) {
      const double t = (i - 27) / 3.0;
      side_dark.push_back(add(s[i], shadow_side * (0.06 + 0.04 * t), 0.0, -0.05));
      side_light.push_back(add(s[i], -shadow_side * (0.05 + 0.03 * t), 0.0, -0.05));
    }
    side_dark.push_back(add(s[shadow_side < 0 ? 31 : 35], 0.0, -0.04, 0.0));
    line(soft, c.pts3(side_dark), 92, c.px(0.07));
    line(soft, c.pts3(side_light), 140, c.px(0.04));
    // nose tip highlight and the shadow under the nose
    cv::circle(soft, fix(c.pr(add(s[30], 0, 0.02, 0))), c.px(0.05) * 16, cv::Scalar(150), -1, cv::LINE_AA, kShift);
    line(soft, c.pts3({add(s[31], 0.02, 0.04, 0), add(s[32], 0, 0.04, 0), add(s[33], 0, 0.05, 0),
                       add(s[34], 0, 0.04, 0), add(s[35], -0.02, 0.04, 0)}),
         88, c.px(0.05));
    // eye sockets (a shadow above the upper lid) and the lower-lid bulge (AU6 deepens it)
    for (int e : {36, 42}) {
      const int o = (e == 36) ? 36 : 45, i0 = (e == 36) ? 39 : 42;
      const int u1 = (e == 36) ? 37 : 44, u2 = (e == 36) ? 38 : 43, l1 = (e == 36) ? 41 : 46, l2 = (e == 36) ? 40 : 47;
      line(soft, c.pts3({add(s[o], 0, -0.03, 0), add(s[u1], 0, -0.06, 0), add(s[u2], 0, -0.06, 0),
                         add(s[i0], 0, -0.04, 0)}),
           100, c.px(0.045));
      line(soft, c.pts3({add(s[o], 0, 0.05, 0), add(s[l1], 0, 0.055, 0), add(s[l2], 0, 0.055, 0)}),
           128 * (1 - 0.06 - 0.22 * au6), c.px(0.025));
      // crow's feet (AU6)
      if (au6 > 0) {
        const double sx = (e == 36) ? -1.0 : 1.0;
        for (int k = -1; k <= 1; ++k)
          line(soft, c.pts3({add(s[o], sx * 0.05, 0.03 * k, 0), add(s[o], sx * 0.15, 0.07 * k, -0.03)}),
               128 * (1 - 0.3 * au6), 1);
      }
    }
    // nasolabial folds: from the nose wing to beyond the mouth corner
    for (int side : {-1, 1}) {
      const int wing = side < 0 ? 31 : 35, corner = side < 0 ? 48 : 54;
      const Vec3 a = add(s[wing], side * 0.05, -0.01, -0.02);
      const Vec3 b = add(s[corner], side * 0.07, 0.07, -0.03);
      const Vec3 m = add(lerp(a, b, 0.5), side * 0.05, 0, 0);
      line(soft, c.pts3({a, lerp(a, m, 0.7), m, lerp(m, b, 0.4), b}), 128 * (1 - 0.07 - 0.3 * au12 - 0.15 * au9),
           c.px(0.03));
    }
    // shadows below the lower lip and under the chin onto the neck
    line(soft, c.pts3({add(s[58], 0, 0.07, 0), add(s[57], 0, 0.08, 0), add(s[56], 0, 0.07, 0)}), 108, c.px(0.05));
    // forehead lines (AU1 in the centre, AU2 laterally)
    const double fl = std::max(au1, au2);
    if (fl > 0) {
      for (int k = 0; k < 3; ++k) {
        const double y = (s[19].y + s[24].y) / 2 - 0.14 - 0.08 * k;
        if (y < hl + 0.08) break;
        const double span = 0.25 + 0.35 * (au2 / (au1 + au2 + 1e-9));
        line(soft, c.pts3({{-span, y + 0.02, 0.0}, {0.0, y, 0.05}, {span, y + 0.02, 0.0}}), 128 * (1 - 0.28 * fl), 1);
      }
    }
    // glabella furrows (AU4)
    if (au4 > 0)
      for (int side : {-1, 1})
        line(soft, c.pts3({add(s[27], side * 0.05, -0.15, 0), add(s[27], side * 0.06, -0.02, 0)}),
             128 * (1 - 0.35 * au4), 1);
    // nose-root wrinkles (AU9)
    if (au9 > 0)
      for (int k = 0; k < 3; ++k)
        line(soft, c.pts3({add(s[27], -0.08, 0.04 * k, -0.03), add(s[27], 0.0, 0.04 * k + 0.015, 0.0),
                           add(s[27], 0.08, 0.04 * k, -0.03)}),
             128 * (1 - 0.35 * au9), 1);
    cv::GaussianBlur(soft, soft, cv::Size(0, 0), std::max(0.6, 0.025 * c.k));
  }

  // --- eyes: sclera, iris and pupil clipped to the lids, lid lines
  for (int e : {36, 42}) {
    std::vector<cv::Point> eye = c.pts({e, e + 1, e + 2, e + 3, e + 4, e + 5});
    fill(albedo, eye, id.sclera * std::min(1.0, id.skin / 150.0 + 0.1));
    const Vec2 a = c.p[e], b = c.p[e + 3];
    const double ew = std::hypot(b.x - a.x, b.y - a.y);
    Vec2 centre{0, 0};
    for (int i = e; i < e + 6; ++i) centre = {centre.x + c.p[i].x / 6, centre.y + c.p[i].y / 6};
    centre = {centre.x + nz.gaze_x * ew, centre.y + nz.gaze_y * ew};
    const double r = 0.24 * ew;
    clipped(albedo, eye, [&](cv::Mat& layer, cv::Point off) {
      const cv::Point cc = fix(centre) - off;
      cv::circle(layer, cc, static_cast<int>(r * 16), cv::Scalar(id.iris), -1, cv::LINE_AA, kShift);
      cv::circle(layer, cc, static_cast<int>(r * 0.45 * 16), cv::Scalar(15), -1, cv::LINE_AA, kShift);
      cv::circle(layer, cc + cv::Point(static_cast<int>(-r * 0.35 * 16), static_cast<int>(-r * 0.35 * 16)),
                 std::max(8, static_cast<int>(r * 0.2 * 16)), cv::Scalar(235), -1, cv::LINE_AA, kShift);
    });
    const double lash = id.skin * (1 - id.lash);
    line(albedo, c.pts({e, e + 1, e + 2, e + 3}), lash, c.px(0.028));
    line(albedo, c.pts({e + 3, e + 4, e + 5, e}), id.skin * 0.6, 1);
  }
  // --- brows: thick strokes, tapering towards the outer end
  for (int b0 : {17, 22}) {
    const bool left = (b0 == 17);
    for (int i = 0; i < 4; ++i) {
      const int p0 = b0 + i, p1 = b0 + i + 1;
      const int inner_rank = left ? i : 3 - i;  // 3 = innermost segment
      const double t = id.brow_thick * (0.65 + 0.35 * inner_rank / 3.0);
      cv::line(albedo, fix(c.p[p0]), fix(c.p[p1]), cv::Scalar(id.brow), c.px(t), cv::LINE_AA, kShift);
    }
  }
  // --- nostrils
  for (int side : {-1, 1}) {
    const Vec3 q = lerp(s[side < 0 ? 31 : 35], s[side < 0 ? 32 : 34], 0.45);
    const Vec2 pc = c.pr(add(q, 0, -0.012, 0));
    const Vec2 pa = c.pr(add(q, side * 0.04, -0.012, 0));
    const double ang = std::atan2(pa.y - pc.y, pa.x - pc.x) * 180.0 / kPi;
    const double ax = std::max(1.0, std::hypot(pa.x - pc.x, pa.y - pc.y));
    cv::ellipse(albedo, fix(pc), cv::Size(static_cast<int>(ax * 16), static_cast<int>(0.55 * ax * 16)), ang, 0, 360,
                cv::Scalar(id.skin * 0.35), -1, cv::LINE_AA, kShift);
  }
  // --- lips, mouth interior, teeth
  {
    fill(albedo, c.pts({48, 49, 50, 51, 52, 53, 54, 64, 63, 62, 61, 60}), id.lip * 0.9);
    fill(albedo, c.pts({54, 55, 56, 57, 58, 59, 48, 60, 67, 66, 65, 64}), id.lip * 1.05);
    const double gap = (std::hypot(c.p[62].x - c.p[66].x, c.p[62].y - c.p[66].y) +
                        std::hypot(c.p[61].x - c.p[67].x, c.p[61].y - c.p[67].y) +
                        std::hypot(c.p[63].x - c.p[65].x, c.p[63].y - c.p[65].y)) /
                       3.0;
    if (gap > 0.03 * c.k) {
      std::vector<cv::Point> inner = c.pts({60, 61, 62, 63, 64, 65, 66, 67});
      clipped(albedo, inner, [&](cv::Mat& layer, cv::Point off) {
        std::vector<cv::Point> poly = inner;
        for (auto& q : poly) q -= off;
        fill(layer, poly, 28);
        // upper teeth hang from the upper inner lip; lower teeth rise from the lower one
        const double th = 0.035, tl = 0.022;
        std::vector<Vec3> up = {s[60], s[61], s[62], s[63], s[64], add(s[63], 0, th, -0.01), add(s[62], 0, th, -0.01),
                                add(s[61], 0, th, -0.01)};
        std::vector<Vec3> lo = {add(s[65], 0, -tl, -0.01), add(s[66], 0, -tl, -0.01), add(s[67], 0, -tl, -0.01),
                                s[67], s[66], s[65]};
        auto pu = c.pts3(up), pl = c.pts3(lo);
        for (auto& q : pu) q -= off;
        for (auto& q : pl) q -= off;
        fill(layer, pu, 205);
        fill(layer, pl, 185);
      });
    }
    line(albedo, c.pts({60, 61, 62, 63, 64}), id.lip * 0.45, 1);
  }

  // --- composition: shading, background, blur, contrast, brightness, noise
  Rng rng(nz.texture_key);
  cv::Mat grid(5, 5, CV_32F);
  for (int i = 0; i < 25; ++i) grid.at<float>(i / 5, i % 5) = static_cast<float>(rng.uniform(-1, 1));
  cv::Mat tex;
  cv::resize(grid, tex, cv::Size(size, size), 0, 0, cv::INTER_CUBIC);
  const double el = nz.light_elevation * kPi / 180.0, az = nz.light_azimuth * kPi / 180.0;
  const double L[3] = {std::cos(az) * std::sin(el), std::sin(az) * std::sin(el), std::cos(el)};
  const Vec2 hc = c.pr({0.0, -0.1 * h, -0.45});
  const double ha = 1.05 * c.k * w, hb = 1.3 * c.k * h;
  cv::Mat img(size, size, CV_32F);
  for (int y = 0; y < size; ++y) {
    const uint8_t* pa = albedo.ptr<uint8_t>(y);
    const uint8_t* pm = head.ptr<uint8_t>(y);
    const uint8_t* ps = soft.ptr<uint8_t>(y);
    const float* pt = tex.ptr<float>(y);
    float* po = img.ptr<float>(y);
    const double uy = (y + 0.5 - hc.y) / hb;
    for (int x = 0; x < size; ++x) {
      const double bg = nz.background_level + nz.background_texture * pt[x];
      const double m = pm[x] / 255.0;
      double v = bg;
      if (m > 0) {
        const double ux = (x + 0.5 - hc.x) / ha;
        const double r2 = ux * ux + uy * uy;
        double nx = ux, ny = uy, nzz = 0;
        if (r2 < 1) {
          nzz = std::sqrt(1 - r2);
        } else {
          const double r = std::sqrt(r2);
          nx /= r;
          ny /= r;
        }
        const double lam = std::max(0.0, nx * L[0] + ny * L[1] + nzz * L[2]);
        const double shade = 1.0 + nz.light_strength * (lam - 0.6);
        const double face = pa[x] * (ps[x] / 128.0) * shade;
        v = m * face + (1 - m) * bg;
      }
      po[x] = static_cast<float>(v);
    }
  }
  if (nz.blur_sigma > 0.15) cv::GaussianBlur(img, img, cv::Size(0, 0), nz.blur_sigma);
  for (int y = 0; y < size; ++y) {
    const float* pi = img.ptr<float>(y);
    uint8_t* po = out + static_cast<size_t>(y) * size;
    for (int x = 0; x < size; ++x) {
      double v = (pi[x] - 128.0) * nz.contrast + 128.0 + nz.brightness;
      if (nz.noise_sigma > 0) v += nz.noise_sigma * rng.fast_normal();
      v = std::floor(v + 0.5);
      po[x] = static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
    }
  }
}

void render_au_mask(const Shape3& s, const double* au, const Camera& cam, int size, uint8_t* mask) {
  cv::Mat m(size, size, CV_8U, mask);
  const Shape2 p = project(cam, s);
  const int r = std::max(1, static_cast<int>(std::lround(0.05 * cam.scale)));
  auto region = [&](std::vector<Vec3> pts) {
    std::vector<cv::Point> cloud, hull;
    for (const auto& q : pts) cloud.push_back(fix(project(cam, q)));
    cv::convexHull(cloud, hull);
    const cv::Point* ptr = hull.data();
    const int n = static_cast<int>(hull.size());
    cv::fillConvexPoly(m, hull, cv::Scalar(255), cv::LINE_8, kShift);
    cv::polylines(m, &ptr, &n, 1, true, cv::Scalar(255), 2 * r + 1, cv::LINE_8, kShift);
  };
  auto L = [&](std::initializer_list<int> idx, double dx = 0, double dy = 0) {
    std::vector<Vec3> v;
    for (int i : idx) v.push_back(add(s[i], dx, dy, 0));
    return v;
  };
  auto cat = [](std::vector<Vec3> a, const std::vector<Vec3>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  (void)p;
  for (int slot = 0; slot < kNumAus; ++slot) {
    if (!(au[slot] > 0)) continue;
    switch (kAuCodes[slot]) {
      case 1:  // inner brows and the central forehead
        region(cat(L({19, 20, 21, 22, 23, 24}), L({20, 21, 22, 23}, 0, -0.3)));
        break;
      case 2:  // outer brows and the lateral forehead, per side
        region(cat(L({17, 18, 19}), L({17, 18, 19}, 0, -0.3)));
        region(cat(L({24, 25, 26}), L({24, 25, 26}, 0, -0.3)));
        break;
      case 4:  // brows, glabella, upper lids
        region(cat(L({18, 19, 20, 21, 22, 23, 24, 25, 27, 38, 39, 42, 43}), L({20, 21, 22, 23}, 0, -0.1)));
        break;
      case 5:  // the eyes and the upper lids
      case 7:
        region(cat(L({36, 37, 38, 39, 40, 41}), L({37, 38}, 0, -0.04)));
        region(cat(L({42, 43, 44, 45, 46, 47}), L({43, 44}, 0, -0.04)));
        break;
      case 6:  // lower lids, outer eye corners (crow's feet) and cheeks
        region(cat(L({36, 39, 40, 41, 1, 2}), cat(L({40, 41}, 0, 0.2), L({36}, -0.15, 0))));
        region(cat(L({45, 42, 47, 46, 15, 14}), cat(L({47, 46}, 0, 0.2), L({45}, 0.15, 0))));
        break;
      case 9:  // nose, nose root, inner brows, upper lip
        region(L({21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 39, 42, 49, 50, 51, 52, 53}));
        break;
      case 12:  // mouth, corners and the nasolabial region
        region(cat(L({31, 48, 49, 50, 58, 59}), L({48}, -0.12, -0.1)));
        region(cat(L({35, 54, 53, 52, 56, 55}), L({54}, 0.12, -0.1)));
        region(L({48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59}));
        break;
      case 15:  // mouth and below the corners
        region(cat(L({48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59}), L({48, 54}, 0, 0.15)));
        break;
      case 16:  // lower lip and chin boss
        region(cat(L({48, 54, 55, 56, 57, 58, 59, 60, 64}), L({57, 58, 56}, 0, 0.15)));
        break;
      case 20:  // mouth and beyond the corners
        region(cat(L({49, 50, 51, 52, 53, 55, 56, 57, 58, 59}), cat(L({48}, -0.12, 0), L({54}, 0.12, 0))));
        break;
      case 23:  // lips
        region(L({48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59}));
        break;
      case 26:  // mouth and the lower jaw
        region(L({48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 5, 6, 7, 8, 9, 10, 11}));
        break;
      default:
        break;
    }
  }
}

}  // namespace mien::faces_synth
