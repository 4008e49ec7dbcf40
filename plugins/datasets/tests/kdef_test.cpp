// dataset.kdef on a generated KDEF tree (KDEF/AF01/AF01AFS.JPG) with bad files in it.
#include <gtest/gtest.h>

#include "components.hpp"
#include "test_support.hpp"

namespace {

using mien::datasets::KdefDataset;
using mien::testing::ComponentRunner;
using namespace datasets_test;

// The fixture: 9 good images (one in pose FL, one directly under root with a lower-case
// extension) and 5 bad files, plus files a reader must ignore.
struct KdefTree {
  TempDir dir;
  fs::path root;
  KdefTree() : root(dir.path() / "data") {
    const std::vector<std::string> good = {"KDEF/AF01/AF01AFS.JPG",  "KDEF/AF01/AF01AFHL.JPG", "KDEF/AF01/AF01AFHR.JPG",
                                           "KDEF/AF01/AF01AFFL.JPG", "KDEF/AF01/AF01HAS.JPG",  "KDEF/AF01/AF01NES.JPG",
                                           "KDEF/BM02/BM02ANS.JPG",  "KDEF/BM02/BM02SUHR.JPG", "BF03SAS.jpg"};
    int seed = 0;
    for (const auto& g : good) write_image(root / g, seed++);
    write_image(root / "KDEF/AF01/AF01XXS.JPG", 20);  // unknown expression code
    write_image(root / "KDEF/AF01/AF01AFX.JPG", 21);  // unknown angle
    write_image(root / "KDEF/AF01/AF36NES.JPG", 22);  // person out of range
    write_text(root / "KDEF/BM02/BM02DIS.JPG", "<html>404 not found</html>\n");  // not an image
    write_truncated(root / "KDEF/BM02/BM02ANHL.JPG", 23);                         // cut short
    write_text(root / "KDEF/readme.txt", "KDEF\n");                             // not an image: ignored
    write_image(root / "KDEF/AF01/._AF01AFS.JPG", 24);                          // macOS resource fork: ignored
  }
  std::string path(const std::string& rel) const { return (root / rel).string(); }
};

std::vector<std::string> kExpectedIds = {"AF01AFHL", "AF01AFHR", "AF01AFS", "AF01HAS",
                                         "AF01NES",  "BF03SAS",  "BM02ANS", "BM02SUHR"};

TEST(KdefDataset, ReadsIdsLabelsGroupsAndPaths) {
  KdefTree t;
  ComponentRunner<KdefDataset> r({{"root", t.root.string()}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView tab = r.table("table");
  EXPECT_EQ(texts(tab, "id"), kExpectedIds);
  EXPECT_EQ(tab.get("id").role(), MIEN_ROLE_ID);
  const auto label = tab.get("label");
  EXPECT_EQ(label.role(), MIEN_ROLE_LABEL);
  EXPECT_EQ(label.dtype(), MIEN_DTYPE_I64);
  // Present classes only, in the canonical order (no disgust: its one file is broken).
  EXPECT_EQ(label.categories(), (std::vector<std::string>{"fear", "anger", "happy", "neutral", "sad", "surprise"}));
  EXPECT_EQ(labels(tab), (std::vector<std::string>{"fear", "fear", "fear", "happy", "neutral", "sad", "anger",
                                                   "surprise"}));
  EXPECT_EQ(label.codes(), (std::vector<int64_t>{0, 0, 0, 2, 3, 4, 1, 5}));
  EXPECT_EQ(texts(tab, "subject"),
            (std::vector<std::string>{"F01", "F01", "F01", "F01", "F01", "F03", "M02", "M02"}));
  EXPECT_EQ(texts(tab, "pose"), (std::vector<std::string>{"HL", "HR", "S", "S", "S", "S", "S", "HR"}));
  EXPECT_EQ(texts(tab, "series"), (std::vector<std::string>{"A", "A", "A", "A", "A", "B", "B", "B"}));
  for (const char* g : {"subject", "pose", "series"}) EXPECT_EQ(tab.get(g).role(), MIEN_ROLE_GROUP) << g;
  EXPECT_EQ(tab.get("path").role(), MIEN_ROLE_VALUE);
  EXPECT_EQ(tab.get("path").text(0), t.path("KDEF/AF01/AF01AFHL.JPG"));
  EXPECT_EQ(tab.get("path").text(5), t.path("BF03SAS.jpg"));
  for (const auto& p : texts(tab, "path")) EXPECT_TRUE(fs::path(p).is_absolute() && fs::exists(p)) << p;
}

TEST(KdefDataset, SkipsBadFilesWithReasonsAndWarnings) {
  KdefTree t;
  ComponentRunner<KdefDataset> r({{"root", t.root.string()}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView sk = r.table("skipped");
  ASSERT_EQ(sk.num_rows(), 5);
  EXPECT_EQ(texts(sk, "path"),
            (std::vector<std::string>{t.path("KDEF/AF01/AF01AFX.JPG"), t.path("KDEF/AF01/AF01XXS.JPG"),
                                      t.path("KDEF/AF01/AF36NES.JPG"), t.path("KDEF/BM02/BM02ANHL.JPG"),
                                      t.path("KDEF/BM02/BM02DIS.JPG")}));
  EXPECT_EQ(texts(sk, "problem"),
            (std::vector<std::string>{"misnamed", "misnamed", "misnamed", "truncated", "not_an_image"}));
  const auto reasons = texts(sk, "reason");
  EXPECT_NE(reasons[0].find("angle 'X' is not one of S, HL, HR, FL, FR"), std::string::npos) << reasons[0];
  EXPECT_NE(reasons[1].find("expression code 'XX' is not one of AF, AN, DI, HA, NE, SA, SU"), std::string::npos)
      << reasons[1];
  EXPECT_NE(reasons[2].find("person number 36 is outside 01-35"), std::string::npos) << reasons[2];
  EXPECT_NE(reasons[3].find("end-of-image marker"), std::string::npos) << reasons[3];
  EXPECT_NE(reasons[4].find("not a JPEG, PNG, TIFF or BMP"), std::string::npos) << reasons[4];
  // Each skipped file is also a host warning naming it.
  for (const auto& p : texts(sk, "path")) EXPECT_TRUE(r.logged(p, MIEN_LOG_WARNING)) << p;
  EXPECT_FALSE(r.logged("readme.txt"));
  EXPECT_FALSE(r.logged("._AF01AFS"));
}

TEST(KdefDataset, SummaryCountsClassesGroupsSkipsAndFilters) {
  KdefTree t;
  ComponentRunner<KdefDataset> r({{"root", t.root.string()}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::Json s = r.json("summary");
  EXPECT_EQ(s["dataset"], "kdef");
  EXPECT_EQ(s["samples"], 8);
  EXPECT_EQ(s["class_counts"],
            (mien::Json{{"fear", 3}, {"anger", 1}, {"happy", 1}, {"neutral", 1}, {"sad", 1}, {"surprise", 1}}));
  EXPECT_EQ(s["group_counts"]["subject"], (mien::Json{{"F01", 5}, {"F03", 1}, {"M02", 2}}));
  EXPECT_EQ(s["group_counts"]["pose"], (mien::Json{{"HL", 1}, {"HR", 2}, {"S", 5}}));
  EXPECT_EQ(s["group_counts"]["series"], (mien::Json{{"A", 5}, {"B", 3}}));
  EXPECT_EQ(s["skipped"]["count"], 5);
  EXPECT_EQ(s["skipped"]["reasons"], (mien::Json{{"misnamed", 3}, {"not_an_image", 1}, {"truncated", 1}}));
  EXPECT_EQ(s["excluded"], (mien::Json{{"poses", 1}}));  // AF01AFFL
  EXPECT_EQ(s["ignored_files"]["not_images"], 1);
  EXPECT_EQ(s["ignored_files"]["hidden"], 1);
  EXPECT_EQ(s["class_map"]["AF"], "fear");
  EXPECT_EQ(s["poses"], (mien::Json{"S", "HL", "HR"}));
}

TEST(KdefDataset, PoseAndSeriesFilters) {
  KdefTree t;
  {
    ComponentRunner<KdefDataset> r({{"root", t.root.string()}, {"poses", {"fl", "S"}}});
    ASSERT_EQ(r.run(), MIEN_OK) << r.error();
    EXPECT_EQ(texts(r.table("table"), "id"),
              (std::vector<std::string>{"AF01AFFL", "AF01AFS", "AF01HAS", "AF01NES", "BF03SAS", "BM02ANS"}));
    EXPECT_EQ(r.json("summary")["excluded"]["poses"], 4);  // HL and HR, the broken BM02ANHL too
  }
  {
    ComponentRunner<KdefDataset> r({{"root", t.root.string()}, {"series", {"B"}}});
    ASSERT_EQ(r.run(), MIEN_OK) << r.error();
    EXPECT_EQ(texts(r.table("table"), "id"), (std::vector<std::string>{"BF03SAS", "BM02ANS", "BM02SUHR"}));
    EXPECT_EQ(r.table("table").get("label").categories(), (std::vector<std::string>{"anger", "sad", "surprise"}));
  }
  {
    ComponentRunner<KdefDataset> r({{"root", t.root.string()}, {"poses", {"SS"}}});
    EXPECT_NE(r.run(), MIEN_OK);
    EXPECT_NE(r.error().find("poses: 'SS' is not one of S, HL, HR, FL, FR; did you mean 'S'?"), std::string::npos)
        << r.error();
  }
  {
    ComponentRunner<KdefDataset> r({{"root", t.root.string()}, {"series", mien::Json::array()}});
    EXPECT_NE(r.run(), MIEN_OK);
    EXPECT_NE(r.error().find("series is empty"), std::string::npos) << r.error();
  }
}

TEST(KdefDataset, ClassMapOverridesAndDrops) {
  KdefTree t;
  ComponentRunner<KdefDataset> r({{"root", t.root.string()}, {"class_map", {{"af", "surprise"}, {"NE", nullptr}}}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView tab = r.table("table");
  EXPECT_EQ(texts(tab, "id"),
            (std::vector<std::string>{"AF01AFHL", "AF01AFHR", "AF01AFS", "AF01HAS", "BF03SAS", "BM02ANS", "BM02SUHR"}));
  EXPECT_EQ(labels(tab),
            (std::vector<std::string>{"surprise", "surprise", "surprise", "happy", "sad", "anger", "surprise"}));
  EXPECT_EQ(tab.get("label").categories(), (std::vector<std::string>{"anger", "happy", "sad", "surprise"}));
  const mien::Json s = r.json("summary");
  EXPECT_EQ(s["excluded"]["class_map"], 1);
  EXPECT_EQ(s["class_map"]["AF"], "surprise");
  EXPECT_TRUE(s["class_map"]["NE"].is_null());
}

TEST(KdefDataset, ClassMapMistakesAreCreateErrorsNamingTheCode) {
  KdefTree t;
  struct Case {
    mien::Json map;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {{{"AF", "feer"}}, "code 'AF' maps to 'feer', which is not a class of the canonical vocabulary"},
      {{{"AF", "feer"}}, "did you mean 'fear'?"},
      {{{"AN", "angry"}}, "code 'AN' maps to 'angry'"},
      {{{"AN", "angry"}}, "did you mean 'anger'?"},
      {{{"AX", "fear"}}, "class_map: 'AX' is not one of the KDEF expression codes (AF, AN, DI, HA, NE, SA, SU); did "
                         "you mean 'AF'?"},
      {{{"HA", 3}}, "code 'HA' maps to 3"},
  };
  for (const auto& c : cases) {
    ComponentRunner<KdefDataset> r({{"root", t.root.string()}, {"class_map", c.map}});
    EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT) << c.map.dump();
    EXPECT_NE(r.error().find(c.expect), std::string::npos) << r.error();
  }
}

TEST(KdefDataset, ClassesRestrictTheCategoriesInCanonicalOrder) {
  KdefTree t;
  ComponentRunner<KdefDataset> r({{"root", t.root.string()}, {"classes", {"happy", "fear", "disgust"}}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView tab = r.table("table");
  EXPECT_EQ(texts(tab, "id"), (std::vector<std::string>{"AF01AFHL", "AF01AFHR", "AF01AFS", "AF01HAS"}));
  // A listed class without samples (disgust: its one file is broken) stays a category.
  EXPECT_EQ(tab.get("label").categories(), (std::vector<std::string>{"fear", "disgust", "happy"}));
  EXPECT_EQ(tab.get("label").codes(), (std::vector<int64_t>{0, 0, 0, 2}));
  EXPECT_EQ(r.json("summary")["class_counts"]["disgust"], 0);
  EXPECT_EQ(r.json("summary")["excluded"]["classes"], 5);
  EXPECT_TRUE(r.logged("class 'disgust' has no samples", MIEN_LOG_WARNING));

  ComponentRunner<KdefDataset> bad({{"root", t.root.string()}, {"classes", {"hapy"}}});
  EXPECT_NE(bad.run(), MIEN_OK);
  EXPECT_NE(bad.error().find("classes: 'hapy' is not a class"), std::string::npos) << bad.error();
  EXPECT_NE(bad.error().find("did you mean 'happy'?"), std::string::npos) << bad.error();
}

TEST(KdefDataset, VerifyImagesOffKeepsUncheckedFiles) {
  KdefTree t;
  ComponentRunner<KdefDataset> r({{"root", t.root.string()}, {"verify_images", false}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const auto ids = texts(r.table("table"), "id");
  EXPECT_EQ(ids.size(), 10u);
  EXPECT_NE(std::find(ids.begin(), ids.end(), "BM02DIS"), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), "BM02ANHL"), ids.end());
  EXPECT_EQ(r.json("summary")["skipped"]["reasons"], (mien::Json{{"misnamed", 3}}));
}

TEST(KdefDataset, RowOrderIsDeterministicAndSortedById) {
  KdefTree t;
  ComponentRunner<KdefDataset> a({{"root", t.root.string()}}), b({{"root", t.root.string()}});
  b.set_num_threads(4);  // the image checks run in parallel: the order must not change
  ASSERT_EQ(a.run(), MIEN_OK) << a.error();
  ASSERT_EQ(b.run(), MIEN_OK) << b.error();
  const auto ids = texts(a.table("table"), "id");
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(ids, texts(b.table("table"), "id"));
  EXPECT_EQ(texts(a.table("table"), "path"), texts(b.table("table"), "path"));
  EXPECT_EQ(texts(a.table("skipped"), "reason"), texts(b.table("skipped"), "reason"));
  EXPECT_EQ(a.json("summary"), b.json("summary"));
}

TEST(KdefDataset, DuplicateNamesKeepTheFirstPath) {
  KdefTree t;
  write_image(t.root / "copy/AF01HAS.JPG", 40);
  ComponentRunner<KdefDataset> r({{"root", t.root.string()}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_EQ(texts(r.table("table"), "id"), kExpectedIds);
  EXPECT_EQ(r.table("table").get("path").text(3), t.path("KDEF/AF01/AF01HAS.JPG"));
  const auto sk = r.table("skipped");
  const auto paths = texts(sk, "path");
  const auto it = std::find(paths.begin(), paths.end(), t.path("copy/AF01HAS.JPG"));
  ASSERT_NE(it, paths.end());
  EXPECT_EQ(sk.get("problem").text(it - paths.begin()), "duplicate");
}

TEST(KdefDataset, RelativeRootIsResolvedAgainstTheExperimentFolder) {
  KdefTree t;
  ComponentRunner<KdefDataset> r({{"root", "data"}});
  r.set_base_dir(t.dir.str());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_EQ(r.table("table").get("path").text(0), t.path("KDEF/AF01/AF01AFHL.JPG"));
}

TEST(KdefDataset, MissingOrEmptyRootIsAnError) {
  TempDir d;
  {
    ComponentRunner<KdefDataset> r({{"root", (d.path() / "nope").string()}});
    EXPECT_EQ(r.run(), MIEN_ERR_IO);
    EXPECT_NE(r.error().find("root: folder " + (d.path() / "nope").string() + " does not exist"), std::string::npos)
        << r.error();
  }
  {
    write_image(d.path() / "AF01XXS.JPG");
    ComponentRunner<KdefDataset> r({{"root", d.str()}});
    EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
    EXPECT_NE(r.error().find("no usable samples"), std::string::npos) << r.error();
    EXPECT_NE(r.error().find("1 misnamed"), std::string::npos) << r.error();
  }
}

TEST(KdefDataset, Cancels) {
  KdefTree t;
  ComponentRunner<KdefDataset> r({{"root", t.root.string()}});
  r.cancel();
  EXPECT_EQ(r.run(), MIEN_ERR_CANCELLED);
  // Also in the middle of checking the images.
  ComponentRunner<KdefDataset> mid({{"root", t.root.string()}});
  mid.cancel_after(2);
  EXPECT_EQ(mid.run(), MIEN_ERR_CANCELLED);
  EXPECT_GE(mid.cancel_polls(), 3u);
}

TEST(KdefDataset, WarningsAreCappedButEverySkipIsListed) {
  KdefTree t;
  for (int i = 0; i < 60; ++i) write_text(t.root / ("junk/junk" + std::to_string(i) + ".jpg"), "x");
  ComponentRunner<KdefDataset> r({{"root", t.root.string()}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_EQ(r.table("skipped").num_rows(), 65);
  size_t skipped_warnings = 0;
  for (const auto& m : r.log_messages(MIEN_LOG_WARNING)) skipped_warnings += m.find(": skipped ") != std::string::npos;
  EXPECT_EQ(skipped_warnings, 50u);
  EXPECT_TRUE(r.logged("... and 15 more skipped", MIEN_LOG_WARNING));
  EXPECT_FALSE(r.progress().empty());
}

}  // namespace
