// Running on a cluster, without a cluster: `resources:` in the YAML (reading, errors,
// resolved.yaml), the runner handing nodes to an executor that chains jobs, and reading
// what SLURM's commands print (recorded output of Debian's slurm-client 22.05).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/files.hpp"
#include "core/process.hpp"
#include "graph/experiment.hpp"
#include "graph/resources.hpp"
#include "run/runner.hpp"
#include "run/slurm_cli.hpp"
#include "run/slurm_files.hpp"

namespace mien::host {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// ---- resources --------------------------------------------------------------------

TEST(Resources, MemoryReadsSlurmsUnitsPlainNumbersAreMegabytes) {
  EXPECT_EQ(parse_memory_mb("4G"), 4096u);
  EXPECT_EQ(parse_memory_mb("4gb"), 4096u);
  EXPECT_EQ(parse_memory_mb("500M"), 500u);
  EXPECT_EQ(parse_memory_mb("512"), 512u);
  EXPECT_EQ(parse_memory_mb("1T"), 1024u * 1024u);
  EXPECT_EQ(parse_memory_mb("2048K"), 2u);
  EXPECT_EQ(parse_memory_mb("100K"), 1u) << "rounded up, never 0";
  for (const char* bad : {"", "0", "-1", "4X", "G", "4.5G", "four"}) EXPECT_FALSE(parse_memory_mb(bad)) << bad;
  EXPECT_EQ(format_memory(4096), "4G");
  EXPECT_EQ(format_memory(1536), "1536M");
}

TEST(Resources, TimeReadsSlurmsFormsAndUnits) {
  EXPECT_EQ(parse_time_seconds("30"), 30u * 60) << "a plain number is minutes, as in sbatch --time";
  EXPECT_EQ(parse_time_seconds("05:30"), 330u);
  EXPECT_EQ(parse_time_seconds("1:00:00"), 3600u);
  EXPECT_EQ(parse_time_seconds("1-12"), 36u * 3600);
  EXPECT_EQ(parse_time_seconds("1-0:30"), 86400u + 1800);
  EXPECT_EQ(parse_time_seconds("2-00:00:01"), 2u * 86400 + 1);
  EXPECT_EQ(parse_time_seconds("90m"), 5400u);
  EXPECT_EQ(parse_time_seconds("2h"), 7200u);
  EXPECT_EQ(parse_time_seconds("1d"), 86400u);
  EXPECT_EQ(parse_time_seconds("45s"), 45u);
  for (const char* bad : {"", "0", "abc", "1:2:3:4", "h", "1.5h", "-1", "1-"}) EXPECT_FALSE(parse_time_seconds(bad)) << bad;
  EXPECT_EQ(format_time(3600), "1:00:00");
  EXPECT_EQ(format_time(86400 + 61), "1-00:01:01");
}

// A catalog of three components, enough for graphs with fan-out and fan-in.
ComponentEntry component(const std::string& id, mien_component_kind kind, std::vector<PortInfo> ports) {
  ComponentEntry e;
  e.type_id = id;
  e.version = 1;
  e.kind = kind;
  e.library_hash = "hash-of-" + id;
  e.schema = json::parse(R"({"type": "object", "additionalProperties": false, "properties": {"n": {"type": "integer", "default": 1}}})");
  e.ports = std::move(ports);
  return e;
}

const Catalog& catalog() {
  static const Catalog c = [] {
    Catalog cat;
    std::string error;
    cat.add(component("data.make", MIEN_KIND_DATASET, {{"out", MIEN_PORT_OUT, MIEN_VALUE_TENSOR, 0, 0, ""}}), &error);
    cat.add(component("step.apply", MIEN_KIND_TRANSFORM,
                      {{"in", MIEN_PORT_IN, MIEN_VALUE_TENSOR, 0, 0, ""}, {"out", MIEN_PORT_OUT, MIEN_VALUE_TENSOR, 0, 0, ""}}),
            &error);
    cat.add(component("score.sum", MIEN_KIND_METRIC,
                      {{"values", MIEN_PORT_IN, MIEN_VALUE_TENSOR, MIEN_PORT_MULTIPLE, 0, ""},
                       {"out", MIEN_PORT_OUT, MIEN_VALUE_JSON, 0, 0, ""}}),
            &error);
    return cat;
  }();
  return c;
}

ResolvedGraph valid(const std::string& yaml) {
  Diagnostics diags;
  const Experiment exp = read_experiment_text(yaml, "test.yaml", "/base", {}, diags);
  auto g = validate_experiment(exp, catalog(), diags);
  EXPECT_TRUE(g.has_value()) << diags.to_string();
  return g ? *g : ResolvedGraph{};
}

std::string problems(const std::string& yaml) {
  Diagnostics diags;
  const Experiment exp = read_experiment_text(yaml, "test.yaml", "/base", {}, diags);
  validate_experiment(exp, catalog(), diags);
  return diags.to_string();
}

TEST(Resources, NodesAndKindsInTheYamlReadBackFromResolvedYaml) {
  const ResolvedGraph g = valid(R"(
experiment: res
resources: {default: {time: 2h}, transform: {cpus: 4, memory: 8G}}
nodes:
  data: {use: data.make, resources: {cpus: 2, memory: 500M, time: "1:30:00"}}
  step: {use: step.apply, matrix: {n: [1, 2]}, with: {n: "${matrix.n}"}, in: {in: data.out}, resources: {cpus: "${matrix.n}"}}
)");
  ASSERT_EQ(g.nodes.size(), 3u);
  EXPECT_EQ(g.nodes[0].spec.resources.cpus, 2u);
  EXPECT_EQ(g.nodes[0].spec.resources.memory_mb, 500u);
  EXPECT_EQ(g.nodes[0].spec.resources.time_seconds, 5400u);
  EXPECT_EQ(g.nodes[2].spec.resources.cpus, 2u) << "matrix values reach resources";
  EXPECT_FALSE(g.nodes[2].spec.resources.memory_mb);
  EXPECT_EQ(g.experiment.resources.at("transform").memory_mb, 8192u);
  EXPECT_EQ(g.experiment.resources.at("default").time_seconds, 7200u);
  const std::string text = resolved_yaml(g);
  EXPECT_THAT(text, HasSubstr("    resources: {cpus: 2, memory: \"500M\", time: \"1:30:00\"}\n"));
  EXPECT_THAT(text, HasSubstr("\nresources:\n  default:\n    time: \"2:00:00\"\n  transform:\n    cpus: 4\n"));
  const ResolvedGraph again = valid(text);
  ASSERT_EQ(again.nodes.size(), 3u);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    EXPECT_EQ(resources_json(again.nodes[i].spec.resources), resources_json(g.nodes[i].spec.resources)) << i;
    EXPECT_EQ(again.nodes[i].params, g.nodes[i].params);
  }
  EXPECT_EQ(resolved_yaml(again), text);
  // Resources never change what a node computes: not in the parameters, not in the key.
  const ResolvedGraph plain = valid("experiment: res\nnodes:\n  data: {use: data.make}\n");
  EXPECT_EQ(plain.nodes[0].params, g.nodes[0].params);
  EXPECT_EQ(node_cache_key(plain.nodes[0], 1, {}), node_cache_key(g.nodes[0], 1, {}));
}

TEST(Resources, MistakesAreNamedWithTheirPositionAndASuggestion) {
  const std::string out = problems(R"(experiment: res
resources: {modle: {cpus: 2}, default: {cpus: 0}}
nodes:
  data: {use: data.make, resources: {cpu: 2, memory: lots, time: "1:99:99:99"}}
  more: {use: data.make, resources: 4}
)");
  EXPECT_THAT(out, HasSubstr("test.yaml:2:13: error: unknown component kind 'modle' in resources (expected one of default, "
                             "dataset, transform, features, model, explainer, metric, report); did you mean 'model'?"));
  EXPECT_THAT(out, HasSubstr("test.yaml:2:47: error: resources cpus must be a whole number of CPUs (1 or more), got '0'"));
  EXPECT_THAT(out, HasSubstr("test.yaml:4:38: error: node 'data': unknown resources key 'cpu' (expected one of cpus, memory, "
                             "time); did you mean 'cpus'?"));
  EXPECT_THAT(out, HasSubstr("test.yaml:4:54: error: node 'data': resources memory must be a size such as 500M, 4G or 1T, got 'lots'"));
  EXPECT_THAT(out, HasSubstr("node 'data': resources time must be a duration"));
  EXPECT_THAT(out, HasSubstr("test.yaml:5:37: error: node 'more': 'resources' must be a mapping, got '4'"));
}

TEST(Resources, DefaultsPerKindGiveHeavyStepsMore) {
  EXPECT_GT(*default_resources("model").cpus, *default_resources("metric").cpus);
  EXPECT_GT(*default_resources("explainer").time_seconds, *default_resources("report").time_seconds);
  NodeResources partial;
  partial.cpus = 8;
  const NodeResources r = partial.or_else(default_resources("model"));
  EXPECT_EQ(r.cpus, 8u);
  EXPECT_EQ(r.memory_mb, default_resources("model").memory_mb);
}

// ---- the runner and a chaining executor -------------------------------------------

// Records what it is handed; finishes nodes only when told to, like a batch queue.
class QueueExecutor : public Executor {
 public:
  bool chains_jobs() const override { return true; }
  void submit(const NodeSubmission& s) override { submitted.push_back(s); }
  void settled(size_t index, const NodeOutcome& o) override { settled_nodes.emplace_back(index, o.status); }
  std::vector<FinishedNode> wait() override {
    if (batches.empty()) return {};
    auto b = std::move(batches.front());
    batches.erase(batches.begin());
    return b;
  }
  std::vector<NodeSubmission> submitted;
  std::vector<std::pair<size_t, NodeOutcome::Status>> settled_nodes;
  std::vector<std::vector<FinishedNode>> batches;
};

NodeOutcome finished(NodeOutcome::Status s, const std::string& key) {
  NodeOutcome o;
  o.status = s;
  o.key = key;
  o.folder_linked = true;
  return o;
}

class ChainedRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mien-chained-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

const char* kFanGraph = R"(
experiment: fan
seed: 5
nodes:
  data: {use: data.make}
  a: {use: step.apply, in: {in: data.out}}
  b: {use: step.apply, with: {n: 2}, in: {in: data.out}}
  total: {use: score.sum, in: {values: [a.out, b.out]}}
)";

TEST_F(ChainedRun, NodesWaitingForSubmittedInputsAreHandedOverWithThemAndWithoutAKey) {
  const ResolvedGraph g = valid(kFanGraph);
  Console console;
  RunOptions options;
  options.run_dir = (dir_ / "run").string();
  options.cache_dir = (dir_ / "cache").string();
  QueueExecutor q;
  q.batches.push_back({{0, finished(NodeOutcome::Status::kRan, "k-data")}});
  q.batches.push_back({{2, finished(NodeOutcome::Status::kFailed, "k-b")}, {1, finished(NodeOutcome::Status::kRan, "k-a")}});
  q.batches.push_back({{3, finished(NodeOutcome::Status::kSkipped, "")}});
  const RunResult r = run_experiment(g, resolved_yaml(g), options, console, q);
  ASSERT_EQ(q.submitted.size(), 4u) << "every node submitted before any finished";
  EXPECT_FALSE(q.submitted[0].job.key.empty()) << "no inputs: the key is known at once";
  EXPECT_TRUE(q.submitted[0].after.empty());
  EXPECT_TRUE(q.submitted[1].job.key.empty()) << "its input is still running: the job computes the key";
  EXPECT_THAT(q.submitted[1].after, ElementsAre(0u));
  EXPECT_THAT(q.submitted[3].after, ElementsAre(1u, 2u));
  EXPECT_EQ(r.ran, 2u);
  EXPECT_EQ(r.failed, 1u);
  EXPECT_EQ(r.skipped, 1u);
  EXPECT_FALSE(r.ok);
  const json m = json::parse(read_file((dir_ / "run" / "manifest.json").string()));
  EXPECT_EQ(m["status"], "failed");
  ASSERT_EQ(m["nodes"].size(), 4u);
  EXPECT_EQ(m["nodes"][1]["name"], "a");
  EXPECT_EQ(m["nodes"][1]["cache_key"], "k-a") << "the key the job computed";
  EXPECT_EQ(m["nodes"][2]["status"], "failed");
}

TEST_F(ChainedRun, ANodeWithAPublishedEntryIsNotSubmittedAndItsDependantsGetTheirKeys) {
  const ResolvedGraph g = valid(kFanGraph);
  Console console;
  RunOptions options;
  options.run_dir = (dir_ / "run").string();
  options.cache_dir = (dir_ / "cache").string();
  // Publish data's entry by hand.
  const std::string key = node_cache_key(g.nodes[0], node_seed(5, "data"), {});
  const std::string entry = cache_entry_dir(options.cache_dir, key);
  fs::create_directories(entry);
  // An entry lists the files it holds (none here): an entry without the list is not trusted.
  write_file_atomic(entry + "/entry.json", R"({"output_summary": ["out: float64 [4]"], "wall_seconds": 1.5, "files": {}})");
  QueueExecutor q;
  q.batches.push_back({{1, finished(NodeOutcome::Status::kRan, "k-a")}, {2, finished(NodeOutcome::Status::kRan, "k-b")}});
  q.batches.push_back({{3, finished(NodeOutcome::Status::kRan, "k-total")}});
  const RunResult r = run_experiment(g, resolved_yaml(g), options, console, q);
  ASSERT_EQ(q.settled_nodes.size(), 1u);
  EXPECT_EQ(q.settled_nodes[0], std::make_pair(size_t{0}, NodeOutcome::Status::kCached));
  ASSERT_EQ(q.submitted.size(), 3u);
  EXPECT_EQ(q.submitted[0].index, 1u);
  EXPECT_TRUE(q.submitted[0].after.empty()) << "its input came from the cache";
  EXPECT_FALSE(q.submitted[0].job.key.empty());
  EXPECT_EQ(q.submitted[0].job.inputs[0][0].entry_dir, entry);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.cached, 1u);
  EXPECT_TRUE(fs::exists(dir_ / "run" / "nodes" / "data" / "entry.json")) << "cached nodes are linked by the runner";
}

TEST_F(ChainedRun, AnExecutorThatStopsWatchingLeavesNodesSubmitted) {
  const ResolvedGraph g = valid(kFanGraph);
  Console console;
  RunOptions options;
  options.run_dir = (dir_ / "run").string();
  options.cache_dir = (dir_ / "cache").string();
  QueueExecutor q;  // returns nothing: --detach
  const RunResult r = run_experiment(g, resolved_yaml(g), options, console, q);
  EXPECT_EQ(r.submitted, 4u);
  EXPECT_FALSE(r.ok);
  const json m = json::parse(read_file((dir_ / "run" / "manifest.json").string()));
  EXPECT_EQ(m["status"], "submitted");
  EXPECT_FALSE(m.contains("finished"));
  for (const auto& n : m["nodes"]) EXPECT_EQ(n["status"], "submitted");
}

// ---- what SLURM's commands print --------------------------------------------------

TEST(SlurmOutput, SqueueLinesGiveStateReasonElapsedAndNode) {
  const auto jobs = slurm::parse_squeue(
      "3|FAILED|NonZeroExitCode|0:01|localhost\n"
      "2|PENDING|Dependency|0:00|\n"
      "1|RUNNING|None|0:02|localhost\n"
      "garbage\n");
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs.at("2").state, "PENDING");
  EXPECT_EQ(jobs.at("2").reason, "Dependency");
  EXPECT_EQ(jobs.at("1").reason, "");
  EXPECT_EQ(jobs.at("1").node, "localhost");
  EXPECT_EQ(jobs.at("3").elapsed, "0:01");
  EXPECT_TRUE(slurm::is_final(jobs.at("3").state));
  EXPECT_FALSE(slurm::is_final(jobs.at("1").state));
}

TEST(SlurmOutput, ScontrolAndSacctGiveTheEndOfAJob) {
  const auto sc = slurm::parse_scontrol_job(
      "JobId=3 JobName=wrap UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) ExitCode=3:0 "
      "RunTime=00:00:01 TimeLimit=UNLIMITED NodeList=localhost BatchHost=localhost NumCPUs=1\n");
  ASSERT_TRUE(sc);
  EXPECT_EQ(sc->state, "FAILED");
  EXPECT_EQ(sc->exit_code, "3:0");
  EXPECT_EQ(sc->node, "localhost");
  EXPECT_FALSE(slurm::parse_scontrol_job("slurm_load_jobs error: Invalid job id specified\n"));
  const auto sa = slurm::parse_sacct("12|CANCELLED by 0|0:15|00:00:07|node7\n13|COMPLETED|0:0|00:01:00|node8\n", "12");
  ASSERT_TRUE(sa);
  EXPECT_EQ(sa->state, "CANCELLED");
  EXPECT_EQ(sa->exit_code, "0:15");
  EXPECT_EQ(sa->node, "node7");
  EXPECT_FALSE(slurm::parse_sacct("13|COMPLETED|0:0|00:01:00|node8\n", "12"));
}

TEST(SlurmFiles, TheLogsTailIsWhatATerminalWouldShow) {
  const fs::path p = fs::temp_directory_path() / ("mien-tail-" + std::to_string(::getpid()) + ".log");
  std::ofstream(p) << "one\ntwo\nbar 10%\rbar 50%\rbar 100%\nthree\nfour\n\n";
  EXPECT_EQ(slurm::tail_lines(p.string(), 3), "bar 100%\nthree\nfour\n");
  EXPECT_EQ(slurm::tail_lines(p.string(), 50), "one\ntwo\nbar 100%\nthree\nfour\n");
  EXPECT_EQ(slurm::tail_lines((p.string() + ".missing"), 3), "");
  fs::remove(p);
}

TEST(Process, RunsWithoutAShellAndCapturesBothStreams) {
  const ProcessResult r = run_process({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  const ProcessResult missing = run_process({"mien-no-such-program"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.error, HasSubstr("mien-no-such-program"));
  EXPECT_EQ(run_process({"printf", "%s", "it's"}).out, "it's");
  EXPECT_EQ(run_process({"sh", "-c", "printf %s " + shell_quote("a 'quoted' $word")}).out, "a 'quoted' $word");
}

}  // namespace
}  // namespace mien::host
