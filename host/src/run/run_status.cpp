#include "run/run_status.hpp"

#include <filesystem>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "core/clock.hpp"
#include "core/files.hpp"
#include "run/runner.hpp"
#include "run/slurm_files.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace mien::host {
namespace {

NodeResources resources_from(const json& j) {
  NodeResources r;
  if (j.contains("cpus") && j["cpus"].is_number_unsigned()) r.cpus = j["cpus"].get<uint32_t>();
  if (j.contains("memory") && j["memory"].is_string()) r.memory_mb = parse_memory_mb(j["memory"].get<std::string>());
  if (j.contains("time") && j["time"].is_string()) r.time_seconds = parse_time_seconds(j["time"].get<std::string>());
  return r;
}

// A finished job's outcome into its manifest record (as the runner writes it).
void apply(json& rec, const NodeOutcome& o, const std::string& run_dir) {
  rec["status"] = outcome_status_name(o.status);
  rec["wall_seconds"] = o.wall_seconds;
  rec["outputs"] = o.outputs;
  if (!o.key.empty()) rec["cache_key"] = o.key;
  if (!o.error.empty()) rec["error"] = o.error;
  else rec.erase("error");
  for (const auto& [k, v] : o.details.items()) rec[k] = v;
  if (o.folder_linked) rec["folder"] = (fs::path("nodes") / node_folder_name(rec["name"].get<std::string>())).string();
  (void)run_dir;
}

std::string live_state(const slurm::WatchedJob& j) {
  if (j.state == "RUNNING") return "running " + j.elapsed;
  if (j.state == "PENDING") return j.reason.empty() ? "pending" : "pending (" + j.reason + ")";
  std::string s = j.state;
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

int run_status(const std::string& run_dir_arg, const StatusOptions& options, Console& console, std::ostream& out) {
  const fs::path manifest_path = fs::path(run_dir_arg) / "manifest.json";
  auto manifest_read = slurm::read_json_file(manifest_path.string());
  if (!manifest_read || !manifest_read->contains("nodes")) {
    console.log(3, "", run_dir_arg + " is not a run folder (no readable manifest.json)");
    return 2;
  }
  json manifest = std::move(*manifest_read);
  const std::string run_dir = fs::canonical(run_dir_arg).string();
  json& nodes = manifest["nodes"];
  const bool on_slurm = fs::exists(slurm::submission_file(run_dir));

  slurm::JobWatcher watcher(console, run_dir, options.settings);
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].value("status", "") != "submitted") continue;
    const auto job = slurm::read_json_file(slurm::job_file(run_dir, nodes[i].value("name", "")));
    if (!job) continue;
    slurm::WatchedJob w;
    w.index = i;
    w.node = nodes[i]["name"].get<std::string>();
    w.job_id = job->value("job_id", "");
    w.log = job->value("log", "");
    w.resources = resources_from(job->value("resources", json::object()));
    watcher.add(std::move(w));
  }

  auto write_manifest = [&] { write_file_atomic(manifest_path.string(), manifest.dump(2) + "\n"); };
  auto take = [&](std::vector<FinishedNode> finished) {
    for (const auto& f : finished) apply(nodes[f.index], f.outcome, run_dir);
    if (!finished.empty()) write_manifest();
  };
  if (on_slurm && !watcher.empty()) {
    take(watcher.poll());
    if (options.cancel) take(watcher.cancel_all());
    while (options.watch && !watcher.empty()) {
      auto some = watcher.wait();
      if (some.empty() && watcher.left_running()) break;
      take(std::move(some));
    }
  }
  // Whatever is still queued, as SLURM sees it now.
  std::map<std::string, std::string> live;  // node name -> "running 0:12"
  std::map<std::string, std::string> job_of;
  if (on_slurm) {
    std::string problem;
    const auto queue = slurm::queue(&problem);
    for (const auto& n : nodes) {
      const auto job = slurm::read_json_file(slurm::job_file(run_dir, n.value("name", "")));
      if (!job) continue;
      const std::string id = job->value("job_id", "");
      if (n.contains("slurm_job_id") && n["slurm_job_id"].get<std::string>() != id) continue;  // an older submission
      job_of[n["name"]] = id;
      if (n.value("status", "") != "submitted") continue;
      slurm::WatchedJob w;
      w.job_id = id;
      if (queue) {
        if (auto it = queue->find(id); it != queue->end()) {
          w.state = it->second.state;
          w.reason = it->second.reason;
          w.elapsed = it->second.elapsed;
        }
      }
      live[n["name"]] = queue ? live_state(w) : "submitted (squeue failed: " + problem + ")";
    }
  }

  size_t ran = 0, cached = 0, failed = 0, skipped = 0, cancelled = 0, waiting = 0;
  for (const auto& n : nodes) {
    const std::string s = n.value("status", "");
    ran += s == "ran";
    cached += s == "cached";
    failed += s == "failed";
    skipped += s == "skipped";
    cancelled += s == "cancelled";
    waiting += s == "submitted";
  }
  const std::string before = manifest.value("status", "");
  if (waiting == 0 && (before == "submitted" || before == "running") && on_slurm) {
    manifest["status"] = cancelled > 0 ? "cancelled" : (failed + skipped) > 0 ? "failed" : "completed";
    manifest["finished"] = now_iso();
    write_manifest();
  }

  std::ostringstream os;
  size_t width = 4;
  for (const auto& n : nodes) width = std::max(width, n.value("name", "").size());
  os << std::left << std::setw(static_cast<int>(width) + 2) << "node" << std::setw(28) << "component";
  if (on_slurm) os << std::setw(10) << "job";
  os << "status\n";
  for (const auto& n : nodes) {
    const std::string name = n.value("name", "");
    std::string status = n.value("status", "");
    if (live.count(name)) status = live[name];
    else if (status == "ran" || status == "cached") {
      std::ostringstream secs;
      secs << std::fixed << std::setprecision(2) << n.value("wall_seconds", 0.0);
      status += " " + secs.str() + " s";
    }
    os << std::setw(static_cast<int>(width) + 2) << name
       << std::setw(28) << (n.value("type_id", "") + "@" + std::to_string(n.value("version", 0)));
    if (on_slurm) os << std::setw(10) << (job_of.count(name) ? job_of[name] : "-");
    os << status << "\n";
  }
  for (const auto& n : nodes) {
    if (n.value("status", "") != "failed") continue;
    os << "\n" << n.value("name", "") << " failed: " << n.value("error", "") << "\n";
    if (n.contains("log_tail") && n.contains("log")) {
      os << "last lines of " << n["log"].get<std::string>() << ":\n";
      std::istringstream lines(n["log_tail"].get<std::string>());
      for (std::string line; std::getline(lines, line);) os << "  | " << line << "\n";
    }
  }
  os << "\n" << ran << " ran, " << cached << " cached, " << failed << " failed, " << skipped << " skipped";
  if (cancelled) os << ", " << cancelled << " cancelled";
  if (waiting) os << ", " << waiting << " pending or running";
  os << " (" << manifest.value("status", "") << ")\nrun folder: " << run_dir << "\n";
  out << os.str();
  if (waiting > 0 || manifest.value("status", "") == "running") return 3;
  return (failed + skipped + cancelled) > 0 ? 1 : 0;
}

}  // namespace mien::host
