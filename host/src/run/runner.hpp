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
  bool explain_cache = false;      // print why each node ran or was cached (always in the manifest and log.txt)
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

// What a node's cache key is the hash of: component identity (type id, version, library
// content hash), its resolved parameters, the seed, the keys of its inputs and, when the
// component declares files it reads, their content digest (run/cache.hpp).
nlohmann::json node_key_material(const ResolvedNode& node, uint64_t seed, const std::vector<std::vector<std::string>>& input_keys,
                                 const nlohmann::json& input_files = nullptr);
std::string node_cache_key(const ResolvedNode& node, uint64_t seed, const std::vector<std::vector<std::string>>& input_keys,
                           const nlohmann::json& input_files = nullptr);

RunResult run_experiment(const ResolvedGraph& graph, const std::string& resolved_yaml_text, const RunOptions& options,
                         Console& console, Executor& executor);

// ---- steps shared by the runner and a cluster job (`mien run-node`) ----------------

// node_folder_name(): graph/experiment.hpp.
// Where the entry of a key lives in the cache.
std::string cache_entry_dir(const std::string& cache_dir, const std::string& key);
// The job of graph.nodes[index]: its inputs' entries from their nodes' keys (`keys`,
// indexed like graph.nodes) and, when every input's key is known, its own key.
// `left_out` (per input port, per source; empty = none) marks the sources of a
// MIEN_PORT_PARTIAL port that failed: they are not given, and not part of the key.
NodeJob prepare_node_job(const ResolvedGraph& graph, size_t index, const std::vector<std::string>& keys,
                         const RunPaths& paths, uint32_t threads,
                         const std::vector<std::vector<bool>>& left_out = {});
// True when the entry was published completely (its entry.json exists).
bool entry_complete(const std::string& entry_dir);
// The published entry of the job's key as a "cached" outcome, or nullopt when there is
// none, the component is nondeterministic, or the entry is damaged: then it is discarded,
// a warning naming the file goes to the console and *why_not says so. The outcome's
// details["cache"] says why it was reused.
std::optional<NodeOutcome> reuse_cached(const NodeJob& job, Console* console = nullptr, std::string* why_not = nullptr);
// Why the job's node has to run: `damaged` (from reuse_cached), --no-cache, a
// nondeterministic component, or what changed since the last run of the node with this
// cache (explain_difference in run/cache.hpp).
std::string explain_run(const NodeJob& job, bool use_cache, const std::string& damaged);
// Gives <run>/nodes/<folder> the files of a published entry (reflinks, copies or
// read-only links: materialize_file in run/cache.hpp); returns that folder, relative to
// the run folder.
std::string link_node_outputs(const std::string& run_dir, const std::string& node_name, const std::string& entry_dir);
// "ran", "cached", "failed", "cancelled", "skipped", "submitted" (the manifest's words).
const char* outcome_status_name(NodeOutcome::Status status);

}  // namespace mien::host
