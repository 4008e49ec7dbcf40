// split.holdout and split.group_kfold
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "components.hpp"
#include "test_support.hpp"

namespace {

using mien::tabular::SplitGroupKFold;
using mien::tabular::SplitHoldout;
using mien::testing::ComponentRunner;
using tabular_test::make_table;

// 100 rows: 70 of class 0, 30 of class 1, interleaved; 20 subjects of 5 rows.
mien::Table hundred(bool with_subjects = true) {
  std::vector<int64_t> labels;
  std::vector<std::string> subjects;
  for (int i = 0; i < 100; ++i) {
    labels.push_back(i % 10 < 7 ? 0 : 1);
    subjects.push_back("S" + std::to_string(i / 5));
  }
  return make_table(labels, {"happy", "sad"}, with_subjects ? subjects : std::vector<std::string>{});
}

std::vector<std::string> ids(const mien::TableView& t) { return t.get("id").texts(); }

int64_t count_class(const mien::TableView& t, int64_t c) {
  int64_t n = 0;
  for (int64_t k : t.label()->codes()) n += (k == c);
  return n;
}

TEST(SplitHoldout, StratifiedProportions) {
  ComponentRunner<SplitHoldout> r({{"test_size", 0.2}}, 1);
  r.set_input("table", hundred());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const auto train = r.table("train"), test = r.table("test");
  EXPECT_EQ(train.num_rows(), 80);
  EXPECT_EQ(test.num_rows(), 20);
  EXPECT_EQ(count_class(test, 0), 14);
  EXPECT_EQ(count_class(test, 1), 6);
  EXPECT_EQ(count_class(train, 1), 24);
  // Same columns, rows in original order, disjoint and complete.
  EXPECT_EQ(train.num_columns(), 4u);
  EXPECT_EQ(test.label()->categories(), (std::vector<std::string>{"happy", "sad"}));
  const auto xs = test.get("x").numbers();
  EXPECT_TRUE(std::is_sorted(xs.begin(), xs.end()));
  std::set<std::string> all;
  for (const auto& id : ids(train)) all.insert(id);
  for (const auto& id : ids(test)) EXPECT_TRUE(all.insert(id).second) << id << " on both sides";
  EXPECT_EQ(all.size(), 100u);
  EXPECT_FALSE(r.progress().empty());
  EXPECT_TRUE(r.logged("80 train rows, 20 test rows", MIEN_LOG_INFO));
}

TEST(SplitHoldout, UnstratifiedAndAssignment) {
  ComponentRunner<SplitHoldout> r({{"test_size", 0.3}, {"stratify", false}}, 5);
  r.set_input("table", hundred());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_EQ(r.table("test").num_rows(), 30);
  const auto a = r.table("assignment");
  ASSERT_EQ(a.num_rows(), 100);
  EXPECT_EQ(a.column(0).role(), MIEN_ROLE_ID);
  const auto test_ids = ids(r.table("test"));
  const std::set<std::string> in_test(test_ids.begin(), test_ids.end());
  for (int64_t i = 0; i < 100; ++i) {
    const std::string id = a.get("id").text(i);
    EXPECT_EQ(a.get("split").text(i), in_test.count(id) ? "test" : "train") << id;
  }
}

TEST(SplitHoldout, GroupsStayOnOneSide) {
  ComponentRunner<SplitHoldout> r({{"test_size", 0.25}, {"group", "subject"}}, 3);
  r.set_input("table", hundred());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const auto train = r.table("train").get("subject").texts();
  const auto test = r.table("test").get("subject").texts();
  const std::set<std::string> tr(train.begin(), train.end()), te(test.begin(), test.end());
  for (const auto& s : te) EXPECT_FALSE(tr.count(s)) << s << " on both sides";
  EXPECT_EQ(te.size(), 5u);  // 25% of 20 groups
  EXPECT_EQ(tr.size(), 15u);
  EXPECT_EQ(test.size(), 25u);
}

TEST(SplitHoldout, StratifiesGroupsByMajorityLabel) {
  // 10 groups of class 0 and 10 of class 1, 4 rows each.
  std::vector<int64_t> labels;
  std::vector<std::string> subjects;
  for (int g = 0; g < 20; ++g)
    for (int k = 0; k < 4; ++k) {
      labels.push_back(g % 2 == 0 ? 0 : (k == 0 ? 0 : 1));  // odd groups: majority 1
      subjects.push_back("G" + std::to_string(g));
    }
  for (uint64_t seed = 0; seed < 5; ++seed) {
    ComponentRunner<SplitHoldout> r({{"test_size", 0.2}, {"group", "subject"}}, seed);
    r.set_input("table", make_table(labels, {"a", "b"}, subjects));
    ASSERT_EQ(r.run(), MIEN_OK) << r.error();
    std::set<std::string> groups;
    for (const auto& s : r.table("test").get("subject").texts()) groups.insert(s);
    int even = 0, odd = 0;
    for (const auto& s : groups) (std::stoi(s.substr(1)) % 2 == 0 ? even : odd)++;
    EXPECT_EQ(even, 2) << "seed " << seed;
    EXPECT_EQ(odd, 2) << "seed " << seed;
  }
}

TEST(SplitHoldout, SameSeedSameSplitOtherSeedOtherSplit) {
  auto split = [](uint64_t seed, const mien::Json& params) {
    ComponentRunner<SplitHoldout> r(params, seed);
    r.set_input("table", hundred());
    EXPECT_EQ(r.run(), MIEN_OK) << r.error();
    return ids(r.table("test"));
  };
  for (const mien::Json& p : {mien::Json::object(), mien::Json{{"stratify", false}}, mien::Json{{"group", "subject"}}}) {
    EXPECT_EQ(split(11, p), split(11, p)) << p;
    EXPECT_NE(split(11, p), split(12, p)) << p;
  }
}

TEST(SplitHoldout, FixedSeedGivesAFixedSplit) {
  // The shuffle is implemented in the plugin (not std::shuffle), so this holds on every
  // standard library.
  std::vector<int64_t> labels(10, 0);
  ComponentRunner<SplitHoldout> r({{"test_size", 0.3}, {"stratify", false}}, 2024);
  r.set_input("table", make_table(labels, {"only"}, {}));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const auto first = ids(r.table("test"));
  ASSERT_EQ(first.size(), 3u);
  ComponentRunner<SplitHoldout> again({{"test_size", 0.3}, {"stratify", false}}, 2024);
  again.set_input("table", make_table(labels, {"only"}, {}));
  ASSERT_EQ(again.run(), MIEN_OK);
  EXPECT_EQ(ids(again.table("test")), first);
}

TEST(SplitHoldout, NoLabelWarnsAndSplitsPlainly) {
  mien::Table t(10);
  std::vector<double> x(10, 1.0);
  t.add_numbers("x", MIEN_ROLE_FEATURE, x);
  ComponentRunner<SplitHoldout> r({{"test_size", 0.5}});
  r.set_input("table", std::move(t));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_TRUE(r.logged("no LABEL column", MIEN_LOG_WARNING));
  EXPECT_EQ(r.table("test").num_rows(), 5);
  EXPECT_EQ(r.table("assignment").get("id").text(0), "row0001");
}

TEST(SplitHoldout, Errors) {
  EXPECT_THROW(ComponentRunner<SplitHoldout>({{"test_size", 1.5}}), mien::testing::InvalidParams);
  ComponentRunner<SplitHoldout> one({{"test_size", 1.0}});
  one.set_input("table", hundred());
  EXPECT_EQ(one.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(one.error().find("strictly between 0 and 1"), std::string::npos) << one.error();

  ComponentRunner<SplitHoldout> typo({{"group", "subjet"}});
  typo.set_input("table", hundred());
  EXPECT_EQ(typo.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(typo.error().find("no column 'subjet'; did you mean 'subject'?"), std::string::npos) << typo.error();
}

// ---- split.group_kfold ----

// 24 subjects of 2-7 rows with uneven labels over 3 classes.
std::pair<std::vector<int64_t>, std::vector<std::string>> cohort_rows() {
  std::vector<int64_t> labels;
  std::vector<std::string> subjects;
  for (int s = 0; s < 24; ++s) {
    const int rows = 2 + (s * 7) % 6;
    for (int k = 0; k < rows; ++k) {
      labels.push_back((s + k * (s % 3 == 0 ? 0 : 1)) % 3);
      subjects.push_back("S" + std::to_string(s));
    }
  }
  return {labels, subjects};
}

mien::Table cohort() {
  const auto [labels, subjects] = cohort_rows();
  return make_table(labels, {"a", "b", "c"}, subjects);
}

TEST(SplitGroupKFold, FoldsPartitionTheRowsAndKeepGroups) {
  const int folds = 5;
  std::map<std::string, int> test_fold_of_id;
  std::map<std::string, std::set<int>> folds_of_subject;
  int64_t total = 0;
  std::vector<int64_t> reference_assignment;
  for (int f = 0; f < folds; ++f) {
    ComponentRunner<SplitGroupKFold> r({{"folds", folds}, {"fold", f}, {"group", "subject"}}, 99);
    r.set_input("table", cohort());
    ASSERT_EQ(r.run(), MIEN_OK) << r.error();
    const auto test = r.table("test"), train = r.table("train");
    total = test.num_rows() + train.num_rows();
    EXPECT_GT(test.num_rows(), 0) << "fold " << f;
    for (const auto& id : ids(test)) EXPECT_TRUE(test_fold_of_id.emplace(id, f).second) << id << " tested twice";
    for (const auto& s : test.get("subject").texts()) folds_of_subject[s].insert(f);
    const auto tr = train.get("subject").texts();
    for (const auto& s : test.get("subject").texts())
      EXPECT_EQ(std::count(tr.begin(), tr.end(), s), 0) << s << " in train and test of fold " << f;
    // The assignment does not depend on `fold`.
    const auto a = r.table("assignment").get("fold").codes();
    if (f == 0) reference_assignment = a;
    EXPECT_EQ(a, reference_assignment);
    for (int64_t i = 0; i < r.table("assignment").num_rows(); ++i) {
      if (a[static_cast<size_t>(i)] == f) {
        EXPECT_EQ(test_fold_of_id.at(r.table("assignment").get("id").text(i)), f);
      }
    }
  }
  EXPECT_EQ(static_cast<int64_t>(test_fold_of_id.size()), total);  // every row tested exactly once
  for (const auto& [s, fs] : folds_of_subject) EXPECT_EQ(fs.size(), 1u) << s;
  EXPECT_EQ(folds_of_subject.size(), 24u);
  ComponentRunner<SplitGroupKFold> r({{"folds", folds}, {"group", "subject"}}, 99);
  r.set_input("table", cohort());
  ASSERT_EQ(r.run(), MIEN_OK);
  const auto fold = r.table("assignment").get("fold");
  EXPECT_EQ(fold.role(), MIEN_ROLE_GROUP);
  EXPECT_EQ(fold.categories(), (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  EXPECT_EQ(fold.text(0), std::to_string(fold.code(0)));
}

// 30 subjects whose rows all have one class: 18 of class 0, 8 of class 1, 4 of class 2.
mien::Table pure_groups() {
  std::vector<int64_t> labels;
  std::vector<std::string> subjects;
  for (int s = 0; s < 30; ++s) {
    const int64_t c = s < 18 ? 0 : (s < 26 ? 1 : 2);
    for (int k = 0; k < 3 + (s * 5) % 4; ++k) {
      labels.push_back(c);
      subjects.push_back("S" + std::to_string(s));
    }
  }
  return make_table(labels, {"a", "b", "c"}, subjects);
}

TEST(SplitGroupKFold, StratificationKeepsClassShares) {
  std::vector<double> share(3, 0.0);
  int64_t total = 0;
  {
    ComponentRunner<SplitGroupKFold> r({{"folds", 4}, {"group", "subject"}});
    r.set_input("table", pure_groups());
    ASSERT_EQ(r.run(), MIEN_OK) << r.error();
    for (const auto* part : {"train", "test"})
      for (int64_t c : r.table(part).label()->codes()) {
        share[static_cast<size_t>(c)] += 1;
        ++total;
      }
    for (double& s : share) s /= static_cast<double>(total);
  }
  // The largest gap between a test fold's class share and the overall share.
  auto worst_deviation = [&](bool stratify, uint64_t seed) {
    double worst = 0;
    for (int f = 0; f < 4; ++f) {
      ComponentRunner<SplitGroupKFold> r({{"folds", 4}, {"fold", f}, {"group", "subject"}, {"stratify", stratify}},
                                         seed);
      r.set_input("table", pure_groups());
      EXPECT_EQ(r.run(), MIEN_OK) << r.error();
      const auto t = r.table("test");
      for (int64_t c = 0; c < 3; ++c) {
        const double s = static_cast<double>(count_class(t, c)) / static_cast<double>(t.num_rows());
        worst = std::max(worst, std::fabs(s - share[static_cast<size_t>(c)]));
      }
    }
    return worst;
  };
  double stratified = 0, plain = 0;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    const double s = worst_deviation(true, seed);
    EXPECT_LT(s, 0.15) << "seed " << seed;
    stratified += s;
    plain += worst_deviation(false, seed);
  }
  EXPECT_LT(stratified, plain);
}

TEST(SplitGroupKFold, Determinism) {
  auto assignment = [](uint64_t seed) {
    ComponentRunner<SplitGroupKFold> r({{"folds", 3}, {"group", "subject"}}, seed);
    r.set_input("table", cohort());
    EXPECT_EQ(r.run(), MIEN_OK) << r.error();
    return r.table("assignment").get("fold").codes();
  };
  EXPECT_EQ(assignment(1), assignment(1));
  EXPECT_NE(assignment(1), assignment(2));
  // A pinned seed wins over the node's.
  ComponentRunner<SplitGroupKFold> a({{"folds", 3}, {"group", "subject"}, {"seed", 1}}, 555);
  a.set_input("table", cohort());
  ASSERT_EQ(a.run(), MIEN_OK);
  EXPECT_EQ(a.table("assignment").get("fold").codes(), assignment(1));
}

TEST(SplitGroupKFold, TooFewGroups) {
  std::vector<int64_t> labels = {0, 1, 0, 1, 0, 1};
  ComponentRunner<SplitGroupKFold> r({{"folds", 5}, {"group", "subject"}});
  r.set_input("table", make_table(labels, {"a", "b"}, {"A", "A", "B", "B", "C", "C"}));
  EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(r.error(), "split.group_kfold: 3 groups in column 'subject' but folds = 5");
}

TEST(SplitGroupKFold, ParameterErrors) {
  using mien::testing::InvalidParams;
  EXPECT_THROW(ComponentRunner<SplitGroupKFold>(mien::Json::object()), InvalidParams);  // group is required
  EXPECT_THROW(ComponentRunner<SplitGroupKFold>({{"group", "s"}, {"folds", 1}}), InvalidParams);
  ComponentRunner<SplitGroupKFold> r({{"group", "subject"}, {"folds", 3}, {"fold", 3}});
  r.set_input("table", cohort());
  EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(r.error(), "fold = 3 but folds = 3 (fold counts from 0 to folds-1)");
}

TEST(SplitGroupKFold, NoFoldIsLeftEmpty) {
  // One huge group and many tiny ones, both with and without stratification.
  std::vector<std::vector<int64_t>> counts = {{100, 0}, {1, 0}, {0, 1}, {1, 0}, {0, 1}};
  for (bool stratify : {true, false})
    for (uint64_t seed = 0; seed < 20; ++seed) {
      const auto fold_of = SplitGroupKFold::assign_folds(counts, 5, stratify, seed);
      std::set<int64_t> used(fold_of.begin(), fold_of.end());
      EXPECT_EQ(used.size(), 5u) << "seed " << seed;
    }
}

}  // namespace
