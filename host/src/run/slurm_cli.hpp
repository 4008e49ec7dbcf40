// SLURM's own commands, run as a user would run them (sbatch, squeue, scontrol, sacct,
// scancel from Debian's slurm-client), and their output read back. Parsing is split from
// running so that it can be tested on recorded output.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mien::host::slurm {

struct Submitted {
  std::string job_id;  // empty on failure
  std::string error;   // sbatch's message
};
// sbatch --parsable ARGS...; the job id it prints ("123" or "123;cluster").
Submitted sbatch(const std::vector<std::string>& args);

// A job as the queue shows it: state (PENDING, RUNNING, COMPLETED, FAILED, CANCELLED,
// TIMEOUT, OUT_OF_MEMORY, ...), SLURM's reason (Dependency, Resources,
// DependencyNeverSatisfied, ...), elapsed time as SLURM prints it, and the node it runs on.
struct JobState {
  std::string state;
  std::string reason;
  std::string elapsed;
  std::string node;
  std::string exit_code;  // "0:0" (exit status:signal), when known
};

// The user's jobs the controller knows (pending, running and recently ended), by id.
// nullopt with `error` when squeue itself failed (controller unreachable, ...).
std::optional<std::map<std::string, JobState>> queue(std::string* error);
std::map<std::string, JobState> parse_squeue(const std::string& out);

// A job no longer in the queue: scontrol (while the controller still remembers it),
// then sacct (when the cluster keeps accounting). nullopt when neither knows it.
std::optional<JobState> ended_job(const std::string& job_id);
std::optional<JobState> parse_scontrol_job(const std::string& out);
std::optional<JobState> parse_sacct(const std::string& out, const std::string& job_id);

// scancel the given jobs; false with `error` on failure.
bool cancel(const std::vector<std::string>& job_ids, std::string* error);

// True for the states a job never leaves.
bool is_final(const std::string& state);

}  // namespace mien::host::slurm
