// Running a validated experiment: nodes in dependency order, each node's outputs
// cached under a content key, a run folder with everything a reader needs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "graph/experiment.hpp"
#include "loader/catalog.hpp"
#include "run/console.hpp"

namespace mien::host {

struct RunOptions {
  std::string run_dir;    // empty: runs/<experiment>-<timestamp>
  std::string cache_dir;  // empty: <run folder's parent>/.cache
  bool use_cache = true;  // false: recompute every node (and refresh the cache)
  uint32_t threads = 1;   // compute threads per node (torch, BLAS)
};

// Where one input value comes from: a published cache entry.
struct InputSource {
  std::string entry_dir;
  std::string port;
  mien_value_kind kind = MIEN_VALUE_UNSPECIFIED;
  const ComponentEntry* producer = nullptr;
};

struct NodeJob {
  const ResolvedNode* node = nullptr;
  std::string key;        // cache key (sha256 hex)
  std::string entry_dir;  // where the outputs are published
  std::vector<std::vector<InputSource>> inputs;  // per input port, declaration order
  uint64_t seed = 0;
  uint32_t threads = 1;
  std::string base_dir;   // the experiment file's folder
  std::string run_dir;
};

struct NodeOutcome {
  enum class Status { kRan, kCached, kFailed, kCancelled, kSkipped };
  Status status = Status::kSkipped;
  double wall_seconds = 0;
  std::string error;
  std::vector<std::string> outputs;  // one line per output: "port: what"
};

// Runs one node whose inputs are all published, and publishes its outputs atomically.
// Nodes exchange data only through published entries, so a cluster executor (SLURM)
// can implement this by running `mien` on another machine against the same folders.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual NodeOutcome execute(const NodeJob& job) = 0;
};

class LocalExecutor : public Executor {
 public:
  explicit LocalExecutor(Console& console) : console_(console) {}
  NodeOutcome execute(const NodeJob& job) override;

 private:
  Console& console_;
};

struct RunResult {
  std::string run_dir;
  bool ok = false;
  bool cancelled = false;
  size_t ran = 0, cached = 0, failed = 0, skipped = 0;
};

// The seed a node gets: the experiment's seed mixed with the node's name (matrix copies
// have their own names, e.g. `mlp[S]`, and so their own seeds).
uint64_t node_seed(uint64_t experiment_seed, const std::string& node_name);

// The cache key of a node: component identity (type id, version, library content
// hash), its resolved parameters, the seed and the keys of its inputs.
std::string node_cache_key(const ResolvedNode& node, uint64_t seed, const std::vector<std::vector<std::string>>& input_keys);

RunResult run_experiment(const ResolvedGraph& graph, const std::string& resolved_yaml_text, const RunOptions& options,
                         Console& console, Executor& executor);

}  // namespace mien::host
