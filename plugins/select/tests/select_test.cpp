// The select components through mien::testing::ComponentRunner.
#include <gtest/gtest.h>
#include <mien/testing.hpp>

#include <mien_face_geometry/geometric.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "components.hpp"
#include "synth.hpp"

using namespace mien;
using mien::testing::ComponentRunner;
using select_test::informative_table;

namespace {

std::set<std::string> as_set(const Json& a) {
  std::set<std::string> s;
  for (const auto& v : a) s.insert(v.get<std::string>());
  return s;
}

const std::set<std::string> kInformative = {"f2", "f5", "f8"};

std::vector<std::string> feature_names(const TableView& t) { return t.feature_names(); }

template <typename C>
std::string table_dump(const ComponentRunner<C>& r, const std::string& port) {
  const TableView t = r.table(port);
  std::string s;
  for (uint32_t c = 0; c < t.num_columns(); ++c) {
    s += std::string(t.column(c).name()) + ":";
    for (const auto& v : t.column(c).texts()) s += v + ",";
  }
  return s;
}

}  // namespace

TEST(SelectRfe, RecoversTheInformativeFeatures) {
  ComponentRunner<select::SelectRfe> r({{"k", 3}});
  r.set_input("table", informative_table());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json sel = r.json("selected");
  EXPECT_EQ(as_set(sel["features"]), kInformative);
  EXPECT_EQ(sel["steps"].size(), 8u);  // 10 -> 3 one at a time, then the final fit
  // Output table: only the selected features, other columns kept, original order.
  const TableView t = r.table("table");
  EXPECT_EQ(feature_names(t), (std::vector<std::string>{"f2", "f5", "f8"}));
  EXPECT_TRUE(t.find("id") && t.find("label") && t.find("subject"));
  EXPECT_EQ(t.num_rows(), 240);
  const TableView rk = r.table("ranking");
  ASSERT_EQ(rk.num_rows(), 10);
  EXPECT_EQ(as_set(Json(std::vector<std::string>{rk.get("feature").text(0), rk.get("feature").text(1),
                                                 rk.get("feature").text(2)})),
            kInformative);
  EXPECT_EQ(rk.get("rank").code(0), 1);
  EXPECT_EQ(rk.get("selected").code(2), 1);
  EXPECT_EQ(rk.get("selected").code(3), 0);
  EXPECT_FALSE(r.progress().empty());
}

TEST(SelectRfe, StepLargerThanOneAndDeterminism) {
  ComponentRunner<select::SelectRfe> a({{"k", 3}, {"step", 3}});
  a.set_input("table", informative_table());
  ASSERT_EQ(a.run(), MIEN_OK) << a.error();
  EXPECT_EQ(as_set(a.json("selected")["features"]), kInformative);
  EXPECT_EQ(a.json("selected")["steps"].size(), 4u);  // 10 -> 7 -> 4 -> 3 + final
  ComponentRunner<select::SelectRfe> b({{"k", 3}, {"step", 3}});
  b.set_input("table", informative_table());
  ASSERT_EQ(b.run(), MIEN_OK);
  EXPECT_EQ(a.text("selected"), b.text("selected"));
  EXPECT_EQ(table_dump(a, "ranking"), table_dump(b, "ranking"));
}

TEST(SelectSequential, ForwardRecoversTheInformativeFeatures) {
  ComponentRunner<select::SelectSequential> r({{"k", 3}, {"direction", "forward"}, {"cv", 4}}, 11);
  r.set_input("table", informative_table(180));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json sel = r.json("selected");
  EXPECT_EQ(as_set(sel["features"]), kInformative);
  ASSERT_EQ(sel["steps"].size(), 3u);
  // Each added informative feature raises the CV accuracy.
  EXPECT_LT(sel["steps"][0]["cv_accuracy"].get<double>(), sel["steps"][1]["cv_accuracy"].get<double>());
  EXPECT_LT(sel["steps"][1]["cv_accuracy"].get<double>(), sel["steps"][2]["cv_accuracy"].get<double>());
  EXPECT_GT(sel["cv_accuracy"].get<double>(), 0.8);
  EXPECT_EQ(feature_names(r.table("table")).size(), 3u);
}

TEST(SelectSequential, BackwardRecoversTheInformativeFeatures) {
  ComponentRunner<select::SelectSequential> r({{"k", 3}, {"direction", "backward"}, {"cv", 3}}, 11);
  r.set_input("table", informative_table(150));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json sel = r.json("selected");
  EXPECT_EQ(as_set(sel["features"]), kInformative);
  EXPECT_EQ(sel["steps"].size(), 7u);
  const TableView rk = r.table("ranking");
  EXPECT_EQ(rk.num_rows(), 10);
}

TEST(SelectSequential, GroupAwareAndDeterministic) {
  const Json params = {{"k", 2}, {"cv", 3}, {"group", "subject"}};
  ComponentRunner<select::SelectSequential> a(params, 5), b(params, 5);
  a.set_input("table", informative_table(120, 2.5, 3, 6));
  b.set_input("table", informative_table(120, 2.5, 3, 6));
  ASSERT_EQ(a.run(), MIEN_OK) << a.error();
  ASSERT_EQ(b.run(), MIEN_OK);
  EXPECT_EQ(a.text("selected"), b.text("selected"));
  EXPECT_EQ(table_dump(a, "table"), table_dump(b, "table"));
  const mien::Json selected = a.json("selected");  // named: the loop iterates a part of it
  for (const auto& f : selected["features"]) EXPECT_TRUE(kInformative.count(f.get<std::string>()));
  // 6 subjects cannot fill 7 folds.
  ComponentRunner<select::SelectSequential> c({{"k", 2}, {"cv", 7}, {"group", "subject"}});
  c.set_input("table", informative_table(120, 2.5, 3, 6));
  EXPECT_EQ(c.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(c.error().find("'cv'"), std::string::npos) << c.error();
  EXPECT_NE(c.error().find("groups"), std::string::npos) << c.error();
  ComponentRunner<select::SelectSequential> d({{"k", 2}, {"group", "subjekt"}});
  d.set_input("table", informative_table(60));
  EXPECT_EQ(d.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(d.error().find("did you mean 'subject'"), std::string::npos) << d.error();
}

TEST(SelectSequential, FewerSamplesThanFolds) {
  ComponentRunner<select::SelectSequential> r({{"k", 1}, {"cv", 10}});
  r.set_input("table", informative_table(6));
  EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(r.error().find("6 samples but 10 folds"), std::string::npos) << r.error();
}

TEST(SelectImportanceTopK, PicksTheLargestMeanAbsoluteAttributions) {
  // Hand-made: mean |attr| a=1.5, b=0.5, c=3, d=2 (signs must not matter).
  Table attr(2);
  attr.add_strings("id", MIEN_ROLE_ID, {"x", "y"});
  attr.add_strings("explained_class", MIEN_ROLE_VALUE, {"happy", "sad"});
  attr.add_numbers("a", MIEN_ROLE_FEATURE, {1.0, -2.0});
  attr.add_numbers("b", MIEN_ROLE_FEATURE, {0.5, 0.5});
  attr.add_numbers("c", MIEN_ROLE_FEATURE, {-3.0, 3.0});
  attr.add_numbers("d", MIEN_ROLE_FEATURE, {4.0, 0.0});
  Table data(3);
  for (const char* n : {"a", "b", "c", "d"}) data.add_numbers(n, MIEN_ROLE_FEATURE, {1, 2, 3});
  data.add_codes("label", MIEN_ROLE_LABEL, {0, 1, 0}, {"happy", "sad"});
  ComponentRunner<select::SelectImportanceTopK> r({{"k", 2}});
  r.set_input("table", std::move(data));
  r.set_input("attributions", std::move(attr));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json sel = r.json("selected");
  EXPECT_EQ(sel["features"], Json({"c", "d"}));
  EXPECT_DOUBLE_EQ(sel["scores"][0].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(sel["scores"][1].get<double>(), 2.0);
  EXPECT_EQ(feature_names(r.table("table")), (std::vector<std::string>{"c", "d"}));
  const TableView rk = r.table("ranking");
  EXPECT_EQ(rk.get("feature").texts(), (std::vector<std::string>{"c", "d", "a", "b"}));
  EXPECT_EQ(rk.get("score").numbers(), (std::vector<double>{3.0, 2.0, 1.5, 0.5}));
}

TEST(SelectImportanceTopK, ClassFilterAndMissingFeature) {
  auto attr = [] {
    Table a(2);
    a.add_strings("explained_class", MIEN_ROLE_VALUE, {"happy", "sad"});
    a.add_numbers("a", MIEN_ROLE_FEATURE, {1.0, 0.0});
    a.add_numbers("b", MIEN_ROLE_FEATURE, {0.0, 5.0});
    return a;
  };
  auto data = [](bool with_c) {
    Table d(1);
    d.add_numbers("a", MIEN_ROLE_FEATURE, {1});
    d.add_numbers("b", MIEN_ROLE_FEATURE, {1});
    if (with_c) d.add_numbers("c", MIEN_ROLE_FEATURE, {1});
    return d;
  };
  ComponentRunner<select::SelectImportanceTopK> r({{"k", 1}, {"class", "happy"}});
  r.set_input("table", data(false));
  r.set_input("attributions", attr());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_EQ(r.json("selected")["features"], Json({"a"}));
  ComponentRunner<select::SelectImportanceTopK> all({{"k", 1}});
  all.set_input("table", data(false));
  all.set_input("attributions", attr());
  ASSERT_EQ(all.run(), MIEN_OK) << all.error();
  EXPECT_EQ(all.json("selected")["features"], Json({"b"}));
  ComponentRunner<select::SelectImportanceTopK> missing({{"k", 1}});
  missing.set_input("table", data(true));
  missing.set_input("attributions", attr());
  EXPECT_EQ(missing.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(missing.error().find("feature 'c'"), std::string::npos) << missing.error();
}

TEST(SelectColumns, PaperSubsetsAndNamedLists) {
  // A table with the 40 geometric features (values do not matter).
  auto geo = [] {
    Table t(2);
    for (const auto& f : mien::face::geometric_features()) t.add_numbers(f.name, MIEN_ROLE_FEATURE, {0.0, 1.0});
    t.add_codes("label", MIEN_ROLE_LABEL, {0, 1}, {"fear", "anger"});
    return t;
  };
  const std::pair<const char*, size_t> sizes[] = {{"S", 30}, {"HL", 25}, {"HR", 30}, {"all", 40}};
  for (const auto& [name, n] : sizes) {
    ComponentRunner<select::SelectColumns> r({{"subset", name}});
    r.set_input("table", geo());
    ASSERT_EQ(r.run(), MIEN_OK) << r.error();
    EXPECT_EQ(r.table("table").feature_names().size(), n) << name;
    EXPECT_EQ(r.json("selected")["features"].size(), n);
    EXPECT_TRUE(r.table("table").find("label"));
  }
  ComponentRunner<select::SelectColumns> named({{"columns", {"f5", "f1"}}});
  named.set_input("table", informative_table(9));
  ASSERT_EQ(named.run(), MIEN_OK) << named.error();
  EXPECT_EQ(named.json("selected")["features"], Json({"f5", "f1"}));
  EXPECT_EQ(named.table("table").feature_names(), (std::vector<std::string>{"f1", "f5"}));  // table order
  ComponentRunner<select::SelectColumns> typo({{"columns", {"f5", "f11x"}}});
  typo.set_input("table", informative_table(9));
  EXPECT_EQ(typo.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(typo.error().find("'f11x'"), std::string::npos) << typo.error();
  ComponentRunner<select::SelectColumns> subset_missing({{"subset", "S"}});
  subset_missing.set_input("table", informative_table(9));
  EXPECT_EQ(subset_missing.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(subset_missing.error().find("subset 'S'"), std::string::npos) << subset_missing.error();
  ComponentRunner<select::SelectColumns> neither(Json::object());
  neither.set_input("table", informative_table(9));
  EXPECT_EQ(neither.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(neither.error().find("'columns'"), std::string::npos) << neither.error();
}

TEST(SelectErrors, KTooLargeEmptyFeaturesAndNaN) {
  ComponentRunner<select::SelectRfe> big({{"k", 11}});
  big.set_input("table", informative_table(30));
  EXPECT_EQ(big.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(big.error().find("parameter 'k' is 11"), std::string::npos) << big.error();

  Table none(3);
  none.add_codes("label", MIEN_ROLE_LABEL, {0, 1, 0}, {"a", "b"});
  ComponentRunner<select::SelectRfe> empty({{"k", 1}});
  empty.set_input("table", std::move(none));
  EXPECT_EQ(empty.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(empty.error().find("no FEATURE columns"), std::string::npos) << empty.error();

  Table nan(3);
  nan.add_numbers("a", MIEN_ROLE_FEATURE, {1.0, std::nan(""), 2.0});
  nan.add_codes("label", MIEN_ROLE_LABEL, {0, 1, 0}, {"a", "b"});
  ComponentRunner<select::SelectSequential> bad({{"k", 1}, {"cv", 2}});
  bad.set_input("table", std::move(nan));
  EXPECT_EQ(bad.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(bad.error().find("non-finite"), std::string::npos) << bad.error();
  EXPECT_NE(bad.error().find("'a'"), std::string::npos) << bad.error();

  Table nolabel(3);
  nolabel.add_numbers("a", MIEN_ROLE_FEATURE, {1.0, 2.0, 3.0});
  ComponentRunner<select::SelectRfe> nl({{"k", 1}});
  nl.set_input("table", std::move(nolabel));
  EXPECT_EQ(nl.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(nl.error().find("LABEL"), std::string::npos) << nl.error();
}

TEST(SelectRfe, Cancellation) {
  ComponentRunner<select::SelectRfe> r({{"k", 1}});
  r.set_input("table", informative_table(60));
  r.cancel();
  EXPECT_EQ(r.run(), MIEN_ERR_CANCELLED);
}
