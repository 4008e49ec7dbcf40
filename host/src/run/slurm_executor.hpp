// The SLURM executor: every node the cache cannot settle becomes one batch job that runs
// `mien run-node RUN_DIR NODE`, chained to the jobs of its inputs with
// --dependency=afterok (and --kill-on-invalid-dep, so the dependants of a failed job are
// cancelled, not left pending for ever). Jobs read their inputs from the shared cache and
// publish exactly as the local executor does; they tell the submitter what happened
// through the files in <run>/slurm/ (run/slurm_files.hpp).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "run/executor.hpp"
#include "run/slurm_watch.hpp"

namespace mien::host {

struct SlurmOptions {
  std::string partition;                    // --slurm-partition
  std::string account;                      // --slurm-account
  std::vector<std::string> sbatch_options;  // --slurm-option, passed to sbatch as written
  bool detach = false;                      // return after submitting (`mien status` follows)
  bool use_cache = true;                    // false: jobs recompute (--no-cache)
  std::string mien_executable;              // the binary jobs run (on the shared file system)
  slurm::WatchSettings watch;
};

class SlurmExecutor : public Executor {
 public:
  SlurmExecutor(Console& console, SlurmOptions options);
  void begin(const ResolvedGraph& graph, const RunPaths& paths) override;
  bool chains_jobs() const override { return true; }
  void submit(const NodeSubmission& submission) override;
  void settled(size_t index, const NodeOutcome& outcome) override;
  std::vector<FinishedNode> wait() override;

  size_t jobs_submitted() const { return submitted_; }
  bool left_running() const;  // Ctrl-C without cancelling, or --detach

 private:
  NodeResources resources_for(const ResolvedNode& node) const;

  Console& console_;
  SlurmOptions options_;
  const ResolvedGraph* graph_ = nullptr;
  RunPaths paths_;
  std::map<size_t, std::string> job_ids_;  // node index -> job id
  std::vector<FinishedNode> finished_;     // settled without a job (sbatch refused)
  std::string sbatch_broken_;              // sbatch failed for a reason that will not go away
  size_t submitted_ = 0, settled_cached_ = 0;
  std::unique_ptr<slurm::JobWatcher> watcher_;
  bool detach_announced_ = false;
};

// The controller answers (squeue works): checked before anything is submitted.
bool slurm_reachable(std::string* error);

}  // namespace mien::host
