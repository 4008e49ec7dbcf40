#include "run/cluster_node.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>

#include "core/clock.hpp"
#include "run/cache.hpp"
#include "run/call_context.hpp"
#include "run/executor.hpp"
#include "run/runner.hpp"
#include "run/slurm_files.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace mien::host {
namespace {

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

std::string hostname() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return host;
}

// Why the node's component on this machine is not the one the run was submitted with,
// or "" when it is.
std::string library_mismatch(const ComponentEntry& c, const json& submission) {
  const std::string lib = c.library_path.empty() ? "(built in)" : c.library_path;
  const json libs = submission.value("libraries", json::object());
  if (!libs.contains(lib)) return "";
  const std::string expected = libs[lib].get<std::string>();
  if (expected == c.library_hash) return "";
  return "the plugin library " + lib + " on " + hostname() + " (sha256 " + c.library_hash.substr(0, 12) +
         "...) is not the one the run was submitted with (" + expected.substr(0, 12) +
         "...): every machine must see the same build";
}

}  // namespace

int fail_submitted_node(const std::string& run_dir, const std::string& node_name, const std::string& why, Console& console) {
  const char* job_env = std::getenv("SLURM_JOB_ID");
  console.log(3, node_name, "failed: " + why);
  slurm::write_json_file(slurm::node_state_file(run_dir, node_name), {{"node", node_name},
                                                                        {"job_id", job_env ? job_env : ""},
                                                                        {"host", hostname()},
                                                                        {"status", "failed"},
                                                                        {"error", why},
                                                                        {"finished", unix_seconds()}});
  return 1;
}

int run_submitted_node(const ResolvedGraph& graph, const json& submission, const std::string& run_dir,
                       const std::string& node_name, uint32_t threads, Console& console) {
  const double started = unix_seconds();
  const char* job_env = std::getenv("SLURM_JOB_ID");
  const std::string job_id = job_env ? job_env : "";
  const std::string state_path = slurm::node_state_file(run_dir, node_name);
  json state = {{"node", node_name}, {"job_id", job_id}, {"host", hostname()}, {"threads", threads},
                {"started", started}, {"status", "running"}};
  slurm::write_json_file(state_path, state);

  NodeOutcome outcome;
  auto finish = [&](int code) {
    state["status"] = outcome_status_name(outcome.status);
    state["finished"] = unix_seconds();
    state["wall_seconds"] = outcome.wall_seconds;
    state["outputs"] = outcome.outputs;
    state["peak_rss_mb"] = peak_rss_mb();
    if (!outcome.key.empty()) state["cache_key"] = outcome.key;
    if (!outcome.error.empty()) state["error"] = outcome.error;
    for (const auto& [k, v] : outcome.details.items()) state[k] = v;
    slurm::write_json_file(state_path, state);
    return code;
  };
  auto fail = [&](const std::string& why) {
    outcome.status = NodeOutcome::Status::kFailed;
    outcome.error = why;
    console.log(3, node_name, "failed: " + why);
    return finish(1);
  };

  size_t index = graph.nodes.size();
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    if (graph.nodes[i].spec.name == node_name) index = i;
  if (index == graph.nodes.size()) return fail("no node '" + node_name + "' in " + run_dir + "/resolved.yaml");
  const ResolvedNode& node = graph.nodes[index];
  const ComponentEntry& comp = *node.component;
  if (const std::string why = library_mismatch(comp, submission); !why.empty()) return fail(why);

  // The inputs' keys, from what their nodes reported.
  std::vector<std::string> keys(graph.nodes.size());
  for (const auto& port : node.inputs)
    for (const auto& src : port) {
      const std::string& up = graph.nodes[src.node].spec.name;
      const auto up_state = slurm::read_json_file(slurm::node_state_file(run_dir, up));
      const std::string st = up_state ? up_state->value("status", "") : "";
      if ((st != "ran" && st != "cached") || !up_state->contains("cache_key"))
        return fail("input node '" + up + "' has not finished (its state: " + (st.empty() ? "none" : st) +
                    "); this job should have waited for it (--dependency=afterok)");
      keys[src.node] = (*up_state)["cache_key"].get<std::string>();
    }

  RunPaths paths{run_dir, submission.value("cache_dir", "")};
  NodeJob job;
  try {
    job = prepare_node_job(graph, index, keys, paths, threads);
  } catch (const DigestCancelled&) {
    outcome.status = NodeOutcome::Status::kCancelled;
    outcome.error = "job " + job_id + " got SIGTERM while hashing its input files";
    console.log(2, node_name, "cancelled: " + outcome.error);
    return finish(130);
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::optional<NodeOutcome> cached;
  const bool use_cache = submission.value("use_cache", true);
  job.replace_entry = !use_cache;
  std::string damaged;
  if (use_cache) cached = reuse_cached(job, &console, &damaged);
  if (cached) {
    outcome = std::move(*cached);
    console.log(1, node_name, "cached (" + comp.key() + ")");
  } else {
    console.log(1, node_name, "running " + comp.key() + " with " + std::to_string(threads) + " thread(s) on " + hostname());
    const std::string why = explain_run(job, use_cache, damaged);
    console.log(0, node_name, "runs: " + why);
    LocalExecutor local(console);
    outcome = local.execute(job);
    outcome.key = job.key;
    outcome.details["cache"] = {{"decision", "run"}, {"reason", why}};
  }
  if (outcome.status == NodeOutcome::Status::kRan || outcome.status == NodeOutcome::Status::kCached) {
    try {
      state["folder"] = link_node_outputs(run_dir, node_name, job.entry_dir);
    } catch (const std::exception& e) {
      return fail(std::string("published, but cannot link its files into the run folder: ") + e.what());
    }
    if (outcome.status == NodeOutcome::Status::kRan)
      console.log(1, node_name, "done in " + std::to_string(seconds_since(t0)) + " s");
    for (const auto& o : outcome.outputs) console.log(1, node_name, o);
    return finish(0);
  }
  if (outcome.status == NodeOutcome::Status::kCancelled) {
    outcome.error = "job " + job_id + " got SIGTERM while running (scancel, or SLURM ending it)";
    console.log(2, node_name, "cancelled: " + outcome.error);
    return finish(130);
  }
  console.log(3, node_name, "failed: " + outcome.error + " [" + comp.key() + " in " + comp.library_path + "]");
  return finish(1);
}

}  // namespace mien::host
