// The job side of a cluster run (`mien run-node RUN_DIR NODE`): one node of a run folder
// that `mien run --executor slurm` submitted, run in this process. Its inputs' keys come
// from their nodes' state files (so a node's key is computed here, from what its inputs
// really published), its inputs from the shared cache; it publishes exactly as a local run
// does, links its files into the run folder and writes its own state file.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "graph/experiment.hpp"
#include "run/console.hpp"

namespace mien::host {

// The process exit code: 0 ran or cached, 1 failed, 130 cancelled (SIGTERM: scancel or
// the time limit). `submission` is <run>/slurm/submission.json.
int run_submitted_node(const ResolvedGraph& graph, const nlohmann::json& submission, const std::string& run_dir,
                       const std::string& node_name, uint32_t threads, Console& console);

// Records that the node's job could not even start it (resolved.yaml unreadable, a plugin
// missing on this machine); returns 1.
int fail_submitted_node(const std::string& run_dir, const std::string& node_name, const std::string& why, Console& console);

}  // namespace mien::host
