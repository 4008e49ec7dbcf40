// The SDK's plain helpers every plugin author uses: seeded draws (<mien/random.hpp>),
// message text (<mien/text.hpp>) and wide tables (<mien/plugin.hpp>'s name index).
#include <gtest/gtest.h>

#include <mien/plugin.hpp>
#include <mien/random.hpp>
#include <mien/text.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

TEST(Random, SplitMix64MatchesTheReferenceImplementation) {
  // The first outputs of Vigna's splitmix64.c from state 0 and from state 1234567.
  uint64_t s = 0;
  EXPECT_EQ(mien::splitmix64(s), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(mien::splitmix64(s), 0x6E789E6AA1B965F4ULL);
  uint64_t t = 1234567;
  EXPECT_EQ(mien::splitmix64(t), 6457827717110365317ULL);
  EXPECT_EQ(mien::splitmix64(t), 3203168211198807973ULL);
}

TEST(Random, RngIsMt19937_64SeededWithTheSeed) {
  mien::Rng rng(42);
  std::mt19937_64 reference(42);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(rng.next(), reference());
  // The standard fixes mt19937_64's 10000th output from the default seed.
  mien::Rng standard(std::mt19937_64::default_seed);
  uint64_t v = 0;
  for (int i = 0; i < 10000; ++i) v = standard.next();
  EXPECT_EQ(v, 9981545732273789042ULL);
}

TEST(Random, BelowIsInRangeAndUnbiased) {
  mien::Rng rng(7);
  std::vector<int> counts(6, 0);
  const int draws = 60000;
  for (int i = 0; i < draws; ++i) {
    const uint64_t v = rng.below(6);
    ASSERT_LT(v, 6u);
    ++counts[v];
  }
  // Each face of a die within 5 standard deviations of 10,000 (sd = 91).
  for (int c : counts) EXPECT_NEAR(c, draws / 6, 460);
  EXPECT_EQ(rng.below(1), 0u);
}

TEST(Random, UniformAndNormalHaveTheirMoments) {
  mien::Rng rng(2024);
  double sum = 0, sum_sq = 0, lo = 1, hi = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform();
    lo = std::min(lo, u);
    hi = std::max(hi, u);
    sum += u;
  }
  EXPECT_GE(lo, 0.0);
  EXPECT_LT(hi, 1.0);
  EXPECT_NEAR(sum / n, 0.5, 0.005);
  sum = 0;
  for (int i = 0; i < n; ++i) {
    const double z = rng.normal();
    sum += z;
    sum_sq += z * z;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sum_sq / n, 1.0, 0.02);
  const double b = rng.between(-3, -1);
  EXPECT_GE(b, -3.0);
  EXPECT_LT(b, -1.0);
}

TEST(Random, ShuffleIsAPermutationAndEveryOrderOccurs) {
  mien::Rng rng(1);
  std::map<std::vector<int>, int> seen;
  for (int i = 0; i < 6000; ++i) {
    std::vector<int> v{0, 1, 2};
    rng.shuffle(v);
    ++seen[v];
  }
  ASSERT_EQ(seen.size(), 6u);  // all 3! orders
  for (const auto& [order, count] : seen) EXPECT_NEAR(count, 1000, 160);
  std::vector<int> big(1000);
  std::iota(big.begin(), big.end(), 0);
  rng.shuffle(big);
  EXPECT_EQ(std::set<int>(big.begin(), big.end()).size(), 1000u);
}

TEST(Random, SameSeedSameStreamsAndDerivedStreamsDiffer) {
  mien::Rng a(99), b(99);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.below(1000), b.below(1000));
  std::set<uint64_t> seeds;
  for (uint64_t k = 0; k < 1000; ++k) seeds.insert(mien::derive_seed(5, k));
  EXPECT_EQ(seeds.size(), 1000u);
  EXPECT_NE(mien::derive_seed(5, 0), mien::derive_seed(6, 0));
  mien::KeyedRng k1(mien::derive_seed(5, 1)), k2(mien::derive_seed(5, 1));
  EXPECT_EQ(k1.next(), k2.next());
}

TEST(Text, JoinSummarisesLongLists) {
  EXPECT_EQ(mien::join({}), "");
  EXPECT_EQ(mien::join({"a"}), "a");
  EXPECT_EQ(mien::join({"a", "b", "c"}), "a, b, c");
  EXPECT_EQ(mien::join({"a", "b", "c"}, " | "), "a | b | c");
  EXPECT_EQ(mien::join({"a", "b", "c", "d"}, ", ", 2), "a, b, ... (4 in all)");
  EXPECT_EQ(mien::join({"a", "b"}, ", ", 2), "a, b");
  EXPECT_EQ(mien::shape_text({3, 112, 112}), "[3, 112, 112]");
  EXPECT_EQ(mien::shape_text({}), "[]");
}

// A table as wide as a 100,000-column CSV: adding and finding every column stays fast
// (a quadratic scan took minutes), and lookups agree with the column order.
TEST(Table, WideTablesFindEveryColumnByName) {
  const int columns = 100000;
  mien::Table t(2);
  for (int j = 0; j < columns; ++j) t.add_numbers("f" + std::to_string(j), MIEN_ROLE_FEATURE, {double(j), -double(j)});
  EXPECT_THROW(t.add_numbers("f123", MIEN_ROLE_FEATURE, {0, 0}), mien::Error);  // duplicates still refused
  std::unique_ptr<mien_table, void (*)(mien_table*)> raw(t.release(), [](mien_table* p) { p->deleter(p); });
  const mien::TableView view(raw.get());
  for (int j = 0; j < columns; j += 997) {
    const auto c = view.find("f" + std::to_string(j));
    ASSERT_TRUE(c.has_value()) << j;
    EXPECT_EQ(c->number(0), j);
  }
  EXPECT_FALSE(view.find("nope").has_value());
  const mien::TableView copy = view;  // copies keep working (and share the index)
  EXPECT_EQ(copy.get("f99999").number(1), -99999.0);
}

}  // namespace
