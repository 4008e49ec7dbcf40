// The shared pieces: class maps, name suggestions, image checks.
#include <gtest/gtest.h>

#include "reader_support.hpp"
#include "images.hpp"
#include "test_support.hpp"

namespace {

using namespace mien::datasets;
using namespace datasets_test;

TEST(Names, CanonicalVocabularyOrder) {
  EXPECT_EQ(canonical_classes(), (std::vector<std::string>{"fear", "anger", "disgust", "happy", "neutral", "sad",
                                                           "surprise", "contempt"}));
  EXPECT_EQ(canonical_index("happy"), 3);
  EXPECT_EQ(canonical_index("Happy"), -1);
  for (const auto& [syn, canon] : class_synonyms()) EXPECT_GE(canonical_index(canon), 0) << syn;
}

TEST(Names, SuggestionsForTypos) {
  EXPECT_EQ(closest_name("feer", canonical_classes()), "fear");
  EXPECT_EQ(closest_name("SURPRISE", canonical_classes()), "surprise");
  EXPECT_EQ(closest_name("AX", {"AF", "AN"}), "AF");
  EXPECT_EQ(closest_name("XX", {"AF", "AN"}), "");  // two edits in a two-letter code is no hint
  EXPECT_EQ(did_you_mean("hapy", canonical_classes()), "; did you mean 'happy'?");
  EXPECT_EQ(did_you_mean("zzzzzz", canonical_classes()), "");
}

TEST(ClassMapTest, DefaultsOverridesDropsAndAddedCodes) {
  const std::vector<std::pair<std::string, std::string>> defaults = {{"AF", "fear"}, {"HA", "happy"}};
  ClassMap closed(defaults, mien::Json{{"ha", "surprise"}, {"AF", nullptr}}, true, true, "codes");
  ASSERT_NE(closed.find("HA"), nullptr);
  EXPECT_EQ(*closed.find("HA"), "surprise");
  EXPECT_EQ(*closed.find("af"), "");  // dropped
  EXPECT_EQ(closed.find("NE"), nullptr);
  EXPECT_EQ(closed.to_json().dump(), R"({"AF":null,"HA":"surprise"})");

  ClassMap open(defaults, mien::Json{{"7", "neutral"}}, false, false, "folders");
  EXPECT_EQ(*open.find("7"), "neutral");
  EXPECT_EQ(open.find("af"), nullptr);  // case matters without fold_case
  EXPECT_EQ(open.codes(), (std::vector<std::string>{"AF", "HA", "7"}));

  EXPECT_THROW(ClassMap(defaults, mien::Json{{"NE", "neutral"}}, true, true, "codes"), mien::Error);
  EXPECT_THROW(ClassMap(defaults, mien::Json{{"AF", "scared"}}, true, true, "codes"), mien::Error);
  EXPECT_THROW(ClassMap(defaults, mien::Json{{"AF", true}}, true, true, "codes"), mien::Error);
  EXPECT_THROW(ClassMap(defaults, mien::Json::array(), true, true, "codes"), mien::Error);
  try {
    ClassMap(defaults, mien::Json{{"AF", "scared"}}, true, true, "codes");
  } catch (const mien::Error& e) {
    EXPECT_NE(std::string(e.what()).find("code 'AF' maps to 'scared'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("did you mean 'fear'?"), std::string::npos) << e.what();
  }
}

TEST(ClassesParam, ChecksNamesAndRepeats) {
  EXPECT_EQ(check_classes({"sad", "fear"}), (std::vector<std::string>{"sad", "fear"}));
  EXPECT_THROW(check_classes({"sad", "sad"}), mien::Error);
  EXPECT_THROW(check_classes({"Sad"}), mien::Error);
}

TEST(ImageCheckTest, GoodImagesOfEveryFormat) {
  TempDir d;
  for (const std::string ext : {".jpg", ".png", ".bmp", ".tiff"}) {
    const std::string p = write_image(d.path() / ("ok" + ext), 3);
    const ImageCheck c = check_image(p, true);
    EXPECT_TRUE(c.ok) << ext << ": " << c.reason;
  }
}

TEST(ImageCheckTest, BrokenFiles) {
  TempDir d;
  struct Case {
    std::string name;
    std::string problem;
  };
  write_truncated(d.path() / "cut.jpg");
  write_truncated(d.path() / "cut.png");
  write_image(d.path() / "cut.bmp", 1, 32, 32);
  truncate_file(d.path() / "cut.bmp", 0.5);
  write_text(d.path() / "text.jpg", "hello, I am text");
  write_text(d.path() / "empty.png", "");
  // A PNG whose signature and end are right but whose data is garbage: only decoding tells.
  std::string png = "\x89PNG\r\n\x1a\n" + std::string(64, 'x');
  png += std::string("\0\0\0\0IEND\xae\x42\x60\x82", 12);
  write_text(d.path() / "garbage.png", png);
  for (const Case& c : std::vector<Case>{{"cut.jpg", "truncated"},
                                         {"cut.png", "truncated"},
                                         {"cut.bmp", "truncated"},
                                         {"text.jpg", "not_an_image"},
                                         {"empty.png", "empty"},
                                         {"garbage.png", "unreadable"},
                                         {"missing.jpg", "unreadable"}}) {
    const ImageCheck r = check_image((d.path() / c.name).string(), true);
    EXPECT_FALSE(r.ok) << c.name;
    EXPECT_EQ(r.problem, c.problem) << c.name << ": " << r.reason;
    EXPECT_FALSE(r.reason.empty()) << c.name;
  }
  // Without decoding, the garbage PNG passes the cheap checks.
  EXPECT_TRUE(check_image((d.path() / "garbage.png").string(), false).ok);
}

TEST(ListFiles, SortedRecursiveWithoutHiddenFiles) {
  TempDir d;
  write_text(d.path() / "b/2.txt", "x");
  write_text(d.path() / "a.txt", "x");
  write_text(d.path() / "b/.hidden", "x");
  write_text(d.path() / ".git/config", "x");
  fs::create_symlink(d.path() / "nowhere.jpg", d.path() / "b/dangling.jpg");  // not a file, no error
  const mien::Host host(nullptr, nullptr);
  const Listing l = list_files(d.path(), host);
  ASSERT_EQ(l.files.size(), 2u);
  EXPECT_EQ(l.files[0], d.path() / "a.txt");
  EXPECT_EQ(l.files[1], d.path() / "b/2.txt");
  EXPECT_EQ(l.hidden, 1u);
}

}  // namespace
