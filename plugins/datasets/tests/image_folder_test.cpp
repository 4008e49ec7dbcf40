// dataset.image_folder on a generated root/<class>/ tree.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "components.hpp"
#include "test_support.hpp"

namespace {

using mien::datasets::ImageFolderDataset;
using mien::testing::ComponentRunner;
using namespace datasets_test;

struct FolderTree {
  TempDir dir;
  fs::path root;
  FolderTree() : root(dir.path() / "faces") {
    write_image(root / "Angry/S01_a.jpg", 1);
    write_image(root / "happy/S02_h1.png", 2);
    write_image(root / "Happiness/S03_h2.JPEG", 3);
    write_image(root / "sadness/more/S01_s.bmp", 4);
    write_image(root / "neutral/S02_n.tif", 5);
    write_image(root / "surprised/nosubject.jpg", 6);
    write_truncated(root / "surprised/S04_cut.jpg", 7);
    write_image(root / "loose.jpg", 8);          // not in a class folder
    write_text(root / "neutral/notes.txt", "x");  // not an image: ignored
  }
  std::string path(const std::string& rel) const { return (root / rel).string(); }
};

TEST(ImageFolderDataset, ClassFoldersThroughSynonyms) {
  FolderTree t;
  ComponentRunner<ImageFolderDataset> r({{"root", t.root.string()}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView tab = r.table("table");
  EXPECT_EQ(texts(tab, "id"), (std::vector<std::string>{"Angry/S01_a.jpg", "Happiness/S03_h2.JPEG", "happy/S02_h1.png",
                                                         "neutral/S02_n.tif", "sadness/more/S01_s.bmp",
                                                         "surprised/nosubject.jpg"}));
  EXPECT_EQ(labels(tab), (std::vector<std::string>{"anger", "happy", "happy", "neutral", "sad", "surprise"}));
  EXPECT_EQ(tab.get("label").categories(),
            (std::vector<std::string>{"anger", "happy", "neutral", "sad", "surprise"}));
  EXPECT_FALSE(tab.find("subject"));
  EXPECT_EQ(tab.get("path").text(4), t.path("sadness/more/S01_s.bmp"));

  const mien::TableView sk = r.table("skipped");
  EXPECT_EQ(texts(sk, "path"), (std::vector<std::string>{t.path("loose.jpg"), t.path("surprised/S04_cut.jpg")}));
  EXPECT_EQ(texts(sk, "problem"), (std::vector<std::string>{"misplaced", "truncated"}));
  const mien::Json s = r.json("summary");
  EXPECT_EQ(s["folder_counts"]["Happiness"], 1);
  EXPECT_EQ(s["ignored_files"]["not_images"], 1);
}

TEST(ImageFolderDataset, SubjectRegex) {
  FolderTree t;
  ComponentRunner<ImageFolderDataset> r({{"root", t.root.string()}, {"subject_regex", "^(S[0-9]+)_"}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView tab = r.table("table");
  EXPECT_EQ(texts(tab, "subject"), (std::vector<std::string>{"S01", "S03", "S02", "S02", "S01"}));
  EXPECT_EQ(tab.get("subject").role(), MIEN_ROLE_GROUP);
  EXPECT_EQ(r.json("summary")["group_counts"]["subject"], (mien::Json{{"S01", 2}, {"S02", 2}, {"S03", 1}}));
  const auto paths = texts(r.table("skipped"), "path");
  const auto it = std::find(paths.begin(), paths.end(), t.path("surprised/nosubject.jpg"));
  ASSERT_NE(it, paths.end());
  EXPECT_NE(r.table("skipped").get("reason").text(it - paths.begin()).find("does not match subject_regex"),
            std::string::npos);

  ComponentRunner<ImageFolderDataset> bad({{"root", t.root.string()}, {"subject_regex", "(S"}});
  EXPECT_NE(bad.run(), MIEN_OK);
  EXPECT_NE(bad.error().find("subject_regex: '(S' is not a valid regular expression"), std::string::npos)
      << bad.error();
}

TEST(ImageFolderDataset, UnknownFolderIsAnErrorUnlessMapped) {
  FolderTree t;
  write_image(t.root / "angy/x.jpg", 9);
  write_image(t.root / "7/y.jpg", 10);
  {
    ComponentRunner<ImageFolderDataset> r({{"root", t.root.string()}});
    EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
    EXPECT_NE(r.error().find("'angy' (1 images; did you mean 'angry'?)"), std::string::npos) << r.error();
    EXPECT_NE(r.error().find("'7' (1 images)"), std::string::npos) << r.error();
    EXPECT_NE(r.error().find("class_map"), std::string::npos) << r.error();
  }
  {
    ComponentRunner<ImageFolderDataset> r(
        {{"root", t.root.string()}, {"class_map", {{"7", "neutral"}, {"angy", nullptr}, {"HAPPY", "surprise"}}}});
    ASSERT_EQ(r.run(), MIEN_OK) << r.error();
    const mien::TableView tab = r.table("table");
    const auto ids = texts(tab, "id");
    EXPECT_EQ(ids.front(), "7/y.jpg");
    EXPECT_EQ(labels(tab).front(), "neutral");
    // HAPPY overrides the default of folder "happy" (case is ignored), not "Happiness".
    EXPECT_EQ(tab.get("label").text(2), "happy");     // Happiness/S03_h2.JPEG
    EXPECT_EQ(tab.get("label").text(3), "surprise");  // happy/S02_h1.png
    EXPECT_EQ(r.json("summary")["excluded"]["class_map"], 1);
  }
  {
    ComponentRunner<ImageFolderDataset> r({{"root", t.root.string()}, {"class_map", {{"7", "Neutral!"}}}});
    EXPECT_NE(r.run(), MIEN_OK);
    EXPECT_NE(r.error().find("code '7' maps to 'Neutral!'"), std::string::npos) << r.error();
  }
}

}  // namespace

namespace {

// Pre-cropped faces: a gray 48x48 crop, a colour 20x30 one and a truncated one.
TEST(ImageFolderDataset, WholeImageEmitsTheCropsRowAlignedWithTheTable) {
  TempDir dir;
  const fs::path root = dir.path() / "crops";
  write_image(root / "happy/a.png", 1, 48, 48, 1);
  write_image(root / "sad/b.png", 2, 20, 30, 3);
  write_truncated(root / "sad/c.jpg", 3);
  ComponentRunner<ImageFolderDataset> r({{"root", root.string()}, {"faces", "whole_image"}, {"size", 24}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView tab = r.table("table");
  EXPECT_EQ(texts(tab, "id"), (std::vector<std::string>{"happy/a.png", "sad/b.png"}));  // the broken crop is skipped
  EXPECT_EQ(r.table("skipped").num_rows(), 1);
  const mien::TensorView im = r.tensor("images");
  ASSERT_EQ(im.shape(), (std::vector<int64_t>{2, 24, 24, 3}));
  EXPECT_EQ(r.output("images").pixel_format, MIEN_PIXEL_RGB);

  // row 0 is the gray crop shrunk by area averaging: the three channels agree and match OpenCV
  cv::Mat gray = cv::imread((root / "happy/a.png").string(), cv::IMREAD_GRAYSCALE), small;
  cv::resize(gray, small, cv::Size(24, 24), 0, 0, cv::INTER_AREA);
  const uint8_t* px = im.data_if<uint8_t>();
  ASSERT_NE(px, nullptr);
  for (int y = 0; y < 24; ++y)
    for (int x = 0; x < 24; ++x)
      for (int c = 0; c < 3; ++c) ASSERT_EQ(px[(y * 24 + x) * 3 + c], small.at<uchar>(y, x)) << y << "," << x;
  // row 1 is the colour crop enlarged, in RGB order (write_image puts seed % 256 = 2 in the third BGR channel, red)
  cv::Mat colour = cv::imread((root / "sad/b.png").string(), cv::IMREAD_COLOR), big;
  cv::resize(colour, big, cv::Size(24, 24), 0, 0, cv::INTER_LINEAR);
  const uint8_t* second = px + 24 * 24 * 3;
  EXPECT_EQ(second[0], big.at<cv::Vec3b>(0, 0)[2]);
  EXPECT_EQ(second[2], big.at<cv::Vec3b>(0, 0)[0]);
  EXPECT_EQ(second[0], 2);  // red is constant, so the resize keeps it exactly
  EXPECT_EQ(r.json("summary")["faces"], "whole_image");
}

TEST(ImageFolderDataset, GrayCropsOnOneChannelAndNoImagesWhenDetecting) {
  TempDir dir;
  const fs::path root = dir.path() / "crops";
  write_image(root / "happy/a.png", 1, 16, 16, 3);
  ComponentRunner<ImageFolderDataset> g({{"root", root.string()}, {"faces", "whole_image"}, {"size", 16}, {"channels", 1}});
  ASSERT_EQ(g.run(), MIEN_OK) << g.error();
  EXPECT_EQ(g.tensor("images").shape(), (std::vector<int64_t>{1, 16, 16, 1}));
  EXPECT_EQ(g.output("images").pixel_format, MIEN_PIXEL_GRAY);
  ComponentRunner<ImageFolderDataset> d({{"root", root.string()}});
  ASSERT_EQ(d.run(), MIEN_OK) << d.error();
  EXPECT_EQ(d.tensor("images").dim(0), 0);  // photographs go to detection through the paths
  EXPECT_EQ(d.table("table").num_rows(), 1);
}

}  // namespace
