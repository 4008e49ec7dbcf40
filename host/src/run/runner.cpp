#include "run/runner.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include <mien/random.hpp>

#include "core/clock.hpp"
#include "core/files.hpp"
#include "core/sha256.hpp"
#include "run/cache.hpp"
#include "run/call_context.hpp"
#include "run/stored_value.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace mien::host {
namespace {

// Bump when the on-disk layout of entries changes. 2: entries list their files with hashes,
// keys include the content of declared input files.
constexpr int kCacheFormat = 2;

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// Each node's seed is the experiment's seed mixed with the node's name (matrix copies
// included: `mlp[S]`), so two copies of one node draw different random numbers and a node
// keeps its numbers when others are added or reordered. FNV-1a of the name, then
// one splitmix64 step (the SDK's): cheap, stable across platforms and compilers.
uint64_t mix(uint64_t z) { return mien::splitmix64(z); }

// One run of a graph, step by step: open the run folder, start the manifest, settle or
// hand over each node in dependency order, wait for what was handed over, finish.
class GraphRun {
 public:
  GraphRun(const ResolvedGraph& graph, const RunOptions& options, Console& console, Executor& executor)
      : graph_(graph), options_(options), console_(console), executor_(executor),
        state_(graph.nodes.size(), State::kWaiting), keys_(graph.nodes.size()), records_(graph.nodes.size()),
        cache_reasons_(graph.nodes.size()),
        left_out_(graph.nodes.size()) {}

  void open_run_folder(const std::string& resolved_yaml_text);
  void start_manifest();
  void schedule(size_t idx);
  void collect_submitted();
  RunResult finish();

 private:
  // kBroken: failed, skipped or cancelled; its dependants are skipped.
  enum class State { kWaiting, kSubmitted, kDone, kBroken };

  void hand_over(size_t idx, NodeJob job, std::vector<size_t> after);
  void deliver(std::vector<FinishedNode> finished);
  void record(size_t idx, NodeOutcome outcome);
  json record_head(size_t idx) const;
  void put_record(size_t idx, json rec);
  void write_manifest();
  // Why a node ran or was cached: in log.txt always, on the terminal with --explain-cache.
  void explain(size_t idx, const std::string& why) {
    console_.log(options_.explain_cache ? 1 : 0, graph_.nodes[idx].spec.name, why);
  }

  const ResolvedGraph& graph_;
  const RunOptions& options_;
  Console& console_;
  Executor& executor_;
  RunPaths paths_;
  RunResult result_;
  json manifest_;
  std::string manifest_path_;
  std::vector<State> state_;
  std::vector<std::string> keys_;
  std::vector<std::optional<json>> records_;  // the manifest's node records, in record_order_
  std::vector<size_t> record_order_;
  std::vector<std::string> cache_reasons_;  // why a handed-over node had to run
  std::vector<std::vector<std::string>> left_out_;  // failed sources a partial port was not given
};

void GraphRun::open_run_folder(const std::string& resolved_yaml_text) {
  const Experiment& exp = graph_.experiment;
  std::string run_dir = options_.run_dir;
  if (run_dir.empty()) {
    // Two runs started in the same second must not share a folder: the folder is claimed
    // with one mkdir, which only one process can win; the loser takes the next number.
    const fs::path base = fs::path("runs") / (exp.name + "-" + now_compact());
    fs::create_directories(base.parent_path());
    for (int n = 1;; ++n) {
      const fs::path candidate = n == 1 ? base : fs::path(base.string() + "-" + std::to_string(n));
      if (fs::create_directory(candidate)) {
        run_dir = candidate.string();
        break;
      }
    }
  }
  fs::create_directories(run_dir);
  paths_.run_dir = fs::canonical(run_dir).string();
  paths_.cache_dir =
      options_.cache_dir.empty() ? (fs::path(paths_.run_dir).parent_path() / ".cache").string() : options_.cache_dir;
  fs::create_directories(paths_.cache_dir);
  paths_.cache_dir = fs::absolute(paths_.cache_dir).lexically_normal().string();
  result_.run_dir = paths_.run_dir;
  remove_stale_temporaries(paths_.run_dir);

  console_.open_log((fs::path(paths_.run_dir) / "log.txt").string());
  write_file_atomic((fs::path(paths_.run_dir) / "resolved.yaml").string(), resolved_yaml_text);
  console_.log(1, "", "running experiment '" + exp.name + "' (" + std::to_string(graph_.nodes.size()) + " nodes) into " +
                          paths_.run_dir);
}

void GraphRun::start_manifest() {
  const Experiment& exp = graph_.experiment;
  manifest_ = {{"mien_version", MIEN_VERSION},
               {"abi", std::to_string(MIEN_ABI_VERSION_MAJOR) + "." + std::to_string(MIEN_ABI_VERSION_MINOR)},
               {"experiment", exp.name},
               {"experiment_file", exp.file},
               {"seed", exp.seed},
               {"threads", options_.threads > 0 ? json(options_.threads) : json("each job's CPUs")},
               {"executor", options_.executor},
               {"cache_dir", paths_.cache_dir},
               {"started", now_iso()},
               {"status", "running"}};
  try {
    manifest_["mien_executable_sha256"] = sha256_file("/proc/self/exe");
  } catch (...) {
  }
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  manifest_["machine"] = {{"hostname", host}, {"cpus", std::thread::hardware_concurrency()}};
  json plugins = json::object();
  for (const auto& n : graph_.nodes) {
    const ComponentEntry& c = *n.component;
    const std::string lib = c.library_path.empty() ? "(built in)" : c.library_path;
    plugins[lib] = {{"plugin", c.plugin_name}, {"version", c.plugin_version}, {"sha256", c.library_hash}};
  }
  manifest_["plugins"] = plugins;
  manifest_["nodes"] = json::array();
  manifest_path_ = (fs::path(paths_.run_dir) / "manifest.json").string();
  write_manifest();
  executor_.begin(graph_, paths_);
}

// A node whose inputs are all published is settled from the cache or handed over with
// its key; one whose inputs are still being computed is handed over only to an executor
// that chains jobs (its job computes the key when the inputs are there).
void GraphRun::schedule(size_t idx) {
  bool broken = false;
  std::vector<size_t> after;
  const ResolvedNode& node = graph_.nodes[idx];
  const auto ports = node.component->inputs();
  // A MIEN_PORT_PARTIAL port is given what finished. Not with chained jobs: a cluster job
  // prepares its inputs from the graph alone and cannot know what the runner left out.
  std::vector<std::vector<bool>> left_out(node.inputs.size());
  std::vector<std::string> left_out_names;
  for (size_t p = 0; p < node.inputs.size(); ++p) {
    left_out[p].assign(node.inputs[p].size(), false);
    for (size_t k = 0; k < node.inputs[p].size(); ++k) {
      const auto& src = node.inputs[p][k];
      if (state_[src.node] == State::kSubmitted) {
        if (std::find(after.begin(), after.end(), src.node) == after.end()) after.push_back(src.node);
      } else if (state_[src.node] != State::kDone) {
        if (p < ports.size() && ports[p].partial() && !executor_.chains_jobs()) {
          left_out[p][k] = true;
          left_out_names.push_back(graph_.nodes[src.node].spec.name);
        } else {
          broken = true;
        }
      }
    }
  }
  NodeOutcome outcome;
  if (cancel_flag().load()) {
    outcome.status = NodeOutcome::Status::kCancelled;
    outcome.error = "not started: the run was cancelled";
  } else if (broken) {
    outcome.status = NodeOutcome::Status::kSkipped;
    outcome.error = "skipped: an input's node did not finish";
  } else {
    // An input still being computed has no key for its dependants yet: the dependant's job
    // computes its own key from what the input publishes.
    std::vector<std::string> masked;
    if (!after.empty()) {
      masked = keys_;
      for (size_t up : after) masked[up].clear();
    }
    NodeJob job;
    try {
      job = prepare_node_job(graph_, idx, after.empty() ? keys_ : masked, paths_, options_.threads, left_out);
    } catch (const DigestCancelled&) {
      outcome.status = NodeOutcome::Status::kCancelled;
      outcome.error = "not started: the run was cancelled";
      executor_.settled(idx, outcome);
      record(idx, std::move(outcome));
      return;
    }
    const std::string& name = graph_.nodes[idx].spec.name;
    if (!left_out_names.empty()) {
      std::string list;
      for (const auto& n : left_out_names) list += (list.empty() ? "" : ", ") + n;
      console_.log(2, name, "runs with what finished; left out of its inputs (failed or skipped): " + list);
      left_out_[idx] = std::move(left_out_names);
    }
    if (!job.key.empty()) keys_[idx] = job.key;
    std::string damaged;
    if (!job.key.empty() && options_.use_cache) {
      if (auto cached = reuse_cached(job, &console_, &damaged)) {
        console_.log(1, name, "cached (" + graph_.nodes[idx].component->key() + ")");
        explain(idx, "cached: " + (*cached).details["cache"]["reason"].get<std::string>());
        executor_.settled(idx, *cached);
        record(idx, std::move(*cached));
        return;
      }
    }
    job.replace_entry = !options_.use_cache;
    // A job computing its own key (its inputs still running) explains itself.
    if (!job.key.empty()) {
      cache_reasons_[idx] = explain_run(job, options_.use_cache, damaged);
      explain(idx, "runs: " + cache_reasons_[idx]);
    }
    hand_over(idx, std::move(job), std::move(after));
    return;
  }
  executor_.settled(idx, outcome);
  record(idx, std::move(outcome));
}

void GraphRun::hand_over(size_t idx, NodeJob job, std::vector<size_t> after) {
  state_[idx] = State::kSubmitted;
  NodeSubmission submission{idx, std::move(job), std::move(after)};
  executor_.submit(submission);
  if (!executor_.chains_jobs()) {
    // An executor that does not chain finishes (or fails) the node before the next one.
    while (state_[idx] == State::kSubmitted) {
      auto finished = executor_.wait();
      if (finished.empty()) break;
      deliver(std::move(finished));
    }
    return;
  }
  // Chained: the manifest shows the node as submitted until its job reports.
  json rec = record_head(idx);
  rec["status"] = outcome_status_name(NodeOutcome::Status::kSubmitted);
  put_record(idx, std::move(rec));
}

void GraphRun::collect_submitted() {
  while (std::find(state_.begin(), state_.end(), State::kSubmitted) != state_.end()) {
    auto finished = executor_.wait();
    if (finished.empty()) break;  // the executor stopped watching: the rest stay submitted
    deliver(std::move(finished));
  }
  for (const State s : state_) result_.submitted += s == State::kSubmitted ? 1 : 0;
}

void GraphRun::deliver(std::vector<FinishedNode> finished) {
  for (auto& f : finished) record(f.index, std::move(f.outcome));
}

json GraphRun::record_head(size_t idx) const {
  const ResolvedNode& node = graph_.nodes[idx];
  json rec = {{"name", node.spec.name}, {"type_id", node.component->type_id}, {"version", node.component->version}};
  if (!keys_[idx].empty()) rec["cache_key"] = keys_[idx];
  rec["seed"] = node_seed(graph_.experiment.seed, node.spec.name);
  // The matrix binding ({"pose": "S"}), so reports can title a copy by what it is for.
  if (!node.spec.matrix.empty()) rec["matrix"] = node.spec.matrix;
  return rec;
}

void GraphRun::record(size_t idx, NodeOutcome outcome) {
  const ResolvedNode& node = graph_.nodes[idx];
  const ComponentEntry& comp = *node.component;
  if (!outcome.key.empty()) keys_[idx] = outcome.key;
  using S = NodeOutcome::Status;
  const bool done = outcome.status == S::kRan || outcome.status == S::kCached;
  state_[idx] = done ? State::kDone : outcome.status == S::kSubmitted ? State::kSubmitted : State::kBroken;

  json rec = record_head(idx);
  rec["status"] = outcome_status_name(outcome.status);
  rec["wall_seconds"] = outcome.wall_seconds;
  rec["peak_rss_mb"] = static_cast<double>(peak_rss_kb()) / 1024.0;
  rec["outputs"] = outcome.outputs;
  if (!outcome.error.empty()) rec["error"] = outcome.error;
  if (!left_out_[idx].empty()) rec["left_out"] = left_out_[idx];
  if (!cache_reasons_[idx].empty() && !outcome.details.contains("cache") && outcome.status != S::kCached)
    rec["cache"] = {{"decision", "run"}, {"reason", cache_reasons_[idx]}};
  for (const auto& [k, v] : outcome.details.items()) rec[k] = v;  // the executor's facts win (a job's own peak memory)
  switch (outcome.status) {
    case S::kRan: ++result_.ran; break;
    case S::kCached: ++result_.cached; break;
    case S::kFailed: ++result_.failed; break;
    case S::kCancelled: result_.cancelled = true; ++result_.cancelled_nodes; break;
    case S::kSkipped: ++result_.skipped; break;
    case S::kSubmitted: break;
  }
  if (done) {
    const std::string entry_dir = cache_entry_dir(paths_.cache_dir, keys_[idx]);
    rec["folder"] = outcome.folder_linked ? (fs::path("nodes") / node_folder_name(node.spec.name)).string()
                                          : link_node_outputs(paths_.run_dir, node.spec.name, entry_dir);
    if (outcome.status == S::kRan)
      console_.log(1, node.spec.name, "done in " + format_number(std::round(outcome.wall_seconds * 1000) / 1000) + " s");
    for (const auto& o : outcome.outputs) console_.log(0, node.spec.name, o);
  } else if (outcome.status == S::kFailed) {
    console_.log(3, node.spec.name, "failed: " + outcome.error + " [" + comp.key() + " in " + comp.library_path + "]");
    if (outcome.details.contains("log_tail") && outcome.details.contains("log")) {
      std::string tail;
      std::istringstream lines(outcome.details["log_tail"].get<std::string>());
      for (std::string line; std::getline(lines, line);) tail += "\n  | " + line;
      console_.log(3, node.spec.name, "last lines of " + outcome.details["log"].get<std::string>() + ":" + tail);
    }
  } else if (outcome.status == S::kSkipped) {
    console_.log(2, node.spec.name, outcome.error);
  } else if (outcome.status == S::kCancelled && outcome.error.rfind("not started", 0) != 0) {
    console_.log(2, node.spec.name, outcome.error.empty() || outcome.error == "cancelled" ? "cancelled" : "cancelled: " + outcome.error);
  }
  put_record(idx, std::move(rec));
}

void GraphRun::put_record(size_t idx, json rec) {
  if (!records_[idx]) record_order_.push_back(idx);
  records_[idx] = std::move(rec);
  write_manifest();
}

void GraphRun::write_manifest() {
  json nodes = json::array();
  for (size_t idx : record_order_) nodes.push_back(*records_[idx]);
  manifest_["nodes"] = std::move(nodes);
  write_file_atomic(manifest_path_, manifest_.dump(2) + "\n");
}

RunResult GraphRun::finish() {
  RunResult& r = result_;
  r.ok = r.failed == 0 && !r.cancelled && r.skipped == 0 && r.submitted == 0;
  manifest_["status"] = r.submitted > 0 ? "submitted" : r.cancelled ? "cancelled" : r.ok ? "completed" : "failed";
  if (r.submitted == 0) manifest_["finished"] = now_iso();
  manifest_["peak_rss_mb"] = static_cast<double>(peak_rss_kb()) / 1024.0;
  write_manifest();
  return r;
}

}  // namespace

uint64_t node_seed(uint64_t experiment_seed, const std::string& node_name) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : node_name) h = (h ^ c) * 0x100000001b3ULL;
  return mix(experiment_seed ^ mix(h));
}

json node_key_material(const ResolvedNode& node, uint64_t seed, const std::vector<std::vector<std::string>>& input_keys,
                       const json& input_files) {
  const ComponentEntry& c = *node.component;
  json k = {{"format", kCacheFormat},
            {"type_id", c.type_id},
            {"version", c.version},
            {"library", c.library_hash},
            {"params", node.params},
            {"seed", seed},
            {"inputs", input_keys}};
  if (!input_files.is_null()) k["input_files"] = input_files;
  return k;
}

std::string node_cache_key(const ResolvedNode& node, uint64_t seed, const std::vector<std::vector<std::string>>& input_keys,
                           const json& input_files) {
  return sha256_hex(node_key_material(node, seed, input_keys, input_files).dump());
}

std::string cache_entry_dir(const std::string& cache_dir, const std::string& key) {
  return (fs::path(cache_dir) / key.substr(0, 2) / key).string();
}

bool entry_complete(const std::string& entry_dir) { return fs::exists(fs::path(entry_dir) / "entry.json"); }

NodeJob prepare_node_job(const ResolvedGraph& graph, size_t index, const std::vector<std::string>& keys,
                         const RunPaths& paths, uint32_t threads, const std::vector<std::vector<bool>>& left_out) {
  const ResolvedNode& node = graph.nodes[index];
  const ComponentEntry& comp = *node.component;
  NodeJob job;
  job.node = &node;
  job.seed = node_seed(graph.experiment.seed, node.spec.name);
  job.threads = threads;
  job.base_dir = graph.experiment.base_dir;
  job.run_dir = paths.run_dir;
  job.cache_dir = paths.cache_dir;
  job.experiment = graph.experiment.name;
  bool keys_known = true;
  std::vector<std::vector<std::string>> input_keys;
  for (size_t p = 0; p < node.inputs.size(); ++p) {
    input_keys.emplace_back();
    job.inputs.emplace_back();
    for (size_t k = 0; k < node.inputs[p].size(); ++k) {
      if (p < left_out.size() && k < left_out[p].size() && left_out[p][k]) continue;
      const ResolvedNode::Source& s = node.inputs[p][k];
      const ResolvedNode& prod = graph.nodes[s.node];
      const PortInfo port = prod.component->outputs()[s.output];
      const std::string& key = keys[s.node];
      if (key.empty()) keys_known = false;
      input_keys.back().push_back(key + ":" + port.name);
      InputSource src;
      src.entry_dir = key.empty() ? "" : cache_entry_dir(paths.cache_dir, key);
      src.port = port.name;
      src.kind = port.kind;
      src.producer = prod.component;
      job.inputs.back().push_back(src);
    }
  }
  if (!keys_known) return job;
  // Throws DigestCancelled when the run is cancelled while the files are hashed.
  const json input_files = digest_input_files(node, graph.experiment.base_dir, paths.cache_dir);
  job.key_material = node_key_material(node, job.seed, input_keys, input_files);
  job.key = sha256_hex(job.key_material.dump());
  // A nondeterministic component never shares an entry: its key is salted per run.
  if ((comp.flags & MIEN_COMPONENT_NONDETERMINISTIC) != 0)
    job.key = sha256_hex(job.key + now_iso() + std::to_string(::getpid()) + std::to_string(unix_seconds()));
  job.entry_dir = cache_entry_dir(paths.cache_dir, job.key);
  return job;
}

std::optional<NodeOutcome> reuse_cached(const NodeJob& job, Console* console, std::string* why_not) {
  if ((job.node->component->flags & MIEN_COMPONENT_NONDETERMINISTIC) != 0) return std::nullopt;
  if (job.key.empty() || !entry_complete(job.entry_dir)) return std::nullopt;
  const std::string problem = check_entry(job.entry_dir, false);
  if (!problem.empty()) {
    discard_entry(job.entry_dir);
    const std::string why = "its cache entry was damaged (" + problem + ") and was discarded";
    if (console != nullptr) console->log(2, job.node->spec.name, "cache entry damaged: " + problem + "; discarded, the node reruns");
    if (why_not != nullptr) *why_not = why;
    return std::nullopt;
  }
  NodeOutcome outcome;
  outcome.status = NodeOutcome::Status::kCached;
  outcome.key = job.key;
  size_t files = 0;
  try {
    const auto entry = json::parse(read_file((fs::path(job.entry_dir) / "entry.json").string()));
    outcome.outputs = entry.value("output_summary", std::vector<std::string>{});
    outcome.details["original_wall_seconds"] = entry.value("wall_seconds", 0.0);
    files = entry.value("files", json::object()).size();
  } catch (...) {
  }
  outcome.details["cache"] = {{"decision", "cached"},
                              {"reason", "entry " + job.key.substr(0, 12) + " has this key; its " + std::to_string(files) +
                                             " file(s) checked against their recorded sizes and hashes"}};
  touch_entry(job.entry_dir);
  if (!job.key_material.is_null()) remember_material(job.cache_dir, job.experiment, job.node->spec.name, job.key_material);
  return outcome;
}

std::string explain_run(const NodeJob& job, bool use_cache, const std::string& damaged) {
  if ((job.node->component->flags & MIEN_COMPONENT_NONDETERMINISTIC) != 0)
    return "the component is nondeterministic: never cached";
  if (!use_cache) return "--no-cache: every node recomputed";
  if (!damaged.empty()) return damaged;
  if (job.key_material.is_null()) return "no entry for this key";
  json previous;
  try {
    previous = json::parse(read_file(last_material_file(job.cache_dir, job.experiment, job.node->spec.name)));
  } catch (...) {
    return "no entry for this key; no earlier run of node '" + job.node->spec.name + "' of experiment '" + job.experiment +
           "' with this cache to compare with";
  }
  std::vector<std::string> ports;
  for (const auto& p : job.node->component->inputs()) ports.push_back(p.name);
  const std::string diff = explain_difference(previous, job.key_material, ports);
  if (diff.empty()) return "no entry for this key, although nothing changed since the last run (the entry was removed)";
  return diff;
}

std::string link_node_outputs(const std::string& run_dir, const std::string& node_name, const std::string& entry_dir) {
  const fs::path node_dir = fs::path(run_dir) / "nodes" / node_folder_name(node_name);
  std::error_code ec;
  fs::remove_all(node_dir, ec);
  for (const auto& e : fs::directory_iterator(entry_dir)) materialize_tree(e.path().string(), (node_dir / e.path().filename()).string());
  return fs::relative(node_dir, run_dir).string();
}

const char* outcome_status_name(NodeOutcome::Status s) {
  switch (s) {
    case NodeOutcome::Status::kRan: return "ran";
    case NodeOutcome::Status::kCached: return "cached";
    case NodeOutcome::Status::kFailed: return "failed";
    case NodeOutcome::Status::kCancelled: return "cancelled";
    case NodeOutcome::Status::kSubmitted: return "submitted";
    default: return "skipped";
  }
}

RunResult run_experiment(const ResolvedGraph& graph, const std::string& resolved_yaml_text, const RunOptions& options,
                         Console& console, Executor& executor) {
  GraphRun run(graph, options, console, executor);
  run.open_run_folder(resolved_yaml_text);
  run.start_manifest();
  for (size_t idx : graph.order) run.schedule(idx);
  run.collect_submitted();
  return run.finish();
}

}  // namespace mien::host
