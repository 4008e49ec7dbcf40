// How nodes get executed. The runner (run/runner.hpp) walks the graph, settles every
// node it can from the cache and hands the rest to an Executor: the local one runs a
// node in this process at once; the SLURM one (run/slurm_executor.hpp) submits it as a
// batch job chained to the jobs of its inputs. Nodes exchange data only through
// published cache entries, so both give the same bytes.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "graph/experiment.hpp"
#include "loader/catalog.hpp"
#include "run/console.hpp"

namespace mien::host {

// Where one input value comes from: a published cache entry.
struct InputSource {
  std::string entry_dir;
  std::string port;
  mien_value_kind kind = MIEN_VALUE_UNSPECIFIED;
  const ComponentEntry* producer = nullptr;
};

struct NodeJob {
  const ResolvedNode* node = nullptr;
  std::string key;        // cache key (sha256 hex); empty while an input is still being computed
  std::string entry_dir;  // where the outputs are published (empty with the key)
  std::vector<std::vector<InputSource>> inputs;  // per input port, declaration order
  uint64_t seed = 0;
  uint32_t threads = 1;
  std::string base_dir;   // the experiment file's folder
  std::string run_dir;
  std::string cache_dir;
  std::string experiment;        // the experiment's name (where the last key material is remembered)
  nlohmann::json key_material;   // what the key is the hash of (explains the next run's decisions)
  // --no-cache: the recomputed outputs replace an entry of the same key. Otherwise a
  // complete entry that another process published meanwhile is kept (same key, same
  // inputs), so a run still reading it never sees it removed under its feet.
  bool replace_entry = false;
};

struct NodeOutcome {
  // kSubmitted: handed to a batch scheduler and not finished when the watching stopped.
  enum class Status { kRan, kCached, kFailed, kCancelled, kSkipped, kSubmitted };
  Status status = Status::kSkipped;
  double wall_seconds = 0;
  std::string error;
  std::vector<std::string> outputs;  // one line per output: "port: what"
  std::string key;                   // the cache key, when the executor learnt it (a job computes its own)
  bool folder_linked = false;        // the node's files are already in the run folder (a job links them itself)
  nlohmann::json details = nlohmann::json::object();  // executor facts for the manifest (job id, log, host)
};

// A node handed to an executor.
struct NodeSubmission {
  size_t index = 0;            // into ResolvedGraph::nodes
  NodeJob job;                 // job.key is empty when an input is still being computed
  std::vector<size_t> after;   // submitted nodes whose outputs it waits for
};

struct FinishedNode {
  size_t index = 0;
  NodeOutcome outcome;
};

struct RunPaths {
  std::string run_dir;
  std::string cache_dir;
};

class Executor {
 public:
  virtual ~Executor() = default;
  // Called once, when the run folder exists and before anything is submitted.
  virtual void begin(const ResolvedGraph& /*graph*/, const RunPaths& /*paths*/) {}
  // True when a node may be submitted before its inputs finished (a batch scheduler
  // chaining jobs); false: a node is submitted only once its inputs are published.
  virtual bool chains_jobs() const { return false; }
  virtual void submit(const NodeSubmission& submission) = 0;
  // A node the runner settled itself (cached, skipped, cancelled): chained jobs may need its key.
  virtual void settled(size_t /*index*/, const NodeOutcome& /*outcome*/) {}
  // Blocks until some submitted nodes finished and returns them (at least one while any
  // is pending). Empty when none is pending, or when the executor stopped watching
  // (--detach, or jobs left running after Ctrl-C): the rest then stay kSubmitted.
  virtual std::vector<FinishedNode> wait() = 0;
};

// Runs each node in this process as soon as it is submitted.
class LocalExecutor : public Executor {
 public:
  explicit LocalExecutor(Console& console) : console_(console) {}
  // Runs one node whose inputs are all published and publishes its outputs atomically
  // (also what a cluster job does, through `mien run-node`).
  NodeOutcome execute(const NodeJob& job);
  void submit(const NodeSubmission& submission) override;
  std::vector<FinishedNode> wait() override;

 private:
  Console& console_;
  std::vector<FinishedNode> finished_;
};

}  // namespace mien::host
