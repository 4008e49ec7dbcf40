// Detection, landmarks and alignment on real photos: the NASA astronaut portrait shipped
// in third_party/astronaut and dlib's example faces with ground-truth landmarks.
#include <gtest/gtest.h>
#include <mien/testing.hpp>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "components.hpp"
#include "face_fixture.hpp"
#include "mien_face_geometry/alignment.hpp"

using mien::Table;
using mien::TableView;
using mien::Tensor;
using mien::testing::ComponentRunner;
using namespace mien::face;
namespace fs = std::filesystem;

namespace {

const char* kAstronaut = MIEN_FACE_ASTRONAUT;

// (179,83)-(266,170): the astronaut's face.
double iou_with_astronaut_face(double x, double y, double w, double h) {
  const double ax0 = 179, ay0 = 83, ax1 = 266, ay1 = 170;
  const double ix = std::max(0.0, std::min(x + w, ax1) - std::max(x, ax0));
  const double iy = std::max(0.0, std::min(y + h, ay1) - std::max(y, ay0));
  const double inter = ix * iy;
  return inter / (w * h + (ax1 - ax0) * (ay1 - ay0) - inter);
}

Table path_table(const std::vector<std::string>& paths) {
  Table t(static_cast<int64_t>(paths.size()));
  std::vector<std::string> ids, subjects;
  std::vector<int64_t> labels;
  for (size_t i = 0; i < paths.size(); ++i) {
    ids.push_back("img" + std::to_string(i));
    subjects.push_back("S" + std::to_string(i % 2));
    labels.push_back(static_cast<int64_t>(i % 2));
  }
  t.add_strings("id", MIEN_ROLE_ID, ids);
  t.add_codes("label", MIEN_ROLE_LABEL, labels, {"happy", "neutral"});
  t.add_strings("subject", MIEN_ROLE_GROUP, subjects);
  t.add_strings("path", MIEN_ROLE_VALUE, paths);
  return t;
}

// A fresh folder under the system temp folder, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("mien-face-test-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::vector<char> file_bytes(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& p, const char* data, size_t n) {
  std::ofstream f(p, std::ios::binary);
  f.write(data, static_cast<std::streamsize>(n));
}

// The astronaut as an RGB IMAGE tensor [1, 512, 512, 3].
Tensor astronaut_tensor() {
  cv::Mat bgr = cv::imread(kAstronaut, cv::IMREAD_COLOR), rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  Tensor t = Tensor::zeros<uint8_t>({1, rgb.rows, rgb.cols, 3});
  std::memcpy(t.data<uint8_t>(), rgb.data, static_cast<size_t>(rgb.rows) * rgb.cols * 3);
  return t;
}

}  // namespace

TEST(Detect, DlibHogFindsTheAstronautsFace) {
  ComponentRunner<DetectDlibHog> r;  // defaults: fast pass at max_side 400, select largest
  r.set_input("table", path_table({kAstronaut}));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const TableView out = r.table("table");
  ASSERT_EQ(out.num_rows(), 1);
  const double x = out.get("face_x").number(0), y = out.get("face_y").number(0);
  const double w = out.get("face_w").number(0), h = out.get("face_h").number(0);
  EXPECT_GT(iou_with_astronaut_face(x, y, w, h), 0.5) << x << "," << y << " " << w << "x" << h;
  EXPECT_GT(out.get("face_score").number(0), 0.0);
  EXPECT_EQ(out.get("image_index").code(0), 0);
  EXPECT_EQ(out.get("id").text(0), "img0");
  EXPECT_EQ(out.get("subject").text(0), "S0");
  EXPECT_EQ(out.get("path").text(0), kAstronaut);
  EXPECT_EQ(r.table("skipped").num_rows(), 0);

  // Full resolution with upsampling finds the same face.
  ComponentRunner<DetectDlibHog> full({{"upsample", 1}, {"max_side", 0}});
  full.set_input("table", path_table({kAstronaut}));
  ASSERT_EQ(full.run(), MIEN_OK) << full.error();
  const TableView o2 = full.table("table");
  ASSERT_EQ(o2.num_rows(), 1);
  EXPECT_GT(iou_with_astronaut_face(o2.get("face_x").number(0), o2.get("face_y").number(0),
                                    o2.get("face_w").number(0), o2.get("face_h").number(0)),
            0.5);
}

// KDEF-sized canvas with the portrait pasted unchanged (face 87 px): the fast pass at
// max_side 400 sees a 46 px face, too small for the HOG window, so the thorough pass runs.
TEST(Detect, SmallFacesAreFoundByTheFullResolutionPass) {
  TempDir tmp;
  cv::Mat padded(762, 562, CV_8UC3, cv::Scalar(128, 128, 128));
  cv::imread(kAstronaut, cv::IMREAD_COLOR).copyTo(padded(cv::Rect(25, 125, 512, 512)));
  const fs::path p = tmp.path / "padded.png";
  cv::imwrite(p.string(), padded);
  ComponentRunner<DetectDlibHog> r;
  r.set_input("table", path_table({p.string()}));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  ASSERT_EQ(r.table("table").num_rows(), 1);
  const TableView out = r.table("table");
  EXPECT_GT(iou_with_astronaut_face(out.get("face_x").number(0) - 25, out.get("face_y").number(0) - 125,
                                    out.get("face_w").number(0), out.get("face_h").number(0)),
            0.5);
  // Without the thorough pass's upsampling (and with min_size above it) nothing is kept.
  ComponentRunner<DetectDlibHog> coarse({{"upsample", 0}, {"min_size", 120}});
  coarse.set_input("table", path_table({p.string()}));
  ASSERT_EQ(coarse.run(), MIEN_OK) << coarse.error();
  EXPECT_EQ(coarse.table("table").num_rows(), 0);
  EXPECT_EQ(coarse.table("skipped").get("reason").text(0), "no face of at least min_size = 120 px");
}

TEST(Detect, OpenCvHaarFindsTheAstronautsFace) {
  ComponentRunner<DetectOpencvHaar> r;
  r.set_input("table", path_table({kAstronaut}));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const TableView out = r.table("table");
  ASSERT_EQ(out.num_rows(), 1);
  const double x = out.get("face_x").number(0), y = out.get("face_y").number(0);
  const double w = out.get("face_w").number(0), h = out.get("face_h").number(0);
  EXPECT_GT(iou_with_astronaut_face(x, y, w, h), 0.5) << x << "," << y << " " << w << "x" << h;
}

TEST(Detect, HaarRejectsAMissingCascadeByName) {
  EXPECT_THROW(
      {
        ComponentRunner<DetectOpencvHaar> r({{"cascade", "/nonexistent/cascade.xml"}});
        r.set_input("table", path_table({kAstronaut}));
        if (r.run() != MIEN_OK) throw mien::Error(r.error());
      },
      mien::Error);
  ComponentRunner<DetectOpencvHaar> r({{"cascade", "/nonexistent/cascade.xml"}});
  r.set_input("table", path_table({kAstronaut}));
  EXPECT_EQ(r.run(), MIEN_ERR_IO);
  EXPECT_NE(r.error().find("parameter 'cascade'"), std::string::npos) << r.error();
}

TEST(Detect, ImagesTensorWorksInsteadOfPaths) {
  ComponentRunner<DetectDlibHog> r;
  Table t(1);
  t.add_strings("id", MIEN_ROLE_ID, {"astro"});
  r.set_input("table", std::move(t));
  r.set_input("images", astronaut_tensor(), MIEN_PIXEL_RGB);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const TableView out = r.table("table");
  ASSERT_EQ(out.num_rows(), 1);
  EXPECT_GT(iou_with_astronaut_face(out.get("face_x").number(0), out.get("face_y").number(0),
                                    out.get("face_w").number(0), out.get("face_h").number(0)),
            0.5);
  // Without paths or images the error names both.
  ComponentRunner<DetectDlibHog> none;
  Table t2(1);
  t2.add_strings("id", MIEN_ROLE_ID, {"astro"});
  none.set_input("table", std::move(t2));
  EXPECT_EQ(none.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(none.error().find("'path'"), std::string::npos) << none.error();
}

TEST(Detect, UnreadableTruncatedMissingAndFacelessImagesAreSkippedWithReasons) {
  TempDir tmp;
  const std::vector<char> jpeg = file_bytes(kAstronaut);
  ASSERT_GT(jpeg.size(), 10000u);
  const fs::path truncated = tmp.path / "truncated.jpg", garbage = tmp.path / "garbage.jpg",
                 blank = tmp.path / "blank.png", missing = tmp.path / "missing.jpg";
  write_bytes(truncated, jpeg.data(), jpeg.size() * 2 / 5);
  std::string junk(5000, '\0');
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>((i * 7919) % 251);
  write_bytes(garbage, junk.data(), junk.size());
  cv::imwrite(blank.string(), cv::Mat(200, 300, CV_8UC1, cv::Scalar(128)));

  for (int detector = 0; detector < 2; ++detector) {
    std::unique_ptr<mien::testing::Runner> r;
    if (detector == 0) r = std::make_unique<ComponentRunner<DetectDlibHog>>();
    else r = std::make_unique<ComponentRunner<DetectOpencvHaar>>();
    r->set_input("table", path_table({truncated.string(), kAstronaut, garbage.string(), missing.string(),
                                      blank.string(), ""}));
    ASSERT_EQ(r->run(), MIEN_OK) << r->error();
    const TableView out = r->table("table");
    ASSERT_EQ(out.num_rows(), 1);
    EXPECT_EQ(out.get("id").text(0), "img1");
    EXPECT_EQ(out.get("image_index").code(0), 1);
    const TableView skipped = r->table("skipped");
    ASSERT_EQ(skipped.num_rows(), 5);
    EXPECT_EQ(skipped.get("id").role(), MIEN_ROLE_ID);
    const auto ids = skipped.get("id").texts();
    const auto reasons = skipped.get("reason").texts();
    EXPECT_EQ(ids, (std::vector<std::string>{"img0", "img2", "img3", "img4", "img5"}));
    EXPECT_NE(reasons[0].find("truncated JPEG"), std::string::npos) << reasons[0];
    EXPECT_NE(reasons[1].find("not a decodable"), std::string::npos) << reasons[1];
    EXPECT_NE(reasons[2].find("cannot read file"), std::string::npos) << reasons[2];
    EXPECT_EQ(reasons[3], "no face found");
    EXPECT_EQ(reasons[4], "empty path");
    EXPECT_TRUE(r->logged("skipped 'img0': truncated JPEG", MIEN_LOG_WARNING));
    EXPECT_TRUE(r->logged("skipped 5 of 6 rows", MIEN_LOG_WARNING));
  }
}

TEST(Detect, ResultsDoNotDependOnTheThreadCount) {
  const std::vector<std::string> paths = {kAstronaut, "/nonexistent.jpg", kAstronaut, kAstronaut};
  ComponentRunner<DetectDlibHog> one;
  one.set_input("table", path_table(paths));
  ASSERT_EQ(one.run(), MIEN_OK) << one.error();
  ComponentRunner<DetectDlibHog> two;
  two.set_num_threads(2);
  two.set_input("table", path_table(paths));
  ASSERT_EQ(two.run(), MIEN_OK) << two.error();
  const TableView a = one.table("table"), b = two.table("table");
  ASSERT_EQ(a.num_rows(), 3);
  ASSERT_EQ(b.num_rows(), 3);
  for (const char* c : {"face_x", "face_y", "face_w", "face_h", "face_score"})
    for (int64_t i = 0; i < 3; ++i) EXPECT_EQ(a.get(c).number(i), b.get(c).number(i)) << c;
  EXPECT_EQ(a.get("id").texts(), b.get("id").texts());
}

TEST(Detect, SelectAllGivesOneRowPerFaceWithUniqueIds) {
  const fs::path photo = fs::path(face_test::dlib_faces_dir()) / "bald_guys.jpg";
  if (!fs::exists(photo)) GTEST_SKIP() << photo << " is absent (/usr/share/doc stripped)";
  ComponentRunner<DetectDlibHog> r({{"select", "all"}, {"max_side", 0}, {"upsample", 1}});
  r.set_input("table", path_table({photo.string()}));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const TableView out = r.table("table");
  ASSERT_GE(out.num_rows(), 3);
  EXPECT_EQ(out.get("id").text(0), "img0");
  EXPECT_EQ(out.get("id").text(1), "img0#1");
  EXPECT_EQ(out.get("face_index").code(2), 2);
  for (int64_t i = 0; i < out.num_rows(); ++i) EXPECT_EQ(out.get("image_index").code(i), 0);
  ComponentRunner<DetectDlibHog> largest({{"select", "largest"}, {"max_side", 0}, {"upsample", 1}});
  largest.set_input("table", path_table({photo.string()}));
  ASSERT_EQ(largest.run(), MIEN_OK) << largest.error();
  double max_area = 0;
  for (int64_t i = 0; i < out.num_rows(); ++i)
    max_area = std::max(max_area, out.get("face_w").number(i) * out.get("face_h").number(i));
  ASSERT_EQ(largest.table("table").num_rows(), 1);
  EXPECT_DOUBLE_EQ(largest.table("table").get("face_w").number(0) * largest.table("table").get("face_h").number(0),
                   max_area);
}

// dlib's example faces come with boxes and the 68 landmarks of the same model: running
// the predictor on the given boxes must reproduce them.
TEST(Landmarks, MatchDlibsGroundTruthOnItsExampleFaces) {
  const fs::path dir = face_test::dlib_faces_dir();
  const fs::path xml = dir / "testing_with_face_landmarks.xml";
  if (!fs::exists(xml)) GTEST_SKIP() << xml << " is absent (/usr/share/doc stripped)";
  std::stringstream ss;
  ss << std::ifstream(xml).rdbuf();
  const std::string s = ss.str();
  auto attr = [](const std::string& tag, const std::string& name) {
    const size_t p = tag.find(name + "='");
    if (p == std::string::npos) return std::string();
    const size_t b = p + name.size() + 2;
    return tag.substr(b, tag.find('\'', b) - b);
  };
  std::vector<std::string> paths;
  std::vector<double> bx, by, bw, bh;
  std::vector<std::vector<double>> truth;
  std::string file;
  for (size_t pos = 0; (pos = s.find('<', pos)) != std::string::npos; ++pos) {
    const std::string tag = s.substr(pos, s.find('>', pos) - pos);
    if (tag.rfind("<image ", 0) == 0) file = attr(tag, "file");
    if (tag.rfind("<box ", 0) == 0) {
      paths.push_back((dir / file).string());
      bx.push_back(std::stod(attr(tag, "left")));
      by.push_back(std::stod(attr(tag, "top")));
      bw.push_back(std::stod(attr(tag, "width")));
      bh.push_back(std::stod(attr(tag, "height")));
      truth.emplace_back(136, NAN);
    }
    if (tag.rfind("<part ", 0) == 0) {
      const int k = std::stoi(attr(tag, "name"));
      truth.back()[static_cast<size_t>(2 * k)] = std::stod(attr(tag, "x"));
      truth.back()[static_cast<size_t>(2 * k + 1)] = std::stod(attr(tag, "y"));
    }
  }
  ASSERT_GE(paths.size(), 20u);
  Table t = path_table(paths);
  t.add_numbers("face_x", MIEN_ROLE_VALUE, bx);
  t.add_numbers("face_y", MIEN_ROLE_VALUE, by);
  t.add_numbers("face_w", MIEN_ROLE_VALUE, bw);
  t.add_numbers("face_h", MIEN_ROLE_VALUE, bh);
  ComponentRunner<LandmarksDlib68> r;
  r.set_input("table", std::move(t));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const TableView out = r.table("table");
  ASSERT_EQ(out.num_rows(), static_cast<int64_t>(paths.size()));
  double sum_rel = 0;
  for (int64_t i = 0; i < out.num_rows(); ++i) {
    const auto& g = truth[static_cast<size_t>(i)];
    double l[2], rr[2];
    eye_centres(g.data(), l, rr);
    const double iod = std::hypot(rr[0] - l[0], rr[1] - l[1]);
    double err = 0;
    for (int k = 0; k < 68; ++k)
      err += std::hypot(out.get("x" + std::to_string(k)).number(i) - g[static_cast<size_t>(2 * k)],
                        out.get("y" + std::to_string(k)).number(i) - g[static_cast<size_t>(2 * k + 1)]);
    sum_rel += err / 68 / iod;
  }
  const double mean_rel = sum_rel / static_cast<double>(out.num_rows());
  EXPECT_LT(mean_rel, 0.02) << "mean landmark error " << 100 * mean_rel << "% of the inter-ocular distance";
  RecordProperty("mean_error_percent_iod", std::to_string(100 * mean_rel));
}

TEST(Landmarks, RowsWithoutAUsableBoxOrImageAreSkipped) {
  Table t = path_table({kAstronaut, kAstronaut, "/nonexistent/x.jpg"});
  t.add_numbers("face_x", MIEN_ROLE_VALUE, {180, NAN, 180});
  t.add_numbers("face_y", MIEN_ROLE_VALUE, {85, 85, 85});
  t.add_numbers("face_w", MIEN_ROLE_VALUE, {86, 86, 86});
  t.add_numbers("face_h", MIEN_ROLE_VALUE, {86, 86, 86});
  ComponentRunner<LandmarksDlib68> r;
  r.set_input("table", std::move(t));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  ASSERT_EQ(r.table("table").num_rows(), 1);
  const auto reasons = r.table("skipped").get("reason").texts();
  ASSERT_EQ(reasons.size(), 2u);
  EXPECT_NE(reasons[0].find("no valid face box"), std::string::npos);
  EXPECT_NE(reasons[1].find("cannot read file"), std::string::npos);
  // The 68 points sit inside a slightly enlarged box, eyes above the mouth.
  const TableView out = r.table("table");
  for (int k = 0; k < 68; ++k) {
    EXPECT_GT(out.get("x" + std::to_string(k)).number(0), 150);
    EXPECT_LT(out.get("x" + std::to_string(k)).number(0), 300);
  }
  EXPECT_LT(out.get("y37").number(0), out.get("y57").number(0));
}

TEST(Landmarks, AMissingModelIsAnIoErrorNamingTheParameter) {
  ComponentRunner<LandmarksDlib68> r({{"model", "/nonexistent/model.dat"}});
  r.set_input("table", path_table({kAstronaut}));
  EXPECT_EQ(r.run(), MIEN_ERR_IO);
  EXPECT_NE(r.error().find("parameter 'model'"), std::string::npos) << r.error();
}

TEST(Align, RoundTripEyesLevelAndCrops) {
  ComponentRunner<DetectDlibHog> det;
  det.set_input("table", path_table({kAstronaut}));
  ASSERT_EQ(det.run(), MIEN_OK) << det.error();
  ComponentRunner<LandmarksDlib68> lm;
  lm.set_input("table", det.table("table"));
  ASSERT_EQ(lm.run(), MIEN_OK) << lm.error();
  const TableView original = lm.table("table");
  ASSERT_EQ(original.num_rows(), 1);

  ComponentRunner<AlignEyes> r;  // size 128, eye_distance 0.35, eye_y 0.38, gray
  r.set_input("table", original);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const TableView out = r.table("table");
  ASSERT_EQ(out.num_rows(), 1);
  EXPECT_EQ(out.get("id").text(0), "img0");
  EXPECT_EQ(out.get("label").role(), MIEN_ROLE_LABEL);
  EXPECT_FALSE(out.find("face_x").has_value());
  EXPECT_EQ(out.get("image_index").code(0), 0);

  // The inverse of the stored affine maps the crop landmarks back onto the originals.
  Affine2x3 t;
  const char* names[6] = {"align_t00", "align_t01", "align_t02", "align_t10", "align_t11", "align_t12"};
  for (int k = 0; k < 6; ++k) t[static_cast<size_t>(k)] = out.get(names[k]).number(0);
  const auto inv = invert_affine(t);
  ASSERT_TRUE(inv.has_value());
  std::vector<double> crop_xy(136), orig_xy(136);
  for (int k = 0; k < 68; ++k) {
    crop_xy[static_cast<size_t>(2 * k)] = out.get("x" + std::to_string(k)).number(0);
    crop_xy[static_cast<size_t>(2 * k + 1)] = out.get("y" + std::to_string(k)).number(0);
    orig_xy[static_cast<size_t>(2 * k)] = original.get("x" + std::to_string(k)).number(0);
    orig_xy[static_cast<size_t>(2 * k + 1)] = original.get("y" + std::to_string(k)).number(0);
    double bx, by;
    apply_affine(*inv, crop_xy[static_cast<size_t>(2 * k)], crop_xy[static_cast<size_t>(2 * k + 1)], bx, by);
    EXPECT_NEAR(bx, orig_xy[static_cast<size_t>(2 * k)], 1e-6) << k;
    EXPECT_NEAR(by, orig_xy[static_cast<size_t>(2 * k + 1)], 1e-6) << k;
  }
  // Eyes level, 0.35 * 128 apart, their midpoint at (64, 0.38 * 128).
  double l[2], rr[2];
  eye_centres(crop_xy.data(), l, rr);
  EXPECT_NEAR(l[1], rr[1], 1e-9);
  EXPECT_NEAR(rr[0] - l[0], 0.35 * 128, 1e-9);
  EXPECT_NEAR((l[0] + rr[0]) / 2, 64.0, 1e-9);
  EXPECT_NEAR(l[1], 0.38 * 128, 1e-9);
  // The stored affine is a similarity (rotation + uniform scale).
  EXPECT_NEAR(t[0], t[4], 1e-12);
  EXPECT_NEAR(t[1], -t[3], 1e-12);

  // The crop: gray uint8 [1,128,128,1], the face (not the black border) in the middle,
  // and the crop's pixel at a landmark equals the original's pixel at the mapped point.
  const auto& img = r.output("images");
  EXPECT_EQ(img.pixel_format, MIEN_PIXEL_GRAY);
  const mien::TensorView v = r.tensor("images");
  EXPECT_EQ(v.shape(), (std::vector<int64_t>{1, 128, 128, 1}));
  double centre = 0;
  for (int y = 54; y < 74; ++y)
    for (int x = 54; x < 74; ++x) centre += v.at(y * 128 + x);
  EXPECT_GT(centre / 400.0, 40.0);
  cv::Mat gray = cv::imread(kAstronaut, cv::IMREAD_GRAYSCALE);
  int close = 0;
  for (int k = 0; k < 68; ++k) {
    const int cx = static_cast<int>(std::lround(crop_xy[static_cast<size_t>(2 * k)]));
    const int cy = static_cast<int>(std::lround(crop_xy[static_cast<size_t>(2 * k + 1)]));
    if (cx < 0 || cy < 0 || cx >= 128 || cy >= 128) continue;
    double ox, oy;
    apply_affine(*inv, cx, cy, ox, oy);
    const double crop_px = v.at(cy * 128 + cx);
    const double orig_px = gray.at<uint8_t>(static_cast<int>(std::lround(oy)), static_cast<int>(std::lround(ox)));
    close += std::fabs(crop_px - orig_px) < 25;
  }
  EXPECT_GE(close, 55);

  // Colour crops: RGB, 3 channels, other size.
  ComponentRunner<AlignEyes> colour({{"gray", false}, {"size", 96}});
  colour.set_input("table", original);
  ASSERT_EQ(colour.run(), MIEN_OK) << colour.error();
  EXPECT_EQ(colour.output("images").pixel_format, MIEN_PIXEL_RGB);
  EXPECT_EQ(colour.tensor("images").shape(), (std::vector<int64_t>{1, 96, 96, 3}));
}

TEST(Align, UsesTheImagesTensorAndSkipsDegenerateEyes) {
  Table t(2);
  t.add_strings("id", MIEN_ROLE_ID, {"a", "b"});
  std::vector<double> face = face_test::similarity(face_test::template_face(), 10, 2.0, 150, 60);
  for (int d = 0; d < 2; ++d)
    for (int k = 0; k < 68; ++k)
      t.add_numbers((d ? "y" : "x") + std::to_string(k), MIEN_ROLE_VALUE,
                    {face[static_cast<size_t>(2 * k + d)], 7.0});  // row b: every point at (7, 7)
  t.add_codes("image_index", MIEN_ROLE_VALUE, {0, 0});
  ComponentRunner<AlignEyes> r;
  r.set_input("table", std::move(t));
  r.set_input("images", astronaut_tensor(), MIEN_PIXEL_RGB);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  ASSERT_EQ(r.table("table").num_rows(), 1);
  EXPECT_EQ(r.tensor("images").dim(0), 1);
  ASSERT_EQ(r.table("skipped").num_rows(), 1);
  EXPECT_EQ(r.table("skipped").get("id").text(0), "b");
  EXPECT_NE(r.table("skipped").get("reason").text(0).find("eye centres coincide"), std::string::npos);
}

TEST(Chain, AstronautToGeometricFeatures) {
  ComponentRunner<DetectDlibHog> det;
  det.set_input("table", path_table({kAstronaut}));
  ASSERT_EQ(det.run(), MIEN_OK) << det.error();
  ComponentRunner<LandmarksDlib68> lm;
  lm.set_input("table", det.table("table"));
  ASSERT_EQ(lm.run(), MIEN_OK) << lm.error();
  ComponentRunner<AlignEyes> al;
  al.set_input("table", lm.table("table"));
  ASSERT_EQ(al.run(), MIEN_OK) << al.error();
  ComponentRunner<FeaturesGeometric> fe;
  fe.set_input("table", al.table("table"));
  ASSERT_EQ(fe.run(), MIEN_OK) << fe.error();
  const TableView f = fe.table("table");
  ASSERT_EQ(f.num_rows(), 1);
  ASSERT_EQ(f.feature_names().size(), 40u);
  for (const auto& c : f.with_role(MIEN_ROLE_FEATURE)) EXPECT_TRUE(std::isfinite(c.number(0))) << c.name();
  EXPECT_FALSE(fe.logged("degenerate"));
  // A smiling, upright face: a wide mouth, eyes about level, eye aspect ratio in a human range.
  EXPECT_GT(f.get("mouth_aspect_ratio").number(0), 1.5);
  EXPECT_GT(f.get("eye_aspect_ratio_l").number(0), 1.5);
  EXPECT_LT(f.get("eye_aspect_ratio_l").number(0), 6.0);
  EXPECT_GT(f.get("nose_tip_mouth_corner_angle_l").number(0), 20.0);
  EXPECT_LT(f.get("nose_tip_mouth_corner_angle_l").number(0), 80.0);
}
