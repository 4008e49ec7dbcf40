// `mien status RUN_DIR`: what a run folder's nodes are doing or did. For a run submitted
// to SLURM it looks at the jobs (queue, state files, logs), brings manifest.json up to
// date (so a --detach run gets its final manifest), and can follow the jobs to the end
// (--watch) or cancel them (--cancel).
#pragma once

#include <iosfwd>
#include <string>

#include "run/console.hpp"
#include "run/slurm_watch.hpp"

namespace mien::host {

struct StatusOptions {
  bool watch = false;   // wait until every job ended
  bool cancel = false;  // scancel the run's unfinished jobs
  slurm::WatchSettings settings;
};

// Exit codes: 0 finished and complete, 1 finished with failed, skipped or cancelled
// nodes, 3 still running (jobs pending or running), 2 not a run folder.
int run_status(const std::string& run_dir, const StatusOptions& options, Console& console, std::ostream& out);

}  // namespace mien::host
