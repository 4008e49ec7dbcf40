// Shared test data: a hand-made symmetric frontal face (68 iBUG points), random
// similarity transforms, and paths of the real photos.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <mien/random.hpp>

namespace face_test {

// Symmetric about x = 60, eyes level at y = 50, in pixels (image y down).
inline std::vector<double> template_face() {
  std::vector<double> p(136);
  auto set = [&](int k, double x, double y) {
    p[2 * k] = x;
    p[2 * k + 1] = y;
  };
  auto mirror = [&](int k, int from) { set(k, 120.0 - p[2 * from], p[2 * from + 1]); };
  const double pi = 3.14159265358979323846;
  for (int k = 0; k <= 16; ++k) {
    const double t = pi * k / 16.0;
    set(k, 60 - 50 * std::cos(t), 50 + 60 * std::sin(t));
  }
  set(8, 60, 110);  // exactly on the axis
  // left brow 17..21 (outer -> inner), right brow 22..26 (inner -> outer)
  set(17, 25, 42); set(18, 31, 36); set(19, 37, 35); set(20, 43, 36); set(21, 48, 40);
  mirror(22, 21); mirror(23, 20); mirror(24, 19); mirror(25, 18); mirror(26, 17);
  // nose bridge and lower nose
  set(27, 60, 45); set(28, 60, 55); set(29, 60, 65); set(30, 60, 75);
  set(31, 50, 78); set(32, 55, 79); set(33, 60, 80); mirror(34, 32); mirror(35, 31);
  // left eye 36..41; right eye 42..47 (iBUG order: 42 inner corner, 45 outer)
  set(36, 30, 50); set(37, 35, 46); set(38, 40, 46); set(39, 45, 50); set(40, 40, 54); set(41, 35, 54);
  mirror(42, 39); mirror(43, 38); mirror(44, 37); mirror(45, 36); mirror(46, 41); mirror(47, 40);
  // outer lip 48..59
  set(48, 40, 100); set(49, 47, 95); set(50, 53, 93); set(51, 60, 92); mirror(52, 50); mirror(53, 49);
  mirror(54, 48); set(57, 60, 112); set(58, 53, 110); set(59, 47, 106); mirror(55, 59); mirror(56, 58);
  // inner lip 60..67
  set(60, 44, 100); set(61, 52, 99); set(62, 60, 98); mirror(63, 61); mirror(64, 60);
  set(66, 60, 104); set(67, 52, 103); mirror(65, 67);
  return p;
}

// The SDK's portable splitmix64 stream (std::*_distribution differ across libraries).
using Rng = mien::KeyedRng;

// x' = s R(theta) x + t
inline std::vector<double> similarity(const std::vector<double>& p, double theta_deg, double scale, double tx,
                                      double ty) {
  const double t = theta_deg * 3.14159265358979323846 / 180.0;
  const double c = std::cos(t) * scale, s = std::sin(t) * scale;
  std::vector<double> out(p.size());
  for (size_t k = 0; k + 1 < p.size(); k += 2) {
    out[k] = c * p[k] - s * p[k + 1] + tx;
    out[k + 1] = s * p[k] + c * p[k + 1] + ty;
  }
  return out;
}

inline const char* dlib_faces_dir() { return "/usr/share/doc/libdlib19.1/examples/faces"; }

}  // namespace face_test
