// dataset.fer2013 on a generated CSV with malformed rows.
#include <gtest/gtest.h>

#include "components.hpp"
#include "test_support.hpp"

namespace {

using mien::datasets::Fer2013Dataset;
using mien::testing::ComponentRunner;
using namespace datasets_test;

// Pixel j of data row k: (j + 7 k) % 256.
std::string pixels(int row, int count = 2304) {
  std::string out;
  for (int j = 0; j < count; ++j) out += (j ? " " : "") + std::to_string((j + 7 * row) % 256);
  return out;
}

// Data rows 1..10 (line = row + 1, except after the blank line):
//  1 anger/Training  2 happy/PublicTest  3 neutral/PrivateTest  4 2303 pixels
//  5 a pixel 'abc'   6 code 9            7 sad/Training         8 surprise/Training (quoted)
//  (blank line)      9 a pixel 300       10 wrong field count
std::string fer_csv() {
  std::string s = "emotion,pixels,Usage\r\n";
  s += "0," + pixels(1) + ",Training\r\n";
  s += "3," + pixels(2) + ",PublicTest\r\n";
  s += "6," + pixels(3) + ",PrivateTest\r\n";
  s += "3," + pixels(4, 2303) + ",Training\r\n";
  s += "2,abc " + pixels(5, 2303) + ",Training\r\n";
  s += "9," + pixels(6) + ",Training\r\n";
  s += "4," + pixels(7) + ",Training\r\n";
  s += "5,\"" + pixels(8) + "\",Training\r\n";
  s += "\r\n";
  s += "1,300 " + pixels(9, 2303) + ",Training\r\n";
  s += "1,Training\r\n";
  return s;
}

TEST(Fer2013Dataset, ReadsRowsImagesAndUsage) {
  TempDir d;
  const std::string file = write_text(d.path() / "fer2013.csv", fer_csv());
  ComponentRunner<Fer2013Dataset> r({{"path", file}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView tab = r.table("table");
  EXPECT_EQ(texts(tab, "id"), (std::vector<std::string>{"fer000001", "fer000002", "fer000003", "fer000007",
                                                         "fer000008"}));
  EXPECT_EQ(labels(tab), (std::vector<std::string>{"anger", "happy", "neutral", "sad", "surprise"}));
  EXPECT_EQ(tab.get("label").categories(),
            (std::vector<std::string>{"anger", "happy", "neutral", "sad", "surprise"}));
  EXPECT_EQ(texts(tab, "usage"),
            (std::vector<std::string>{"Training", "PublicTest", "PrivateTest", "Training", "Training"}));
  EXPECT_EQ(tab.get("usage").role(), MIEN_ROLE_GROUP);
  EXPECT_FALSE(tab.find("path"));

  const mien::TensorView img = r.tensor("images");
  EXPECT_EQ(r.output("images").kind, MIEN_VALUE_IMAGE);
  EXPECT_EQ(r.output("images").pixel_format, MIEN_PIXEL_GRAY);
  EXPECT_EQ(img.dtype(), MIEN_DTYPE_U8);
  EXPECT_EQ(img.shape(), (std::vector<int64_t>{5, 48, 48, 1}));
  const std::vector<int> rows = {1, 2, 3, 7, 8};
  for (size_t i = 0; i < rows.size(); ++i)
    for (int j : {0, 1, 47, 48, 1000, 2303})
      EXPECT_EQ(img.at(static_cast<int64_t>(i) * 2304 + j), (j + 7 * rows[i]) % 256) << "row " << i << " pixel " << j;

  const mien::TableView sk = r.table("skipped");
  EXPECT_EQ(texts(sk, "path"), (std::vector<std::string>{file + ":11", file + ":12", file + ":5", file + ":6",
                                                         file + ":7"}));
  EXPECT_EQ(texts(sk, "problem"),
            (std::vector<std::string>{"malformed_row", "malformed_row", "malformed_row", "malformed_row", "bad_label"}));
  const auto reasons = texts(sk, "reason");
  EXPECT_NE(reasons[0].find("line 11: pixel 1 is '300', expected an integer 0-255"), std::string::npos) << reasons[0];
  EXPECT_NE(reasons[1].find("line 12 has 2 fields, the header 3"), std::string::npos) << reasons[1];
  EXPECT_NE(reasons[2].find("line 5: has 2303 pixel values, expected 2304 (48x48)"), std::string::npos) << reasons[2];
  EXPECT_NE(reasons[3].find("line 6: pixel 1 is 'abc'"), std::string::npos) << reasons[3];
  EXPECT_NE(reasons[4].find("line 7: emotion code 9 is not one of 0, 1, 2, 3, 4, 5, 6"), std::string::npos)
      << reasons[4];
  EXPECT_TRUE(r.logged(file + ":5", MIEN_LOG_WARNING));

  const mien::Json s = r.json("summary");
  EXPECT_EQ(s["samples"], 5);
  EXPECT_EQ(s["rows_read"], 10);
  EXPECT_EQ(s["group_counts"]["usage"], (mien::Json{{"PrivateTest", 1}, {"PublicTest", 1}, {"Training", 3}}));
  EXPECT_EQ(s["skipped"]["reasons"], (mien::Json{{"bad_label", 1}, {"malformed_row", 4}}));
}

TEST(Fer2013Dataset, UsageFilterAndClassMap) {
  TempDir d;
  const std::string file = write_text(d.path() / "fer2013.csv", fer_csv());
  ComponentRunner<Fer2013Dataset> r({{"path", file}, {"usage", {"training"}}, {"class_map", {{"4", "fear"}}}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView tab = r.table("table");
  EXPECT_EQ(texts(tab, "id"), (std::vector<std::string>{"fer000001", "fer000007", "fer000008"}));
  EXPECT_EQ(labels(tab), (std::vector<std::string>{"anger", "fear", "surprise"}));
  EXPECT_EQ(tab.get("label").categories(), (std::vector<std::string>{"fear", "anger", "surprise"}));
  EXPECT_EQ(r.json("summary")["excluded"]["usage"], 2);
  const mien::TensorView img = r.tensor("images");
  EXPECT_EQ(img.dim(0), 3);
  EXPECT_EQ(img.at(1 * 2304 + 10), (10 + 7 * 7) % 256);  // row 2 of the table is data row 7

  ComponentRunner<Fer2013Dataset> bad({{"path", file}, {"usage", {"Trainig"}}});
  EXPECT_NE(bad.run(), MIEN_OK);
  EXPECT_NE(bad.error().find("usage: 'Trainig' is not one of Training, PublicTest, PrivateTest; did you mean "
                             "'Training'?"),
            std::string::npos)
      << bad.error();
}

TEST(Fer2013Dataset, HeaderWithoutUsageAndWithSpaces) {
  TempDir d;
  const std::string file =
      write_text(d.path() / "train.csv", "emotion, pixels\n" + std::string("6, ") + pixels(1) + "\n");
  ComponentRunner<Fer2013Dataset> r({{"path", file}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_EQ(labels(r.table("table")), (std::vector<std::string>{"neutral"}));
  EXPECT_FALSE(r.table("table").find("usage"));

  ComponentRunner<Fer2013Dataset> filtered({{"path", file}, {"usage", {"Training"}}});
  EXPECT_NE(filtered.run(), MIEN_OK);
  EXPECT_NE(filtered.error().find("has no Usage column"), std::string::npos) << filtered.error();
}

TEST(Fer2013Dataset, MissingColumnOrFileIsAnError) {
  TempDir d;
  const std::string file = write_text(d.path() / "x.csv", "emotion,pixel,Usage\n0,1 2 3,Training\n");
  ComponentRunner<Fer2013Dataset> r({{"path", file}});
  EXPECT_NE(r.run(), MIEN_OK);
  EXPECT_NE(r.error().find("the header has no column 'pixels'"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("did you mean 'pixel'?"), std::string::npos) << r.error();

  ComponentRunner<Fer2013Dataset> missing({{"path", (d.path() / "none.csv").string()}});
  EXPECT_EQ(missing.run(), MIEN_ERR_IO);
  EXPECT_NE(missing.error().find("path: file"), std::string::npos) << missing.error();
}

}  // namespace
