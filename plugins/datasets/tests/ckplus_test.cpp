// dataset.ckplus on a generated CK+ tree (cohn-kanade-images/, Emotion/, Landmarks/).
#include <gtest/gtest.h>

#include <cstdio>

#include "components.hpp"
#include "test_support.hpp"

namespace {

using mien::datasets::CkplusDataset;
using mien::testing::ComponentRunner;
using namespace datasets_test;

std::string frame_name(const std::string& seq, int frame) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s_%08d", seq.c_str(), frame);
  return buf;
}

// Landmark point i of a frame: x = 10 i + frame / 4, y = 200 + i.
std::string landmarks(int frame, int points = 68) {
  std::string out;
  for (int i = 0; i < points; ++i) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "   %.7e   %.7e\n", 10.0 * i + frame / 4.0, 200.0 + i);
    out += buf;
  }
  return out;
}

// Sequences:
//   S005/001: 6 frames, disgust (3) at frame 6, plus a misnamed file
//   S005/002: 4 frames, no emotion file (unlabelled)
//   S010/001: 5 frames, contempt (2) at frame 5
//   S010/002: 5 frames, happy (5) at frame 4 (frame 5 comes after the peak); frame 4's
//             landmarks file has 67 lines
//   S011/001: 3 frames, surprise (7) at frame 3; frame 2 is a truncated PNG
//   S012/001: 3 frames, the emotion file names frame 9 (missing)
//   S013/001: 3 frames, the emotion file holds "abc"
//   S099/001: an emotion file without images
struct CkTree {
  TempDir dir;
  fs::path root;
  CkTree() : root(dir.path() / "CK+") {
    seq("S005", "001", 6, "   3.0000000e+00\n", 6);
    write_image(root / "cohn-kanade-images/S005/001/S005_001_frame7.png", 70);
    seq("S005", "002", 4, "", 0);
    seq("S010", "001", 5, "   2.0000000e+00\n", 5);
    seq("S010", "002", 5, "   5.0000000e+00\n", 4);
    write_text(root / "Landmarks/S010/002" / (frame_name("S010_002", 4) + "_landmarks.txt"), landmarks(4, 67));
    seq("S011", "001", 3, "7.0\n", 3);
    write_truncated(root / "cohn-kanade-images/S011/001" / (frame_name("S011_001", 2) + ".png"), 5);
    seq("S012", "001", 3, "   1.0000000e+00\n", 9);
    seq("S013", "001", 3, "abc\n", 3);
    write_text(root / "Emotion/S099/001" / (frame_name("S099_001", 3) + "_emotion.txt"), "4.0\n");
  }
  void seq(const std::string& subject, const std::string& number, int frames, const std::string& emotion,
           int labelled_frame) {
    const std::string key = subject + "_" + number;
    for (int f = 1; f <= frames; ++f) {
      write_image(root / "cohn-kanade-images" / subject / number / (frame_name(key, f) + ".png"), f);
      write_text(root / "Landmarks" / subject / number / (frame_name(key, f) + "_landmarks.txt"), landmarks(f));
    }
    if (!emotion.empty())
      write_text(root / "Emotion" / subject / number / (frame_name(key, labelled_frame) + "_emotion.txt"), emotion);
  }
  std::string image(const std::string& key, int frame) const {
    return (root / "cohn-kanade-images" / key.substr(0, 4) / key.substr(5) / (frame_name(key, frame) + ".png"))
        .string();
  }
  std::string emotion(const std::string& key, int frame) const {
    return (root / "Emotion" / key.substr(0, 4) / key.substr(5) / (frame_name(key, frame) + "_emotion.txt")).string();
  }
};

TEST(CkplusDataset, PeakAndNeutralFramesOfLabelledSequences) {
  CkTree t;
  ComponentRunner<CkplusDataset> r({{"root", t.root.string()}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView tab = r.table("table");
  EXPECT_EQ(texts(tab, "id"),
            (std::vector<std::string>{"S005_001_00000001", "S005_001_00000004", "S005_001_00000005",
                                      "S005_001_00000006", "S010_002_00000001", "S010_002_00000002",
                                      "S010_002_00000003", "S010_002_00000004", "S011_001_00000001",
                                      "S011_001_00000003"}));
  EXPECT_EQ(labels(tab), (std::vector<std::string>{"neutral", "disgust", "disgust", "disgust", "neutral", "happy",
                                                   "happy", "happy", "neutral", "surprise"}));
  EXPECT_EQ(tab.get("label").categories(), (std::vector<std::string>{"disgust", "happy", "neutral", "surprise"}));
  EXPECT_EQ(texts(tab, "subject"), (std::vector<std::string>{"S005", "S005", "S005", "S005", "S010", "S010", "S010",
                                                             "S010", "S011", "S011"}));
  EXPECT_EQ(tab.get("sequence").text(4), "S010_002");
  EXPECT_EQ(tab.get("sequence").role(), MIEN_ROLE_GROUP);
  EXPECT_EQ(tab.get("path").text(3), t.image("S005_001", 6));
  EXPECT_FALSE(tab.find("x0"));  // use_landmarks is off

  const mien::TableView sk = r.table("skipped");
  EXPECT_EQ(texts(sk, "path"), (std::vector<std::string>{t.root.string() + "/Emotion/S012/001/S012_001_00000009_emotion.txt",
                                                         t.emotion("S013_001", 3), t.emotion("S099_001", 3),
                                                         t.root.string() + "/cohn-kanade-images/S005/001/S005_001_frame7.png",
                                                         t.image("S011_001", 2)}));
  EXPECT_EQ(texts(sk, "problem"),
            (std::vector<std::string>{"missing_frame", "bad_label", "missing_images", "misnamed", "truncated"}));
  EXPECT_NE(sk.get("reason").text(0).find("names frame 9"), std::string::npos) << sk.get("reason").text(0);
  EXPECT_NE(sk.get("reason").text(1).find("holds 'abc'"), std::string::npos) << sk.get("reason").text(1);

  const mien::Json s = r.json("summary");
  EXPECT_EQ(s["samples"], 10);
  EXPECT_EQ(s["class_counts"], (mien::Json{{"disgust", 3}, {"happy", 3}, {"neutral", 3}, {"surprise", 1}}));
  EXPECT_EQ(s["group_counts"]["subject"], (mien::Json{{"S005", 4}, {"S010", 4}, {"S011", 2}}));
  EXPECT_EQ(s["sequences"]["found"], 7);
  EXPECT_EQ(s["sequences"]["labelled"], 6);
  EXPECT_EQ(s["sequences"]["unlabelled"], 1);
  EXPECT_EQ(s["sequences"]["used"], 3);
  EXPECT_EQ(s["sequences"]["left_out_contempt"], 1);
  EXPECT_EQ(s["skipped"]["count"], 5);
}

TEST(CkplusDataset, PeakFramesAndNeutralParameters) {
  CkTree t;
  ComponentRunner<CkplusDataset> r({{"root", t.root.string()}, {"peak_frames", 1}, {"include_neutral", false}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_EQ(texts(r.table("table"), "id"),
            (std::vector<std::string>{"S005_001_00000006", "S010_002_00000004", "S011_001_00000003"}));
  EXPECT_EQ(r.table("table").get("label").categories(), (std::vector<std::string>{"disgust", "happy", "surprise"}));

  // More peak frames than the sequence has: every frame after the neutral one.
  ComponentRunner<CkplusDataset> many({{"root", t.root.string()}, {"peak_frames", 10}, {"classes", {"disgust"}}});
  ASSERT_EQ(many.run(), MIEN_OK) << many.error();
  EXPECT_EQ(texts(many.table("table"), "id"),
            (std::vector<std::string>{"S005_001_00000002", "S005_001_00000003", "S005_001_00000004",
                                      "S005_001_00000005", "S005_001_00000006"}));

  EXPECT_THROW(ComponentRunner<CkplusDataset>({{"root", t.root.string()}, {"peak_frames", 0}}),
               mien::testing::InvalidParams);
}

TEST(CkplusDataset, ContemptOnRequest) {
  CkTree t;
  ComponentRunner<CkplusDataset> r({{"root", t.root.string()}, {"include_contempt", true}, {"include_neutral", false}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView tab = r.table("table");
  EXPECT_EQ(tab.get("label").categories(), (std::vector<std::string>{"disgust", "happy", "surprise", "contempt"}));
  EXPECT_EQ(r.json("summary")["class_counts"]["contempt"], 3);
  EXPECT_EQ(tab.get("id").text(5), "S010_001_00000005");

  ComponentRunner<CkplusDataset> bad({{"root", t.root.string()}, {"classes", {"contempt"}}});
  EXPECT_NE(bad.run(), MIEN_OK);
  EXPECT_NE(bad.error().find("include_contempt"), std::string::npos) << bad.error();
}

TEST(CkplusDataset, LandmarksAsValueColumns) {
  CkTree t;
  ComponentRunner<CkplusDataset> r({{"root", t.root.string()}, {"use_landmarks", true}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView tab = r.table("table");
  // S010_002_00000004 has a 67-line landmarks file: skipped.
  const auto ids = texts(tab, "id");
  EXPECT_EQ(std::find(ids.begin(), ids.end(), "S010_002_00000004"), ids.end());
  EXPECT_EQ(ids.size(), 9u);
  ASSERT_EQ(tab.num_columns(), 5u + 136u);
  EXPECT_EQ(std::string(tab.column(5).name()), "x0");
  EXPECT_EQ(std::string(tab.column(72).name()), "x67");
  EXPECT_EQ(std::string(tab.column(73).name()), "y0");
  EXPECT_EQ(std::string(tab.column(140).name()), "y67");
  EXPECT_EQ(tab.get("x0").role(), MIEN_ROLE_VALUE);
  EXPECT_EQ(tab.get("x0").dtype(), MIEN_DTYPE_F64);
  // Row 3 is S005_001_00000006: x_i = 10 i + 6/4, y_i = 200 + i.
  ASSERT_EQ(ids[3], "S005_001_00000006");
  EXPECT_DOUBLE_EQ(tab.get("x0").number(3), 1.5);
  EXPECT_DOUBLE_EQ(tab.get("x67").number(3), 671.5);
  EXPECT_DOUBLE_EQ(tab.get("y5").number(3), 205.0);
  EXPECT_DOUBLE_EQ(tab.get("x1").number(0), 10.25);  // S005_001_00000001

  const mien::TableView sk = r.table("skipped");
  const auto paths = texts(sk, "path");
  const auto it = std::find(paths.begin(), paths.end(), t.image("S010_002", 4));
  ASSERT_NE(it, paths.end());
  const auto row = it - paths.begin();
  EXPECT_EQ(sk.get("problem").text(row), "bad_landmarks");
  EXPECT_NE(sk.get("reason").text(row).find("has 67 points, expected 68"), std::string::npos)
      << sk.get("reason").text(row);
}

TEST(CkplusDataset, ClassMapRenamesCodes) {
  CkTree t;
  ComponentRunner<CkplusDataset> r({{"root", t.root.string()}, {"class_map", {{"3", "anger"}, {"7", nullptr}}}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView tab = r.table("table");
  EXPECT_EQ(tab.get("label").categories(), (std::vector<std::string>{"anger", "happy", "neutral"}));
  EXPECT_EQ(tab.get("label").text(1), "anger");  // S005_001_00000004
  EXPECT_EQ(r.json("summary")["sequences"]["left_out_by_class_map"], 1);

  ComponentRunner<CkplusDataset> bad({{"root", t.root.string()}, {"class_map", {{"8", "fear"}}}});
  EXPECT_NE(bad.run(), MIEN_OK);
  EXPECT_NE(bad.error().find("'8' is not one of the CK+ emotion codes"), std::string::npos) << bad.error();
}

TEST(CkplusDataset, MissingLayoutIsAnError) {
  TempDir d;
  write_image(d.path() / "images/x.png");
  ComponentRunner<CkplusDataset> r({{"root", d.str()}});
  EXPECT_EQ(r.run(), MIEN_ERR_IO);
  EXPECT_NE(r.error().find("no folder cohn-kanade-images"), std::string::npos) << r.error();
}

}  // namespace
