// Running a validated experiment: nodes in dependency order, each node's outputs
// cached under a content key, a run folder with everything a reader needs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "graph/experiment.hpp"
#include "loader/catalog.hpp"
#include "run/console.hpp"
#include "run/executor.hpp"

namespace mien::host {

struct RunOptions {
  std::string run_dir;    // empty: runs/<experiment>-<timestamp>
  std::string cache_dir;  // empty: <run folder's parent>/.cache
  bool use_cache = true;  // false: recompute every node (and refresh the cache)
  uint32_t threads = 1;   // compute threads per node (torch, BLAS); 0: chosen per job (SLURM: its CPUs)
  std::string executor = "local";  // recorded in the manifest
};

struct RunResult {
  std::string run_dir;
  bool ok = false;
  bool cancelled = false;
  size_t ran = 0, cached = 0, failed = 0, skipped = 0;
  size_t cancelled_nodes = 0;
  size_t submitted = 0;  // still queued when the watching stopped (--detach)
};

// The seed a node gets: the experiment's seed mixed with the node's name (matrix copies
// have their own names, e.g. `mlp[S]`, and so their own seeds).
uint64_t node_seed(uint64_t experiment_seed, const std::string& node_name);

// The cache key of a node: component identity (type id, version, library content
// hash), its resolved parameters, the seed and the keys of its inputs.
std::string node_cache_key(const ResolvedNode& node, uint64_t seed, const std::vector<std::vector<std::string>>& input_keys);

RunResult run_experiment(const ResolvedGraph& graph, const std::string& resolved_yaml_text, const RunOptions& options,
                         Console& console, Executor& executor);

// ---- steps shared by the runner and a cluster job (`mien run-node`) ----------------

// The folder under <run>/nodes/ that holds a node's files ("mlp[S]" -> "mlp-S").
std::string node_folder_name(const std::string& node);
// Where the entry of a key lives in the cache.
std::string cache_entry_dir(const std::string& cache_dir, const std::string& key);
// The job of graph.nodes[index]: its inputs' entries from their nodes' keys (`keys`,
// indexed like graph.nodes) and, when every input's key is known, its own key.
NodeJob prepare_node_job(const ResolvedGraph& graph, size_t index, const std::vector<std::string>& keys,
                         const RunPaths& paths, uint32_t threads);
// True when the entry was published completely (its entry.json exists).
bool entry_complete(const std::string& entry_dir);
// The published entry of the job's key as a "cached" outcome, or nullopt when there is
// none or the component is nondeterministic.
std::optional<NodeOutcome> reuse_cached(const NodeJob& job);
// Links a published entry's files into <run>/nodes/<folder>; returns that folder,
// relative to the run folder.
std::string link_node_outputs(const std::string& run_dir, const std::string& node_name, const std::string& entry_dir);
// "ran", "cached", "failed", "cancelled", "skipped", "submitted" (the manifest's words).
const char* outcome_status_name(NodeOutcome::Status status);

}  // namespace mien::host
