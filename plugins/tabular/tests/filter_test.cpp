// transform.filter
#include <gtest/gtest.h>

#include "components.hpp"
#include "test_support.hpp"

namespace {

using mien::tabular::Filter;
using mien::testing::ComponentRunner;

mien::Table poses() {
  mien::Table t(4);
  t.add_strings("id", MIEN_ROLE_ID, {"a", "b", "c", "d"});
  t.add_strings("pose", MIEN_ROLE_GROUP, {"S", "HL", "S", "HR"});
  t.add_numbers("x", MIEN_ROLE_FEATURE, {1, 2, 3, 4});
  return t;
}

mien::Tensor images() {  // image i is filled with the value i
  mien::Tensor t = mien::Tensor::zeros<uint8_t>({4, 2, 2, 1});
  for (int i = 0; i < 4; ++i)
    for (int k = 0; k < 4; ++k) t.data<uint8_t>()[i * 4 + k] = static_cast<uint8_t>(i);
  return t;
}

TEST(Filter, KeepsMatchingRowsAndTheirImages) {
  ComponentRunner<Filter> r({{"column", "pose"}, {"values", {"S"}}});
  r.set_input("table", poses());
  r.set_input("images", images());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView t = r.table("table");
  EXPECT_EQ(t.get("id").texts(), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(t.get("x").numbers(), (std::vector<double>{1, 3}));
  EXPECT_EQ(t.get("pose").role(), MIEN_ROLE_GROUP);
  const mien::TensorView img = r.tensor("images");
  ASSERT_EQ(img.shape(), (std::vector<int64_t>{2, 2, 2, 1}));
  EXPECT_EQ(img.at(0), 0);
  EXPECT_EQ(img.at(4), 2);
}

TEST(Filter, ExcludeAndErrors) {
  ComponentRunner<Filter> r({{"column", "pose"}, {"values", {"S"}}, {"exclude", true}});
  r.set_input("table", poses());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_EQ(r.table("table").get("id").texts(), (std::vector<std::string>{"b", "d"}));
  EXPECT_EQ(r.tensor("images").dim(0), 0);

  ComponentRunner<Filter> typo({{"column", "poze"}, {"values", {"S"}}});
  typo.set_input("table", poses());
  EXPECT_NE(typo.run(), MIEN_OK);
  EXPECT_NE(typo.error().find("did you mean 'pose'"), std::string::npos) << typo.error();

  ComponentRunner<Filter> none({{"column", "pose"}, {"values", {"FL"}}});
  none.set_input("table", poses());
  EXPECT_NE(none.run(), MIEN_OK);
  EXPECT_NE(none.error().find("the column holds: HL, HR, S"), std::string::npos) << none.error();
}

TEST(Filter, KeepsRowsWhoseIdsAreInAnotherTable) {
  mien::Table keep(2);
  keep.add_strings("id", MIEN_ROLE_ID, {"d", "b"});
  ComponentRunner<Filter> r;
  r.set_input("table", poses());
  r.set_input("images", images());
  r.set_input("keep", std::move(keep));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_EQ(r.table("table").get("id").texts(), (std::vector<std::string>{"b", "d"}));  // the table's order
  EXPECT_EQ(r.tensor("images").at(4), 3);

  ComponentRunner<Filter> nothing;
  nothing.set_input("table", poses());
  EXPECT_NE(nothing.run(), MIEN_OK);
  EXPECT_NE(nothing.error().find("connect `keep`"), std::string::npos) << nothing.error();
}

}  // namespace
