// The files a SLURM run keeps in its run folder, under <run>/slurm/: how the submitting
// `mien run`, the jobs (`mien run-node`) and `mien status` tell each other what happened.
// Every file is written atomically by one writer, so readers on other machines see
// either the old or the new version, never a torn one.
//
//   submission.json          the run's constants: cache, experiment folder, plugin path,
//                            the mien binary and its plugins' hashes   (submitter)
//   jobs/<node>.json         job id, log, script, resources, dependencies   (submitter)
//   nodes/<node>.json        the node's state: cached or skipped (submitter); running,
//                            ran, failed or cancelled with its cache key (its job)
//   scripts/<node>.sh        the batch script (runs `mien run-node RUN NODE`)
//   logs/<node>.<job>.log    the job's stdout and stderr
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace mien::host::slurm {

std::string slurm_dir(const std::string& run_dir);
std::string submission_file(const std::string& run_dir);
std::string job_file(const std::string& run_dir, const std::string& node);
std::string node_state_file(const std::string& run_dir, const std::string& node);
std::string script_file(const std::string& run_dir, const std::string& node);
// The log's name as sbatch wants it ("%j" is the job id) and as it is once known.
std::string log_pattern(const std::string& run_dir, const std::string& node);
std::string log_file(const std::string& run_dir, const std::string& node, const std::string& job_id);

// nullopt when the file is missing or not (yet) valid JSON.
std::optional<nlohmann::json> read_json_file(const std::string& path);
void write_json_file(const std::string& path, const nlohmann::json& value);
// The last `lines` lines of a text file ("" when it cannot be read).
std::string tail_lines(const std::string& path, size_t lines);

}  // namespace mien::host::slurm
