// The synthetic expression data set: which samples exist, their random draws, the
// rendering loop and the ground truth. Used by the component, the tests and the benchmark.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "face_model.hpp"
#include "render.hpp"

namespace mien::faces_synth {

struct PoseDef {
  std::string name;  // S, HL, HR
  double yaw;        // degrees
};

struct Options {
  int identities = 40;
  int repeats = 1;
  std::vector<std::string> poses = {"S", "HL", "HR"};
  std::vector<int> classes = {0, 1, 2, 3, 4, 5, 6};  // indices into class_defs()
  bool kdef_labels = false;
  int size = 128;
  double yaw = 30, yaw_jitter = 3, pitch_jitter = 5, roll_jitter = 4;
  double intensity_min = 0.4, intensity_max = 1.0;
  double landmark_noise = 0.008;  // face units
  double nuisance = 1.0;          // scale of the photometric nuisance ranges
  double pixel_noise = 4.0;       // maximal per-pixel noise sd, grey levels
  double position_jitter = 0.03;  // fraction of the image size
  double scale_jitter = 0.05;     // relative
  double gt_threshold = 1.0;      // ground-truth rule, see README.md
  double landmark_threshold = 0.02;  // fraction of the inter-ocular distance
  bool render = true;             // images and masks (false: landmarks and ground truth only)
  bool masks = true;
  int threads = 1;                // worker threads; the output does not depend on it
};

double pose_yaw(const std::string& pose, double yaw);  // S → 0, HL → −yaw, HR → +yaw

struct Sample {
  int identity = 0, cls = 0, pose = 0, repeat = 0;  // cls: index into class_defs()
  Camera cam;
  std::array<double, kNumAus> au{};
  Nuisance nuisance;
  Shape2 landmarks{};  // pixels
  Shape2 neutral{};    // the same face, pose, noise and nuisance without AUs (pixels)
};

struct Dataset {
  Options opts;
  uint64_t seed = 0;
  std::vector<Sample> samples;
  std::vector<uint8_t> images;  // N × size × size
  std::vector<uint8_t> masks;   // N × size × size
};

size_t sample_count(const Options& opts);

// Samples in the order identity → pose → repeat → class. `progress(done, total)` is called
// every few samples and may throw to cancel. Images and masks go to `images_out` /
// `masks_out` (sample_count × size × size bytes each) when given, else into the Dataset.
Dataset generate(const Options& opts, uint64_t seed,
                 const std::function<void(size_t, size_t)>& progress = nullptr, uint8_t* images_out = nullptr,
                 uint8_t* masks_out = nullptr);

// The 40 geometric features of landmarks aligned on the eyes (mien_face_geometry/alignment.hpp,
// default AlignParams), as the geometric pipeline computes them.
std::vector<double> aligned_features(const Shape2& landmarks);

// The ground truth of a generated data set (see README.md for the rules).
nlohmann::json ground_truth(const Dataset& d);

// The label name of class index `cls` in the chosen style.
std::string label_name(int cls, bool kdef);

}  // namespace mien::faces_synth
