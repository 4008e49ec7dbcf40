// dataset.synthetic_faces: the project's own facial-expression benchmark with known
// ground truth.
#pragma once

#include <mien/plugin.hpp>

#include <string>
#include <vector>

#include "generator.hpp"

namespace mien::faces_synth {

// Example config:
//
//   faces:
//     use: dataset.synthetic_faces
//     with:
//       identities: 40          # synthetic people; each appears in every class and pose
//       repeats: 1              # samples per identity, class and pose
//       poses: [S, HL, HR]      # frontal, half-left, half-right (yaw 0, 30°, 30°)
//       label_style: canonical  # or kdef (AF AN DI HA NE SA SU)
//       size: 128               # images are size × size, grey
//
// Generates N identities × 7 expressions × poses × repeats faces from a 3D 68-point face
// model: FACS action units with random intensities deform the face (happy = AU6+12,
// surprise = AU1+2+5+26, sad = AU1+4+15, anger = AU4+5+7+23, fear = AU1+2+4+5+7+20+26,
// disgust = AU9+15+16, neutral = none), the head is posed and projected, and a grey face
// is rendered under label-independent lighting, contrast, background and blur. Outputs
// the landmarks and nuisance values (table), the images, per-sample AU region masks and
// the ground truth: per class the AUs, the landmarks it moves and the geometric features
// it changes. Deterministic from the node's seed.
class SyntheticFaces {
 public:
  static inline const Param<int> kIdentities =
      Param<int>("identities", 40, "Number of synthetic people; every one appears in every class and pose")
          .range(1, 100000);
  static inline const Param<int> kRepeats =
      Param<int>("repeats", 1, "Samples per identity, class and pose (fresh AU intensities and nuisance each)")
          .range(1, 1000);
  static inline const Param<std::vector<std::string>> kPoses{
      "poses", {"S", "HL", "HR"},
      "Head poses to generate, each from S (frontal), HL (half-left profile as in KDEF: the subject's left cheek "
      "turned to the camera, nose towards the image left, by `yaw` degrees) and HR (the mirror: nose towards the "
      "image right)"};
  static inline const Param<std::vector<std::string>> kClasses{
      "classes", {},
      "Expressions to generate, canonical names or KDEF codes ([] = all seven: fear anger disgust happy neutral "
      "sad surprise)"};
  static inline const Param<std::string> kLabelStyle =
      Param<std::string>("label_style", "canonical",
                         "Class names of the label column: canonical (fear, anger, ...) or kdef (AF, AN, DI, HA, NE, "
                         "SA, SU)")
          .one_of({"canonical", "kdef"});
  static inline const Param<int> kSize =
      Param<int>("size", 128, "Side of the square grey images, pixels").range(32, 1024);
  static inline const Param<double> kYaw =
      Param<double>("yaw", 30.0, "Yaw of the HL and HR poses, degrees").range(0, 60);
  static inline const Param<double> kYawJitter =
      Param<double>("yaw_jitter", 3.0, "Standard deviation of the random yaw around the pose's yaw, degrees")
          .range(0, 20);
  static inline const Param<double> kPitchJitter =
      Param<double>("pitch_jitter", 5.0, "Standard deviation of the random head pitch, degrees").range(0, 20);
  static inline const Param<double> kRollJitter =
      Param<double>("roll_jitter", 4.0, "Standard deviation of the random head roll, degrees").range(0, 20);
  static inline const Param<double> kIntensityMin =
      Param<double>("intensity_min", 0.4, "Lowest AU intensity (1 = maximal, FACS E); drawn uniformly per AU")
          .range(0, 1);
  static inline const Param<double> kIntensityMax =
      Param<double>("intensity_max", 1.0, "Highest AU intensity; at least intensity_min").range(0, 1);
  static inline const Param<double> kLandmarkNoise =
      Param<double>("landmark_noise", 0.008,
                    "Standard deviation of the per-landmark 3D jitter, face units (1 unit ~ half the face width, "
                    "0.008 ~ 0.3 px at size 128); applied to the rendered face and the table alike")
          .range(0, 0.1);
  static inline const Param<double> kNuisance =
      Param<double>("nuisance", 1.0,
                    "Scale of the label-independent photometric variation (lighting strength, contrast, "
                    "brightness, background level and texture, blur); 0 = none")
          .range(0, 2);
  static inline const Param<double> kPixelNoise =
      Param<double>("pixel_noise", 4.0, "Largest per-pixel Gaussian noise sd, grey levels (drawn per image)")
          .range(0, 50);
  static inline const Param<double> kPositionJitter =
      Param<double>("position_jitter", 0.03, "Random shift of the face, fraction of the image size").range(0, 0.1);
  static inline const Param<double> kScaleJitter =
      Param<double>("scale_jitter", 0.05, "Random relative change of the face scale").range(0, 0.2);
  static inline const Param<double> kThreshold =
      Param<double>("gt_threshold", 1.0,
                    "Ground truth: a feature counts as changed by a class when its mean |change| against the "
                    "neutral twin exceeds this many between-identity standard deviations")
          .range(0, 100);
  static inline const Param<double> kLandmarkThreshold =
      Param<double>("landmark_threshold", 0.02,
                    "Ground truth: a landmark counts as moved by a class when its mean displacement exceeds this "
                    "fraction of the inter-ocular distance")
          .range(0, 1);

  static inline const Output kTable{
      "table", MIEN_VALUE_TABLE,
      "one row per sample: id, label, subject, pose, x0..x67 y0..y67 (pixels), face box, AU intensities, "
      "pose angles and nuisance values"};
  static inline const Output kImages{"images", MIEN_VALUE_IMAGE, "uint8 [N, size, size, 1], grey"};
  static inline const Output kGroundTruth{
      "ground_truth", MIEN_VALUE_JSON,
      "per class: AUs, moved landmarks with mean displacement, changed geometric features (and per pose)"};
  static inline const Output kAuMasks{
      "au_masks", MIEN_VALUE_TENSOR,
      "uint8 [N, size, size]: 255 where an AU active in the sample acts (union of its AUs' regions), else 0"};

  static ComponentInfo info();
  explicit SyntheticFaces(const Setup& s);
  void process(Context& ctx);

  const Options& options() const { return opts_; }

 private:
  Options opts_;
  uint64_t seed_;
};

// The output table of a generated data set (also used by the tests).
Table make_table(const Dataset& d);

}  // namespace mien::faces_synth
