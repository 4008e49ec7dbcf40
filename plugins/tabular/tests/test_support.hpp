// Small helpers for the tabular tests.
#pragma once

#include <mien/testing.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace tabular_test {

// A temporary folder, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    for (;;) {
      path_ = std::filesystem::temp_directory_path() / ("mien-tabular-test-" + std::to_string(rd()));
      if (std::filesystem::create_directory(path_)) break;
    }
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }
  // Writes `content` to a file in the folder and returns its absolute path.
  std::string write(const std::string& name, const std::string& content) const {
    const auto p = path_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

// A table with ID, LABEL, GROUP "subject" and FEATURE "x" columns.
inline mien::Table make_table(const std::vector<int64_t>& labels, const std::vector<std::string>& classes,
                              const std::vector<std::string>& subjects) {
  const int64_t n = static_cast<int64_t>(labels.size());
  std::vector<std::string> ids;
  std::vector<double> x;
  for (int64_t i = 0; i < n; ++i) {
    ids.push_back("r" + std::to_string(i));
    x.push_back(static_cast<double>(i));
  }
  mien::Table t(n);
  t.add_strings("id", MIEN_ROLE_ID, ids);
  t.add_codes("label", MIEN_ROLE_LABEL, labels, classes);
  if (!subjects.empty()) t.add_strings("subject", MIEN_ROLE_GROUP, subjects);
  t.add_numbers("x", MIEN_ROLE_FEATURE, x);
  return t;
}

}  // namespace tabular_test
