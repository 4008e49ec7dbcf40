// Following submitted SLURM jobs until they end: what became of each (from the node's
// state file, which its job writes, and from SLURM's view of the job), per-node state on a
// terminal or one line per change otherwise, and Ctrl-C (cancel the jobs, or leave them).
// Used by the submitting `mien run --executor slurm` and by `mien status`.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "graph/resources.hpp"
#include "run/console.hpp"
#include "run/executor.hpp"
#include "run/slurm_cli.hpp"

namespace mien::host::slurm {

struct WatchedJob {
  size_t index = 0;        // the runner's node index (or the manifest's, for `mien status`)
  std::string node;        // node name
  std::string job_id;
  std::string log;         // the job's log file
  NodeResources resources;
  // As last seen.
  std::string state = "PENDING";
  std::string reason, elapsed, where;
  std::chrono::steady_clock::time_point ended_unseen{};  // SLURM says it ended; no state file yet
  bool announced_running = false;
};

struct WatchSettings {
  double poll_seconds = 1.0;    // how often the jobs' state files are read
  double queue_seconds = 5.0;   // how often squeue is asked (sooner when a job is not in its last answer)
  // How long a job that ended may take to show its state file (a shared file system's
  // attribute cache can hide a file another machine wrote for a while).
  double state_file_grace_seconds = 60.0;
  bool cancel_on_exit = false;  // Ctrl-C cancels the jobs without asking
  size_t log_tail_lines = 20;
};

// The defaults, overridden by MIEN_SLURM_POLL_SECONDS (both intervals) and
// MIEN_SLURM_STATE_GRACE_SECONDS.
WatchSettings watch_settings_from_env();

// What became of a job: nullopt while it is queued or running (the job's state is then
// updated). `queue` is squeue's view (nullopt when squeue failed this time).
std::optional<NodeOutcome> observe(WatchedJob& job, const std::optional<std::map<std::string, JobState>>& queue,
                                   const std::string& run_dir, const WatchSettings& settings);

class JobWatcher {
 public:
  JobWatcher(Console& console, std::string run_dir, WatchSettings settings);
  ~JobWatcher();
  void add(WatchedJob job);
  bool empty() const { return jobs_.empty(); }
  size_t size() const { return jobs_.size(); }
  // A note for the header line, e.g. "5 nodes from the cache".
  void set_note(std::string note) { note_ = std::move(note); }
  // One look at the queue and the state files: the jobs that ended since the last look.
  std::vector<FinishedNode> poll();
  // Polls until some job ended, drawing the per-node state. On Ctrl-C: cancels the jobs
  // (when asked to, or after asking on a terminal) and returns them as cancelled, or leaves
  // them running and returns nothing (then left_running() is true).
  std::vector<FinishedNode> wait();
  // scancel every unfinished job and wait (up to two minutes) until SLURM ended them.
  std::vector<FinishedNode> cancel_all();
  bool left_running() const { return left_running_; }
  std::vector<std::string> unfinished_job_ids() const;

 private:
  std::vector<FinishedNode> handle_interrupt();
  void draw();
  void clear();

  Console& console_;
  std::string run_dir_;
  WatchSettings settings_;
  struct Row {  // one line of the terminal view
    std::string node, job_id, state;
    int rank = 0;  // which lines go first when the terminal is short: 0 running, 1 failed, 2 pending, 3 done
  };
  std::vector<WatchedJob> jobs_;  // not finished yet
  std::vector<std::pair<std::string, Row>> finished_rows_;  // by job id, in the order they ended
  std::vector<std::string> order_;  // job ids in the order they were added
  size_t ended_ok_ = 0, ended_bad_ = 0;
  std::optional<std::map<std::string, JobState>> queue_;  // squeue's last answer
  std::chrono::steady_clock::time_point queue_time_{};
  std::string note_;
  bool tty_ = false;
  size_t drawn_lines_ = 0;
  bool interrupt_handled_ = false;
  bool left_running_ = false;
  std::string queue_problem_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace mien::host::slurm
