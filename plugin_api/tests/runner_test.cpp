// Tests of mien::testing::Runner / ComponentRunner itself.
#include <gtest/gtest.h>
#include <mien/testing.hpp>

#include <filesystem>
#include <fstream>

extern "C" const mien_component_desc* c_scale_descriptor(void);
extern "C" int c_scale_deleted;

namespace {

using mien::testing::ComponentRunner;
using mien::testing::InvalidParams;
using mien::testing::Runner;
using mien::testing::UsageError;

// ---- small C++ components used only here ----

class Echo {
 public:
  static inline const mien::Param<std::string> kWord{"word", "the word to repeat"};
  static inline const mien::Param<int64_t> kTimes = mien::Param<int64_t>("times", 2, "repetitions").range(1, 10);
  static inline const mien::Param<std::string> kMode =
      mien::Param<std::string>("mode", "plain", "plain or shout").one_of({"plain", "shout"});
  static inline const mien::Param<std::vector<double>> kWeights{"weights", {}, "numbers"};
  static inline const mien::Input kExtra{"extra", MIEN_VALUE_STRING, "texts", MIEN_PORT_OPTIONAL | MIEN_PORT_MULTIPLE};
  static inline const mien::Output kText{"text", MIEN_VALUE_STRING, "the echo"};
  static inline const mien::Output kInfo{"info", MIEN_VALUE_JSON, "what was done"};
  static mien::ComponentInfo info() {
    return mien::ComponentInfo("test.echo", 1, MIEN_KIND_TRANSFORM, "echo")
        .params(kWord, kTimes, kMode, kWeights)
        .ports(kExtra, kText, kInfo);
  }
  explicit Echo(const mien::Setup& s)
      : word_(kWord.read(s.params())), times_(kTimes.read(s.params())), seed_(s.seed()) {}
  void process(mien::Context& ctx) {
    std::string out;
    for (int64_t i = 0; i < times_; ++i) out += word_;
    for (uint32_t i = 0; i < ctx.count(kExtra); ++i) out += "+" + ctx.text(kExtra, i);
    ctx.host().info("echoing");
    ctx.host().progress(1, 1, "done");
    ctx.set_text(kText, out);  // must outlive the Context: the host copies after process()
    ctx.set(kInfo, mien::Json{{"length", out.size()}, {"seed", seed_}});
  }

 private:
  std::string word_;
  int64_t times_;
  uint64_t seed_;
};

int g_freed = 0;

// Sets an output, then fails: the SDK must free the output (the host ignores the slot).
class FailsAfterSet {
 public:
  static inline const mien::Output kOut{"out", MIEN_VALUE_TENSOR, "x"};
  static mien::ComponentInfo info() {
    return mien::ComponentInfo("test.fails_after_set", 1, MIEN_KIND_TRANSFORM, "fails").ports(kOut);
  }
  explicit FailsAfterSet(const mien::Setup&) {}
  void process(mien::Context& ctx) {
    auto* t = new mien_tensor{};
    static const int64_t shape[1] = {0};
    t->struct_size = sizeof(mien_tensor);
    t->dtype = MIEN_DTYPE_F32;
    t->ndim = 1;
    t->shape = shape;
    t->deleter = [](mien_tensor* self) {
      ++g_freed;
      delete self;
    };
    ctx.set(kOut, mien::Tensor::adopt(t));
    throw mien::Error("deliberate failure", MIEN_ERR_UNSUPPORTED);
  }
};

// Forgets to fill an output.
class Forgetful {
 public:
  static inline const mien::Output kA{"a", MIEN_VALUE_JSON, "set"};
  static inline const mien::Output kB{"b", MIEN_VALUE_JSON, "never set"};
  static mien::ComponentInfo info() {
    return mien::ComponentInfo("test.forgetful", 1, MIEN_KIND_TRANSFORM, "forgets").ports(kA, kB);
  }
  explicit Forgetful(const mien::Setup&) {}
  void process(mien::Context& ctx) { ctx.set(kA, mien::Json::object()); }
};

// Loops until cancelled; writes a file into its output folder.
class Looper {
 public:
  static inline const mien::Input kIn{"in", MIEN_VALUE_TABLE, "any table"};
  static inline const mien::Output kOut{"out", MIEN_VALUE_TABLE, "the same rows"};
  static mien::ComponentInfo info() {
    return mien::ComponentInfo("test.looper", 1, MIEN_KIND_TRANSFORM, "loops").ports(kIn, kOut);
  }
  explicit Looper(const mien::Setup&) {}
  void process(mien::Context& ctx) {
    const mien::TableView t = ctx.table(kIn);
    std::ofstream(ctx.output_dir(kOut) + "/rows.txt") << t.num_rows();
    for (int i = 0; i < 10; ++i) {
      ctx.host().check_cancelled();
      ctx.host().progress(static_cast<uint64_t>(i), 10);
    }
    std::vector<int64_t> rows(static_cast<size_t>(t.num_rows()));
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int64_t>(i);
    mien::Table out(t.num_rows());
    for (uint32_t i = 0; i < t.num_columns(); ++i) out.add_copy(t.column(i), &rows);
    ctx.set(kOut, std::move(out));
  }
};

mien::Table small_table() {
  mien::Table t(3);
  t.add_strings("id", MIEN_ROLE_ID, {"a", "b", "c"});
  t.add_numbers("x", MIEN_ROLE_FEATURE, {1, 2, 3});
  return t;
}

// ---- parameters ----

TEST(RunnerParams, FillsDefaults) {
  ComponentRunner<Echo> r({{"word", "ho"}});
  EXPECT_EQ(r.params()["times"], 2);
  EXPECT_EQ(r.params()["mode"], "plain");
  EXPECT_EQ(r.params()["weights"], mien::Json::array());
}

TEST(RunnerParams, RejectsUnknownWithSuggestion) {
  try {
    ComponentRunner<Echo> r({{"word", "x"}, {"tmies", 3}});
    FAIL() << "expected InvalidParams";
  } catch (const InvalidParams& e) {
    EXPECT_NE(std::string(e.what()).find("unknown parameter 'tmies'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("did you mean 'times'?"), std::string::npos) << e.what();
  }
}

TEST(RunnerParams, RejectsMissingRequired) {
  EXPECT_THROW(ComponentRunner<Echo> r(mien::Json::object()), InvalidParams);
  try {
    ComponentRunner<Echo> r;
  } catch (const InvalidParams& e) {
    EXPECT_NE(std::string(e.what()).find("'word' is required"), std::string::npos) << e.what();
  }
}

TEST(RunnerParams, ChecksTypesRangesAndEnums) {
  EXPECT_THROW(ComponentRunner<Echo>({{"word", 3}}), InvalidParams);
  EXPECT_THROW(ComponentRunner<Echo>({{"word", "x"}, {"times", 11}}), InvalidParams);
  EXPECT_THROW(ComponentRunner<Echo>({{"word", "x"}, {"times", 2.5}}), InvalidParams);
  EXPECT_THROW(ComponentRunner<Echo>({{"word", "x"}, {"mode", "whisper"}}), InvalidParams);
  EXPECT_THROW(ComponentRunner<Echo>({{"word", "x"}, {"weights", {1, "two"}}}), InvalidParams);
  ComponentRunner<Echo> r({{"word", "x"}, {"times", 3.0}, {"weights", {1, 2.5}}});
  EXPECT_TRUE(r.params()["times"].is_number_integer());
}

// ---- running ----

TEST(Runner, RunsThroughTheVtableAndRecordsTheHostCalls) {
  ComponentRunner<Echo> r({{"word", "ha"}, {"times", 3}}, 42);
  r.add_input("extra", "one").add_input(Echo::kExtra, std::string("two"));
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_EQ(r.text("text"), "hahaha+one+two");
  EXPECT_EQ(r.json(Echo::kInfo)["seed"], 42);
  EXPECT_TRUE(r.logged("echoing", MIEN_LOG_INFO));
  ASSERT_EQ(r.progress().size(), 1u);
  EXPECT_EQ(r.progress()[0].note, "done");
  EXPECT_TRUE(r.error().empty());
}

TEST(Runner, OptionalPortMayStayEmpty) {
  ComponentRunner<Echo> r({{"word", "a"}});
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_EQ(r.text("text"), "aa");
}

TEST(Runner, UsageErrors) {
  ComponentRunner<Looper> r;
  EXPECT_THROW(r.set_input("inn", small_table()), UsageError);
  EXPECT_THROW(r.set_input("in", "text"), UsageError);  // wrong kind
  EXPECT_THROW(r.run(), UsageError);                    // required input missing
  r.set_input("in", small_table());
  EXPECT_THROW(r.table("out"), UsageError);  // before run()
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_THROW(r.table("nope"), UsageError);
  EXPECT_THROW(r.text("in"), UsageError);
}

TEST(Runner, CancelFlag) {
  ComponentRunner<Looper> r;
  r.set_input(Looper::kIn, small_table());
  r.cancel_after(3);
  EXPECT_EQ(r.run(), MIEN_ERR_CANCELLED);
  EXPECT_EQ(r.cancel_polls(), 4u);
  EXPECT_THROW(r.table("out"), UsageError);
  r.cancel_after(1000);
  EXPECT_EQ(r.run(), MIEN_OK) << r.error();
  r.cancel();
  EXPECT_EQ(r.run(), MIEN_ERR_CANCELLED);
}

TEST(Runner, OutputFolderIsFreshAndRemoved) {
  std::string dir;
  {
    ComponentRunner<Looper> r;
    r.set_input("in", small_table());
    ASSERT_EQ(r.run(), MIEN_OK) << r.error();
    dir = r.run_dir();
    std::ifstream f(r.output_dir("out") + "/rows.txt");
    int rows = 0;
    f >> rows;
    EXPECT_EQ(rows, 3);
    EXPECT_EQ(r.table("out").num_rows(), 3);
    EXPECT_EQ(r.table("out").get("id").text(2), "c");
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(Runner, FailedProcessFreesItsOutputs) {
  g_freed = 0;
  ComponentRunner<FailsAfterSet> r;
  EXPECT_EQ(r.run(), MIEN_ERR_UNSUPPORTED);
  EXPECT_EQ(r.error(), "deliberate failure");
  EXPECT_EQ(g_freed, 1);
}

TEST(Runner, UnsetOutputBreaksTheContract) {
  ComponentRunner<Forgetful> r;
  EXPECT_EQ(r.run(), MIEN_ERR_INTERNAL);
  EXPECT_NE(r.error().find("output 'b' was left unset"), std::string::npos) << r.error();
}

TEST(Runner, TableViewInputIsCopied) {
  ComponentRunner<Looper> a;
  a.set_input("in", small_table());
  ASSERT_EQ(a.run(), MIEN_OK);
  ComponentRunner<Looper> b;
  b.set_input("in", a.table("out"));
  ASSERT_EQ(b.run(), MIEN_OK) << b.error();
  EXPECT_EQ(b.table("out").get("x").number(1), 2.0);
}

// ---- a plain C component, from its descriptor alone ----

TEST(PlainCComponent, RunsFromItsDescriptor) {
  const int freed_before = c_scale_deleted;
  std::string note;
  {
    Runner r(c_scale_descriptor(), {{"factor", 3}});
    EXPECT_EQ(r.params()["factor"], 3);
    r.set_input("values", mien::Tensor::from<double>({2, 2}, {1, 2, 3, 4}));
    ASSERT_EQ(r.run(), MIEN_OK) << r.error();
    const mien::TensorView t = r.tensor("scaled");
    EXPECT_EQ(t.shape(), (std::vector<int64_t>{2, 2}));
    EXPECT_EQ(t.to_vector<double>(), (std::vector<double>{3, 6, 9, 12}));
    EXPECT_TRUE(r.logged("c_scale created"));
    ASSERT_EQ(r.progress().size(), 4u);
    EXPECT_EQ(r.progress().back().done, 4u);
    EXPECT_EQ(r.progress().back().total, 4u);
    std::ifstream f(r.output_dir("scaled") + "/note.txt");
    std::getline(f, note);
    EXPECT_EQ(c_scale_deleted, freed_before);  // still owned by the runner
  }
  EXPECT_EQ(c_scale_deleted, freed_before + 1);  // freed with the runner
  EXPECT_EQ(note, "scaled 4 values by 3");
}

TEST(PlainCComponent, DefaultsAndErrors) {
  Runner r(c_scale_descriptor());
  EXPECT_EQ(r.params()["factor"], 2.0);
  r.set_input("values", mien::Tensor::from<double>({1}, {5}));
  ASSERT_EQ(r.run(), MIEN_OK);
  EXPECT_EQ(r.tensor("scaled").at(0), 10.0);

  EXPECT_THROW(Runner(c_scale_descriptor(), {{"factor", 1000}}), InvalidParams);
  Runner zero(c_scale_descriptor(), {{"factor", 0}});
  zero.set_input("values", mien::Tensor::from<double>({1}, {5}));
  EXPECT_EQ(zero.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(zero.error(), "factor must not be 0");

  Runner wrong(c_scale_descriptor());
  wrong.set_input("values", mien::Tensor::from<float>({1}, {5.f}));
  EXPECT_EQ(wrong.run(), MIEN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(wrong.error(), "values must be a contiguous float64 tensor");
}

TEST(PlainCComponent, Cancellation) {
  Runner r(c_scale_descriptor());
  r.set_input("values", mien::Tensor::from<double>({3}, {1, 2, 3}));
  r.cancel();
  EXPECT_EQ(r.run(), MIEN_ERR_CANCELLED);
}

}  // namespace
