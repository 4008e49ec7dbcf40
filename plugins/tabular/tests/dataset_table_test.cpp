// dataset.table
#include <gtest/gtest.h>

#include "components.hpp"
#include "test_support.hpp"
#include "table_access.hpp"

namespace {

using mien::tabular::DatasetTable;
using mien::testing::ComponentRunner;
using tabular_test::TempDir;

const char* kCsv =
    "sample,subject,pose,emotion,mouth_w,brow_h,note\n"
    "s1,S01,front,happy,1.5,2.0,ok\n"
    "s2,S01,side,sad,0.5,1.0,fine\n"
    "s3,S02,front,happy,2.5,3.0,\n"
    "s4,S02,side,neutral,1.0,-1e-1,x\n";

std::string run_error(ComponentRunner<DatasetTable>& r) {
  EXPECT_NE(r.run(), MIEN_OK);
  return r.error();
}

TEST(DatasetTable, ReadsColumnsWithRoles) {
  TempDir d;
  ComponentRunner<DatasetTable> r(
      {{"path", d.write("data.csv", kCsv)}, {"label", "emotion"}, {"id", "sample"}, {"groups", {"subject", "pose"}}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView t = r.table("table");
  ASSERT_EQ(t.num_rows(), 4);
  // id, label, groups, features (note is text: skipped).
  ASSERT_EQ(t.num_columns(), 6u);
  EXPECT_EQ(std::string(t.column(0).name()), "sample");
  EXPECT_EQ(t.column(0).role(), MIEN_ROLE_ID);
  EXPECT_EQ(t.get("sample").texts(), (std::vector<std::string>{"s1", "s2", "s3", "s4"}));
  const auto label = t.label();
  ASSERT_TRUE(label);
  EXPECT_EQ(std::string(label->name()), "emotion");
  EXPECT_EQ(label->dtype(), MIEN_DTYPE_I64);
  EXPECT_EQ(label->categories(), (std::vector<std::string>{"happy", "neutral", "sad"}));
  EXPECT_EQ(label->codes(), (std::vector<int64_t>{0, 2, 0, 1}));
  EXPECT_EQ(t.get("subject").role(), MIEN_ROLE_GROUP);
  EXPECT_EQ(t.get("pose").texts(), (std::vector<std::string>{"front", "side", "front", "side"}));
  EXPECT_EQ(t.feature_names(), (std::vector<std::string>{"mouth_w", "brow_h"}));
  EXPECT_EQ(t.get("mouth_w").dtype(), MIEN_DTYPE_F64);
  EXPECT_EQ(t.get("brow_h").numbers(), (std::vector<double>{2.0, 1.0, 3.0, -0.1}));
  EXPECT_FALSE(t.find("note"));

  const mien::Json s = r.json("summary");
  EXPECT_EQ(s["rows"], 4);
  EXPECT_EQ(s["columns"], 6);
  EXPECT_EQ(s["class_counts"]["happy"], 2);
  EXPECT_EQ(s["class_counts"]["sad"], 1);
  EXPECT_EQ(s["group_counts"]["subject"]["S02"], 2);
  EXPECT_EQ(s["group_counts"]["pose"]["side"], 2);
  EXPECT_EQ(s["skipped_columns"][0]["column"], "note");
  EXPECT_EQ(s["dropped"].size(), 0u);
  EXPECT_EQ(s["delimiter"], ",");
  EXPECT_FALSE(r.progress().empty());
}

TEST(DatasetTable, GeneratesIds) {
  TempDir d;
  ComponentRunner<DatasetTable> r({{"path", d.write("data.csv", kCsv)}, {"label", "emotion"}, {"exclude", {"sample"}}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const auto ids = r.table("table").with_role(MIEN_ROLE_ID);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(std::string(ids[0].name()), "id");
  EXPECT_EQ(ids[0].texts(), (std::vector<std::string>{"row0001", "row0002", "row0003", "row0004"}));
  EXPECT_EQ(mien::tabular::generated_id(12, 12345), "row00012");
  // subject and pose are text, so not features; sample is excluded.
  EXPECT_EQ(r.table("table").feature_names(), (std::vector<std::string>{"mouth_w", "brow_h"}));
}

TEST(DatasetTable, ReadsTsvByExtensionAndBySniffing) {
  TempDir d;
  const std::string tsv = "id\tlabel\tf1\tf2\na\tx\t1\t2\nb\ty\t3\t4\n";
  for (const std::string name : {"data.tsv", "data.tab", "data.txt"}) {
    ComponentRunner<DatasetTable> r({{"path", d.write(name, tsv)}, {"id", "id"}});
    ASSERT_EQ(r.run(), MIEN_OK) << name << ": " << r.error();
    EXPECT_EQ(r.table("table").get("f2").numbers(), (std::vector<double>{2, 4})) << name;
    EXPECT_EQ(r.json("summary")["delimiter"], "TAB");
  }
  ComponentRunner<DatasetTable> semi({{"path", d.write("semi.csv", "label;v\na;1.5\nb;2\n")}});
  ASSERT_EQ(semi.run(), MIEN_OK) << semi.error();
  EXPECT_EQ(semi.table("table").get("v").numbers(), (std::vector<double>{1.5, 2}));
}

TEST(DatasetTable, HandlesRfc4180Quotes) {
  TempDir d;
  const std::string csv =
      "\xEF\xBB\xBF\"id\",\"label\",\"comment, with comma\",v\r\n"
      "\"a,1\",\"say \"\"hi\"\"\",\"two\r\nlines\",1\r\n"
      "b,plain,,2\r\n"
      "\r\n"
      "c, spaced ,\"\",3\r\n";
  ComponentRunner<DatasetTable> r({{"path", d.write("q.csv", csv)}, {"id", "id"}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const mien::TableView t = r.table("table");
  EXPECT_EQ(t.get("id").texts(), (std::vector<std::string>{"a,1", "b", "c"}));
  EXPECT_EQ(t.label()->categories(), (std::vector<std::string>{"plain", "say \"hi\"", "spaced"}));
  EXPECT_EQ(t.get("v").numbers(), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(r.json("summary")["skipped_columns"][0]["column"], "comment, with comma");
}

TEST(DatasetTable, LineNumbersCountLinesInsideQuotes) {
  TempDir d;
  const std::string csv = "label,v\n\"multi\nline\",1\nb,abc\n";
  d.write("data.csv", csv);
  ComponentRunner<DatasetTable> r({{"path", "data.csv"}, {"features", {"v"}}});
  r.set_base_dir(d.path());
  EXPECT_EQ(run_error(r), "data.csv:4: column 'v': 'abc' is not a number");
}

TEST(DatasetTable, UnclosedQuoteAndRaggedRows) {
  TempDir d;
  {
    ComponentRunner<DatasetTable> r({{"path", d.write("data.csv", "label,v\na,1\n\"b,2\n")}});
    EXPECT_NE(run_error(r).find("data.csv:3: a quoted field is never closed"), std::string::npos) << r.error();
  }
  {
    ComponentRunner<DatasetTable> r({{"path", d.write("data.csv", "label,v\na,1\nb,2,3\n")}});
    EXPECT_NE(run_error(r).find("data.csv:3: 3 fields, but the header has 2 columns"), std::string::npos) << r.error();
  }
}

TEST(DatasetTable, SuggestsAMissingColumnsName) {
  TempDir d;
  d.write("data.csv", kCsv);
  ComponentRunner<DatasetTable> r({{"path", "data.csv"}, {"label", "emotoin"}});
  r.set_base_dir(d.path());  // relative paths resolve against the experiment's folder
  EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(r.error(), "label: no column 'emotoin' in data.csv; did you mean 'emotion'?");

  ComponentRunner<DatasetTable> g({{"path", "data.csv"}, {"label", "emotion"}, {"groups", {"Subject"}}});
  g.set_base_dir(d.path());
  EXPECT_NE(run_error(g).find("no column 'Subject' in data.csv; did you mean 'subject'?"), std::string::npos);

  ComponentRunner<DatasetTable> far({{"path", "data.csv"}, {"label", "emotion"}, {"features", {"zzzzzz"}}});
  far.set_base_dir(d.path());
  EXPECT_NE(run_error(far).find("no column 'zzzzzz' in data.csv (columns: sample, subject"), std::string::npos)
      << far.error();
}

TEST(DatasetTable, NonNumberNamesLineAndColumn) {
  TempDir d;
  d.write("data.csv", "emotion,mouth_w\nhappy,1\nsad,2\nhappy,abc\n");
  ComponentRunner<DatasetTable> r({{"path", "data.csv"}, {"label", "emotion"}});
  r.set_base_dir(d.path());
  EXPECT_EQ(run_error(r), "data.csv:4: column 'mouth_w': 'abc' is not a number");
  d.write("inf.csv", "emotion,mouth_w\nhappy,1\nsad,inf\n");
  ComponentRunner<DatasetTable> i({{"path", d.path() + "/inf.csv"}, {"label", "emotion"}});
  EXPECT_NE(run_error(i).find(":3: column 'mouth_w': 'inf' is not a number"), std::string::npos) << i.error();
}

TEST(DatasetTable, ClassesFixTheOrder) {
  TempDir d;
  const std::string path = d.write("data.csv", kCsv);
  ComponentRunner<DatasetTable> r(
      {{"path", path}, {"label", "emotion"}, {"classes", {"sad", "neutral", "happy", "fear"}}, {"exclude", {"sample"}}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  const auto label = r.table("table").label();
  EXPECT_EQ(label->categories(), (std::vector<std::string>{"sad", "neutral", "happy", "fear"}));
  EXPECT_EQ(label->codes(), (std::vector<int64_t>{2, 0, 2, 1}));
  EXPECT_EQ(r.json("summary")["class_counts"]["fear"], 0);
  EXPECT_TRUE(r.logged("class 'fear' has no rows", MIEN_LOG_WARNING));

  ComponentRunner<DatasetTable> other({{"path", path}, {"label", "emotion"}, {"classes", {"happy", "sad"}}});
  EXPECT_NE(run_error(other).find("data.csv:5: label 'neutral' in column 'emotion' is not one of the classes [happy, sad]"),
            std::string::npos)
      << other.error();
}

TEST(DatasetTable, IntegerLabelsSortNumerically) {
  TempDir d;
  ComponentRunner<DatasetTable> r({{"path", d.write("n.csv", "label,v\n10,1\n2,2\n1,3\n2,4\n")}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_EQ(r.table("table").label()->categories(), (std::vector<std::string>{"1", "2", "10"}));
  EXPECT_EQ(r.table("table").label()->codes(), (std::vector<int64_t>{2, 1, 0, 1}));
}

TEST(DatasetTable, ExplicitFeaturesKeepTheirOrder) {
  TempDir d;
  ComponentRunner<DatasetTable> r(
      {{"path", d.write("data.csv", kCsv)}, {"label", "emotion"}, {"features", {"brow_h", "mouth_w"}}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_EQ(r.table("table").feature_names(), (std::vector<std::string>{"brow_h", "mouth_w"}));
}

TEST(DatasetTable, MissingValues) {
  TempDir d;
  const std::string path = d.write("data.csv", "id,label,a,b\nr1,x,1,2\nr2,y,,3\nr3,x,4,NA\nr4,,5,6\nr5,y,7,8\n");
  ComponentRunner<DatasetTable> strict({{"path", "data.csv"}, {"id", "id"}});
  strict.set_base_dir(d.path());
  EXPECT_EQ(run_error(strict), std::string("data.csv:3: column 'a' is empty (set missing: drop to skip such rows)"));

  ComponentRunner<DatasetTable> drop({{"path", path}, {"id", "id"}, {"missing", "drop"}});
  ASSERT_EQ(drop.run(), MIEN_OK) << drop.error();
  EXPECT_EQ(drop.table("table").get("id").texts(), (std::vector<std::string>{"r1", "r5"}));
  const mien::Json s = drop.json("summary");
  EXPECT_EQ(s["rows"], 2);
  EXPECT_EQ(s["rows_dropped"], 3);
  ASSERT_EQ(s["dropped"].size(), 3u);
  EXPECT_EQ(s["dropped"][0]["line"], 3);
  EXPECT_EQ(s["dropped"][0]["reason"], "column 'a' is empty");
  EXPECT_EQ(s["dropped"][1]["reason"], "column 'b' has the missing value 'NA'");
  EXPECT_EQ(s["dropped"][2]["reason"], "column 'label' is empty");
}

TEST(DatasetTable, EmptyFilesAndDuplicateIds) {
  TempDir d;
  ComponentRunner<DatasetTable> empty({{"path", d.write("empty.csv", "")}});
  EXPECT_NE(run_error(empty).find("empty.csv is empty"), std::string::npos) << empty.error();
  ComponentRunner<DatasetTable> header({{"path", d.write("h.csv", "label,v\n\n")}});
  EXPECT_NE(run_error(header).find("h.csv has a header but no data rows"), std::string::npos) << header.error();
  ComponentRunner<DatasetTable> dup({{"path", d.write("dup.csv", "id,label,v\na,x,1\nb,y,2\na,x,3\n")}, {"id", "id"}});
  EXPECT_NE(run_error(dup).find("dup.csv:4: duplicate id 'a' in column 'id' (first on line 2)"), std::string::npos)
      << dup.error();
  ComponentRunner<DatasetTable> twice({{"path", d.write("twice.csv", "label,v,v\nx,1,2\n")}});
  EXPECT_NE(run_error(twice).find("twice.csv:1: column 'v' appears twice"), std::string::npos) << twice.error();
}

TEST(DatasetTable, MissingFileIsAnIoError) {
  ComponentRunner<DatasetTable> r({{"path", "/nonexistent/data.csv"}});
  EXPECT_EQ(r.run(), MIEN_ERR_IO);
  EXPECT_NE(r.error().find("cannot open /nonexistent/data.csv"), std::string::npos) << r.error();
}

TEST(DatasetTable, ParameterValidation) {
  using mien::testing::InvalidParams;
  EXPECT_THROW(ComponentRunner<DatasetTable> r(mien::Json::object()), InvalidParams);  // path is required
  EXPECT_THROW(ComponentRunner<DatasetTable>({{"path", "x.csv"}, {"lable", "y"}}), InvalidParams);
  EXPECT_THROW(ComponentRunner<DatasetTable>({{"path", "x.csv"}, {"missing", "skip"}}), InvalidParams);
  EXPECT_THROW(ComponentRunner<DatasetTable>({{"path", "x.csv"}, {"groups", "subject"}}), InvalidParams);
  // Contradictions are found by create().
  ComponentRunner<DatasetTable> r({{"path", "x.csv"}, {"label", "emotion"}, {"features", {"emotion"}}});
  EXPECT_EQ(r.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(r.error(), "column 'emotion' cannot be both the label and a feature");
}

TEST(DatasetTable, SchemaDescribesEveryParameter) {
  const mien::Json schema = DatasetTable::info().schema();
  for (auto& [name, p] : schema["properties"].items()) {
    EXPECT_TRUE(p.contains("description")) << name;
    EXPECT_FALSE(p["description"].get<std::string>().empty()) << name;
  }
  EXPECT_EQ(schema["required"], mien::Json::array({"path"}));
}

TEST(DatasetTable, WritesNothingToStdoutOrStderr) {
  TempDir d;
  ComponentRunner<DatasetTable> r({{"path", d.write("data.csv", kCsv)}, {"label", "emotion"}});
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  const mien_status st = r.run();
  const std::string out = testing::internal::GetCapturedStdout();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(st, MIEN_OK) << r.error();
  EXPECT_EQ(out, "");
  EXPECT_EQ(err, "");
}

}  // namespace
