// dataset.image_folder on a generated root/<class>/ tree.
#include <gtest/gtest.h>

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
