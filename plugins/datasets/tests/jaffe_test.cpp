// dataset.jaffe on a generated JAFFE folder (KA.AN1.39.tiff) with bad files in it.
#include <gtest/gtest.h>

#include "components.hpp"
#include "test_support.hpp"

namespace {

using mien::datasets::JaffeDataset;
using mien::testing::ComponentRunner;
using namespace datasets_test;

struct JaffeTree {
  TempDir dir;
  fs::path root;
  JaffeTree() : root(dir.path() / "jaffe") {
    write_image(root / "KA.AN1.39.tiff", 1, 16, 16, 1);
    write_image(root / "KA.HA2.30.tiff", 2, 16, 16, 1);
    write_image(root / "YM.FE1.60.tiff", 3, 16, 16, 1);
    write_image(root / "sub/NA.NE1.202.tiff", 4, 16, 16, 1);
    write_image(root / "ZZ.AN1.39.tiff", 5, 16, 16, 1);  // an unknown subject is fine
    write_image(root / "KA-AN1.tiff", 6, 16, 16, 1);     // misnamed
    write_image(root / "KA.XX1.41.tiff", 7, 16, 16, 1);  // unknown expression code
    write_text(root / "KM.SU1.14.tiff", "not a tiff at all");
    write_text(root / "README", "JAFFE\n");
  }
  std::string path(const std::string& rel) const { return (root / rel).string(); }
};

TEST(JaffeDataset, ReadsIdsLabelsSubjects) {
  JaffeTree t;
  ComponentRunner<JaffeDataset> r({{"root", t.root.string()}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView tab = r.table("table");
  EXPECT_EQ(texts(tab, "id"),
            (std::vector<std::string>{"KA.AN1.39", "KA.HA2.30", "NA.NE1.202", "YM.FE1.60", "ZZ.AN1.39"}));
  EXPECT_EQ(labels(tab), (std::vector<std::string>{"anger", "happy", "neutral", "fear", "anger"}));
  EXPECT_EQ(tab.get("label").categories(), (std::vector<std::string>{"fear", "anger", "happy", "neutral"}));
  EXPECT_EQ(texts(tab, "subject"), (std::vector<std::string>{"KA", "KA", "NA", "YM", "ZZ"}));
  EXPECT_EQ(tab.get("subject").role(), MIEN_ROLE_GROUP);
  EXPECT_EQ(tab.get("path").text(2), t.path("sub/NA.NE1.202.tiff"));
  EXPECT_EQ(tab.num_columns(), 4u);  // id, label, subject, path

  const mien::TableView sk = r.table("skipped");
  EXPECT_EQ(texts(sk, "path"), (std::vector<std::string>{t.path("KA-AN1.tiff"), t.path("KA.XX1.41.tiff"),
                                                         t.path("KM.SU1.14.tiff")}));
  EXPECT_EQ(texts(sk, "problem"), (std::vector<std::string>{"misnamed", "misnamed", "not_an_image"}));
  EXPECT_NE(sk.get("reason").text(0).find("does not follow the JAFFE pattern"), std::string::npos);
  EXPECT_NE(sk.get("reason").text(1).find("expression code 'XX'"), std::string::npos);
  EXPECT_TRUE(r.logged(t.path("KA-AN1.tiff"), MIEN_LOG_WARNING));

  const mien::Json s = r.json("summary");
  EXPECT_EQ(s["samples"], 5);
  EXPECT_EQ(s["class_counts"], (mien::Json{{"fear", 1}, {"anger", 2}, {"happy", 1}, {"neutral", 1}}));
  EXPECT_EQ(s["group_counts"]["subject"], (mien::Json{{"KA", 2}, {"NA", 1}, {"YM", 1}, {"ZZ", 1}}));
  EXPECT_EQ(s["skipped"]["reasons"], (mien::Json{{"misnamed", 2}, {"not_an_image", 1}}));
  EXPECT_EQ(s["ignored_files"]["not_images"], 1);
}

TEST(JaffeDataset, ClassMapAndClasses) {
  JaffeTree t;
  ComponentRunner<JaffeDataset> r(
      {{"root", t.root.string()}, {"class_map", {{"FE", "surprise"}}}, {"classes", {"surprise", "anger"}}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView tab = r.table("table");
  EXPECT_EQ(texts(tab, "id"), (std::vector<std::string>{"KA.AN1.39", "YM.FE1.60", "ZZ.AN1.39"}));
  EXPECT_EQ(labels(tab), (std::vector<std::string>{"anger", "surprise", "anger"}));
  EXPECT_EQ(tab.get("label").categories(), (std::vector<std::string>{"anger", "surprise"}));

  ComponentRunner<JaffeDataset> bad({{"root", t.root.string()}, {"class_map", {{"AF", "fear"}}}});
  EXPECT_NE(bad.run(), MIEN_OK);
  EXPECT_NE(bad.error().find("'AF' is not one of the JAFFE expression codes"), std::string::npos) << bad.error();
}

TEST(JaffeDataset, TruncatedTiffIsSkipped) {
  JaffeTree t;
  write_image(t.root / "KR.SA1.80.tiff", 9, 64, 64, 1);
  truncate_file(t.root / "KR.SA1.80.tiff", 0.3);
  ComponentRunner<JaffeDataset> r({{"root", t.root.string()}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const auto ids = texts(r.table("table"), "id");
  EXPECT_EQ(std::find(ids.begin(), ids.end(), "KR.SA1.80"), ids.end());
  const auto paths = texts(r.table("skipped"), "path");
  EXPECT_NE(std::find(paths.begin(), paths.end(), t.path("KR.SA1.80.tiff")), paths.end());
}

}  // namespace
