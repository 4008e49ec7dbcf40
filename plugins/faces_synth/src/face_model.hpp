// The 3D face model behind dataset.synthetic_faces: a mean 68-point face (iBUG 300-W
// order) with depth, identity shape variation, FACS action-unit displacements, head pose
// and perspective projection. Pure C++ (no OpenCV), so the tests can reason about the
// geometry directly.
//
// Coordinates (the "face frame"): x to the image right, y down, z towards the camera; one
// unit is about half the face width (jaw point 0 to 16 is ~1.9 units; the eye centres are
// ~0.84 apart, so 0.1 unit is ~7 mm on an adult face). The origin is between the eyes
// and the nose, near the plane of the inner eye corners.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace mien::faces_synth {

struct Vec3 {
  double x = 0, y = 0, z = 0;
};
struct Vec2 {
  double x = 0, y = 0;
};
using Shape3 = std::array<Vec3, 68>;
using Shape2 = std::array<Vec2, 68>;

// The action units the seven prototypes use, in column order (au1 ... au26).
constexpr int kNumAus = 13;
extern const int kAuCodes[kNumAus];
extern const char* const kAuNames[kNumAus];
int au_slot(int au_code);  // index into kAuCodes, or -1

// The seven classes in the canonical order of plugins/CONVENTIONS.md.
constexpr int kNumClasses = 7;
struct ClassDef {
  const char* name;  // canonical
  const char* kdef;  // KDEF code
  std::vector<int> aus;
};
const std::vector<ClassDef>& class_defs();

// The iBUG mirror partner of each landmark (itself on the midline).
extern const int kMirror[68];

// The mean neutral face (documented in face_model.cpp).
const Shape3& mean_shape();

// One displacement of the AU table: landmark `lm` moves by (dx, dy, dz) face units at
// full intensity (FACS "E", intensity 1). Entries are written for the image-left half
// and the midline; the image-right partner gets the mirrored move (−dx).
struct AuMove {
  int au;
  int lm;
  double dx, dy, dz;
};
const std::vector<AuMove>& au_table();

// Appearance and shape of one synthetic person.
struct Identity {
  Shape3 neutral;          // 3D neutral landmarks (identity shape applied)
  double width = 1, height = 1;  // overall face scale factors (AU moves scale with them)
  double hairline = -0.95; // y of the hairline at the midline
  double head_w = 1.0, head_h = 1.0;  // skull ellipsoid scale (hair silhouette)
  // grey levels (0..255 albedo)
  double skin = 170, hair = 60, brow = 60, lip = 130, iris = 80, sclera = 215, neck = 150;
  double brow_thick = 0.055;  // face units
  double lash = 0.6;          // lash darkness 0..1
  bool bald = false;
};

Identity make_identity(uint64_t seed, int index);

// Applies AU intensities (one per kAuCodes slot, 0 = absent, 1 = maximal) to the identity's
// neutral shape; `noise` (may be null) is added afterwards (landmark noise, face units).
Shape3 deform(const Identity& id, const double* intensities, const Shape3* noise);

// Head pose and camera. Angles in degrees: yaw > 0 turns the head to the subject's left
// (the nose moves to the image right: KDEF's HR), pitch > 0 tilts the chin down, roll > 0 turns the
// face clockwise in the image.
struct Camera {
  double yaw = 0, pitch = 0, roll = 0;
  double cx = 64, cy = 64;   // where the face-frame origin lands, pixels
  double scale = 42;         // pixels per face unit at the origin's depth
  double distance = 8.0;     // camera distance from the origin, face units
};

// Rotates a face-frame point by the pose (about the origin), in face units.
Vec3 rotate(const Camera& cam, const Vec3& p);
// Rotation then perspective projection to pixels.
Vec2 project(const Camera& cam, const Vec3& p);
Shape2 project(const Camera& cam, const Shape3& s);

}  // namespace mien::faces_synth
