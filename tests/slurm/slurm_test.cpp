// `mien run --executor slurm` on a real SLURM cluster (the private one-node cluster that
// tests/slurm/local_cluster.sh starts): outputs byte-identical to the local executor, a
// matrix sweep, dependencies that hold, a job killed with scancel and resumed, a failing
// node's message and log, racing publishers of one cache entry, --detach with `mien
// status`, resources reaching sbatch, Ctrl-C.
//
// Without a cluster named by SLURM_CONF that answers, every test is skipped with the
// reason, except when MIEN_SLURM_REQUIRED=1 (setup.sh test sets it): then they fail.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kTabular = MIEN_PLUGIN_DIR;
const std::string kFixtures = MIEN_FIXTURE_PLUGIN_DIR;
const std::string kData = std::string(MIEN_SOURCE_DIR) + "/configs/data/demo_features.csv";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

struct Result {
  int code = -1;
  std::string out, err;
};

// Runs a shell command, capturing stdout and stderr into files under dir.
Result shell(const std::string& cmd, const fs::path& dir) {
  const fs::path out = dir / "cmd.out", err = dir / "cmd.err";
  const int status = std::system((cmd + " >'" + out.string() + "' 2>'" + err.string() + "'").c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// Why the cluster cannot be used, or "" when sinfo answers. Only a cluster named
// explicitly by SLURM_CONF is used: the tests' folders are under /tmp, which only a
// one-machine cluster shares with its jobs, and a developer's real cluster is not a test bed.
std::string cluster_problem() {
  const char* conf = std::getenv("SLURM_CONF");
  if (conf == nullptr || *conf == '\0') return "SLURM_CONF is not set";
  const fs::path tmp = fs::temp_directory_path() / ("mien-sinfo-" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  const Result r = shell("sinfo --noheader --format=%T", tmp);
  fs::remove_all(tmp);
  if (r.code != 0) return "sinfo failed (" + std::to_string(r.code) + "): " + r.err;
  // Usable: idle, mixed, allocated, completing, or planned (Slurm 22.05: an idle node the
  // backfill scheduler has reserved for a pending job, e.g. one a previous test left queued).
  bool usable = false;
  for (const char* state : {"idle", "mix", "alloc", "comp", "planned"})
    if (r.out.find(state) != std::string::npos) usable = true;
  if (!usable)
    return "no usable node (sinfo: " + r.out + ")";
  return "";
}

class SlurmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string problem = cluster_problem();
    if (!problem.empty()) {
      const char* required = std::getenv("MIEN_SLURM_REQUIRED");
      if (required != nullptr && std::string(required) == "1")
        FAIL() << "no SLURM cluster, but MIEN_SLURM_REQUIRED=1: " << problem;
      GTEST_SKIP() << "no SLURM cluster reachable (" << problem
                   << "); start the private test cluster with `tests/slurm/local_cluster.sh start` and "
                      "`eval $(tests/slurm/local_cluster.sh env)`";
    }
    dir_ = fs::temp_directory_path() / ("mien-slurm-it-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    plugin_path_ = kTabular + ":" + kFixtures + "/sleeps_in_process:" + kFixtures + "/fails_in_process:" + kFixtures + "/good";
  }
  void TearDown() override {
    if (!HasFailure() && !dir_.empty()) fs::remove_all(dir_);
  }

  fs::path write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }

  std::string env() const {
    // Quick polling and a short wait for state files: everything is on one machine here.
    return "MIEN_PLUGIN_PATH='" + plugin_path_ + "' MIEN_SLURM_POLL_SECONDS=0.3 MIEN_SLURM_STATE_GRACE_SECONDS=5 ";
  }
  Result mien(const std::string& args) { return shell(env() + "'" + std::string(MIEN_EXE) + "' " + args, dir_); }

  pid_t spawn(const std::string& args, const std::string& tag) {
    const pid_t pid = fork();
    if (pid == 0) {
      setpgid(0, 0);
      const std::string cmd = "exec env " + env() + "'" + std::string(MIEN_EXE) + "' " + args + " >'" +
                              (dir_ / (tag + ".out")).string() + "' 2>'" + (dir_ / (tag + ".err")).string() + "'";
      execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
      _exit(127);
    }
    return pid;
  }
  int wait_exit(pid_t pid, int seconds) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    int st = 0;
    while (Clock::now() < deadline) {
      if (waitpid(pid, &st, WNOHANG) == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(-pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
  }

  json manifest(const fs::path& run) { return json::parse(slurp(run / "manifest.json")); }
  json node_state(const fs::path& run, const std::string& folder) {
    return json::parse(slurp(run / "slurm" / "nodes" / (folder + ".json")));
  }
  json job_info(const fs::path& run, const std::string& folder) {
    return json::parse(slurp(run / "slurm" / "jobs" / (folder + ".json")));
  }

  std::map<std::string, std::string> statuses(const fs::path& run) {
    std::map<std::string, std::string> out;
    const json m = manifest(run);
    for (const auto& n : m["nodes"]) out[n["name"].get<std::string>()] = n["status"].get<std::string>();
    return out;
  }

  // Every output file of every node, by path inside the run folder (entry.json left out:
  // it records timings).
  std::map<std::string, std::string> outputs(const fs::path& run) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(run / "nodes")) {
      if (!e.is_regular_file() || e.path().filename() == "entry.json") continue;
      out[fs::relative(e.path(), run).string()] = slurp(e.path());
    }
    return out;
  }

  // Waits until a node's job reports `running`; returns its job id ("" on timeout).
  std::string wait_running(const fs::path& run, const std::string& folder, int seconds) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < deadline) {
      const fs::path state = run / "slurm" / "nodes" / (folder + ".json");
      if (fs::exists(state)) {
        try {
          const json s = json::parse(slurp(state));
          if (s.value("status", "") == "running") return s.value("job_id", "");
        } catch (...) {
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return "";
  }

  std::string scontrol_job(const std::string& id) { return shell("scontrol --oneliner show job " + id, dir_).out; }

  fs::path dir_;
  std::string plugin_path_;
};

// Small jobs, so that the two CPUs of the test cluster run two at once.
const std::string kSmallJobs = "resources: {default: {cpus: 1, memory: 256M, time: 10m}}\n";

std::string tabular_graph(const std::string& extra = "") {
  return "experiment: slurm_it\nseed: 11\n" + kSmallJobs + "nodes:\n"
         "  features: {use: dataset.table, with: {path: '" + kData + "', label: emotion, id: id, groups: [subject, pose]}}\n"
         "  split: {use: split.holdout, with: {test_size: 0.25, group: subject}, in: {table: features.table}}\n"
         "  scaled: {use: transform.standardize, in: {train: split.train, apply: split.test}}\n" + extra;
}

TEST_F(SlurmTest, ASmallGraphGivesTheLocalExecutorsBytesAndARerunSubmitsNothing) {
  const auto exp = write("exp.yaml", tabular_graph("  slow: {use: fixture.slow, with: {seconds: 0.2}}\n"
                                                   "  echo: {use: fixture.echo, in: {input: slow.output}}\n"));
  Result local = mien("run '" + exp.string() + "' --threads 1 --out '" + (dir_ / "local").string() + "' --cache '" +
                      (dir_ / "local-cache").string() + "'");
  ASSERT_EQ(local.code, 0) << local.err;
  const std::string cache = " --cache '" + (dir_ / "cache").string() + "'";
  Result r = mien("run '" + exp.string() + "' --executor slurm --out '" + (dir_ / "slurm").string() + "'" + cache);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_EQ(outputs(dir_ / "slurm"), outputs(dir_ / "local"));
  const json m = manifest(dir_ / "slurm");
  EXPECT_EQ(m["status"], "completed");
  EXPECT_EQ(m["executor"], "slurm");
  std::set<std::string> jobs;
  for (const auto& n : m["nodes"]) {
    EXPECT_EQ(n["status"], "ran") << n.dump();
    ASSERT_TRUE(n.contains("slurm_job_id")) << n.dump();
    jobs.insert(n["slurm_job_id"].get<std::string>());
    EXPECT_TRUE(fs::exists(n["log"].get<std::string>())) << n.dump();
  }
  EXPECT_EQ(jobs.size(), 5u) << "one job per node";
  // Keys are the local run's: the same cache serves both executors.
  const json lm = manifest(dir_ / "local");
  for (size_t i = 0; i < lm["nodes"].size(); ++i) EXPECT_EQ(lm["nodes"][i]["cache_key"], m["nodes"][i]["cache_key"]);

  Result again = mien("run '" + exp.string() + "' --executor slurm --out '" + (dir_ / "again").string() + "'" + cache);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("0 ran, 5 cached"), std::string::npos) << again.out;
  EXPECT_TRUE(fs::is_empty(dir_ / "again" / "slurm" / "jobs")) << "a node with a cache entry is not submitted";
  EXPECT_EQ(outputs(dir_ / "again"), outputs(dir_ / "local"));
}

TEST_F(SlurmTest, AMatrixSweepGivesTheLocalExecutorsBytes) {
  const auto exp = write("exp.yaml",
                         "experiment: sweep\nseed: 4\n" + kSmallJobs +
                             "nodes:\n"
                             "  features: {use: dataset.table, with: {path: '" + kData +
                             "', label: emotion, id: id, groups: [subject, pose]}}\n"
                             "  split: {use: split.group_kfold, matrix: {seed: [1, 2, 3]}, with: {folds: 4, fold: 0, group: subject, seed: "
                             "\"${matrix.seed}\"}, in: {table: features.table}}\n"
                             "  scaled: {use: transform.standardize, in: {train: split.train, apply: split.test}}\n"
                             "  noise: {use: fixture.slow, matrix: {k: [1, 2, 3]}, with: {seconds: 0}}\n"
                             "  total: {use: fixture.sum, in: {values: noise.output}}\n");
  Result local = mien("run '" + exp.string() + "' --threads 1 --out '" + (dir_ / "local").string() + "' --cache '" +
                      (dir_ / "local-cache").string() + "'");
  ASSERT_EQ(local.code, 0) << local.err;
  Result r = mien("run '" + exp.string() + "' --executor slurm --out '" + (dir_ / "slurm").string() + "' --cache '" +
                  (dir_ / "cache").string() + "'");
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  const auto slurm_outputs = outputs(dir_ / "slurm");
  EXPECT_EQ(slurm_outputs, outputs(dir_ / "local"));
  EXPECT_TRUE(slurm_outputs.count("nodes/scaled-3/train.csv")) << "the matrix copies have their own folders";
  EXPECT_EQ(manifest(dir_ / "slurm")["nodes"].size(), 11u);
  EXPECT_EQ(fs::path(dir_ / "slurm" / "slurm" / "jobs").empty(), false);
  size_t jobs = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "slurm" / "slurm" / "jobs")) jobs += e.path().extension() == ".json";
  EXPECT_EQ(jobs, 11u);
}

TEST_F(SlurmTest, DependenciesHoldNoJobStartsBeforeItsInputsFinished) {
  const auto exp = write("exp.yaml",
                         "experiment: deps\nseed: 2\n" + kSmallJobs +
                             "nodes:\n"
                             "  a: {use: fixture.slow, with: {seconds: 1.5}}\n"
                             "  b: {use: fixture.slow, with: {seconds: 0.5}, in: {input: a.output}}\n"
                             "  c: {use: fixture.slow, with: {seconds: 0.5}, in: {input: a.output}}\n"
                             "  d: {use: fixture.sum, in: {values: [b.output, c.output]}}\n");
  Result r = mien("run '" + exp.string() + "' --executor slurm --out '" + (dir_ / "run").string() + "' --cache '" +
                  (dir_ / "cache").string() + "'");
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  const fs::path run = dir_ / "run";
  const std::map<std::string, std::vector<std::string>> inputs = {{"b", {"a"}}, {"c", {"a"}}, {"d", {"b", "c"}}};
  for (const auto& [node, ups] : inputs) {
    const json job = job_info(run, node);
    std::set<std::string> after;
    for (const auto& a : job["after"]) after.insert(a.get<std::string>());
    EXPECT_EQ(after, std::set<std::string>(ups.begin(), ups.end())) << job.dump();
    bool afterok = false;
    for (const auto& arg : job["sbatch"]) afterok |= arg.get<std::string>().rfind("--dependency=afterok:", 0) == 0;
    EXPECT_TRUE(afterok) << job.dump();
    const double started = node_state(run, node)["started"].get<double>();
    for (const auto& up : ups) {
      const double up_finished = node_state(run, up)["finished"].get<double>();
      EXPECT_GE(started, up_finished) << node << " started before its input " << up << " finished";
      // Chained, not submitted one after another: the job was queued while its input ran.
      EXPECT_LT(job["submitted_unix"].get<double>(), up_finished) << node;
    }
  }
}

TEST_F(SlurmTest, AJobKilledWithScancelMidRunIsResumedByTheRerun) {
  const auto exp = write("exp.yaml", tabular_graph("  first: {use: fixture.slow, with: {seconds: 0}}\n"
                                  "  slow: {use: fixture.slow, with: {seconds: 4}, in: {input: first.output}}\n"
                                  "  after: {use: fixture.echo, in: {input: slow.output}}\n"));
  const std::string cache = " --cache '" + (dir_ / "cache").string() + "'";
  const pid_t pid = spawn("run '" + exp.string() + "' --executor slurm --out '" + (dir_ / "killed").string() + "'" + cache, "killed");
  const std::string job = wait_running(dir_ / "killed", "slow", 90);
  ASSERT_FALSE(job.empty()) << slurp(dir_ / "killed.err");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(shell("scancel " + job, dir_).code, 0);
  const int code = wait_exit(pid, 90);
  const std::string err = slurp(dir_ / "killed.err");
  EXPECT_EQ(code, 1) << err;
  auto st = statuses(dir_ / "killed");
  EXPECT_EQ(st["scaled"], "ran");
  EXPECT_EQ(st["slow"], "cancelled") << err;
  EXPECT_EQ(st["after"], "skipped") << err;
  EXPECT_EQ(manifest(dir_ / "killed")["status"], "cancelled");
  EXPECT_FALSE(fs::exists(dir_ / "killed" / "nodes" / "slow"));

  Result resumed = mien("run '" + exp.string() + "' --executor slurm --out '" + (dir_ / "resumed").string() + "'" + cache);
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(statuses(dir_ / "resumed"),
            (std::map<std::string, std::string>{{"features", "cached"}, {"split", "cached"}, {"scaled", "cached"},
                                                {"first", "cached"}, {"slow", "ran"}, {"after", "ran"}}));
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "cache"))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  Result local = mien("run '" + exp.string() + "' --threads 1 --out '" + (dir_ / "local").string() + "' --cache '" +
                      (dir_ / "local-cache").string() + "'");
  ASSERT_EQ(local.code, 0) << local.err;
  EXPECT_EQ(outputs(dir_ / "resumed"), outputs(dir_ / "local"));
}

TEST_F(SlurmTest, AFailingNodesErrorAndTheEndOfItsLogReachTheUser) {
  const auto exp = write("exp.yaml",
                         "experiment: fail\n" + kSmallJobs +
                             "nodes:\n"
                             "  fine: {use: fixture.slow, with: {seconds: 0}}\n"
                             "  bad: {use: fixture.fails_in_process, in: {input: fine.output}}\n"
                             "  later: {use: fixture.echo, in: {input: bad.output}}\n");
  Result r = mien("run '" + exp.string() + "' --executor slurm --out '" + (dir_ / "run").string() + "' --cache '" +
                  (dir_ / "cache").string() + "'");
  EXPECT_EQ(r.code, 1) << r.err;
  const std::string lib = fs::canonical(kFixtures + "/fails_in_process/libmien_fixture_fails_in_process.so").string();
  EXPECT_NE(r.err.find("error [bad]: failed: process failed (invalid argument): fixture: process failed on purpose [fixture.fails_in_process@1 in " + lib + "]"),
            std::string::npos)
      << r.err;
  const json m = manifest(dir_ / "run");
  EXPECT_EQ(m["status"], "failed");
  const json bad = m["nodes"][1];
  ASSERT_EQ(bad["name"], "bad");
  EXPECT_EQ(bad["status"], "failed");
  const std::string log = bad["log"].get<std::string>();
  EXPECT_EQ(log, (dir_ / "run" / "slurm" / "logs" / ("bad." + bad["slurm_job_id"].get<std::string>() + ".log")).string());
  // The tail of the job's own log: what the job printed as it failed.
  EXPECT_NE(bad["log_tail"].get<std::string>().find("fixture: process failed on purpose"), std::string::npos) << bad.dump(2);
  EXPECT_NE(r.err.find("last lines of " + log), std::string::npos) << r.err;
  EXPECT_EQ(m["nodes"][2]["status"], "skipped") << m.dump(2);

  Result status = mien("status '" + (dir_ / "run").string() + "'");
  EXPECT_EQ(status.code, 1) << status.out << status.err;
  EXPECT_NE(status.out.find("bad failed: process failed (invalid argument): fixture: process failed on purpose"), std::string::npos)
      << status.out;

  // Rerunning resubmits only what did not finish.
  Result again = mien("run '" + exp.string() + "' --executor slurm --out '" + (dir_ / "again").string() + "' --cache '" +
                      (dir_ / "cache").string() + "'");
  EXPECT_EQ(again.code, 1);
  EXPECT_EQ(statuses(dir_ / "again"),
            (std::map<std::string, std::string>{{"fine", "cached"}, {"bad", "failed"}, {"later", "skipped"}}));
}

TEST_F(SlurmTest, JobsRacingToPublishOneEntryNeverCorruptTheCache) {
  // Two runs of one graph at the same moment, on one cache: both `slow` jobs start before
  // either publishes (2 CPUs, 1 each), so two publishers race for every entry.
  const auto exp = write("exp.yaml",
                         "experiment: race\nseed: 9\n" + kSmallJobs +
                             "nodes:\n"
                             "  slow: {use: fixture.slow, with: {seconds: 2}}\n"
                             "  echo: {use: fixture.echo, in: {input: slow.output}}\n"
                             "  total: {use: fixture.sum, in: {values: [slow.output, echo.output]}}\n");
  const std::string cache = " --cache '" + (dir_ / "cache").string() + "'";
  const pid_t a = spawn("run '" + exp.string() + "' --executor slurm --out '" + (dir_ / "a").string() + "'" + cache, "a");
  const pid_t b = spawn("run '" + exp.string() + "' --executor slurm --out '" + (dir_ / "b").string() + "'" + cache, "b");
  ASSERT_EQ(wait_exit(a, 120), 0) << slurp(dir_ / "a.err");
  ASSERT_EQ(wait_exit(b, 120), 0) << slurp(dir_ / "b.err");
  EXPECT_EQ(node_state(dir_ / "a", "slow")["status"], "ran");
  EXPECT_EQ(node_state(dir_ / "b", "slow")["status"], "ran") << "the two slow jobs did not overlap: no race";
  EXPECT_EQ(outputs(dir_ / "a"), outputs(dir_ / "b"));
  // Every entry complete, no staging left, one entry per node.
  size_t entries = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "cache")) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
    if (e.is_directory() && e.path().parent_path().parent_path() == dir_ / "cache") {
      ++entries;
      EXPECT_TRUE(fs::exists(e.path() / "entry.json")) << e.path();
    }
  }
  EXPECT_EQ(entries, 3u);
  Result local = mien("run '" + exp.string() + "' --threads 1 --out '" + (dir_ / "local").string() + "' --cache '" +
                      (dir_ / "local-cache").string() + "'");
  ASSERT_EQ(local.code, 0) << local.err;
  EXPECT_EQ(outputs(dir_ / "a"), outputs(dir_ / "local"));
}

TEST_F(SlurmTest, DetachReturnsAtOnceAndStatusFollowsAndFinishesTheManifest) {
  const auto exp = write("exp.yaml", tabular_graph("  slow: {use: fixture.slow, with: {seconds: 2}}\n"));
  const fs::path run = dir_ / "run";
  const auto t0 = Clock::now();
  Result r = mien("run '" + exp.string() + "' --executor slurm --detach --out '" + run.string() + "' --cache '" +
                  (dir_ / "cache").string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(15));
  EXPECT_EQ(manifest(run)["status"], "submitted");
  EXPECT_NE(r.out.find("mien status " + run.string()), std::string::npos) << r.out;
  Result watching = mien("status '" + run.string() + "' --watch");
  EXPECT_EQ(watching.code, 0) << watching.out << watching.err;
  EXPECT_NE(watching.out.find("4 ran, 0 cached, 0 failed, 0 skipped (completed)"), std::string::npos) << watching.out;
  const json m = manifest(run);
  EXPECT_EQ(m["status"], "completed");
  EXPECT_TRUE(m.contains("finished"));
  for (const auto& n : m["nodes"]) EXPECT_EQ(n["status"], "ran") << n.dump();
  Result local = mien("run '" + exp.string() + "' --threads 1 --out '" + (dir_ / "local").string() + "' --cache '" +
                      (dir_ / "local-cache").string() + "'");
  ASSERT_EQ(local.code, 0) << local.err;
  EXPECT_EQ(outputs(run), outputs(dir_ / "local"));
  Result again = mien("status '" + run.string() + "'");
  EXPECT_EQ(again.code, 0) << again.out;
}

TEST_F(SlurmTest, ResourcesFromTheYamlReachSbatchAndThreadsFollowTheCpus) {
  const auto exp = write("exp.yaml",
                         "experiment: res\nresources: {default: {cpus: 1, memory: 256M, time: 10m}, metric: {time: 3m}}\n"
                         "nodes:\n"
                         "  two: {use: fixture.slow, with: {seconds: 0}, resources: {cpus: 2, memory: 300M, time: \"0:05:00\"}}\n"
                         "  one: {use: fixture.slow, with: {seconds: 0}}\n"
                         "  sum: {use: fixture.sum, in: {values: [two.output, one.output]}}\n");
  const fs::path run = dir_ / "run";
  Result r = mien("run '" + exp.string() + "' --executor slurm --out '" + run.string() + "' --cache '" + (dir_ / "cache").string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("submitted job"), std::string::npos) << r.err;
  const std::string two = scontrol_job(job_info(run, "two")["job_id"].get<std::string>());
  EXPECT_NE(two.find("NumCPUs=2 "), std::string::npos) << two;
  EXPECT_NE(two.find("MinMemoryNode=300M"), std::string::npos) << two;
  EXPECT_NE(two.find("TimeLimit=00:05:00"), std::string::npos) << two;
  EXPECT_EQ(node_state(run, "two")["threads"], 2);
  const std::string one = scontrol_job(job_info(run, "one")["job_id"].get<std::string>());
  EXPECT_NE(one.find("NumCPUs=1 "), std::string::npos) << one;
  EXPECT_NE(one.find("TimeLimit=00:10:00"), std::string::npos) << one;
  EXPECT_EQ(node_state(run, "one")["threads"], 1);
  // fixture.sum is a metric: the kind's line at the top level.
  const std::string sum = scontrol_job(job_info(run, "sum")["job_id"].get<std::string>());
  EXPECT_NE(sum.find("TimeLimit=00:03:00"), std::string::npos) << sum;
  // --threads would contradict the CPUs SLURM gives each job.
  Result threads = mien("run '" + exp.string() + "' --executor slurm --threads 4");
  EXPECT_EQ(threads.code, 2);
  EXPECT_NE(threads.err.find("--threads does not apply to --executor slurm"), std::string::npos) << threads.err;
}

TEST_F(SlurmTest, CtrlCCancelsTheJobsOrLeavesThemToStatus) {
  const auto exp = write("exp.yaml", "experiment: stop\n" + kSmallJobs +
                                         "nodes:\n"
                                         "  slow: {use: fixture.slow, with: {seconds: 60}}\n"
                                         "  after: {use: fixture.echo, in: {input: slow.output}}\n");
  const std::string cache = " --cache '" + (dir_ / "cache").string() + "'";
  // --cancel-on-exit: Ctrl-C cancels without asking.
  {
    const fs::path run = dir_ / "cancelled";
    const pid_t pid = spawn("run '" + exp.string() + "' --executor slurm --cancel-on-exit --out '" + run.string() + "'" + cache, "c");
    const std::string job = wait_running(run, "slow", 90);
    ASSERT_FALSE(job.empty()) << slurp(dir_ / "c.err");
    kill(-pid, SIGINT);
    const int code = wait_exit(pid, 60);
    EXPECT_EQ(code, 130) << slurp(dir_ / "c.err");
    EXPECT_EQ(statuses(run)["slow"], "cancelled") << slurp(dir_ / "c.err");
    EXPECT_NE(statuses(run)["after"], "ran");
    EXPECT_NE(scontrol_job(job).find("JobState=CANCELLED"), std::string::npos);
  }
  // Without it, and no terminal to ask on: the jobs keep running; `mien status --cancel` stops them.
  {
    const fs::path run = dir_ / "left";
    const pid_t pid = spawn("run '" + exp.string() + "' --executor slurm --out '" + run.string() + "'" + cache, "l");
    const std::string job = wait_running(run, "slow", 90);
    ASSERT_FALSE(job.empty()) << slurp(dir_ / "l.err");
    kill(-pid, SIGINT);
    EXPECT_EQ(wait_exit(pid, 30), 130);
    EXPECT_NE(slurp(dir_ / "l.err").find("keep running; follow them with `mien status " + run.string() + "`"), std::string::npos)
        << slurp(dir_ / "l.err");
    EXPECT_EQ(manifest(run)["status"], "submitted");
    EXPECT_NE(scontrol_job(job).find("JobState=RUNNING"), std::string::npos);
    Result s = mien("status '" + run.string() + "'");
    EXPECT_EQ(s.code, 3) << s.out;
    EXPECT_NE(s.out.find("running"), std::string::npos) << s.out;
    Result c = mien("status '" + run.string() + "' --cancel");
    EXPECT_EQ(c.code, 1) << c.out << c.err;
    EXPECT_EQ(manifest(run)["status"], "cancelled") << c.out;
    EXPECT_NE(scontrol_job(job).find("JobState=CANCELLED"), std::string::npos);
  }
}

}  // namespace
