// The mien executable end to end: each test writes an experiment into a fresh
// temporary folder and runs `mien` on it as a user would.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kTabular = MIEN_PLUGIN_DIR;
const std::string kFixtures = MIEN_FIXTURE_PLUGIN_DIR;
const std::string kData = std::string(MIEN_SOURCE_DIR) + "/configs/data/demo_features.csv";

struct Result {
  int code = -1;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

class MienTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mien-it-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    plugin_path_ = kTabular + ":" + kFixtures + "/sleeps_in_process:" + kFixtures + "/throws_in_create:" + kFixtures +
                   "/fails_in_process";
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  fs::path write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p;
  }

  std::string command(const std::string& args) const {
    return "MIEN_PLUGIN_PATH='" + plugin_path_ + "' '" + std::string(MIEN_EXE) + "' " + args;
  }

  Result mien(const std::string& args) {
    Result r;
    const fs::path out = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
    const int status = std::system((command(args) + " >'" + out.string() + "' 2>'" + err.string() + "'").c_str());
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }

  // Starts mien in the background (for kill tests); returns its pid.
  pid_t spawn(const std::string& args) {
    const pid_t pid = fork();
    if (pid == 0) {
      setpgid(0, 0);
      const std::string cmd = "exec env " + command(args) + " >'" + (dir_ / "bg.out").string() + "' 2>'" + (dir_ / "bg.err").string() + "'";
      execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
      _exit(127);
    }
    return pid;
  }

  json manifest(const fs::path& run) { return json::parse(slurp(run / "manifest.json")); }

  std::map<std::string, std::string> statuses(const fs::path& run) {
    std::map<std::string, std::string> out;
    const json m = manifest(run);  // keep it alive: the loop iterates a part of it
    for (const auto& n : m["nodes"]) out[n["name"].get<std::string>()] = n["status"].get<std::string>();
    return out;
  }

  // Every output file of every node (entry.json excluded: it records timings).
  std::map<std::string, std::string> outputs(const fs::path& run) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(run / "nodes")) {
      if (!e.is_regular_file() || e.path().filename() == "entry.json") continue;
      out[fs::relative(e.path(), run).string()] = slurp(e.path());
    }
    return out;
  }

  fs::path dir_;
  std::string plugin_path_;
};

std::string tabular_graph(const std::string& extra = "") {
  return "experiment: it\nseed: 11\nnodes:\n"
         "  features: {use: dataset.table, with: {path: '" + kData + "', label: emotion, id: id, groups: [subject, pose]}}\n"
         "  split: {use: split.holdout, with: {test_size: 0.25, group: subject}, in: {table: features.table}}\n"
         "  scaled: {use: transform.standardize, in: {train: split.train, apply: split.test}}\n" + extra;
}

TEST_F(MienTest, ChangingADownstreamParameterRerunsOnlyDownstreamNodes) {
  const auto exp = write("exp.yaml", tabular_graph());
  const std::string cache = " --cache-dir '" + (dir_ / "cache").string() + "'";
  Result r1 = mien("run '" + exp.string() + "' --out '" + (dir_ / "r1").string() + "'" + cache);
  ASSERT_EQ(r1.code, 0) << r1.err;
  EXPECT_EQ(statuses(dir_ / "r1"), (std::map<std::string, std::string>{{"features", "ran"}, {"split", "ran"}, {"scaled", "ran"}}));

  Result r2 = mien("run '" + exp.string() + "' --out '" + (dir_ / "r2").string() + "'" + cache);
  ASSERT_EQ(r2.code, 0) << r2.err;
  EXPECT_EQ(statuses(dir_ / "r2"), (std::map<std::string, std::string>{{"features", "cached"}, {"split", "cached"}, {"scaled", "cached"}}));
  EXPECT_NE(r2.out.find("0 ran, 3 cached"), std::string::npos) << r2.out;
  EXPECT_EQ(outputs(dir_ / "r1"), outputs(dir_ / "r2"));

  Result r3 = mien("run '" + exp.string() + "' --out '" + (dir_ / "r3").string() + "' --set nodes.split.with.test_size=0.4" + cache);
  ASSERT_EQ(r3.code, 0) << r3.err;
  EXPECT_EQ(statuses(dir_ / "r3"), (std::map<std::string, std::string>{{"features", "cached"}, {"split", "ran"}, {"scaled", "ran"}}));
}

TEST_F(MienTest, HeadlinesOfFinishedNodesArePrintedAfterTheRun) {
  plugin_path_ += ":" + kFixtures + "/good";
  const auto exp = write("exp.yaml",
                         "experiment: headline\nseed: 3\nnodes:\n"
                         "  slow: {use: fixture.slow, with: {seconds: 0}}\n"
                         "  sum: {use: fixture.sum, with: {scale: 2}, in: {values: [slow.output]}}\n");
  Result r = mien("run '" + exp.string() + "' --out '" + (dir_ / "r").string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const double total = json::parse(slurp(dir_ / "r" / "nodes" / "sum" / "headline.json"))["rows"][0]["value"].get<double>();
  std::ostringstream line;
  line << "  total  " << json(total).dump() << "\n";
  const size_t at = r.out.find("\nfixture sum\n" + line.str() + "  scale  x2.000000\n");
  EXPECT_NE(at, std::string::npos) << r.out;
  EXPECT_LT(r.out.find("2 ran, 0 cached"), at) << "headlines follow the node table\n" << r.out;
}

TEST_F(MienTest, EveryNodeAndMatrixCopyGetsItsOwnSeedFromTheExperimentSeed) {
  // fixture.slow outputs four numbers that depend only on its seed.
  const auto exp = write("exp.yaml",
                         "experiment: seeds\nseed: 5\nnodes:\n"
                         "  a: {use: fixture.slow, with: {seconds: 0}}\n"
                         "  b: {use: fixture.slow, with: {seconds: 0}}\n"
                         "  m: {use: fixture.slow, matrix: {k: [1, 2]}, with: {seconds: 0}}\n");
  ASSERT_EQ(mien("run '" + exp.string() + "' --out '" + (dir_ / "r").string() + "' --no-cache").code, 0);
  std::set<std::string> values;
  std::set<uint64_t> seeds;
  const json m = manifest(dir_ / "r");
  for (const auto& n : m["nodes"]) {
    values.insert(slurp(dir_ / "r" / n["folder"].get<std::string>() / "output.npy"));
    seeds.insert(n["seed"].get<uint64_t>());
  }
  EXPECT_EQ(values.size(), 4u) << "identical outputs: nodes share a seed";
  EXPECT_EQ(seeds.size(), 4u);
  EXPECT_EQ(seeds.count(5), 0u) << "the experiment seed is mixed with the node name, not passed as is";
}

TEST_F(MienTest, AChangedPluginLibraryRerunsItsNodes) {
  // A private copy of the good fixture plugin, found through the experiment's plugin_paths.
  fs::create_directories(dir_ / "plugins");
  const fs::path lib = dir_ / "plugins" / "libmien_fixture_good.so";
  fs::copy_file(kFixtures + "/good/libmien_fixture_good.so", lib);
  const auto exp = write("exp.yaml",
                         "experiment: lib\nseed: 3\nplugin_paths: [plugins]\nnodes:\n"
                         "  slow: {use: fixture.slow, with: {seconds: 0}}\n"
                         "  echo: {use: fixture.echo, in: {input: slow.output}}\n");
  const std::string cache = " --cache-dir '" + (dir_ / "cache").string() + "'";
  ASSERT_EQ(mien("run '" + exp.string() + "' --out '" + (dir_ / "r1").string() + "'" + cache).code, 0);
  // Same code, different bytes: the content hash changes, so echo must rerun.
  std::ofstream(lib, std::ios::app) << '\0';
  Result r = mien("run '" + exp.string() + "' --out '" + (dir_ / "r2").string() + "'" + cache);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(statuses(dir_ / "r2"), (std::map<std::string, std::string>{{"slow", "cached"}, {"echo", "ran"}}));
}

TEST_F(MienTest, ARunKilledMidNodeResumesToIdenticalOutputs) {
  const auto exp = write("exp.yaml", tabular_graph("  slow: {use: fixture.slow, with: {seconds: 3}}\n"));
  const std::string cache = " --cache-dir '" + (dir_ / "cache").string() + "'";
  const pid_t pid = spawn("run '" + exp.string() + "' --out '" + (dir_ / "killed").string() + "'" + cache);
  // Wait until the slow node is running, then kill -9 (no chance to clean up).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool running = false;
  while (std::chrono::steady_clock::now() < deadline && !running) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    running = slurp(dir_ / "killed" / "log.txt").find("running fixture.slow") != std::string::npos;
  }
  ASSERT_TRUE(running) << slurp(dir_ / "bg.err");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(-pid, SIGKILL);
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFSIGNALED(st));
  // The manifest written so far is complete JSON and says which nodes finished.
  EXPECT_EQ(manifest(dir_ / "killed")["status"], "running");
  EXPECT_EQ(manifest(dir_ / "killed")["nodes"].size(), 3u);

  Result resumed = mien("run '" + exp.string() + "' --out '" + (dir_ / "resumed").string() + "'" + cache);
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(statuses(dir_ / "resumed"),
            (std::map<std::string, std::string>{{"features", "cached"}, {"split", "cached"}, {"scaled", "cached"}, {"slow", "ran"}}));
  // No staging leftovers in the cache.
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "cache"))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();

  Result fresh = mien("run '" + exp.string() + "' --out '" + (dir_ / "fresh").string() + "' --cache-dir '" + (dir_ / "cache2").string() + "'");
  ASSERT_EQ(fresh.code, 0) << fresh.err;
  EXPECT_EQ(outputs(dir_ / "resumed"), outputs(dir_ / "fresh"));
}

TEST_F(MienTest, StagingLeftByADeadProcessIsRemovedButAnotherMachinesIsLeftAlone) {
  // On a shared cache, a pid means something only on the machine that wrote it.
  const auto exp = write("exp.yaml", "experiment: staging\nnodes:\n  slow: {use: fixture.slow, with: {seconds: 0}}\n");
  const std::string cache = " --cache '" + (dir_ / "cache").string() + "'";
  ASSERT_EQ(mien("run '" + exp.string() + "' --out '" + (dir_ / "r1").string() + "'" + cache).code, 0);
  const std::string key = manifest(dir_ / "r1")["nodes"][0]["cache_key"].get<std::string>();
  const fs::path entry = dir_ / "cache" / key.substr(0, 2) / key;
  fs::remove_all(entry);
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  const fs::path dead_here = entry.string() + ".tmp-999999-0@" + host;       // no such pid here
  const fs::path elsewhere = entry.string() + ".tmp-999999-0@another-machine";  // maybe alive there
  fs::create_directories(dead_here);
  fs::create_directories(elsewhere);
  Result r = mien("run '" + exp.string() + "' --out '" + (dir_ / "r2").string() + "'" + cache);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(statuses(dir_ / "r2")["slow"], "ran");
  EXPECT_FALSE(fs::exists(dead_here));
  EXPECT_TRUE(fs::exists(elsewhere));
  EXPECT_TRUE(fs::exists(entry / "entry.json"));
}

TEST_F(MienTest, CtrlCStopsAtTheNextCheckAndKeepsWhatFinished) {
  const auto exp = write("exp.yaml", tabular_graph("  slow: {use: fixture.slow, with: {seconds: 30}}\n"));
  const pid_t pid = spawn("run '" + exp.string() + "' --out '" + (dir_ / "run").string() + "'");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool running = false;
  while (std::chrono::steady_clock::now() < deadline && !running) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    running = slurp(dir_ / "run" / "log.txt").find("running fixture.slow") != std::string::npos;
  }
  ASSERT_TRUE(running);
  const auto t0 = std::chrono::steady_clock::now();
  kill(-pid, SIGINT);
  int st = 0;
  waitpid(pid, &st, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 130);
  const json m = manifest(dir_ / "run");
  EXPECT_EQ(m["status"], "cancelled");
  EXPECT_EQ(statuses(dir_ / "run")["scaled"], "ran");
  EXPECT_EQ(statuses(dir_ / "run")["slow"], "cancelled");
  EXPECT_TRUE(fs::exists(dir_ / "run" / "nodes" / "scaled" / "train.csv"));
}

TEST_F(MienTest, APluginFailureNamesNodeComponentAndLibraryAndKeepsGoing) {
  const auto exp = write("exp.yaml",
                         "experiment: fail\nnodes:\n"
                         "  bad_create: {use: fixture.throws_in_create}\n"
                         "  bad_process: {use: fixture.fails_in_process}\n"
                         "  fine: {use: fixture.slow, with: {seconds: 0}}\n");
  Result r = mien("run '" + exp.string() + "' --out '" + (dir_ / "run").string() + "'");
  EXPECT_EQ(r.code, 1);
  const std::string lib1 = fs::canonical(kFixtures + "/throws_in_create/libmien_fixture_throws_in_create.so").string();
  const std::string lib2 = fs::canonical(kFixtures + "/fails_in_process/libmien_fixture_fails_in_process.so").string();
  EXPECT_NE(r.err.find("error [bad_create]: failed: create failed (internal error): fixture: create failed on purpose "
                       "[fixture.throws_in_create@1 in " + lib1 + "]"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("error [bad_process]: failed: process failed (invalid argument): fixture: process failed on purpose "
                       "[fixture.fails_in_process@1 in " + lib2 + "]"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(statuses(dir_ / "run")["fine"], "ran");
  EXPECT_EQ(manifest(dir_ / "run")["status"], "failed");
}

TEST_F(MienTest, AFailedItemNeverHidesTheReport) {
  // report.html's items port is MIEN_PORT_PARTIAL: it renders what finished and says what failed.
  if (!fs::exists(kTabular + "/libmien_system.so") || !fs::exists(kTabular + "/libmien_report.so"))
    GTEST_SKIP() << "built without the LibTorch/OpenCV plugins (system.info, report.html)";
  const auto exp = write("exp.yaml",
                         "experiment: partial\nnodes:\n"
                         "  env: {use: system.info}\n"
                         "  bad_process: {use: fixture.fails_in_process}\n"
                         "  report: {use: report.html, in: {items: [env.info, bad_process.output]}}\n");
  Result r = mien("run '" + exp.string() + "' --out '" + (dir_ / "run").string() + "'");
  EXPECT_EQ(r.code, 1) << "a failed node still fails the run";
  EXPECT_NE(r.err.find("[report]: runs with what finished; left out of its inputs (failed or skipped): bad_process"),
            std::string::npos)
      << r.err;
  const auto st = statuses(dir_ / "run");
  EXPECT_EQ(st.at("bad_process"), "failed");
  EXPECT_EQ(st.at("report"), "ran");
  json left_out;
  const json m = manifest(dir_ / "run");  // kept alive: the loop iterates a part of it
  for (const auto& n : m["nodes"])
    if (n["name"] == "report") left_out = n.value("left_out", json());
  EXPECT_EQ(left_out, json({"bad_process"}));
  const std::string html = slurp(dir_ / "run" / "report.html");
  ASSERT_FALSE(html.empty());
  EXPECT_NE(html.find("partial"), std::string::npos);
  EXPECT_NE(html.find("<b>bad_process</b>: failed"), std::string::npos) << "the report lists what failed and why";
  EXPECT_NE(html.find("process failed on purpose"), std::string::npos);
}

TEST_F(MienTest, ValidateReportsEveryMistakeWithPositionAndSuggestion) {
  const auto exp = write("bad.yaml",
                         "experiment: bad\n"
                         "nodes:\n"
                         "  data: {use: dataset.tabel, with: {path: x.csv}}\n"
                         "  split: {use: split.holdout, in: {tabel: other.table}}\n"
                         "  other: {use: dataset.table, with: {path: x.csv}}\n");
  Result r = mien("validate '" + exp.string() + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(exp.string() + ":3:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("did you mean 'dataset.table'?"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(exp.string() + ":4:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'tabel'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("did you mean 'table'?"), std::string::npos) << r.err;
  // Nothing ran, nothing was written.
  EXPECT_FALSE(fs::exists(dir_ / "runs"));
}

TEST_F(MienTest, TheSameSeedGivesIdenticalOutputsAndAnotherSeedDoesNot) {
  const auto exp = write("exp.yaml", tabular_graph());
  ASSERT_EQ(mien("run '" + exp.string() + "' --no-cache --out '" + (dir_ / "a").string() + "'").code, 0);
  ASSERT_EQ(mien("run '" + exp.string() + "' --no-cache --out '" + (dir_ / "b").string() + "'").code, 0);
  EXPECT_EQ(statuses(dir_ / "b")["split"], "ran");
  EXPECT_EQ(outputs(dir_ / "a"), outputs(dir_ / "b"));
  ASSERT_EQ(mien("run '" + exp.string() + "' --set seed=12 --out '" + (dir_ / "c").string() + "'").code, 0);
  EXPECT_NE(slurp(dir_ / "a" / "nodes" / "split" / "test.csv"), slurp(dir_ / "c" / "nodes" / "split" / "test.csv"));
}

TEST_F(MienTest, TheRunFolderHoldsResolvedConfigManifestLogAndReadableOutputs) {
  const auto exp = write("exp.yaml", tabular_graph());
  Result r = mien("run '" + exp.string() + "' --out '" + (dir_ / "run").string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const fs::path run = dir_ / "run";
  EXPECT_NE(slurp(run / "resolved.yaml").find("dataset.table@1"), std::string::npos);
  EXPECT_NE(slurp(run / "resolved.yaml").find("stratify"), std::string::npos);  // defaults filled in
  const json m = manifest(run);
  EXPECT_EQ(m["status"], "completed");
  EXPECT_EQ(m["seed"], 11);
  for (const auto& [lib, info] : m["plugins"].items()) EXPECT_EQ(info["sha256"].get<std::string>().size(), 64u) << lib;
  for (const auto& n : m["nodes"]) {
    EXPECT_TRUE(n.contains("wall_seconds"));
    EXPECT_TRUE(n.contains("peak_rss_mb"));
  }
  EXPECT_NE(slurp(run / "log.txt").find("running dataset.table@1"), std::string::npos);
  const std::string train = slurp(run / "nodes" / "scaled" / "train.csv");
  EXPECT_EQ(train.rfind("id,", 0), 0u) << train.substr(0, 200);
  EXPECT_TRUE(json::parse(slurp(run / "nodes" / "scaled" / "scaler.json")).contains("means"));
}

TEST_F(MienTest, PluginsJsonListsTheCoreComponents) {
  Result r = mien("plugins --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const json arr = json::parse(r.out);
  std::set<std::string> ids;
  for (const auto& e : arr) {
    ids.insert(e["type_id"].get<std::string>());
    for (const char* key : {"type_id", "version", "kind", "summary", "library"}) EXPECT_TRUE(e.contains(key)) << key;
  }
  for (const char* id : {"dataset.table", "split.holdout", "split.group_kfold", "transform.standardize"})
    EXPECT_TRUE(ids.count(id)) << id;
}

TEST_F(MienTest, DescribeShowsDefaultsAndPorts) {
  Result r = mien("describe split.group_kfold");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("folds (integer) = 5"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Inputs"), std::string::npos);
  Result bad = mien("describe split.grup_kfold");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("did you mean 'split.group_kfold'?"), std::string::npos) << bad.err;
}

// ---- silent misses: missing plugin folders, rejected libraries ------------------------
TEST_F(MienTest, AMissingPluginFolderIsAWarningWithItsPosition) {
  const auto exp = write("exp.yaml",
                         "experiment: paths\n"
                         "plugin_paths: [plugins_here, " + kTabular + "]\n" +
                             tabular_graph().substr(std::string("experiment: it\n").size()));
  plugin_path_ += ":" + (dir_ / "no_such_folder").string();
  Result r = mien("validate '" + exp.string() + "'");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find(exp.string() + ":2:16: warning: plugin_paths entry 'plugins_here' does not exist (" +
                       (dir_ / "plugins_here").string() + "); no plugins are loaded from it"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("warning: MIEN_PLUGIN_PATH names " + (dir_ / "no_such_folder").string() +
                       ", which does not exist; no plugins are loaded from it"),
            std::string::npos)
      << r.err;
}

TEST_F(MienTest, UnknownComponentAndDescribeNameTheRejectedLibraryThatDeclaresIt) {
  plugin_path_ += ":" + kFixtures + "/newer_minor:" + kFixtures + "/bad_default_min";
  const std::string minor = kFixtures + "/newer_minor/libmien_fixture_newer_minor.so";
  const std::string bad = kFixtures + "/bad_default_min/libmien_fixture_bad_default_min.so";
  const auto exp = write("exp.yaml", "experiment: rejected\nnodes:\n  raw: {use: fixture.raw}\n  lie: {use: fixture.bad_default}\n");
  Result r = mien("validate '" + exp.string() + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(exp.string() + ":3:14: error: node 'raw': unknown component 'fixture.raw'; it is declared by " +
                       minor + ", which was not loaded: plugin 'fixture-newer-minor' 0.1.0 needs mien ABI 1.2, but "
                               "this host implements ABI 1.1"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(exp.string() + ":4:14: error: node 'lie': unknown component 'fixture.bad_default'; it is "
                                      "declared by " +
                       bad + ", which was not loaded: component 'fixture.bad_default' parameter 'k': its default is "
                             "-1.0, below its minimum 0.0"),
            std::string::npos)
      << r.err;
  Result d = mien("describe fixture.bad_default");
  EXPECT_EQ(d.code, 2);
  EXPECT_NE(d.err.find("error: no component 'fixture.bad_default'; it is declared by " + bad +
                       ", which was not loaded: component 'fixture.bad_default' parameter 'k': its default is -1.0, "
                       "below its minimum 0.0 (a default must satisfy the parameter's own schema)"),
            std::string::npos)
      << d.err;
}

// ---- what plugins print goes to log.txt, attributed -----------------------------------
TEST_F(MienTest, WhatAPluginPrintsIsCapturedIntoTheLogAttributedWithOneWarning) {
  plugin_path_ += ":" + kFixtures + "/prints_in_process";
  const auto exp = write("exp.yaml",
                         "experiment: prints\nnodes:\n"
                         "  chatty: {use: fixture.prints, with: {lines: 3}}\n"
                         "  doomed: {use: fixture.prints_then_fails}\n"
                         "  quiet: {use: fixture.slow, with: {seconds: 0}}\n");
  Result r = mien("run '" + exp.string() + "' --out '" + (dir_ / "run").string() + "'");
  EXPECT_EQ(r.code, 1) << r.err;  // doomed fails, on purpose
  // Nothing the plugins printed reached mien's own stdout or stderr...
  for (const std::string& text : {r.out, r.err}) {
    EXPECT_EQ(text.find("stdout line"), std::string::npos) << text;
    EXPECT_EQ(text.find("a line on stderr"), std::string::npos) << text;
    EXPECT_EQ(text.find("about to fail"), std::string::npos) << text;
  }
  // ...while mien's own lines, and the plugin's proper log line, did.
  EXPECT_NE(r.err.find("info [chatty]: fixture.prints: a proper log line"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("error [doomed]: failed: process failed (invalid argument): fixture: failed after printing"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("chatty"), std::string::npos) << r.out;  // the node table
  // One warning per printing node, naming the component.
  const std::string warn = "warning [chatty]: fixture.prints@1 printed 7 lines to stdout/stderr instead of logging "
                           "through the host; they are in log.txt, marked 'output [chatty]'";
  EXPECT_NE(r.err.find(warn), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(warn), r.err.rfind(warn)) << r.err;
  EXPECT_NE(r.err.find("warning [doomed]: fixture.prints_then_fails@1 printed 1 line"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("warning [quiet]"), std::string::npos) << r.err;

  const std::string log = slurp(dir_ / "run" / "log.txt");
  const std::string tag = "] output [chatty] fixture.prints@1: ";
  for (const char* line : {"fixture.prints: constructed", "fixture.prints: stdout line 1", "fixture.prints: stdout line 3",
                           "fixture.prints: a line on stderr", "fixture.prints: from a worker thread",
                           "fixture.prints: no newline at the end"})
    EXPECT_NE(log.find(tag + line + "\n"), std::string::npos) << line << "\n" << log;
  // stdout's own order is kept.
  EXPECT_LT(log.find("stdout line 1"), log.find("stdout line 2"));
  EXPECT_LT(log.find("stdout line 2"), log.find("stdout line 3"));
  EXPECT_NE(log.find("] output [doomed] fixture.prints_then_fails@1: fixture.prints_then_fails: about to fail\n"),
            std::string::npos)
      << log;
  // The host API's log line is a normal info line, not captured output.
  EXPECT_NE(log.find("info [chatty]: fixture.prints: a proper log line"), std::string::npos) << log;
  EXPECT_EQ(log.find("output [chatty] fixture.prints@1: fixture.prints: a proper log line"), std::string::npos) << log;
  // mien's own terminal still works after the captures: the run's closing lines are there.
  EXPECT_NE(r.err.find("[quiet]"), std::string::npos) << r.err;
  EXPECT_EQ(statuses(dir_ / "run")["chatty"], "ran");
  EXPECT_EQ(statuses(dir_ / "run")["quiet"], "ran");
}

TEST_F(MienTest, VersionNamesMienTheAbiTheLibrariesAndTheBlasInUse) {
  Result r = mien("--version");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("mien "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("plugin ABI 1.1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("BLAS "), std::string::npos) << r.out;
  if (fs::exists(kTabular + "/libmien_system.so")) {
    EXPECT_NE(r.out.find("LibTorch 1."), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("OpenCV 4."), std::string::npos) << r.out;
    // setup.sh installs libopenblas0-pthread, which must win over the reference BLAS.
    EXPECT_NE(r.out.find("BLAS OpenBLAS"), std::string::npos) << r.out;
  }
}

TEST_F(MienTest, TheDemoExperimentRuns) {
  if (!fs::exists(kTabular + "/libmien_system.so")) GTEST_SKIP() << "built without the LibTorch plugins";
  Result r = mien("run '" + std::string(MIEN_SOURCE_DIR) + "/configs/demo.yaml' --out '" + (dir_ / "demo").string() + "'");
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_EQ(manifest(dir_ / "demo")["status"], "completed");
}

// `mien survey` is a front door to mien-survey (plugins/report/tools), found beside mien.
TEST_F(MienTest, SurveyRunsTheToolBesideMien) {
  Result help = mien("survey summarize --help");
  ASSERT_EQ(help.code, 0) << help.err;
  EXPECT_NE(help.out.find("Usage: mien survey summarize RESPONSES.json"), std::string::npos) << help.out;
  Result missing_file = mien("survey summarize /nonexistent/r.json");
  EXPECT_EQ(missing_file.code, 1);
  EXPECT_NE(missing_file.err.find("/nonexistent/r.json: cannot be read"), std::string::npos) << missing_file.err;
  Result bad_command = mien("survey summarise");
  EXPECT_EQ(bad_command.code, 2);
}

TEST_F(MienTest, SurveyWithoutTheToolSaysWhereItLooked) {
  const fs::path lonely = dir_ / "bin" / "mien";
  fs::create_directories(lonely.parent_path());
  fs::copy_file(MIEN_EXE, lonely);
  const fs::path err = dir_ / "stderr.txt";
  const int status = std::system(("'" + lonely.string() + "' survey summarize --help >/dev/null 2>'" + err.string() + "'").c_str());
  EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 2);
  EXPECT_NE(slurp(err).find("mien-survey is not installed: looked for " + (fs::canonical(dir_) / "bin" / "mien-survey").string()),
            std::string::npos)
      << slurp(err);
}

}  // namespace
