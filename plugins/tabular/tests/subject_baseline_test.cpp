// transform.subject_baseline
#include <gtest/gtest.h>

#include "components.hpp"
#include "test_support.hpp"

namespace {

using mien::tabular::SubjectBaseline;
using mien::testing::ComponentRunner;

// Two persons, two poses. Person a has one neutral face per pose; person b has two
// frontal neutral faces (their mean is the baseline) and one profile neutral face.
const std::vector<int64_t> kLabels = {1, 0, 1, 2, 1, 1, 0, 1, 0};
mien::Table faces(const std::vector<int64_t>& labels = kLabels) {
  mien::Table t(9);
  t.add_strings("id", MIEN_ROLE_ID, {"a_n_S", "a_h_S", "a_n_P", "a_s_P", "b_n1_S", "b_n2_S", "b_h_S", "b_n_P", "b_h_P"});
  // classes: happy 0, neutral 1, sad 2
  t.add_codes("label", MIEN_ROLE_LABEL, labels, {"happy", "neutral", "sad"});
  t.add_strings("subject", MIEN_ROLE_GROUP, {"a", "a", "a", "a", "b", "b", "b", "b", "b"});
  t.add_strings("pose", MIEN_ROLE_GROUP, {"S", "S", "P", "P", "S", "S", "S", "P", "P"});
  t.add_numbers("w", MIEN_ROLE_FEATURE, {10, 12, 8, 6, 20, 22, 30, 4, 5});
  t.add_numbers("h", MIEN_ROLE_FEATURE, {2, 3, 1, 1.5, 4, 6, 10, 2, 1});
  t.add_numbers("score", MIEN_ROLE_VALUE, {0, 1, 2, 3, 4, 5, 6, 7, 8});
  return t;
}

TEST(SubjectBaseline, DifferenceAgainstTheSamePersonAndPose) {
  ComponentRunner<SubjectBaseline> r;
  r.set_input("table", faces());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView t = r.table("table");
  // Neutral rows dropped; order kept.
  EXPECT_EQ(t.get("id").texts(), (std::vector<std::string>{"a_h_S", "a_s_P", "b_h_S", "b_h_P"}));
  // a_h_S - a_n_S; a_s_P - a_n_P; b_h_S - mean(b_n1_S, b_n2_S) = (21, 5); b_h_P - b_n_P.
  EXPECT_EQ(t.get("w").numbers(), (std::vector<double>{2, -2, 9, 1}));
  EXPECT_EQ(t.get("h").numbers(), (std::vector<double>{1, 0.5, 5, -1}));
  EXPECT_EQ(t.get("score").numbers(), (std::vector<double>{1, 3, 6, 8}));  // other columns copied
  EXPECT_EQ(t.get("pose").texts(), (std::vector<std::string>{"S", "P", "S", "P"}));
  // The neutral class left the categories; sad's code moved down.
  EXPECT_EQ(t.label()->categories(), (std::vector<std::string>{"happy", "sad"}));
  EXPECT_EQ(t.label()->codes(), (std::vector<int64_t>{0, 1, 0, 0}));

  // The baseline: the neutral values used, for the same rows.
  const mien::TableView b = r.table("baseline");
  EXPECT_EQ(b.get("id").texts(), t.get("id").texts());
  EXPECT_EQ(b.feature_names(), t.feature_names());
  EXPECT_EQ(b.get("w").numbers(), (std::vector<double>{10, 8, 21, 4}));
  EXPECT_EQ(b.get("h").numbers(), (std::vector<double>{2, 1, 5, 2}));

  const mien::TableView z = r.table("relative_baseline");
  EXPECT_EQ(z.get("id").texts(), t.get("id").texts());
  EXPECT_EQ(z.get("w").numbers(), (std::vector<double>{0, 0, 0, 0}));

  const mien::Json s = r.json("summary");
  EXPECT_EQ(s["rows_in"], 9);
  EXPECT_EQ(s["rows_out"], 4);
  EXPECT_EQ(s["neutral_rows"], 5);
  EXPECT_EQ(s["baselines"], 4);
  EXPECT_EQ(s["baselines_averaged"], 1);
  EXPECT_EQ(s["match"], mien::Json({"pose"}));
  EXPECT_EQ(s["group"], "subject");
}

TEST(SubjectBaseline, RatioDividesByTheNeutralValues) {
  ComponentRunner<SubjectBaseline> r({{"mode", "ratio"}});
  r.set_input("table", faces());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView t = r.table("table");
  EXPECT_EQ(t.get("w").numbers(), (std::vector<double>{12.0 / 10, 6.0 / 8, 30.0 / 21, 5.0 / 4}));
  EXPECT_EQ(t.get("h").numbers(), (std::vector<double>{3.0 / 2, 1.5 / 1, 10.0 / 5, 1.0 / 2}));
  EXPECT_EQ(r.table("relative_baseline").get("h").numbers(), (std::vector<double>{1, 1, 1, 1}));
}

TEST(SubjectBaseline, NoneKeepsTheFeaturesOnTheSameRows) {
  ComponentRunner<SubjectBaseline> r({{"mode", "none"}});
  r.set_input("table", faces());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView t = r.table("table");
  EXPECT_EQ(t.get("id").texts(), (std::vector<std::string>{"a_h_S", "a_s_P", "b_h_S", "b_h_P"}));
  EXPECT_EQ(t.get("w").numbers(), (std::vector<double>{12, 6, 30, 5}));
  EXPECT_EQ(t.label()->categories(), (std::vector<std::string>{"happy", "sad"}));
  EXPECT_EQ(r.table("relative_baseline").get("w").numbers(), (std::vector<double>{10, 8, 21, 4}));
}

TEST(SubjectBaseline, WithoutMatchEveryNeutralFaceOfThePersonCounts) {
  ComponentRunner<SubjectBaseline> r({{"match", mien::Json::array()}});
  r.set_input("table", faces());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  // Person a's neutral mean over both poses: w (10+8)/2 = 9; b: (20+22+4)/3.
  const auto w = r.table("table").get("w").numbers();
  ASSERT_EQ(w.size(), 4u);
  EXPECT_DOUBLE_EQ(w[0], 12 - 9.0);
  EXPECT_DOUBLE_EQ(w[1], 6 - 9.0);
  EXPECT_DOUBLE_EQ(w[2], 30 - 46.0 / 3);
}

TEST(SubjectBaseline, KeepNeutralKeepsTheRowsAndTheClass) {
  ComponentRunner<SubjectBaseline> r({{"keep_neutral", true}});
  r.set_input("table", faces());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView t = r.table("table");
  EXPECT_EQ(t.num_rows(), 9);
  EXPECT_EQ(t.label()->categories(), (std::vector<std::string>{"happy", "neutral", "sad"}));
  EXPECT_EQ(t.get("w").number(0), 0);     // a's only frontal neutral face, relative to itself
  EXPECT_EQ(t.get("w").number(4), -1);    // b_n1_S - 21
}

TEST(SubjectBaseline, MissingNeutralFaceNamesThePerson) {
  mien::Table t(3);
  t.add_strings("id", MIEN_ROLE_ID, {"x1", "y1", "y2"});
  t.add_codes("label", MIEN_ROLE_LABEL, {0, 1, 0}, {"happy", "neutral"});
  t.add_strings("subject", MIEN_ROLE_GROUP, {"carol", "dave", "dave"});
  t.add_numbers("w", MIEN_ROLE_FEATURE, {1, 2, 3});
  ComponentRunner<SubjectBaseline> r;
  r.set_input("table", std::move(t));
  EXPECT_NE(r.run(), MIEN_OK);
  EXPECT_NE(r.error().find("carol"), std::string::npos) << r.error();
  EXPECT_EQ(r.error().find("dave"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("missing: drop"), std::string::npos) << r.error();
}

TEST(SubjectBaseline, MissingNeutralFaceOfOnePoseNamesPersonAndPose) {
  // a's profile neutral face relabelled as sad: a has no profile baseline any more.
  const std::vector<int64_t> labels = {1, 0, 2, 2, 1, 1, 0, 1, 0};
  ComponentRunner<SubjectBaseline> r;
  r.set_input("table", faces(labels));
  EXPECT_NE(r.run(), MIEN_OK);
  EXPECT_NE(r.error().find("a (pose P)"), std::string::npos) << r.error();

  ComponentRunner<SubjectBaseline> drop({{"missing", "drop"}});
  drop.set_input("table", faces(labels));
  ASSERT_EQ(drop.run(), MIEN_OK) << drop.error();
  EXPECT_EQ(drop.table("table").get("id").texts(), (std::vector<std::string>{"a_h_S", "b_h_S", "b_h_P"}));
  EXPECT_TRUE(drop.logged("a (pose P)", MIEN_LOG_WARNING));
}

TEST(SubjectBaseline, RatioStopsOnAZeroNeutralValue) {
  mien::Table t(2);
  t.add_strings("id", MIEN_ROLE_ID, {"n", "h"});
  t.add_codes("label", MIEN_ROLE_LABEL, {1, 0}, {"happy", "neutral"});
  t.add_strings("subject", MIEN_ROLE_GROUP, {"eve", "eve"});
  t.add_numbers("w", MIEN_ROLE_FEATURE, {1, 2});
  t.add_numbers("tilt", MIEN_ROLE_FEATURE, {0, 0.5});
  ComponentRunner<SubjectBaseline> r({{"mode", "ratio"}});
  r.set_input("table", std::move(t));
  EXPECT_NE(r.run(), MIEN_OK);
  EXPECT_NE(r.error().find("'tilt'"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("eve"), std::string::npos) << r.error();
}

TEST(SubjectBaseline, NamedColumnsMustExist) {
  ComponentRunner<SubjectBaseline> r({{"match", {"posee"}}});
  r.set_input("table", faces());
  EXPECT_NE(r.run(), MIEN_OK);
  EXPECT_NE(r.error().find("did you mean 'pose'"), std::string::npos) << r.error();

  ComponentRunner<SubjectBaseline> n({{"neutral", "calm"}});
  n.set_input("table", faces());
  EXPECT_NE(n.run(), MIEN_OK);
  EXPECT_NE(n.error().find("happy, neutral, sad"), std::string::npos) << n.error();
}

}  // namespace
