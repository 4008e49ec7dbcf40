// Fixture helpers for the data set reader tests: a temporary folder and tiny images
// written with OpenCV, so every fixture tree is generated at test time.
#pragma once

#include <mien/testing.hpp>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace datasets_test {

namespace fs = std::filesystem;

// A temporary folder, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    for (;;) {
      path_ = fs::temp_directory_path() / ("mien-datasets-test-" + std::to_string(rd()));
      if (fs::create_directory(path_)) break;
    }
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  std::string str() const { return path_.string(); }
  // An absolute path inside the folder; its parent folders are created.
  fs::path at(const std::string& rel) const {
    const fs::path p = path_ / rel;
    fs::create_directories(p.parent_path());
    return p;
  }

 private:
  fs::path path_;
};

// A small image (a gradient that depends on `seed`), encoded by the file's extension.
inline std::string write_image(const fs::path& p, int seed = 0, int width = 16, int height = 16, int channels = 3) {
  fs::create_directories(p.parent_path());
  cv::Mat m(height, width, channels == 1 ? CV_8UC1 : CV_8UC3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const auto v = static_cast<uchar>((x * 13 + y * 7 + seed * 31) % 256);
      if (channels == 1) m.at<uchar>(y, x) = v;
      else m.at<cv::Vec3b>(y, x) = cv::Vec3b(v, static_cast<uchar>(255 - v), static_cast<uchar>(seed % 256));
    }
  if (!cv::imwrite(p.string(), m)) throw std::runtime_error("cannot write test image " + p.string());
  return p.string();
}

inline std::string write_text(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
  return p.string();
}

// Cuts a file to `keep` of its bytes (a download that stopped half way).
inline std::string truncate_file(const fs::path& p, double keep = 0.5) {
  const auto size = fs::file_size(p);
  fs::resize_file(p, static_cast<uintmax_t>(static_cast<double>(size) * keep));
  return p.string();
}

// A truncated image: written whole, then cut.
inline std::string write_truncated(const fs::path& p, int seed = 0) {
  write_image(p, seed, 32, 32);
  return truncate_file(p, 0.5);
}

inline std::vector<std::string> texts(const mien::TableView& t, const std::string& column) {
  return t.get(column).texts();
}

// The label of each row as its class name.
inline std::vector<std::string> labels(const mien::TableView& t) { return t.get("label").texts(); }

}  // namespace datasets_test
