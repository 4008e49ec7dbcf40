// The components of the mien-face plugin: face detection (dlib HOG, OpenCV Haar), the
// 68-point dlib landmarks, eye alignment, and the geometric / raw-landmark features.
// Declared here so the unit tests and the benchmark can run each class with
// mien::testing::ComponentRunner; plugin.cpp lists them in MIEN_PLUGIN.
#pragma once

#include <mien/plugin.hpp>

#include <opencv2/core.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mien::face {

// "format": "input-path" on a parameter: the host hashes the files it names (a folder: every
// file below it) into the node's cache key, so a changed, added or removed file reruns the node.
inline const ::mien::Json kReadsFiles = {{"format", "input-path"}};

// A face box in the pixels of the original image.
struct FaceBox {
  double x = 0, y = 0, w = 0, h = 0, score = 0;
};

// What the two detectors share: ports, row handling, selection and outputs. A concrete
// detector implements detect() on an 8-bit gray image at working resolution.
class DetectorBase {
 public:
  static inline const Input kTable{"table", MIEN_VALUE_TABLE,
                                   "sample table: a 'path' column, or rows aligned with 'images'"};
  static inline const Input kImages{"images", MIEN_VALUE_IMAGE,
                                    "optional uint8 [N,H,W,C] images used instead of the paths",
                                    MIEN_PORT_OPTIONAL};
  static inline const Output kOut{"table",
                                  MIEN_VALUE_TABLE,
                                  "the input rows with a face, plus face_x, face_y, face_w, face_h, face_score "
                                  "(pixels of the original image) and image_index"};
  static inline const Output kSkipped{"skipped", MIEN_VALUE_TABLE,
                                      "rows without a result: id, reason (unreadable image, no face found)"};

  virtual ~DetectorBase() = default;
  void process(Context& ctx);

 protected:
  DetectorBase(const std::string& type_id, const std::string& select, int min_size, int max_side,
               uint32_t threads)
      : type_id_(type_id), select_(select), min_size_(min_size), max_side_(max_side), threads_(threads) {}
  // Prepares per-worker state for `workers` workers (called before the rows run).
  virtual void prepare(unsigned workers) = 0;
  // Faces in `gray` (already at working resolution: `scale` working pixels per original
  // pixel), in the detector's own order (most confident first where the detector has
  // scores), in working pixels.
  virtual std::vector<FaceBox> detect(const cv::Mat& gray, double scale, unsigned worker) = 0;
  // Up-scaling of the thorough, full-resolution pass (dlib's upsample), 1 if none.
  virtual double upscale() const { return 1.0; }

  std::string type_id_;
  std::string select_;
  int min_size_;
  int max_side_;
  uint32_t threads_;
};

// Example config:
//
//   detect:
//     use: detect.dlib_hog
//     with: {upsample: 1, select: largest, min_size: 40, max_side: 400}
//     in: {table: data.table}            # rows with a `path` column (or images: data.images)
//
// dlib's frontal-face HOG detector (get_frontal_face_detector), whose 80 x 80 window finds
// faces of about 80 px and more at the resolution it scans. Two passes:
//  1. fast: when the image's longer side exceeds `max_side`, scan it shrunk to max_side
//     (no upsampling); a KDEF photo (562 x 762, face ~200 px) is settled here;
//  2. thorough, only when pass 1 kept no face: scan at full resolution enlarged `upsample`
//     times by 2 (each doubling finds faces half as small and costs ~4x the time).
// Boxes are mapped back to the original pixels.
class DetectDlibHog : public DetectorBase {
 public:
  static inline const Param<int> kUpsample = Param<int>(
      "upsample", 1,
      "Doublings of the full-resolution image in the thorough pass (dlib's pyramid_up); 1 finds faces down to "
      "~40 px, each step costs ~4x the time")
      .range(0, 3);
  static inline const Param<std::string> kSelect = Param<std::string>(
      "select", "largest",
      "Faces per image kept: largest (by box area), first (the detector's most confident), or all (one row "
      "per face; later faces get id '<id>#<k>')")
      .one_of({"largest", "first", "all"});
  static inline const Param<int> kMinSize = Param<int>(
      "min_size", 40, "Boxes narrower than this many pixels of the original image are discarded")
      .min(1);
  static inline const Param<int> kMaxSide = Param<int>(
      "max_side", 400,
      "Fast pass: scan the image shrunk so its longer side is at most this many pixels, and run the thorough "
      "full-resolution pass only when it finds no face (0 = thorough pass only). With select: all, faces "
      "smaller than ~80*longer_side/max_side px are missed when a larger one was found")
      .min(0);

  static ComponentInfo info();
  explicit DetectDlibHog(const Setup& s);
  ~DetectDlibHog() override;

 protected:
  void prepare(unsigned workers) override;
  std::vector<FaceBox> detect(const cv::Mat& gray, double scale, unsigned worker) override;
  double upscale() const override { return static_cast<double>(1 << upsample_); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int upsample_;
};

// Example config:
//
//   detect:
//     use: detect.opencv_haar
//     with:
//       cascade: /usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml
//       scale_factor: 1.1
//       min_neighbors: 5
//       select: largest
//     in: {table: data.table}
//
// OpenCV's Viola-Jones cascade detector (CascadeClassifier::detectMultiScale) on the
// gray image (optionally histogram-equalised). Same two passes as detect.dlib_hog: shrunk
// to `max_side` first, full resolution only when that finds no face.
class DetectOpencvHaar : public DetectorBase {
 public:
  static inline const Param<std::string> kCascade =
      Param<std::string>{
      "cascade", "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml",
      "OpenCV cascade XML file (Haar or LBP); a relative path is resolved against the experiment file's folder"}.json_schema(kReadsFiles);
  static inline const Param<double> kScaleFactor = Param<double>(
      "scale_factor", 1.1, "Scale step between the image pyramid's levels (detectMultiScale scaleFactor)")
      .range(1.01, 2.0);
  static inline const Param<int> kMinNeighbors = Param<int>(
      "min_neighbors", 5,
      "Overlapping raw detections a face needs to be kept; higher = fewer false faces (minNeighbors)")
      .range(0, 100);
  static inline const Param<std::string> kSelect = Param<std::string>(
      "select", "largest",
      "Faces per image kept: largest (by box area), first (as the cascade returns them), or all (one row per "
      "face; later faces get id '<id>#<k>')")
      .one_of({"largest", "first", "all"});
  static inline const Param<int> kMinSize = Param<int>(
      "min_size", 40, "Smallest face searched for and kept, in pixels of the original image").min(1);
  static inline const Param<int> kMaxSide = Param<int>(
      "max_side", 400,
      "Fast pass: scan the image shrunk so its longer side is at most this many pixels, and the full-resolution "
      "pass only when it finds no face (0 = full resolution only)")
      .min(0);
  static inline const Param<bool> kEqualize{
      "equalize", false,
      "Equalise the gray histogram before detecting: helps dark or low-contrast photos but adds false faces "
      "(on the astronaut portrait it adds one larger than the face)"};

  static ComponentInfo info();
  explicit DetectOpencvHaar(const Setup& s);
  ~DetectOpencvHaar() override;

 protected:
  void prepare(unsigned workers) override;
  std::vector<FaceBox> detect(const cv::Mat& gray, double scale, unsigned worker) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  double scale_factor_;
  int min_neighbors_;
  bool equalize_;
};

// Example config:
//
//   landmarks:
//     use: landmarks.dlib68
//     with: {model: /usr/share/dlib/shape_predictor_68_face_landmarks.dat}
//     in: {table: detect.table}          # + images: data.images when the images came as a tensor
//
// dlib's 68-point shape predictor (iBUG 300-W scheme) run on each row's face box. The
// 100 MB model is loaded once per process and shared by every instance and thread.
class LandmarksDlib68 {
 public:
  static inline const Param<std::string> kModel =
      Param<std::string>{
      "model", "/usr/share/dlib/shape_predictor_68_face_landmarks.dat",
      "dlib shape-predictor file with 68 landmarks; a relative path is resolved against the experiment file's folder"}.json_schema(kReadsFiles);

  static inline const Input kTable{"table", MIEN_VALUE_TABLE,
                                   "rows with face_x, face_y, face_w, face_h and a 'path' (or 'images')"};
  static inline const Input kImages{"images", MIEN_VALUE_IMAGE,
                                    "optional uint8 [N,H,W,C] images used instead of the paths",
                                    MIEN_PORT_OPTIONAL};
  static inline const Output kOut{"table", MIEN_VALUE_TABLE,
                                  "the input rows plus x0..x67, y0..y67 (pixels of the image)"};
  static inline const Output kSkipped{"skipped", MIEN_VALUE_TABLE,
                                      "rows without a result: id, reason (unreadable image, no face box)"};

  static ComponentInfo info();
  explicit LandmarksDlib68(const Setup& s);
  ~LandmarksDlib68();
  void process(Context& ctx);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint32_t threads_;
};

// Example config:
//
//   align:
//     use: align.eyes
//     with: {size: 128, eye_distance: 0.35, eye_y: 0.38, gray: true}
//     in: {table: landmarks.table}
//
// Rotates each face so the eye centres (means of landmarks 36-41 and 42-47) are level,
// scales it so they are eye_distance*size pixels apart, and crops size x size pixels with
// the eyes' midpoint at (size/2, eye_y*size). The landmarks are mapped into the crop; the
// 2x3 affine (original -> crop) is kept in align_t00..align_t12 so explanations drawn on
// the crop can be mapped back to the original photo with its inverse.
class AlignEyes {
 public:
  static inline const Param<int> kSize =
      Param<int>("size", 128, "Side of the square aligned crop, in pixels").range(16, 2048);
  static inline const Param<double> kEyeDistance = Param<double>(
      "eye_distance", 0.35, "Distance between the eye centres in the crop, as a fraction of size")
      .range(0.05, 0.9);
  static inline const Param<double> kEyeY = Param<double>(
      "eye_y", 0.38, "Height of the eye line in the crop, as a fraction of size from the top").range(0.0, 1.0);
  static inline const Param<bool> kGray{"gray", true,
                                        "Output 1-channel gray crops (true) or 3-channel RGB (false)"};

  static inline const Input kTable{"table", MIEN_VALUE_TABLE,
                                   "rows with x0..x67, y0..y67 and a 'path' (or 'images')"};
  static inline const Input kImages{"images", MIEN_VALUE_IMAGE,
                                    "optional uint8 [N,H,W,C] images used instead of the paths",
                                    MIEN_PORT_OPTIONAL};
  static inline const Output kImagesOut{"images", MIEN_VALUE_IMAGE,
                                        "aligned crops, uint8 [N,size,size,C], row i = row i of 'table'"};
  static inline const Output kOut{"table", MIEN_VALUE_TABLE,
                                  "the rows with landmarks in crop pixels, align_t00..align_t12 and "
                                  "image_index (face_* box columns dropped)"};
  static inline const Output kSkipped{"skipped", MIEN_VALUE_TABLE,
                                      "rows without a result: id, reason (unreadable image, degenerate eyes)"};

  static ComponentInfo info();
  explicit AlignEyes(const Setup& s);
  void process(Context& ctx);

 private:
  int size_;
  double eye_distance_, eye_y_;
  bool gray_;
  uint32_t threads_;
};

// Example config:
//
//   features:
//     use: features.geometric
//     with: {subset: S}                  # or features: [mouth_aspect_ratio, eyebrow_slope_l]
//     in: {table: align.table}
//
// The 40 geometric features of ter Burg & Kaya (2022) (mien_face_geometry/geometric.hpp), computed
// from each row's landmarks; compute them on aligned landmarks (angles are measured
// against the image axes, curvatures in 1/pixels).
class FeaturesGeometric {
 public:
  static inline const Param<std::string> kSubset = Param<std::string>(
      "subset", "all",
      "Feature set: all (40) or the paper's per-pose selections S (30), HL (25), HR (30)")
      .one_of({"all", "S", "HL", "HR"});
  static inline const Param<std::vector<std::string>> kFeatures{
      "features", {}, "Feature names in this order ([] = use `subset`); see feature_info for the names"};

  static inline const Input kTable{"table", MIEN_VALUE_TABLE, "rows with x0..x67, y0..y67 (aligned)"};
  static inline const Output kOut{"table", MIEN_VALUE_TABLE,
                                  "one FEATURE column per feature (float64) + the ID, LABEL and GROUP columns"};
  static inline const Output kInfo{"feature_info", MIEN_VALUE_JSON,
                                   "per feature: name, description, kind, iBUG-68 landmarks"};

  static ComponentInfo info();
  explicit FeaturesGeometric(const Setup& s);
  void process(Context& ctx);

 private:
  std::vector<int> selected_;  // indices into geometric_features()
};

// Example config:
//
//   raw:
//     use: features.landmarks
//     with: {normalize: true}
//     in: {table: align.table}
//
// The 68 landmark coordinates as 136 FEATURE columns (x0..x67, then y0..y67), for
// comparison with the geometric features.
class FeaturesLandmarks {
 public:
  static inline const Param<bool> kNormalize{
      "normalize", true,
      "Centre each face on the mean of its 68 points and divide by its inter-ocular distance (distance "
      "between the eye centres); false = the coordinates as given"};

  static inline const Input kTable{"table", MIEN_VALUE_TABLE, "rows with x0..x67, y0..y67"};
  static inline const Output kOut{"table", MIEN_VALUE_TABLE,
                                  "136 FEATURE columns x0..x67, y0..y67 + the ID, LABEL and GROUP columns"};

  static ComponentInfo info();
  explicit FeaturesLandmarks(const Setup& s);
  void process(Context& ctx);

 private:
  bool normalize_;
};

}  // namespace mien::face
