// Test helpers for the mien-cnn components: open a model artifact through the
// component's model vtable as the host does, and make small image problems.
#pragma once

#include <mien/testing.hpp>

#include <cstdint>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace cnn_test {
// Models are opened as the host does by the SDK's runner.
using HostedModel = mien::testing::HostedModel;

// Gray images size x size whose class (0..3) is the quadrant holding a bright 4 x 4
// square (top-left, top-right, bottom-left, bottom-right) on a noisy dark background.
struct Squares {
  int64_t n = 0, size = 16;
  std::vector<uint8_t> pixels;  // [n, size, size, 1]
  std::vector<int64_t> labels;
  std::vector<int64_t> sx, sy;  // top-left corner of each square
};
inline Squares make_squares(int64_t n, uint64_t seed, int64_t size = 16) {
  std::mt19937_64 gen(seed);
  auto below = [&](uint64_t k) { return static_cast<int64_t>(gen() % k); };
  Squares s;
  s.n = n;
  s.size = size;
  s.pixels.resize(static_cast<size_t>(n * size * size));
  const int64_t half = size / 2;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = i % 4;
    s.labels.push_back(k);
    const int64_t x0 = (k % 2) * half + below(static_cast<uint64_t>(half - 4 + 1));
    const int64_t y0 = (k / 2) * half + below(static_cast<uint64_t>(half - 4 + 1));
    s.sx.push_back(x0);
    s.sy.push_back(y0);
    uint8_t* p = &s.pixels[static_cast<size_t>(i * size * size)];
    for (int64_t j = 0; j < size * size; ++j) p[j] = static_cast<uint8_t>(below(70));
    for (int64_t y = y0; y < y0 + 4; ++y)
      for (int64_t x = x0; x < x0 + 4; ++x) p[y * size + x] = static_cast<uint8_t>(180 + below(76));
  }
  return s;
}
inline mien::Tensor squares_tensor(const Squares& s) {
  return mien::Tensor::from<uint8_t>({s.n, s.size, s.size, 1}, s.pixels);
}
inline mien::Table squares_table(const Squares& s, const std::vector<int64_t>* labels = nullptr) {
  mien::Table t(s.n);
  std::vector<std::string> ids;
  for (int64_t i = 0; i < s.n; ++i) ids.push_back("s" + std::to_string(i));
  t.add_strings("id", MIEN_ROLE_ID, ids);
  t.add_codes("label", MIEN_ROLE_LABEL, labels ? *labels : s.labels, {"tl", "tr", "bl", "br"});
  return t;
}

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    do path_ = std::filesystem::temp_directory_path() / ("mien-cnn-test-" + std::to_string(rd()));
    while (!std::filesystem::create_directory(path_));
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace cnn_test
