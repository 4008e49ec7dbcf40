// mien_face_geometry/alignment.hpp: the eye-based similarity alignment used by align.eyes, on
// landmark coordinates alone. Header-only, standard library only.
//
// The transform rotates the face so the two eye centres (means of iBUG 36–41 and 42–47)
// are level, scales it so their distance is eye_distance·size pixels, and places their
// midpoint at (size/2, eye_y·size) of a size × size crop. It is stored as a 2×3 affine
// [t00 t01 t02; t10 t11 t12] mapping original pixel coordinates to crop coordinates
// (the matrix OpenCV's warpAffine takes).
#pragma once

#include <array>
#include <cmath>
#include <optional>

namespace mien::face {

using Affine2x3 = std::array<double, 6>;  // t00 t01 t02 t10 t11 t12

struct AlignParams {
  int size = 128;             // crop side, pixels
  double eye_distance = 0.35; // inter-ocular distance as a fraction of size
  double eye_y = 0.38;        // height of the eye line as a fraction of size, from the top
};

// Eye centres (image-left eye = iBUG 36–41, image-right eye = 42–47).
inline void eye_centres(const double* xy68, double left[2], double right[2]) {
  left[0] = left[1] = right[0] = right[1] = 0;
  for (int i = 36; i < 42; ++i) {
    left[0] += xy68[2 * i] / 6;
    left[1] += xy68[2 * i + 1] / 6;
  }
  for (int i = 42; i < 48; ++i) {
    right[0] += xy68[2 * i] / 6;
    right[1] += xy68[2 * i + 1] / 6;
  }
}

// The alignment transform, or nothing when the eye centres coincide or are not finite.
inline std::optional<Affine2x3> eye_alignment(const double* xy68, const AlignParams& p) {
  double l[2], r[2];
  eye_centres(xy68, l, r);
  const double dx = r[0] - l[0], dy = r[1] - l[1];
  const double dist = std::hypot(dx, dy);
  if (!std::isfinite(dist) || !(dist > 0)) return std::nullopt;
  const double s = p.eye_distance * p.size / dist;
  const double a = s * dx / dist, b = s * dy / dist;  // s·cosθ, s·sinθ
  const double mx = (l[0] + r[0]) / 2, my = (l[1] + r[1]) / 2;
  const double cx = p.size / 2.0, cy = p.eye_y * p.size;
  // rotate by −θ and scale: x' = a·x + b·y, y' = −b·x + a·y
  Affine2x3 t{a, b, cx - (a * mx + b * my), -b, a, cy - (-b * mx + a * my)};
  return t;
}

inline void apply_affine(const Affine2x3& t, double x, double y, double& ox, double& oy) {
  ox = t[0] * x + t[1] * y + t[2];
  oy = t[3] * x + t[4] * y + t[5];
}

// Inverse of an invertible affine (crop → original).
inline std::optional<Affine2x3> invert_affine(const Affine2x3& t) {
  const double det = t[0] * t[4] - t[1] * t[3];
  if (!std::isfinite(det) || det == 0) return std::nullopt;
  const double i00 = t[4] / det, i01 = -t[1] / det, i10 = -t[3] / det, i11 = t[0] / det;
  return Affine2x3{i00, i01, -(i00 * t[2] + i01 * t[5]), i10, i11, -(i10 * t[2] + i11 * t[5])};
}

// Applies t to 68 interleaved points in place.
inline void transform_landmarks(const Affine2x3& t, double* xy68, int n = 68) {
  for (int i = 0; i < n; ++i) {
    double x, y;
    apply_affine(t, xy68[2 * i], xy68[2 * i + 1], x, y);
    xy68[2 * i] = x;
    xy68[2 * i + 1] = y;
  }
}

}  // namespace mien::face
