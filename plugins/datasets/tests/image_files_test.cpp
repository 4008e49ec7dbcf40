// dataset.image_files: a list of photos with optional labels.
#include <gtest/gtest.h>

#include "components.hpp"
#include "test_support.hpp"

namespace {

using mien::datasets::ImageFilesDataset;
using mien::testing::ComponentRunner;
using namespace datasets_test;

TEST(ImageFilesDataset, ListsFilesWithLabelsAndSkipsBadOnes) {
  TempDir dir;
  const std::string a = write_image(dir.path() / "a.png", 1);
  const std::string b = write_truncated(dir.path() / "b.jpg", 2);
  const std::string c = write_image(dir.path() / "c.jpg", 3);
  ComponentRunner<ImageFilesDataset> r({{"files", {a, b, c}}, {"labels", {"happy", "sad", "fear"}}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView tab = r.table("table");
  EXPECT_EQ(texts(tab, "id"), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(labels(tab), (std::vector<std::string>{"happy", "fear"}));
  EXPECT_EQ(texts(tab, "path"), (std::vector<std::string>{a, c}));
  EXPECT_EQ(texts(r.table("skipped"), "problem"), (std::vector<std::string>{"truncated"}));
  const mien::Json s = r.json("summary");
  EXPECT_EQ(s["rows"], 2);
  EXPECT_EQ(s["skipped"], 1);
  EXPECT_EQ(s["classes"]["happy"], 1);
}

TEST(ImageFilesDataset, UnknownLabelsWithoutLabelsAndClearErrors) {
  TempDir dir;
  const std::string a = write_image(dir.path() / "a.png", 1);
  ComponentRunner<ImageFilesDataset> r({{"files", {a}}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_EQ(r.table("table").get("label").code(0), -1);

  ComponentRunner<ImageFilesDataset> typo({{"files", {a}}, {"labels", {"hapy"}}});
  EXPECT_NE(typo.run(), MIEN_OK);
  EXPECT_NE(typo.error().find("did you mean 'happy'"), std::string::npos) << typo.error();
  ComponentRunner<ImageFilesDataset> count({{"files", {a}}, {"labels", {"happy", "sad"}}});
  EXPECT_NE(count.run(), MIEN_OK);
  EXPECT_NE(count.error().find("2 labels for 1 files"), std::string::npos) << count.error();
}

}  // namespace
