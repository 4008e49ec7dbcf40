// The components of the mien-datasets plugin. Declared here so the unit tests can run
// each class with mien::testing::ComponentRunner; plugin.cpp lists them in MIEN_PLUGIN.
//
// Every reader emits a sample table (plugins/CONVENTIONS.md): `id` (ID), `label` (LABEL,
// categories in the canonical order fear, anger, disgust, happy, neutral, sad, surprise,
// contempt, restricted to the classes present or to `classes`), GROUP columns, `path`
// (VALUE, absolute) where there are files; rows sorted by id. A file that cannot be used
// is listed in `skipped` (path, problem, reason) and warned about, never fatal.
#pragma once

#include <mien/plugin.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "reader_support.hpp"

namespace mien::datasets {

// "format": "input-path" on a parameter: the host hashes the files it names (a folder: every
// file below it) into the node's cache key, so a changed, added or removed file reruns the node.
inline const ::mien::Json kReadsFiles = {{"format", "input-path"}};

// Parameters several readers share (each reader declares its own copy: descriptions differ).
namespace params {
inline Param<std::vector<std::string>> classes() {
  return Param<std::vector<std::string>>(
      "classes", {},
      "Keep only these classes ([] = every class present); the label's categories are the kept classes in the "
      "canonical order fear, anger, disgust, happy, neutral, sad, surprise, contempt, whatever the order here");
}
inline Param<bool> verify_images() {
  return Param<bool>("verify_images", true,
                     "Check every image before using it: its first bytes, its end (a truncated JPEG or PNG) and a "
                     "decode with OpenCV; a bad file is skipped with the reason");
}
inline Param<Json> class_map(const std::string& codes, const std::string& defaults) {
  return Param<Json>("class_map", Json::object(),
                     "Overrides of the mapping from " + codes + " to canonical class names (null drops a code); " +
                         "entries replace the default one by one. Default: " + defaults)
      .json_schema(class_map_schema());
}
}  // namespace params

// Example config:
//
//   data:
//     use: dataset.kdef
//     with:
//       root: data/KDEF              # KDEF/AF01/AF01AFS.JPG, or the images directly under root
//       poses: [S, HL, HR]           # the paper's three poses
//       series: [A, B]
//       class_map: {AF: fear}        # only the codes to change
//       classes: []                  # [] = every class present
//       verify_images: true
//
// KDEF (Karolinska Directed Emotional Faces): 4,900 JPEGs named <series A|B><gender F|M>
// <person 01-35><expression AF AN DI HA NE SA SU><angle FL HL S HR FR>, e.g. AF01AFS.JPG.
// Groups: subject (gender + number, "F01"), pose, series.
class KdefDataset {
 public:
  static inline const Param<std::string> kRoot =
      Param<std::string>{
      "root", "KDEF folder (searched recursively for AF01AFS.JPG-style names); relative to the experiment file"}.json_schema(kReadsFiles);
  static inline const Param<std::vector<std::string>> kPoses{
      "poses", {"S", "HL", "HR"}, "Angles to keep, of S (straight), HL/HR (half left/right), FL/FR (full profile)"};
  static inline const Param<std::vector<std::string>> kSeries{"series", {"A", "B"},
                                                               "Photo series to keep (A and/or B)"};
  static inline const Param<Json> kClassMap = params::class_map(
      "the KDEF expression codes (AF AN DI HA NE SA SU)",
      "AF fear, AN anger, DI disgust, HA happy, NE neutral, SA sad, SU surprise");
  static inline const Param<std::vector<std::string>> kClasses = params::classes();
  static inline const Param<bool> kVerify = params::verify_images();

  static inline const Output kTable{"table", MIEN_VALUE_TABLE,
                                    "one row per image: id, label, subject, pose, series, path"};
  static inline const Output kSkipped{"skipped", MIEN_VALUE_TABLE,
                                      "files not used: path, problem, reason (misnamed, truncated, ...)"};
  static inline const Output kSummary{"summary", MIEN_VALUE_JSON,
                                      "counts per class and group value, skipped files by reason, the class map"};

  static ComponentInfo info();
  explicit KdefDataset(const Setup& s);
  void process(Context& ctx);

 private:
  fs::path root_;
  std::vector<std::string> poses_, series_, classes_;
  ClassMap class_map_;
  bool verify_;
  unsigned threads_;
};

// Example config:
//
//   data:
//     use: dataset.jaffe
//     with:
//       root: data/jaffe             # KA.AN1.39.tiff files, searched recursively
//       class_map: {FE: fear}
//       classes: []
//
// JAFFE: 213 grayscale TIFFs of 10 Japanese women, named <subject>.<code><take>.<number>
// with the codes NE HA SA SU AN DI FE, e.g. KA.AN1.39.tiff. Groups: subject ("KA").
class JaffeDataset {
 public:
  static inline const Param<std::string> kRoot =
      Param<std::string>{
      "root", "JAFFE folder (searched recursively for KA.AN1.39.tiff-style names); relative to the experiment file"}.json_schema(kReadsFiles);
  static inline const Param<Json> kClassMap =
      params::class_map("the JAFFE expression codes (NE HA SA SU AN DI FE)",
                        "FE fear, AN anger, DI disgust, HA happy, NE neutral, SA sad, SU surprise");
  static inline const Param<std::vector<std::string>> kClasses = params::classes();
  static inline const Param<bool> kVerify = params::verify_images();

  static inline const Output kTable{"table", MIEN_VALUE_TABLE, "one row per image: id, label, subject, path"};
  static inline const Output kSkipped{"skipped", MIEN_VALUE_TABLE, "files not used: path, problem, reason"};
  static inline const Output kSummary{"summary", MIEN_VALUE_JSON,
                                      "counts per class and subject, skipped files by reason, the class map"};

  static ComponentInfo info();
  explicit JaffeDataset(const Setup& s);
  void process(Context& ctx);

 private:
  fs::path root_;
  std::vector<std::string> classes_;
  ClassMap class_map_;
  bool verify_;
  unsigned threads_;
};

// Example config:
//
//   data:
//     use: dataset.ckplus
//     with:
//       root: data/CK+               # holds cohn-kanade-images/, Emotion/, Landmarks/
//       peak_frames: 3               # the last 3 frames of each labelled sequence
//       include_neutral: true        # plus its first frame, as neutral
//       use_landmarks: false         # true: CK+'s own 68 points as x0..x67, y0..y67
//       include_contempt: false
//
// CK+ (extended Cohn-Kanade): image sequences cohn-kanade-images/S005/001/S005_001_00000011.png
// from neutral to peak; 327 sequences are labelled by Emotion/S005/001/S005_001_00000011_emotion.txt
// (0 neutral, 1 anger, 2 contempt, 3 disgust, 4 fear, 5 happy, 6 sadness, 7 surprise), which
// names the sequence's peak frame. Unlabelled sequences are ignored (counted in the summary).
// Groups: subject ("S005"), sequence ("S005_001").
class CkplusDataset {
 public:
  static inline const Param<std::string> kRoot =
      Param<std::string>{
      "root", "CK+ folder holding cohn-kanade-images/ and Emotion/ (and Landmarks/); relative to the experiment file"}.json_schema(kReadsFiles);
  static inline const Param<int> kPeakFrames =
      Param<int>("peak_frames", 3,
                 "How many frames, ending at the labelled (peak) frame, each labelled sequence contributes with "
                 "its label")
          .min(1);
  static inline const Param<bool> kIncludeNeutral{
      "include_neutral", true, "Also use the first frame of each labelled sequence, labelled neutral (code 0)"};
  static inline const Param<bool> kUseLandmarks{
      "use_landmarks", false,
      "Add CK+'s own 68 landmarks (Landmarks/..._landmarks.txt) as VALUE columns x0..x67, y0..y67 in pixels; a "
      "frame without a valid file (68 lines of \"x y\") is skipped"};
  static inline const Param<bool> kIncludeContempt{
      "include_contempt", false, "Use the contempt sequences (code 2); false leaves them out (the 7-class setup)"};
  static inline const Param<Json> kClassMap = params::class_map(
      "the CK+ emotion codes (\"0\" to \"7\")",
      "0 neutral, 1 anger, 2 contempt, 3 disgust, 4 fear, 5 happy, 6 sad, 7 surprise");
  static inline const Param<std::vector<std::string>> kClasses = params::classes();
  static inline const Param<bool> kVerify = params::verify_images();

  static inline const Output kTable{"table", MIEN_VALUE_TABLE,
                                    "one row per frame used: id, label, subject, sequence, path (+ landmarks)"};
  static inline const Output kSkipped{"skipped", MIEN_VALUE_TABLE, "files not used: path, problem, reason"};
  static inline const Output kSummary{
      "summary", MIEN_VALUE_JSON, "counts per class and group value, sequences (labelled, unlabelled), skipped files"};

  static ComponentInfo info();
  explicit CkplusDataset(const Setup& s);
  void process(Context& ctx);

 private:
  fs::path root_, images_dir_, emotion_dir_, landmarks_dir_;
  int peak_frames_;
  bool include_neutral_, use_landmarks_, include_contempt_, verify_;
  std::vector<std::string> classes_;
  ClassMap class_map_;
  unsigned threads_;
};

// Example config:
//
//   data:
//     use: dataset.fer2013
//     with:
//       path: data/fer2013.csv       # columns emotion,pixels,Usage
//       usage: [Training]            # [] = every row
//       classes: []
//
// FER2013: 35,887 48x48 gray faces in one CSV, pixels space-separated; emotion codes
// 0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral. There are no image
// files, so the images travel as an IMAGE output beside the table (row i = image i) and
// the table has no `path`. Group: usage (Training, PublicTest, PrivateTest). A malformed
// row (wrong pixel count, a bad number) is skipped with its line number.
class Fer2013Dataset {
 public:
  static inline const Param<std::string> kPath =
      Param<std::string>{
      "path", "The fer2013.csv file (columns emotion, pixels and optionally Usage); relative to the experiment file"}.json_schema(kReadsFiles);
  static inline const Param<std::vector<std::string>> kUsage{
      "usage", {}, "Keep only rows whose Usage is one of these (Training, PublicTest, PrivateTest); [] = every row"};
  static inline const Param<Json> kClassMap = params::class_map(
      "the FER2013 emotion codes (\"0\" to \"6\")",
      "0 anger, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral");
  static inline const Param<std::vector<std::string>> kClasses = params::classes();

  static inline const Output kTable{"table", MIEN_VALUE_TABLE, "one row per face: id, label, usage"};
  static inline const Output kImages{"images", MIEN_VALUE_IMAGE,
                                     "uint8 [N, 48, 48, 1] gray faces, row i belonging to table row i"};
  static inline const Output kSkipped{"skipped", MIEN_VALUE_TABLE,
                                      "rows not used: path (file:line), problem, reason"};
  static inline const Output kSummary{"summary", MIEN_VALUE_JSON,
                                      "counts per class and usage, skipped rows by reason, the class map"};

  static ComponentInfo info();
  explicit Fer2013Dataset(const Setup& s);
  void process(Context& ctx);

 private:
  fs::path path_;
  std::vector<std::string> usage_, classes_;
  ClassMap class_map_;
};

// Example config:
//
//   data:
//     use: dataset.image_folder
//     with:
//       root: data/rafdb/train       # root/<class>/*.jpg
//       class_map: {"1": surprise, "2": fear, "3": disgust, "4": happy, "5": sad, "6": anger, "7": neutral}
//       subject_regex: "^(S[0-9]+)_"  # optional: first capture group = subject
//
// One subfolder per class, the common export of RAF-DB or AffectNet subsets; images
// (.jpg .jpeg .png .bmp .tif .tiff) may sit deeper inside a class folder. Folder names
// are matched ignoring case through class_map, whose defaults know the canonical names
// and their common spellings (angry, fearful, afraid, happiness, sadness, surprised,
// disgusted, ...). A folder that maps to nothing is an error; map it to null to leave it out.
//
// Pre-cropped faces (FER2013 exported as PNGs, CK+48, RAF-DB aligned): `faces: whole_image`
// decodes every crop (any size, gray or colour) into `images` [N, size, size, channels],
// stretched to the square (crops are square in these exports), so
//   in: {model: cnn.model, images: data.images, table: data.table}
// feeds eval.predict, model fine-tuning and Grad-CAM with no detection or landmarks.
class ImageFolderDataset {
 public:
  static inline const Param<std::string> kRoot =
      Param<std::string>{
      "root", "Folder with one subfolder per class; relative to the experiment file"}.json_schema(kReadsFiles);
  static inline const Param<Json> kClassMap = params::class_map(
      "class folder names (compared ignoring case)",
      "each canonical name maps to itself, plus fearful/afraid/scared -> fear, angry -> anger, disgusted -> "
      "disgust, happiness/joy -> happy, sadness -> sad, surprised -> surprise, contemptuous -> contempt");
  static inline const Param<std::string> kSubjectRegex{
      "subject_regex", "",
      "Regular expression (RE2 syntax: no backreferences or lookaround, linear time) searched in each file name; its "
      "first capture group (or the whole match) "
      "becomes the `subject` GROUP column. A file it does not match is skipped. \"\" = no subject column"};
  static inline const Param<std::vector<std::string>> kClasses = params::classes();
  static inline const Param<bool> kVerify = params::verify_images();
  static inline const Param<std::string> kFaces =
      Param<std::string>("faces", "detect",
                         "detect: the images are photographs; the table's paths go to detection and landmarks "
                         "(`images` stays empty). whole_image: every image is already a face crop (FER2013, CK+48, "
                         "RAF-DB exports): each is decoded, resized to size x size and emitted on `images`, so image "
                         "models, image explainers and heat maps take it without detection or landmarks")
          .one_of({"detect", "whole_image"});
  static inline const Param<int> kSize =
      Param<int>("size", 112, "whole_image: side of the emitted square crops in pixels (face-api takes any size and "
                              "resizes to 112 itself)")
          .range(8, 4096);
  static inline const Param<int> kChannels =
      Param<int>("channels", 3, "whole_image: 3 = RGB (gray crops are repeated into three channels), 1 = gray")
          .one_of({1, 3});

  static inline const Output kTable{"table", MIEN_VALUE_TABLE,
                                    "one row per image: id (path below root), label, subject (optional), path"};
  static inline const Output kImages{
      "images", MIEN_VALUE_IMAGE,
      "faces: whole_image: uint8 [N, size, size, channels], row i = table row i; otherwise [0, size, size, channels]"};
  static inline const Output kSkipped{"skipped", MIEN_VALUE_TABLE, "files not used: path, problem, reason"};
  static inline const Output kSummary{"summary", MIEN_VALUE_JSON,
                                      "counts per class (and subject), skipped files by reason, the class map"};

  static ComponentInfo info();
  explicit ImageFolderDataset(const Setup& s);
  void process(Context& ctx);

 private:
  fs::path root_;
  std::string subject_regex_;
  std::vector<std::string> classes_;
  ClassMap class_map_;
  bool verify_;
  bool whole_image_;
  int size_, channels_;
  unsigned threads_;
};

// Example config:
//
//   photo:
//     use: dataset.image_files
//     with:
//       files: [../third_party/astronaut/astronaut.jpg]   # relative to the experiment file
//       labels: [happy]                                   # optional, canonical names
//
// A few images to run through a pipeline (the demo's real photo). Label codes are -1
// (unknown) when no labels are given; an unreadable file is skipped with the reason.
class ImageFilesDataset {
 public:
  static inline const Param<std::vector<std::string>> kFiles =
      Param<std::vector<std::string>>{
      "files", "Image paths, relative to the experiment file"}.json_schema(kReadsFiles);
  static inline const Param<std::vector<std::string>> kLabels{
      "labels", {}, "One canonical class name per file ([] = unknown labels)"};
  static inline const Param<bool> kVerify = params::verify_images();
  static inline const Output kTable{"table", MIEN_VALUE_TABLE, "one row per image: id (file stem), label, path"};
  static inline const Output kSkipped{"skipped", MIEN_VALUE_TABLE, "files not used: path, problem, reason"};
  static inline const Output kSummary{"summary", MIEN_VALUE_JSON, "images listed and used, counts per class, skipped"};

  static ComponentInfo info();
  explicit ImageFilesDataset(const Setup& s);
  void process(Context& ctx);

 private:
  std::vector<std::string> paths_;
  std::vector<std::string> labels_;
  bool verify_;
};

}  // namespace mien::datasets
