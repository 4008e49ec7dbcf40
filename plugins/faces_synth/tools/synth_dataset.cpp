// mien-synth-dataset: writes dataset.synthetic_faces faces to disk under the exact folder
// and file naming of KDEF, JAFFE or CK+, so the dataset readers and the configs that use
// them (configs/paper_kdef.yaml, jaffe.yaml, ckplus.yaml) can run without the real data.
//
//   mien-synth-dataset --layout kdef|jaffe|ckplus --out DIR [--subjects N] [--size WxH]
//                      [--seed S] [--poses S,HL,HR] [--takes T] [--frames F]
//                      [--landmarks] [--manifest FILE]
//
// Deterministic: the same options write byte-identical files (the generator is seeded,
// OpenCV's encoders are deterministic). Prints one JSON line: layout, files, samples.
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "generator.hpp"

namespace fs = std::filesystem;
using namespace mien::faces_synth;

namespace {

struct Args {
  std::string layout, out, manifest;
  int subjects = -1;  // -1: the layout's default
  int width = -1, height = -1;
  uint64_t seed = 1;
  std::vector<std::string> poses = {"S", "HL", "HR"};
  int takes = 3;    // JAFFE: images per subject and expression
  int frames = 8;   // CK+: frames per sequence (neutral ... peak)
  bool landmarks = false;  // CK+: also write Landmarks/
};

const char* kUsage =
    "usage: mien-synth-dataset --layout kdef|jaffe|ckplus --out DIR [options]\n"
    "  --subjects N     people (kdef 70 max, default 6; jaffe default 10; ckplus default 10)\n"
    "  --size WxH       image size (default kdef 192x256, jaffe 128x128, ckplus 200x160;\n"
    "                   the real sets: 562x762, 256x256, 640x490)\n"
    "  --seed S         generator seed (default 1)\n"
    "  --poses LIST     kdef: comma-separated angles of S,HL,HR (default S,HL,HR; FL/FR are\n"
    "                   not rendered by the generator)\n"
    "  --takes T        jaffe: images per subject and expression (default 3)\n"
    "  --frames F       ckplus: frames per sequence, neutral to peak (default 8, >= 2)\n"
    "  --landmarks      ckplus: also write Landmarks/ (68 points per frame)\n"
    "  --manifest FILE  write the list of written files (JSON) there\n";

[[noreturn]] void fail(const std::string& msg) { throw std::runtime_error(msg); }

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t b = 0;
  while (b <= s.size()) {
    const size_t e = s.find(',', b);
    const std::string item = s.substr(b, e == std::string::npos ? std::string::npos : e - b);
    if (!item.empty()) out.push_back(item);
    if (e == std::string::npos) break;
    b = e + 1;
  }
  return out;
}

int parse_int(const std::string& opt, const std::string& v, int lo, int hi) {
  size_t used = 0;
  int x = 0;
  try {
    x = std::stoi(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || x < lo || x > hi)
    fail(opt + " expects an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got '" + v + "'");
  return x;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "-h" || k == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (k == "--landmarks") {
      a.landmarks = true;
      continue;
    }
    if (i + 1 >= argc) fail("option " + k + " needs a value");
    const std::string v = argv[++i];
    if (k == "--layout") {
      a.layout = v;
    } else if (k == "--out") {
      a.out = v;
    } else if (k == "--manifest") {
      a.manifest = v;
    } else if (k == "--subjects") {
      a.subjects = parse_int(k, v, 1, 100000);
    } else if (k == "--seed") {
      try {
        size_t used = 0;
        a.seed = std::stoull(v, &used);
        if (used != v.size()) throw std::invalid_argument(v);
      } catch (const std::exception&) {
        fail("--seed expects a non-negative integer, got '" + v + "'");
      }
    } else if (k == "--size") {
      const size_t x = v.find('x');
      if (x == std::string::npos) fail("--size expects WxH, e.g. 192x256, got '" + v + "'");
      a.width = parse_int(k, v.substr(0, x), 32, 8192);
      a.height = parse_int(k, v.substr(x + 1), 32, 8192);
    } else if (k == "--poses") {
      a.poses = split_list(v);
    } else if (k == "--takes") {
      a.takes = parse_int(k, v, 1, 99);
    } else if (k == "--frames") {
      a.frames = parse_int(k, v, 2, 999);
    } else {
      fail("unknown option '" + k + "'\n" + kUsage);
    }
  }
  if (a.layout != "kdef" && a.layout != "jaffe" && a.layout != "ckplus")
    fail("--layout must be kdef, jaffe or ckplus, got '" + a.layout + "'");
  if (a.out.empty()) fail("--out DIR is required");
  return a;
}

// Renders at the shorter side (the generator draws square faces) and pads the longer side
// by repeating the border, so the face sits centred as in the real photos. Returns the
// offset of the square inside the canvas, for the landmarks.
cv::Mat to_canvas(const uint8_t* square, int side, int width, int height, bool colour, cv::Point& offset) {
  cv::Mat sq(side, side, CV_8U, const_cast<uint8_t*>(square));
  const int top = (height - side) / 2, left = (width - side) / 2;
  offset = {left, top};
  cv::Mat canvas;
  cv::copyMakeBorder(sq, canvas, top, height - side - top, left, width - side - left, cv::BORDER_REPLICATE);
  if (colour) {
    cv::Mat bgr;
    cv::cvtColor(canvas, bgr, cv::COLOR_GRAY2BGR);
    return bgr;
  }
  return canvas;
}

class Writer {
 public:
  explicit Writer(fs::path root) : root_(std::move(root)) {}
  void image(const fs::path& rel, const cv::Mat& img, const std::vector<int>& params = {}) {
    const fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    if (!cv::imwrite(p.string(), img, params)) fail("cannot write " + p.string());
    files_.push_back(rel.generic_string());
    ++images_;
  }
  void text(const fs::path& rel, const std::string& body) {
    const fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream f(p, std::ios::binary);
    f << body;
    if (!f) fail("cannot write " + p.string());
    files_.push_back(rel.generic_string());
  }
  const std::vector<std::string>& files() const { return files_; }
  size_t images() const { return images_; }

 private:
  fs::path root_;
  std::vector<std::string> files_;
  size_t images_ = 0;
};

std::string two_digits(int n) {
  char b[16];
  std::snprintf(b, sizeof b, "%02d", n);
  return b;
}

// KDEF: KDEF/<series><gender><nn>/<series><gender><nn><expr><angle>.JPG; series A and B
// are two renderings of the same person (repeat 0 and 1), subjects alternate F01, M01,
// F02, M02, ... so any N keeps the genders balanced.
nlohmann::json write_kdef(const Args& a, Writer& w) {
  const int n = a.subjects < 0 ? 6 : a.subjects;
  if (n > 70) fail("--subjects: KDEF names allow 70 people (F01-F35, M01-M35), got " + std::to_string(n));
  const int W = a.width < 0 ? 192 : a.width, H = a.height < 0 ? 256 : a.height;
  if (a.poses.empty()) fail("--poses: give at least one of S, HL, HR");
  std::set<std::string> seen;
  for (const auto& p : a.poses) {
    if (p == "FL" || p == "FR")
      fail("--poses: the synthetic generator renders S, HL and HR only (at most +-30 degrees); "
           "full profiles " + p + " are not available");
    if (p != "S" && p != "HL" && p != "HR") fail("--poses: unknown KDEF angle '" + p + "'; use S, HL or HR");
    if (!seen.insert(p).second) fail("--poses lists '" + p + "' twice");
  }
  const int side = std::min(W, H);
  // one pose at a time keeps memory at a third; identities depend on the seed only, so a
  // person looks the same in every pose and series
  for (const auto& pose : a.poses) {
    Options o;
    o.identities = n;
    o.repeats = 2;
    o.poses = {pose};
    o.kdef_labels = true;
    o.size = side;
    o.masks = false;
    o.threads = 2;
    const Dataset d = generate(o, a.seed);
    const size_t px = static_cast<size_t>(side) * side;
    for (size_t k = 0; k < d.samples.size(); ++k) {
      const Sample& s = d.samples[k];
      const std::string person = std::string(s.identity % 2 == 0 ? "F" : "M") + two_digits(s.identity / 2 + 1);
      const std::string dir = std::string(s.repeat == 0 ? "A" : "B") + person;
      cv::Point off;
      const cv::Mat img = to_canvas(d.images.data() + k * px, side, W, H, true, off);
      w.image(fs::path("KDEF") / dir / (dir + label_name(s.cls, true) + pose + ".JPG"), img,
              {cv::IMWRITE_JPEG_QUALITY, 92});
    }
  }
  return {{"subjects", n}, {"series", 2}, {"poses", a.poses}, {"size", {W, H}}};
}

// JAFFE: <subject>.<code><take>.<number>.tiff, grey; the ten real subjects' initials first,
// then further two-letter codes; `number` runs over the whole set as in JAFFE.
nlohmann::json write_jaffe(const Args& a, Writer& w) {
  static const char* kSubjects[] = {"KA", "KL", "KM", "KR", "MK", "NA", "NM", "TM", "UY", "YM"};
  static const char* kCodes[] = {"FE", "AN", "DI", "HA", "NE", "SA", "SU"};  // canonical class order
  const int n = a.subjects < 0 ? 10 : a.subjects;
  if (n > 26 * 26) fail("--subjects: JAFFE subject codes are two letters, at most 676 people");
  const int W = a.width < 0 ? 128 : a.width, H = a.height < 0 ? 128 : a.height;
  const int side = std::min(W, H);
  Options o;
  o.identities = n;
  o.repeats = a.takes;
  o.poses = {"S"};
  o.size = side;
  o.masks = false;
  o.threads = 2;
  const Dataset d = generate(o, a.seed);
  const size_t px = static_cast<size_t>(side) * side;
  // the real ten first, then AA, AB, ... skipping the real ones (the reader wants two letters)
  std::vector<std::string> codes(kSubjects, kSubjects + 10);
  for (int j = 0; j < 26 * 26 && static_cast<int>(codes.size()) < n; ++j) {
    const std::string c{static_cast<char>('A' + j / 26), static_cast<char>('A' + j % 26)};
    if (std::find(kSubjects, kSubjects + 10, c) == kSubjects + 10) codes.push_back(c);
  }
  auto subject = [&](int i) { return codes[static_cast<size_t>(i)]; };
  for (size_t k = 0; k < d.samples.size(); ++k) {
    const Sample& s = d.samples[k];
    cv::Point off;
    const cv::Mat img = to_canvas(d.images.data() + k * px, side, W, H, false, off);
    const std::string name = subject(s.identity) + "." + kCodes[s.cls] + std::to_string(s.repeat + 1) + "." +
                             std::to_string(k + 1) + ".tiff";
    w.image(name, img);
  }
  return {{"subjects", n}, {"takes", a.takes}, {"size", {W, H}}};
}

std::string ck_float(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "   %.7e", v);
  return b;
}

// CK+: cohn-kanade-images/S<nnn>/<seq>/S<nnn>_<seq>_<frame>.png, one sequence per person
// and non-neutral expression, from neutral (intensity 0) to the peak (intensity 1);
// Emotion/.../<last frame>_emotion.txt holds the CK+ code; Landmarks/ the 68 points.
nlohmann::json write_ckplus(const Args& a, Writer& w) {
  // canonical class index -> CK+ code (neutral has no sequences in CK+)
  const int kCk[] = {4, 1, 3, 5, -1, 6, 7};
  const int n = a.subjects < 0 ? 10 : a.subjects;
  if (n > 999) fail("--subjects: CK+ names allow S001-S999");
  const int W = a.width < 0 ? 200 : a.width, H = a.height < 0 ? 160 : a.height;
  const int side = std::min(W, H);
  const int F = a.frames;
  for (int f = 0; f < F; ++f) {
    Options o;
    o.identities = n;
    o.poses = {"S"};
    o.classes = {0, 1, 2, 3, 5, 6};
    o.size = side;
    o.masks = false;
    o.threads = 2;
    // every frame draws the same face, pose and lighting (the draws are keyed by sample,
    // not by intensity); only the action units grow from 0 to 1
    o.intensity_min = o.intensity_max = static_cast<double>(f) / (F - 1);
    const Dataset d = generate(o, a.seed);
    const size_t px = static_cast<size_t>(side) * side;
    for (size_t k = 0; k < d.samples.size(); ++k) {
      const Sample& s = d.samples[k];
      char subj[16], seq[16], frame[24];
      std::snprintf(subj, sizeof subj, "S%03d", s.identity + 1);
      int seq_no = 1;
      for (int c : o.classes) {
        if (c == s.cls) break;
        ++seq_no;
      }
      std::snprintf(seq, sizeof seq, "%03d", seq_no);
      std::snprintf(frame, sizeof frame, "%08d", f + 1);
      const std::string stem = std::string(subj) + "_" + seq + "_" + frame;
      cv::Point off;
      const cv::Mat img = to_canvas(d.images.data() + k * px, side, W, H, false, off);
      w.image(fs::path("cohn-kanade-images") / subj / seq / (stem + ".png"), img);
      if (a.landmarks) {
        std::string body;
        for (const Vec2& p : s.landmarks) body += ck_float(p.x + off.x) + ck_float(p.y + off.y) + "\n";
        w.text(fs::path("Landmarks") / subj / seq / (stem + "_landmarks.txt"), body);
      }
      if (f == F - 1) w.text(fs::path("Emotion") / subj / seq / (stem + "_emotion.txt"), ck_float(kCk[s.cls]) + "\n");
    }
  }
  return {{"subjects", n}, {"sequences", n * 6}, {"frames", F}, {"size", {W, H}}, {"landmarks", a.landmarks}};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    fs::create_directories(a.out);
    Writer w(a.out);
    nlohmann::json info = a.layout == "kdef" ? write_kdef(a, w) : a.layout == "jaffe" ? write_jaffe(a, w) : write_ckplus(a, w);
    info["layout"] = a.layout;
    info["seed"] = a.seed;
    info["images"] = w.images();
    info["files"] = w.files().size();
    if (!a.manifest.empty()) {
      nlohmann::json m = info;
      m["paths"] = w.files();
      std::ofstream f(a.manifest);
      f << m.dump(1) << "\n";
      if (!f) fail("cannot write --manifest " + a.manifest);
    }
    std::cout << info.dump() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "mien-synth-dataset: error: " << e.what() << "\n";
    return 2;
  }
}
