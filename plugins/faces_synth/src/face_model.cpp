// The 3D face model: mean shape, identity variation, the action-unit displacement table,
// pose and projection. See face_model.hpp for the coordinate frame.
#include "face_model.hpp"

#include <cmath>

#include "rng.hpp"

namespace mien::faces_synth {

const int kAuCodes[kNumAus] = {1, 2, 4, 5, 6, 7, 9, 12, 15, 16, 20, 23, 26};
const char* const kAuNames[kNumAus] = {
    "inner brow raiser", "outer brow raiser", "brow lowerer",       "upper lid raiser", "cheek raiser",
    "lid tightener",     "nose wrinkler",     "lip corner puller",  "lip corner depressor",
    "lower lip depressor", "lip stretcher",   "lip tightener",      "jaw drop"};

int au_slot(int au_code) {
  for (int i = 0; i < kNumAus; ++i)
    if (kAuCodes[i] == au_code) return i;
  return -1;
}

// The prototypes of the issue (EMFACS-style prototypes, Ekman & Friesen 1978/2002;
// the same combinations are listed by Friesen & Ekman's EMFACS and used by e.g. the CK+
// emotion criteria, Lucey et al. 2010, Table 2).
const std::vector<ClassDef>& class_defs() {
  static const std::vector<ClassDef> defs = {
      {"fear", "AF", {1, 2, 4, 5, 7, 20, 26}},
      {"anger", "AN", {4, 5, 7, 23}},
      {"disgust", "DI", {9, 15, 16}},
      {"happy", "HA", {6, 12}},
      {"neutral", "NE", {}},
      {"sad", "SA", {1, 4, 15}},
      {"surprise", "SU", {1, 2, 5, 26}},
  };
  return defs;
}

const int kMirror[68] = {
    16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,  // jaw
    26, 25, 24, 23, 22, 21, 20, 19, 18, 17,                    // brows
    27, 28, 29, 30,                                            // nose bridge
    35, 34, 33, 32, 31,                                        // nostrils
    45, 44, 43, 42, 47, 46,                                    // image-left eye -> right eye
    39, 38, 37, 36, 41, 40,                                    // image-right eye -> left eye
    54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55,            // outer lips
    64, 63, 62, 61, 60, 67, 66, 65};                           // inner lips

// ------------------------------------------------------------------------------------
// The mean neutral face.
//
// Written by hand for this project (not copied from any data set): the 2D layout follows
// the iBUG 300-W 68-point mark-up (Sagonas et al. 2013: jaw 0-16 from the image-left ear
// to the image-right ear, brows 17-26, nose bridge 27-30, nostrils 31-35, eyes 36-47
// clockwise from the outer corner, outer lips 48-59 and inner lips 60-67 clockwise from
// the image-left corner) with proportions of an average adult face (eye width ≈ one fifth
// of the face width, inter-ocular distance ≈ mouth width ≈ 0.45 face widths). Depths
// follow anthropometric profiles (Farkas 1994): the nose tip ≈ 0.45 units (≈ 3 cm) in
// front of the inner eye corners, outer eye corners and mouth corners slightly behind
// them, the face contour receding to ≈ −0.6 units at the ears, so a 30° yaw
// foreshortens the far half of the face and lets the nose overlap the far cheek as a
// real head turn does. Only the image-left half and the midline are listed; the
// image-right half is their mirror image (x → −x).
// ------------------------------------------------------------------------------------
const Shape3& mean_shape() {
  static const Shape3 shape = [] {
    Shape3 s{};
    auto set = [&](int i, double x, double y, double z) { s[i] = {x, y, z}; };
    // jaw 0..8 (image-left ear to the chin)
    set(0, -0.95, -0.12, -0.60);
    set(1, -0.94, 0.10, -0.55);
    set(2, -0.91, 0.32, -0.47);
    set(3, -0.86, 0.52, -0.37);
    set(4, -0.77, 0.70, -0.25);
    set(5, -0.64, 0.84, -0.12);
    set(6, -0.48, 0.95, -0.02);
    set(7, -0.26, 1.03, 0.07);
    set(8, 0.00, 1.06, 0.11);
    // image-left brow, outer (17) to inner (21): landmarks on the brow's centre line
    set(17, -0.80, -0.38, -0.22);
    set(18, -0.66, -0.47, -0.10);
    set(19, -0.50, -0.50, -0.01);
    set(20, -0.34, -0.48, 0.05);
    set(21, -0.18, -0.43, 0.08);
    // nose bridge (27 between the eyes) to the tip (30)
    set(27, 0.0, -0.30, 0.08);
    set(28, 0.0, -0.17, 0.18);
    set(29, 0.0, -0.04, 0.30);
    set(30, 0.0, 0.10, 0.45);
    // nostrils (31 image-left wing, 33 columella)
    set(31, -0.19, 0.20, 0.16);
    set(32, -0.10, 0.23, 0.24);
    set(33, 0.0, 0.25, 0.30);
    // image-left eye: 36 outer corner, 37-38 upper lid, 39 inner corner, 40-41 lower lid
    set(36, -0.64, -0.20, -0.14);
    set(37, -0.53, -0.265, -0.04);
    set(38, -0.35, -0.265, -0.01);
    set(39, -0.22, -0.19, -0.03);
    set(40, -0.35, -0.14, -0.02);
    set(41, -0.53, -0.145, -0.05);
    // outer lips: 48 image-left corner, 49-50 upper lip, 51 top centre (philtrum)
    set(48, -0.37, 0.56, 0.00);
    set(49, -0.23, 0.495, 0.14);
    set(50, -0.09, 0.465, 0.22);
    set(51, 0.0, 0.475, 0.24);
    set(57, 0.0, 0.69, 0.21);   // bottom centre
    set(58, -0.11, 0.675, 0.19);
    set(59, -0.24, 0.635, 0.12);
    // inner lips: 60 corner, 61-62 upper, 66-67 lower (closed mouth: a thin seam)
    set(60, -0.31, 0.565, 0.04);
    set(61, -0.11, 0.550, 0.20);
    set(62, 0.0, 0.553, 0.22);
    set(66, 0.0, 0.565, 0.22);
    set(67, -0.11, 0.562, 0.20);
    for (int i = 0; i < 68; ++i) {
      const int m = kMirror[i];
      if (m != i && s[i].x < 0) s[m] = {-s[i].x, s[i].y, s[i].z};
    }
    return s;
  }();
  return shape;
}

// ------------------------------------------------------------------------------------
// The action-unit displacement table (intensity 1 = FACS "E", maximal).
//
// Directions follow the appearance changes of each AU in the FACS manual (P. Ekman,
// W. V. Friesen & J. C. Hager, Facial Action Coding System: The Manual, Research Nexus,
// Salt Lake City, 2002, ch. 2-4) and the muscle actions it names; magnitudes are our own
// estimates of a strong (D-E) action in the face units above (0.1 unit ≈ 7 mm), chosen so
// that each action moves its landmarks by a few per cent of the face width, comparable to
// the landmark displacements between neutral and apex frames in CK+ (Lucey et al. 2010).
// Secondary descriptions consulted: M. Ozel, "FACS cheat sheets" (melindaozel.com),
// which summarises the same manual. Only the image-left half (subject's right) and the
// midline are listed; the other half is mirrored (−dx). y is down, so dy < 0 is "up";
// dx > 0 on the image-left half is "towards the midline".
// ------------------------------------------------------------------------------------
const std::vector<AuMove>& au_table() {
  static const std::vector<AuMove> table = {
      // AU1 inner brow raiser (frontalis, pars medialis): pulls the inner brow up, the brow
      // becomes oblique; horizontal wrinkles in the centre of the forehead.
      {1, 21, 0.0, -0.15, 0.0}, {1, 20, 0.0, -0.11, 0.0}, {1, 19, 0.0, -0.06, 0.0}, {1, 18, 0.0, -0.025, 0.0},
      // AU2 outer brow raiser (frontalis, pars lateralis): pulls the lateral brow up, arched
      // brow, upper lid exposed laterally.
      {2, 17, -0.01, -0.14, 0.0}, {2, 18, 0.0, -0.14, 0.0}, {2, 19, 0.0, -0.10, 0.0}, {2, 20, 0.0, -0.05, 0.0},
      {2, 21, 0.0, -0.015, 0.0},
      // AU4 brow lowerer (corrugator supercilii, depressor supercilii, procerus): lowers
      // the brows and draws them together; vertical furrows between the brows; the upper
      // lid is pushed down a little.
      {4, 21, 0.06, 0.08, 0.01}, {4, 20, 0.05, 0.08, 0.0}, {4, 19, 0.035, 0.07, 0.0}, {4, 18, 0.02, 0.05, 0.0},
      {4, 17, 0.01, 0.03, 0.0}, {4, 37, 0.0, 0.012, 0.0}, {4, 38, 0.0, 0.015, 0.0},
      // AU5 upper lid raiser (levator palpebrae superioris): raises the upper lid, widening
      // the eye opening; sclera shows above the iris.
      {5, 37, 0.0, -0.045, 0.0}, {5, 38, 0.0, -0.045, 0.0}, {5, 36, 0.0, -0.005, 0.0}, {5, 39, 0.0, -0.005, 0.0},
      // AU6 cheek raiser (orbicularis oculi, pars orbitalis): lifts the cheek and pushes
      // skin towards the eye; the lower lid is raised from below, crow's-feet wrinkles at
      // the outer corner; the contour of the upper cheek rises.
      {6, 41, 0.0, -0.035, 0.0}, {6, 40, 0.0, -0.03, 0.0}, {6, 36, 0.005, -0.012, 0.0}, {6, 37, 0.0, 0.008, 0.0},
      {6, 38, 0.0, 0.006, 0.0}, {6, 1, 0.0, -0.02, 0.01}, {6, 2, 0.0, -0.02, 0.01},
      // AU7 lid tightener (orbicularis oculi, pars palpebralis): raises and straightens the
      // lower lid, tightens the upper lid; narrows the eye opening.
      {7, 41, 0.0, -0.03, 0.0}, {7, 40, 0.0, -0.035, 0.0}, {7, 37, 0.0, 0.015, 0.0}, {7, 38, 0.0, 0.015, 0.0},
      {7, 36, 0.005, 0.0, 0.0}, {7, 39, -0.005, 0.0, 0.0},
      // AU9 nose wrinkler (levator labii superioris alaeque nasi): pulls the skin along the
      // nose up, raises the nostril wings and the upper lip, wrinkles the nose root, lowers
      // the inner brows, pushes the lower lids up.
      {9, 31, 0.01, -0.06, 0.01}, {9, 32, 0.0, -0.045, 0.0}, {9, 33, 0.0, -0.035, 0.0}, {9, 30, 0.0, -0.02, 0.0},
      {9, 29, 0.0, -0.01, 0.0}, {9, 21, 0.01, 0.05, 0.0}, {9, 20, 0.0, 0.025, 0.0}, {9, 50, 0.0, -0.035, 0.01},
      {9, 51, 0.0, -0.03, 0.01}, {9, 49, 0.0, -0.03, 0.0}, {9, 61, 0.0, -0.03, 0.0}, {9, 62, 0.0, -0.03, 0.0},
      {9, 48, 0.0, -0.015, 0.0}, {9, 41, 0.0, -0.02, 0.0}, {9, 40, 0.0, -0.025, 0.0},
      // AU12 lip corner puller (zygomaticus major): pulls the lip corners up and back
      // obliquely towards the cheekbone; deepens the nasolabial furrow; lifts the cheek
      // and the lower lids slightly; the lower lip is stretched.
      {12, 48, -0.10, -0.09, -0.06}, {12, 60, -0.09, -0.08, -0.05}, {12, 49, -0.04, -0.04, -0.02},
      {12, 59, -0.05, -0.03, -0.02}, {12, 61, -0.03, -0.025, 0.0}, {12, 67, -0.03, -0.02, 0.0},
      {12, 58, -0.015, -0.01, 0.0}, {12, 50, -0.01, -0.01, 0.0}, {12, 57, 0.0, 0.005, 0.0},
      {12, 2, 0.0, -0.015, 0.01}, {12, 3, -0.01, -0.02, 0.01}, {12, 40, 0.0, -0.01, 0.0}, {12, 41, 0.0, -0.01, 0.0},
      // AU15 lip corner depressor (depressor anguli oris / triangularis): pulls the lip
      // corners down; the lip line angles down at the corners.
      {15, 48, 0.01, 0.075, -0.01}, {15, 60, 0.01, 0.065, 0.0}, {15, 49, 0.0, 0.025, 0.0}, {15, 59, 0.0, 0.03, 0.0},
      {15, 61, 0.0, 0.015, 0.0}, {15, 67, 0.0, 0.015, 0.0}, {15, 57, 0.0, -0.01, 0.0},
      // AU16 lower lip depressor (depressor labii inferioris): pulls the lower lip down and
      // somewhat laterally; the lips part and the lower teeth may show.
      {16, 57, 0.0, 0.09, 0.01}, {16, 58, -0.02, 0.08, 0.01}, {16, 59, -0.02, 0.05, 0.0}, {16, 66, 0.0, 0.08, 0.0},
      {16, 67, -0.015, 0.07, 0.0}, {16, 48, -0.01, 0.01, 0.0}, {16, 60, -0.005, 0.01, 0.0},
      // AU20 lip stretcher (risorius with platysma): pulls the lip corners laterally
      // (horizontally); the lips are elongated and flattened.
      {20, 48, -0.09, 0.01, -0.02}, {20, 60, -0.08, 0.01, -0.02}, {20, 49, -0.035, 0.005, 0.0},
      {20, 59, -0.04, 0.0, 0.0}, {20, 61, -0.02, 0.005, 0.0}, {20, 67, -0.02, 0.0, 0.0}, {20, 50, -0.01, 0.005, 0.0},
      {20, 58, -0.01, -0.005, 0.0}, {20, 57, 0.0, -0.01, 0.0}, {20, 51, 0.0, 0.005, 0.0},
      // AU23 lip tightener (orbicularis oris): tightens and narrows the lips; the red parts
      // become thinner, the mouth a little narrower, the lips protrude slightly.
      {23, 48, 0.035, 0.0, 0.01}, {23, 60, 0.03, 0.0, 0.01}, {23, 49, 0.015, 0.015, 0.01}, {23, 50, 0.005, 0.02, 0.01},
      {23, 51, 0.0, 0.02, 0.01}, {23, 59, 0.015, -0.02, 0.01}, {23, 58, 0.005, -0.03, 0.01}, {23, 57, 0.0, -0.03, 0.01},
      // AU26 jaw drop (masseter and temporalis relaxed): the mandible is lowered, the lips
      // part with space between the teeth; the chin and lower face contour move down.
      {26, 57, 0.0, 0.22, -0.02}, {26, 58, 0.0, 0.205, -0.02}, {26, 59, 0.005, 0.15, -0.01}, {26, 66, 0.0, 0.22, -0.03},
      {26, 67, 0.005, 0.195, -0.03}, {26, 48, 0.015, 0.06, -0.01}, {26, 60, 0.02, 0.06, -0.01},
      {26, 61, 0.0, 0.01, 0.0}, {26, 62, 0.0, 0.01, 0.0},
      {26, 8, 0.0, 0.21, -0.03}, {26, 7, 0.005, 0.2, -0.03}, {26, 6, 0.01, 0.17, -0.02}, {26, 5, 0.01, 0.13, -0.01},
      {26, 4, 0.005, 0.09, 0.0}, {26, 3, 0.0, 0.055, 0.0}, {26, 2, 0.0, 0.025, 0.0},
  };
  return table;
}

// ------------------------------------------------------------------------------------
// Identities: global scales plus local, part-based shape parameters (in the spirit of a
// 3D morphable model's shape modes, Blanz & Vetter 1999, but hand-built), all in 3D, plus
// a small per-landmark asymmetry. Standard deviations are a few per cent of the face size.
// ------------------------------------------------------------------------------------
Identity make_identity(uint64_t seed, int index) {
  Rng r(stream_key(seed, {1, static_cast<uint64_t>(index)}));
  Identity id;
  const Shape3& m = mean_shape();
  Shape3 s = m;
  const double width = 1.0 + r.normal(0.05), height = 1.0 + r.normal(0.05), depth = 1.0 + r.normal(0.08);
  const double jaw_w = 1.0 + r.normal(0.06), chin = r.normal(0.04);
  const double eye_sep = r.normal(0.025), eye_size = 1.0 + r.normal(0.07), eye_y = r.normal(0.02);
  const double eye_open = 1.0 + r.normal(0.10), eye_tilt = r.normal(0.02);
  const double brow_y = r.normal(0.03), brow_arch = r.normal(0.02), brow_tilt = r.normal(0.02);
  const double nose_len = r.normal(0.035), nose_w = 1.0 + r.normal(0.09), nose_depth = 1.0 + r.normal(0.10);
  const double mouth_w = 1.0 + r.normal(0.06), mouth_y = r.normal(0.025);
  const double upper_lip = 1.0 + r.normal(0.15), lower_lip = 1.0 + r.normal(0.15);

  // local parts (image-left half; mirrored below)
  auto eye_centre = [&](int a) {  // a = 36 or 42
    Vec3 c{0, 0, 0};
    for (int i = a; i < a + 6; ++i) c = {c.x + s[i].x / 6, c.y + s[i].y / 6, c.z + s[i].z / 6};
    return c;
  };
  for (int e : {36, 42}) {
    const Vec3 c = eye_centre(e);
    const double side = (e == 36) ? -1.0 : 1.0;
    for (int i = e; i < e + 6; ++i) {
      Vec3& p = s[i];
      p.x = c.x + (p.x - c.x) * eye_size + side * eye_sep;
      p.y = c.y + (p.y - c.y) * eye_size * eye_open + eye_y;
      p.z = c.z + (p.z - c.z) * eye_size;
    }
    // tilt: outer corner up/down
    s[e == 36 ? 36 : 45].y += eye_tilt;
  }
  for (int i = 17; i <= 26; ++i) {
    const bool inner = (i == 21 || i == 22), outer = (i == 17 || i == 26), middle = (i == 19 || i == 24);
    s[i].y += brow_y - (middle ? brow_arch : 0.0) + (outer ? brow_tilt : 0.0) + (inner ? -0.5 * brow_tilt : 0.0);
  }
  for (int i = 30; i <= 35; ++i) s[i].y += nose_len * (i == 30 ? 0.7 : 1.0);
  for (int i = 31; i <= 35; ++i) s[i].x *= nose_w;
  for (int i = 27; i <= 35; ++i) s[i].z = m[27].z + (s[i].z - m[27].z) * nose_depth;
  for (int i = 48; i <= 67; ++i) {
    s[i].x *= mouth_w;
    s[i].y += mouth_y;
  }
  // lip thickness: the outer lip contour moves relative to the seam
  const double seam = (m[62].y + m[66].y) / 2 + mouth_y;
  for (int i : {49, 50, 51, 52, 53}) s[i].y = seam + (s[i].y - seam) * upper_lip;
  for (int i : {55, 56, 57, 58, 59}) s[i].y = seam + (s[i].y - seam) * lower_lip;
  for (int i = 3; i <= 13; ++i) {
    const double w = std::sin((i - 2) / 12.0 * 3.14159265358979);  // 0 at the ends, 1 at the chin
    s[i].x *= 1.0 + (jaw_w - 1.0) * (1.0 - 0.5 * w);
    s[i].y += chin * w;
  }
  for (int i = 0; i < 68; ++i) {
    s[i].x *= width;
    s[i].y *= height;
    s[i].z *= depth;
  }
  // small asymmetry (people are not symmetric), fixed per identity
  for (int i = 0; i < 68; ++i) {
    s[i].x += r.normal(0.006);
    s[i].y += r.normal(0.006);
    s[i].z += r.normal(0.006);
  }
  id.neutral = s;
  id.width = width;
  id.height = height;
  id.hairline = (-0.95 + r.normal(0.06)) * height;
  id.head_w = 1.0 + r.normal(0.04);
  id.head_h = 1.0 + r.normal(0.04);
  // Appearance. Grey-level albedos; lighting, contrast and brightness are per sample.
  id.skin = r.uniform(125, 205);
  id.neck = id.skin * r.uniform(0.80, 0.92);
  id.bald = r.uniform() < 0.1;
  id.hair = id.bald ? id.skin * 0.95 : r.uniform(20, 200);
  id.brow = std::min(id.skin, id.hair) * r.uniform(0.35, 0.7);
  id.lip = id.skin * r.uniform(0.62, 0.82);
  id.iris = r.uniform(35, 120);
  id.sclera = r.uniform(200, 235);
  id.brow_thick = 0.055 * (1.0 + r.normal(0.2));
  id.lash = r.uniform(0.4, 0.9);
  return id;
}

Shape3 deform(const Identity& id, const double* intensities, const Shape3* noise) {
  Shape3 s = id.neutral;
  if (intensities) {
    for (const AuMove& mv : au_table()) {
      const int slot = au_slot(mv.au);
      const double w = intensities[slot];
      if (w == 0.0) continue;
      const Vec3 d{mv.dx * w * id.width, mv.dy * w * id.height, mv.dz * w};
      Vec3& p = s[mv.lm];
      p = {p.x + d.x, p.y + d.y, p.z + d.z};
      const int m = kMirror[mv.lm];
      if (m != mv.lm) {
        Vec3& q = s[m];
        q = {q.x - d.x, q.y + d.y, q.z + d.z};
      }
    }
  }
  if (noise)
    for (int i = 0; i < 68; ++i) s[i] = {s[i].x + (*noise)[i].x, s[i].y + (*noise)[i].y, s[i].z + (*noise)[i].z};
  return s;
}

Vec3 rotate(const Camera& cam, const Vec3& p) {
  constexpr double kDeg = 3.14159265358979323846 / 180.0;
  const double cy = std::cos(cam.yaw * kDeg), sy = std::sin(cam.yaw * kDeg);
  const double cp = std::cos(cam.pitch * kDeg), sp = std::sin(cam.pitch * kDeg);
  const double cr = std::cos(cam.roll * kDeg), sr = std::sin(cam.roll * kDeg);
  // yaw about the vertical axis: the nose (z > 0) moves to +x for yaw > 0
  Vec3 a{p.x * cy + p.z * sy, p.y, -p.x * sy + p.z * cy};
  // pitch about the horizontal axis: the chin (y > 0) moves away (z down) for pitch > 0
  Vec3 b{a.x, a.y * cp + a.z * sp, -a.y * sp + a.z * cp};
  // roll in the image plane, clockwise on screen (y is down) for roll > 0
  return {b.x * cr - b.y * sr, b.x * sr + b.y * cr, b.z};
}

Vec2 project(const Camera& cam, const Vec3& p) {
  const Vec3 q = rotate(cam, p);
  const double f = cam.distance / (cam.distance - q.z);
  return {cam.cx + cam.scale * f * q.x, cam.cy + cam.scale * f * q.y};
}

Shape2 project(const Camera& cam, const Shape3& s) {
  Shape2 out;
  for (int i = 0; i < 68; ++i) out[i] = project(cam, s[i]);
  return out;
}

}  // namespace mien::faces_synth
