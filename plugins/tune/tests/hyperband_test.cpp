// Hyperband schedule arithmetic, the search space, and tune.hyperband end to end.
#include <gtest/gtest.h>
#include <mien/testing.hpp>

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "../src/components.hpp"
#include "../src/hyperband.hpp"

using namespace mien;
using namespace mien::tune;
using mien::testing::ComponentRunner;

namespace {

double gauss(std::mt19937_64& g) {
  const double u1 = (static_cast<double>(g() >> 11) + 0.5) / 9007199254740992.0;
  const double u2 = (static_cast<double>(g() >> 11) + 0.5) / 9007199254740992.0;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// 3 well-separated classes on f0, f1; f2, f3 are noise.
Table easy_table(int64_t n, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::vector<std::vector<double>> f(4, std::vector<double>(static_cast<size_t>(n)));
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = i % 3;
    y[static_cast<size_t>(i)] = c;
    for (int j = 0; j < 4; ++j) f[static_cast<size_t>(j)][static_cast<size_t>(i)] = 0.5 * gauss(g);
    f[0][static_cast<size_t>(i)] += c == 0 ? 3.0 : 0.0;
    f[1][static_cast<size_t>(i)] += c == 1 ? 3.0 : 0.0;
  }
  Table t(n);
  for (int j = 0; j < 4; ++j) t.add_numbers("f" + std::to_string(j), MIEN_ROLE_FEATURE, f[static_cast<size_t>(j)]);
  t.add_codes("label", MIEN_ROLE_LABEL, y, {"happy", "sad", "surprise"});
  return t;
}

std::string dump(const TableView& t) {
  std::string s;
  for (uint32_t c = 0; c < t.num_columns(); ++c) {
    s += std::string(t.column(c).name()) + ":";
    for (const auto& v : t.column(c).texts()) s += v + ",";
    s += "\n";
  }
  return s;
}

}  // namespace

TEST(Schedule, MatchesLiEtAlForR27Eta3) {
  EXPECT_EQ(hyperband_smax(27, 3), 3);
  const std::vector<Bracket> b = hyperband_schedule(27, 3);
  ASSERT_EQ(b.size(), 4u);
  const std::vector<std::vector<std::pair<int64_t, int64_t>>> expect = {
      {{27, 1}, {9, 3}, {3, 9}, {1, 27}},
      {{12, 3}, {4, 9}, {1, 27}},
      {{6, 9}, {2, 27}},
      {{4, 27}}};
  for (size_t s = 0; s < 4; ++s) {
    EXPECT_EQ(b[s].s, static_cast<int64_t>(3 - s));
    ASSERT_EQ(b[s].rungs.size(), expect[s].size()) << "bracket " << b[s].s;
    for (size_t i = 0; i < expect[s].size(); ++i) {
      EXPECT_EQ(b[s].rungs[i].configs, expect[s][i].first) << "bracket " << b[s].s << " rung " << i;
      EXPECT_EQ(b[s].rungs[i].epochs, expect[s][i].second) << "bracket " << b[s].s << " rung " << i;
    }
  }
  // Epochs with resumption: 27*1 + 9*2 + 3*6 + 1*18, ...
  EXPECT_EQ(bracket_epochs(b[0]), 81);
  EXPECT_EQ(bracket_epochs(b[1]), 78);
  EXPECT_EQ(bracket_epochs(b[2]), 90);
  EXPECT_EQ(bracket_epochs(b[3]), 108);
}

TEST(Schedule, OtherSettings) {
  EXPECT_EQ(hyperband_smax(1, 3), 0);
  EXPECT_EQ(hyperband_smax(26, 3), 2);
  EXPECT_EQ(hyperband_smax(81, 3), 4);
  EXPECT_EQ(hyperband_smax(8, 2), 3);
  // The paper's R = 50: s_max = 3, every bracket ends at 50 epochs.
  const auto b = hyperband_schedule(50, 3);
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(b[0].rungs.front().configs, 27);
  EXPECT_EQ(b[0].rungs.front().epochs, 2);  // 50/27 rounded
  for (const auto& br : b) EXPECT_EQ(br.rungs.back().epochs, 50);
  // R = 9, eta = 3: (9,1)(3,3)(1,9) / (5,3)(1,9) / (3,9).
  const auto c = hyperband_schedule(9, 3);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[1].rungs[0].configs, 5);
  EXPECT_EQ(c[2].rungs[0].configs, 3);
  EXPECT_THROW(hyperband_schedule(9, 1), std::invalid_argument);
}

TEST(SearchSpace, SamplesStayInThePapersSpace) {
  Rng rng(3);
  std::set<int64_t> layers, units;
  std::set<double> lrs, l2s, drops;
  std::set<int64_t> ks;
  for (int i = 0; i < 2000; ++i) {
    const MlpConfig c = sample_config(rng, {5, 10, 35});
    layers.insert(static_cast<int64_t>(c.hidden.size()));
    ASSERT_EQ(c.dropout.size(), c.hidden.size());
    ASSERT_EQ(c.l2.size(), c.hidden.size());
    for (size_t l = 0; l < c.hidden.size(); ++l) {
      EXPECT_EQ(c.hidden[l] % 32, 0);
      units.insert(c.hidden[l]);
      l2s.insert(c.l2[l]);
      drops.insert(c.dropout[l]);
    }
    lrs.insert(c.learning_rate);
    ks.insert(c.features);
  }
  EXPECT_EQ(layers, (std::set<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(units.size(), 16u);
  EXPECT_EQ(*units.begin(), 32);
  EXPECT_EQ(*units.rbegin(), 512);
  EXPECT_EQ(lrs, (std::set<double>{1e-1, 1e-2, 1e-3, 1e-4}));
  EXPECT_EQ(l2s, (std::set<double>{1e-1, 1e-2, 1e-3}));
  EXPECT_EQ(drops.size(), 10u);
  EXPECT_DOUBLE_EQ(*drops.rbegin(), 0.9);
  EXPECT_EQ(ks, (std::set<int64_t>{5, 10, 35}));
}

TEST(TuneHyperband, FindsAGoodConfigurationAndFollowsTheSchedule) {
  ComponentRunner<tune::TuneHyperband> r({{"max_epochs", 9}, {"eta", 3}}, 21);
  r.set_input("train", easy_table(90, 1));
  r.set_input("validation", easy_table(45, 2));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const TableView t = r.table("trials");
  ASSERT_EQ(t.num_rows(), 22);  // 9+3+1 + 5+1 + 3
  const auto bracket = t.get("bracket").codes(), rung = t.get("rung").codes(), epochs = t.get("epochs").codes(),
             promoted = t.get("promoted").codes(), trial = t.get("trial").codes();
  const auto acc = t.get("val_accuracy").numbers();
  // Count rows and check epochs per (bracket, rung).
  std::map<std::pair<int64_t, int64_t>, int64_t> count, ep, prom;
  for (int64_t i = 0; i < t.num_rows(); ++i) {
    const auto key = std::make_pair(bracket[static_cast<size_t>(i)], rung[static_cast<size_t>(i)]);
    ++count[key];
    ep[key] = epochs[static_cast<size_t>(i)];
    prom[key] += promoted[static_cast<size_t>(i)];
  }
  const std::map<std::pair<int64_t, int64_t>, std::pair<int64_t, int64_t>> expect = {
      {{2, 0}, {9, 1}}, {{2, 1}, {3, 3}}, {{2, 2}, {1, 9}}, {{1, 0}, {5, 3}}, {{1, 1}, {1, 9}}, {{0, 0}, {3, 9}}};
  for (const auto& [key, v] : expect) {
    EXPECT_EQ(count[key], v.first) << "bracket " << key.first << " rung " << key.second;
    EXPECT_EQ(ep[key], v.second) << "bracket " << key.first << " rung " << key.second;
    // Promotions out of a rung = configurations of the next rung.
    const auto next = std::make_pair(key.first, key.second + 1);
    EXPECT_EQ(prom[key], expect.count(next) ? expect.at(next).first : 0);
  }
  // A trial in rung i+1 was promoted from rung i, and had the best accuracies there.
  for (int64_t i = 0; i < t.num_rows(); ++i) {
    if (rung[static_cast<size_t>(i)] == 0) continue;
    bool found = false;
    for (int64_t j = 0; j < t.num_rows(); ++j)
      if (trial[static_cast<size_t>(j)] == trial[static_cast<size_t>(i)] &&
          rung[static_cast<size_t>(j)] == rung[static_cast<size_t>(i)] - 1) {
        found = promoted[static_cast<size_t>(j)] == 1;
        for (int64_t q = 0; q < t.num_rows(); ++q)
          if (bracket[static_cast<size_t>(q)] == bracket[static_cast<size_t>(j)] &&
              rung[static_cast<size_t>(q)] == rung[static_cast<size_t>(j)] && !promoted[static_cast<size_t>(q)]) {
            EXPECT_GE(acc[static_cast<size_t>(j)], acc[static_cast<size_t>(q)]);
          }
      }
    EXPECT_TRUE(found) << "trial " << trial[static_cast<size_t>(i)];
  }
  const Json summary = r.json("summary");
  EXPECT_EQ(summary["epochs_trained"].get<int64_t>(), 9 + 6 + 6 + 15 + 6 + 27);
  EXPECT_EQ(summary["trials"].get<int64_t>(), 17);
  const double best = summary["best"]["val_accuracy"].get<double>();
  for (int64_t i = 0; i < t.num_rows(); ++i)
    if (rung[static_cast<size_t>(i)] == 0) {
      EXPECT_GE(best, acc[static_cast<size_t>(i)]);
    }
  EXPECT_GE(best, 0.9);  // the classes are well separated
  // `best` is a model.mlp parameter block.
  const Json b = r.json("best");
  for (const char* key : {"hidden", "dropout", "l2", "learning_rate", "epochs"}) EXPECT_TRUE(b.contains(key)) << key;
  EXPECT_EQ(b["hidden"].size(), b["dropout"].size());
  EXPECT_EQ(b["hidden"].size(), b["l2"].size());
  EXPECT_EQ(b, summary["best"]["params"]);
  EXPECT_EQ(r.json("best_features")["k"].get<int64_t>(), 4);
  EXPECT_FALSE(r.progress().empty());
}

TEST(TuneHyperband, SameSeedSameTrialsAndBudget) {
  auto run = [](uint64_t seed, Json extra) {
    Json p = {{"max_epochs", 3}, {"eta", 3}};
    for (auto it = extra.begin(); it != extra.end(); ++it) p[it.key()] = it.value();
    auto r = std::make_unique<ComponentRunner<tune::TuneHyperband>>(p, seed);
    r->set_input("train", easy_table(60, 1));
    r->set_input("validation", easy_table(30, 2));
    EXPECT_EQ(r->run(), MIEN_OK) << r->error();
    return r;
  };
  auto a = run(5, Json::object()), b = run(5, Json::object()), c = run(6, Json::object());
  EXPECT_EQ(dump(a->table("trials")), dump(b->table("trials")));
  EXPECT_EQ(a->text("best"), b->text("best"));
  EXPECT_NE(dump(a->table("trials")), dump(c->table("trials")));
  // The seed parameter overrides the node's seed.
  auto d = run(5, {{"seed", 77}}), e = run(6, {{"seed", 77}});
  EXPECT_EQ(dump(d->table("trials")), dump(e->table("trials")));
  // Budget: R = 3 costs 3*1 + 1*2 + 2*3 = 11 epochs per iteration; cap at 6.
  auto f = run(5, {{"budget", 6}, {"iterations", 2}});
  EXPECT_LE(f->json("summary")["epochs_trained"].get<int64_t>(), 6);
  EXPECT_TRUE(f->json("summary")["truncated_by_budget"].get<bool>());
  auto g = run(5, {{"iterations", 2}});
  EXPECT_EQ(g->json("summary")["epochs_trained"].get<int64_t>(), 22);
  EXPECT_EQ(g->table("trials").num_rows(), 2 * (3 + 1 + 2));
}

TEST(TuneHyperband, SearchesFeatureSubsetSizes) {
  ComponentRunner<tune::TuneHyperband> r({{"max_epochs", 3}, {"feature_subset_sizes", {1, 2}}}, 4);
  r.set_input("train", easy_table(60, 1));
  r.set_input("validation", easy_table(30, 2));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json bf = r.json("best_features");
  EXPECT_TRUE(bf["searched"].get<bool>());
  const int64_t k = bf["k"].get<int64_t>();
  EXPECT_TRUE(k == 1 || k == 2);
  EXPECT_EQ(bf["features"].size(), static_cast<size_t>(k));
  // The RFE ranking puts the two informative features first.
  const std::set<std::string> top2 = {bf["ranking"][0].get<std::string>(), bf["ranking"][1].get<std::string>()};
  EXPECT_EQ(top2, (std::set<std::string>{"f0", "f1"}));
  for (int64_t v : r.table("trials").get("features").codes()) EXPECT_TRUE(v == 1 || v == 2);
}

TEST(TuneHyperband, Errors) {
  ComponentRunner<tune::TuneHyperband> big({{"max_epochs", 3}, {"feature_subset_sizes", {2, 9}}});
  big.set_input("train", easy_table(30, 1));
  big.set_input("validation", easy_table(30, 2));
  EXPECT_EQ(big.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(big.error().find("'feature_subset_sizes'"), std::string::npos) << big.error();

  Table v(3);
  v.add_numbers("f0", MIEN_ROLE_FEATURE, {0, 1, 2});
  v.add_codes("label", MIEN_ROLE_LABEL, {0, 1, 2}, {"happy", "sad", "surprise"});
  ComponentRunner<tune::TuneHyperband> missing({{"max_epochs", 3}});
  missing.set_input("train", easy_table(30, 1));
  missing.set_input("validation", std::move(v));
  EXPECT_EQ(missing.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(missing.error().find("'f1'"), std::string::npos) << missing.error();

  ComponentRunner<tune::TuneHyperband> cancelled({{"max_epochs", 3}});
  cancelled.set_input("train", easy_table(30, 1));
  cancelled.set_input("validation", easy_table(30, 2));
  cancelled.cancel_after(3);
  EXPECT_EQ(cancelled.run(), MIEN_ERR_CANCELLED);
}

// ---- validation by person (no validation table connected) ----

namespace {

// easy_table with a GROUP column `subject`: seven people with 6, 8, ..., 18 rows (distinct
// counts, so the validation row count says which people were held out).
Table easy_people_table(std::map<std::string, int64_t>& rows_of) {
  std::vector<std::string> subject;
  for (int person = 0; person < 7; ++person) {
    const std::string name = "p" + std::to_string(person);
    rows_of[name] = 6 + 2 * person;
    for (int64_t k = 0; k < rows_of[name]; ++k) subject.push_back(name);
  }
  Table t = easy_table(static_cast<int64_t>(subject.size()), 3);  // 84 rows
  t.add_strings("subject", MIEN_ROLE_GROUP, subject);
  return t;
}

}  // namespace

TEST(TuneHyperband, WithoutAValidationTableHoldsOutWholePeople) {
  std::map<std::string, int64_t> rows_of;
  for (uint64_t seed : {1u, 2u, 3u}) {
    ComponentRunner<tune::TuneHyperband> r({{"max_epochs", 3}, {"validation_split", 0.3}}, seed);
    r.set_input("train", easy_people_table(rows_of));
    ASSERT_EQ(r.run(), MIEN_OK) << r.error();
    const Json s = r.json("summary");
    EXPECT_EQ(s["validation"], "split");
    EXPECT_EQ(s["validation_group"], "subject");
    const auto held = s["validation_people"].get<std::vector<std::string>>();
    ASSERT_EQ(held.size(), 2u);  // round(0.3 x 7)
    // The counts are exactly the held-out people's rows and everyone else's: no person on
    // both sides, every row on one.
    int64_t held_rows = 0;
    for (const auto& name : held) held_rows += rows_of.at(name);
    EXPECT_EQ(s["validation_rows"], held_rows) << "seed " << seed;
    EXPECT_EQ(s["train_rows"], 84 - held_rows) << "seed " << seed;
    EXPECT_TRUE(r.logged("tune.hyperband: 2 of 7 people (subject) held out for validation: " + held[0] + ", " + held[1],
                         MIEN_LOG_INFO));
    // The objective is measured on them: accuracies are multiples of 1 / validation rows.
    for (double a : r.table("trials").get("val_accuracy").numbers())
      EXPECT_NEAR(a * static_cast<double>(held_rows), std::round(a * static_cast<double>(held_rows)), 1e-9);
  }
}

TEST(TuneHyperband, WithoutAGroupColumnHoldsOutRowsAndSaysSo) {
  ComponentRunner<tune::TuneHyperband> r({{"max_epochs", 3}}, 1);
  r.set_input("train", easy_table(90, 1));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const Json s = r.json("summary");
  EXPECT_EQ(s["validation_group"], "rows");
  EXPECT_TRUE(s["validation_people"].empty());
  EXPECT_EQ(s["validation_rows"], 18);  // 0.2 of each class's 30 rows
  EXPECT_EQ(s["train_rows"], 72);
  EXPECT_TRUE(r.logged("tune.hyperband: validation holds out rows (stratified by class), not people: the table has "
                       "no GROUP column 'subject'",
                       MIEN_LOG_INFO));

  // A connected validation table that shares people with train: a warning naming one.
  std::map<std::string, int64_t> rows_of;
  ComponentRunner<tune::TuneHyperband> shared({{"max_epochs", 3}}, 1);
  shared.set_input("train", easy_people_table(rows_of));
  shared.set_input("validation", easy_people_table(rows_of));
  ASSERT_EQ(shared.run(), MIEN_OK) << shared.error();
  EXPECT_TRUE(shared.logged("tune.hyperband: 7 person(s) (subject) are in both 'train' and 'validation' (e.g. p0)",
                            MIEN_LOG_WARNING));
  EXPECT_EQ(shared.json("summary")["validation"], "table");

  // No validation table and validation_split 0: nothing to measure the objective on.
  ComponentRunner<tune::TuneHyperband> none({{"max_epochs", 3}, {"validation_split", 0.0}}, 1);
  none.set_input("train", easy_table(30, 1));
  EXPECT_EQ(none.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(none.error().find("connect 'validation'"), std::string::npos) << none.error();
}
