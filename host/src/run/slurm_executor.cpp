#include "run/slurm_executor.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/clock.hpp"
#include "core/files.hpp"
#include "core/process.hpp"
#include "run/runner.hpp"
#include "run/slurm_cli.hpp"
#include "run/slurm_files.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace mien::host {
namespace {

// The environment a job needs from the submitting shell, set in its script so that
// a site's `SBATCH_EXPORT=NONE` does not lose it.
const char* kForwardedEnv[] = {"MIEN_PLUGIN_PATH", "MIEN_PLUGIN_PATH_ONLY"};

std::string time_minutes(uint64_t seconds) { return std::to_string((seconds + 59) / 60); }

}  // namespace

bool slurm_reachable(std::string* error) {
  const auto q = slurm::queue(error);
  return q.has_value();
}

SlurmExecutor::SlurmExecutor(Console& console, SlurmOptions options) : console_(console), options_(std::move(options)) {}

void SlurmExecutor::begin(const ResolvedGraph& graph, const RunPaths& paths) {
  graph_ = &graph;
  paths_ = paths;
  for (const char* sub : {"jobs", "nodes", "scripts", "logs"}) fs::create_directories(fs::path(slurm::slurm_dir(paths.run_dir)) / sub);
  json env = json::object();
  for (const char* name : kForwardedEnv)
    if (const char* v = std::getenv(name)) env[name] = v;
  json libraries = json::object();
  for (const auto& n : graph.nodes)
    libraries[n.component->library_path.empty() ? "(built in)" : n.component->library_path] = n.component->library_hash;
  const json submission = {{"format", 1},
                           {"experiment", graph.experiment.name},
                           {"experiment_file", graph.experiment.file},
                           {"base_dir", graph.experiment.base_dir},
                           {"run_dir", paths.run_dir},
                           {"cache_dir", paths.cache_dir},
                           {"use_cache", options_.use_cache},
                           {"mien", options_.mien_executable},
                           {"env", env},
                           {"libraries", libraries},
                           {"submitted", now_iso()}};
  slurm::write_json_file(slurm::submission_file(paths.run_dir), submission);
  watcher_ = std::make_unique<slurm::JobWatcher>(console_, paths.run_dir, options_.watch);
}

NodeResources SlurmExecutor::resources_for(const ResolvedNode& node) const {
  const std::string kind = kind_name(node.component->kind);
  NodeResources r = node.spec.resources;
  const auto& by_kind = graph_->experiment.resources;
  if (auto it = by_kind.find(kind); it != by_kind.end()) r = r.or_else(it->second);
  if (auto it = by_kind.find("default"); it != by_kind.end()) r = r.or_else(it->second);
  return r.or_else(default_resources(kind));
}

void SlurmExecutor::submit(const NodeSubmission& submission) {
  const ResolvedNode& node = *submission.job.node;
  const std::string& name = node.spec.name;
  const std::string& run_dir = paths_.run_dir;
  auto refuse = [&](NodeOutcome::Status status, std::string why) {
    NodeOutcome o;
    o.status = status;
    o.error = std::move(why);
    finished_.push_back({submission.index, std::move(o)});
  };
  for (size_t up : submission.after)
    if (!job_ids_.count(up)) return refuse(NodeOutcome::Status::kSkipped, "skipped: an input's node was not submitted");
  if (!sbatch_broken_.empty()) return refuse(NodeOutcome::Status::kFailed, "not submitted: " + sbatch_broken_);

  // A state file from an earlier submission into this run folder is not this job's.
  std::error_code ec;
  fs::remove(slurm::node_state_file(run_dir, name), ec);

  const NodeResources res = resources_for(node);
  std::ostringstream script;
  script << "#!/bin/sh\n"
         << "# mien: node '" << name << "' of " << run_dir << "\n"
         << "# (submitted by `mien run --executor slurm`; the job reads its inputs from the cache\n"
         << "#  and publishes its outputs there, then links them into the run folder)\n";
  for (const char* var : kForwardedEnv)
    if (const char* v = std::getenv(var)) script << "export " << var << "=" << shell_quote(v) << "\n";
  script << "exec " << shell_quote(options_.mien_executable) << " run-node " << shell_quote(run_dir) << " "
         << shell_quote(name) << "\n";
  const std::string script_path = slurm::script_file(run_dir, name);
  write_file_atomic(script_path, script.str());
  fs::permissions(script_path, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add, ec);

  std::vector<std::string> args = {"--job-name=mien:" + graph_->experiment.name + ":" + name,
                                   "--output=" + slurm::log_pattern(run_dir, name),
                                   "--chdir=" + run_dir,
                                   "--cpus-per-task=" + std::to_string(*res.cpus),
                                   "--mem=" + std::to_string(*res.memory_mb) + "M",
                                   "--time=" + time_minutes(*res.time_seconds)};
  if (!options_.partition.empty()) args.push_back("--partition=" + options_.partition);
  if (!options_.account.empty()) args.push_back("--account=" + options_.account);
  std::string deps;
  json after_names = json::array();
  for (size_t up : submission.after) {
    deps += ":" + job_ids_.at(up);
    after_names.push_back(graph_->nodes[up].spec.name);
  }
  if (!deps.empty()) {
    args.push_back("--dependency=afterok" + deps);
    args.push_back("--kill-on-invalid-dep=yes");
  }
  for (const auto& o : options_.sbatch_options) args.push_back(o);
  args.push_back(script_path);

  const slurm::Submitted s = slurm::sbatch(args);
  if (s.job_id.empty()) {
    // An input's job that already failed makes the dependency invalid: the node is skipped.
    if (!deps.empty() && s.error.find("ependency") != std::string::npos)
      return refuse(NodeOutcome::Status::kSkipped, "skipped: an input's job did not finish (sbatch: " + s.error + ")");
    // Whatever made sbatch refuse (a partition, an account, a limit) holds for the nodes
    // after it too: they are not tried, and say where the message is.
    std::string error = s.error;
    std::replace(error.begin(), error.end(), '\n', ' ');
    sbatch_broken_ = "sbatch failed for node '" + name + "' (see its error)";
    return refuse(NodeOutcome::Status::kFailed, "sbatch failed: " + error);
  }
  job_ids_[submission.index] = s.job_id;
  ++submitted_;
  const std::string log = slurm::log_file(run_dir, name, s.job_id);
  json sbatch_args = args;
  slurm::write_json_file(slurm::job_file(run_dir, name), {{"node", name},
                                                          {"job_id", s.job_id},
                                                          {"log", log},
                                                          {"script", script_path},
                                                          {"after", after_names},
                                                          {"resources", resources_json(res)},
                                                          {"sbatch", sbatch_args},
                                                          {"submitted", now_iso()},
                                                          {"submitted_unix", unix_seconds()}});
  slurm::WatchedJob w;
  w.index = submission.index;
  w.node = name;
  w.job_id = s.job_id;
  w.log = log;
  w.resources = res;
  watcher_->add(std::move(w));
  std::string what = "submitted job " + s.job_id + " (" + std::to_string(*res.cpus) + " CPU" + (*res.cpus == 1 ? "" : "s") +
                     ", " + format_memory(*res.memory_mb) + ", " + format_time(*res.time_seconds) + ")";
  if (!after_names.empty()) {
    std::string list;
    for (const auto& a : after_names) list += (list.empty() ? "" : ", ") + a.get<std::string>();
    what += " after " + list;
  }
  console_.log(1, name, what);
}

void SlurmExecutor::settled(size_t index, const NodeOutcome& outcome) {
  const ResolvedNode& node = graph_->nodes[index];
  if (outcome.status == NodeOutcome::Status::kCached) ++settled_cached_;
  json state = {{"node", node.spec.name}, {"status", outcome_status_name(outcome.status)}, {"settled_by", "submitter"}};
  if (!outcome.key.empty()) state["cache_key"] = outcome.key;
  if (!outcome.error.empty()) state["error"] = outcome.error;
  slurm::write_json_file(slurm::node_state_file(paths_.run_dir, node.spec.name), state);
}

std::vector<FinishedNode> SlurmExecutor::wait() {
  if (!finished_.empty()) return std::exchange(finished_, {});
  if (options_.detach) {
    if (!detach_announced_) {
      detach_announced_ = true;
      console_.log(1, "", std::to_string(submitted_) + " job(s) submitted; follow them with `mien status " + paths_.run_dir + "`");
    }
    return {};
  }
  if (settled_cached_ > 0) watcher_->set_note(std::to_string(settled_cached_) + " from the cache");
  return watcher_->wait();
}

bool SlurmExecutor::left_running() const { return options_.detach || (watcher_ && watcher_->left_running()); }

}  // namespace mien::host
