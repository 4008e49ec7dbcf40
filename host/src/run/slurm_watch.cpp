#include "run/slurm_watch.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <thread>

#include "core/clock.hpp"
#include "run/call_context.hpp"
#include "run/runner.hpp"
#include "run/slurm_files.hpp"

using nlohmann::json;

namespace mien::host::slurm {
namespace {

using Clock = std::chrono::steady_clock;

double env_seconds(const char* name, double fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  try {
    return std::max(0.0, std::stod(v));
  } catch (...) {
    return fallback;
  }
}

NodeOutcome::Status status_of(const std::string& s) {
  if (s == "ran") return NodeOutcome::Status::kRan;
  if (s == "cached") return NodeOutcome::Status::kCached;
  if (s == "cancelled") return NodeOutcome::Status::kCancelled;
  return NodeOutcome::Status::kFailed;
}

json job_details(const WatchedJob& job) { return {{"slurm_job_id", job.job_id}, {"log", job.log}}; }

NodeOutcome failure(const WatchedJob& job, const std::string& error, const WatchSettings& settings) {
  NodeOutcome o;
  o.status = NodeOutcome::Status::kFailed;
  o.error = error;
  o.details = job_details(job);
  const std::string tail = tail_lines(job.log, settings.log_tail_lines);
  if (!tail.empty()) o.details["log_tail"] = tail;
  return o;
}

NodeOutcome from_state_file(const json& rec, const WatchedJob& job, const WatchSettings& settings) {
  NodeOutcome o;
  o.status = status_of(rec.value("status", ""));
  o.wall_seconds = rec.value("wall_seconds", 0.0);
  o.outputs = rec.value("outputs", std::vector<std::string>{});
  o.error = rec.value("error", "");
  o.key = rec.value("cache_key", "");
  o.folder_linked = o.status == NodeOutcome::Status::kRan || o.status == NodeOutcome::Status::kCached;
  o.details = job_details(job);
  for (const char* k : {"host", "peak_rss_mb", "threads", "started", "finished", "original_wall_seconds"})
    if (rec.contains(k)) o.details[k] = rec[k];
  if (o.status == NodeOutcome::Status::kFailed) {
    const std::string tail = tail_lines(job.log, settings.log_tail_lines);
    if (!tail.empty()) o.details["log_tail"] = tail;
  }
  return o;
}

std::string resources_text(const WatchedJob& job, bool memory) {
  if (memory) return job.resources.memory_mb ? format_memory(*job.resources.memory_mb) : "?";
  return job.resources.time_seconds ? format_time(*job.resources.time_seconds) : "?";
}

std::string lower_state(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

WatchSettings watch_settings_from_env() {
  WatchSettings s;
  s.poll_seconds = env_seconds("MIEN_SLURM_POLL_SECONDS", s.poll_seconds);
  s.queue_seconds = env_seconds("MIEN_SLURM_POLL_SECONDS", s.queue_seconds);
  s.state_file_grace_seconds = env_seconds("MIEN_SLURM_STATE_GRACE_SECONDS", s.state_file_grace_seconds);
  return s;
}

std::optional<NodeOutcome> observe(WatchedJob& job, const std::optional<std::map<std::string, JobState>>& queue,
                                   const std::string& run_dir, const WatchSettings& settings) {
  const auto rec = read_json_file(node_state_file(run_dir, job.node));
  const bool ours = rec && rec->is_object() && rec->value("job_id", "") == job.job_id;
  const std::string st = ours ? rec->value("status", "") : "";
  std::optional<JobState> seen;
  if (queue) {
    if (auto it = queue->find(job.job_id); it != queue->end()) seen = it->second;
  }
  if (seen) {
    job.state = seen->state;
    job.reason = seen->reason;
    job.elapsed = seen->elapsed;
    job.where = seen->node;
  }
  if (st == "ran" || st == "cached" || st == "failed") return from_state_file(*rec, job, settings);
  if (st == "running" && (job.state == "PENDING" || job.state == "RUNNING")) {
    // The job's own word is fresher than squeue's last answer.
    job.state = "RUNNING";
    job.where = rec->value("host", job.where);
    const long secs = static_cast<long>(std::max(0.0, unix_seconds() - rec->value("started", unix_seconds())));
    char elapsed[32];
    std::snprintf(elapsed, sizeof elapsed, "%ld:%02ld", secs / 60, secs % 60);
    job.elapsed = elapsed;
  }

  // SLURM's last word on the job, once it ended.
  std::optional<JobState> ended;
  if (seen && is_final(seen->state)) {
    ended = seen;
  } else if (!seen && queue) {
    // Gone from the queue: the controller forgot it (MinJobAge); ask scontrol, then sacct.
    ended = ended_job(job.job_id);
    if (ended && !is_final(ended->state)) {
      job.state = ended->state;
      return std::nullopt;
    }
    if (!ended) {
      if (job.ended_unseen == Clock::time_point{}) job.ended_unseen = Clock::now();
      if (seconds_since(job.ended_unseen) < settings.state_file_grace_seconds) return std::nullopt;
      return failure(job, "SLURM no longer knows job " + job.job_id + " and it left no state file", settings);
    }
  }
  if (!ended) return std::nullopt;  // queued or running (or squeue failed this time)
  job.state = ended->state;
  const std::string& s = ended->state;
  if (s == "TIMEOUT")
    return failure(job, "SLURM stopped job " + job.job_id + " at its time limit (" + resources_text(job, false) +
                            "): raise `resources: {time: ...}` for this node", settings);
  if (s == "OUT_OF_MEMORY")
    return failure(job, "job " + job.job_id + " ran out of memory (" + resources_text(job, true) +
                            "): raise `resources: {memory: ...}` for this node", settings);
  if (s == "NODE_FAIL" || s == "BOOT_FAIL")
    return failure(job, "the machine job " + job.job_id + " ran on failed (SLURM: " + s + "); rerun to resubmit", settings);
  if (s == "PREEMPTED" || s == "DEADLINE" || s == "REVOKED")
    return failure(job, "SLURM ended job " + job.job_id + " (" + s + "); rerun to resubmit", settings);
  if (st == "cancelled") return from_state_file(*rec, job, settings);
  if (s == "CANCELLED" && ended->reason.find("DependencyNeverSatisfied") != std::string::npos) {
    NodeOutcome o;
    o.status = NodeOutcome::Status::kSkipped;
    o.error = "skipped: an input's job did not finish (SLURM cancelled job " + job.job_id + ")";
    o.details = job_details(job);
    return o;
  }
  const bool started = !st.empty() || !ended->node.empty();
  if (s == "CANCELLED" && !started) {
    NodeOutcome o;
    o.status = NodeOutcome::Status::kCancelled;
    o.error = "job " + job.job_id + " was cancelled before it started";
    o.details = job_details(job);
    return o;
  }
  // COMPLETED, FAILED, or CANCELLED after it started: its state file may still be on its way.
  if (job.ended_unseen == Clock::time_point{}) job.ended_unseen = Clock::now();
  if (seconds_since(job.ended_unseen) < settings.state_file_grace_seconds) return std::nullopt;
  if (s == "CANCELLED") {
    NodeOutcome o = failure(job, "job " + job.job_id + " was cancelled while running", settings);
    o.status = NodeOutcome::Status::kCancelled;
    return o;
  }
  if (s == "COMPLETED")
    return failure(job, "job " + job.job_id + " ended but left no state file in " + slurm_dir(run_dir) +
                            " : does every machine see the run folder at the same path?", settings);
  return failure(job, "SLURM job " + job.job_id + " ended as " + s +
                          (ended->exit_code.empty() ? std::string() : " (exit code " + ended->exit_code + ")") +
                          " before mien could report", settings);
}

JobWatcher::JobWatcher(Console& console, std::string run_dir, WatchSettings settings)
    : console_(console), run_dir_(std::move(run_dir)), settings_(settings) {
  tty_ = ::isatty(STDERR_FILENO) == 1 && std::getenv("MIEN_NO_PROGRESS") == nullptr;
}

JobWatcher::~JobWatcher() { clear(); }

void JobWatcher::add(WatchedJob job) {
  order_.push_back(job.job_id);
  jobs_.push_back(std::move(job));
}

std::vector<std::string> JobWatcher::unfinished_job_ids() const {
  std::vector<std::string> ids;
  for (const auto& j : jobs_) ids.push_back(j.job_id);
  return ids;
}

std::vector<FinishedNode> JobWatcher::poll() {
  std::vector<FinishedNode> done;
  if (jobs_.empty()) return done;
  // squeue at its own pace (a busy controller should not be asked every second), and at
  // once when a job is missing from its last answer.
  bool stale = !queue_ || seconds_since(queue_time_) >= settings_.queue_seconds;
  for (const auto& j : jobs_) stale = stale || !queue_->count(j.job_id);
  if (stale) {
    std::string problem;
    queue_ = slurm::queue(&problem);
    queue_time_ = Clock::now();
    if (!queue_ && problem != queue_problem_) console_.log(2, "", "squeue failed (will retry): " + problem);
    queue_problem_ = queue_ ? "" : problem;
  }
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    auto outcome = observe(*it, queue_, run_dir_, settings_);
    if (!outcome) {
      if (it->state == "RUNNING" && !it->announced_running) {
        it->announced_running = true;
        console_.log(tty_ ? 0 : 1, it->node, "job " + it->job_id + " running" + (it->where.empty() ? "" : " on " + it->where));
      }
      ++it;
      continue;
    }
    const bool ok = outcome->status == NodeOutcome::Status::kRan || outcome->status == NodeOutcome::Status::kCached;
    (ok ? ended_ok_ : ended_bad_) += 1;
    Row row{it->node, it->job_id, ok ? "done" : outcome_status_name(outcome->status), ok ? 3 : 1};
    if (outcome->status == NodeOutcome::Status::kRan) {
      char secs[32];
      std::snprintf(secs, sizeof secs, " in %.1f s", outcome->wall_seconds);
      row.state += secs;
    }
    finished_rows_.emplace_back(it->job_id, std::move(row));
    done.push_back({it->index, std::move(*outcome)});
    it = jobs_.erase(it);
  }
  return done;
}

std::vector<FinishedNode> JobWatcher::wait() {
  while (!jobs_.empty()) {
    if (cancel_flag().load() && !interrupt_handled_) return handle_interrupt();
    if (left_running_) return {};
    auto done = poll();
    if (!done.empty()) {
      clear();
      return done;
    }
    draw();
    const auto until = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(settings_.poll_seconds * 1000));
    while (Clock::now() < until && !(cancel_flag().load() && !interrupt_handled_))
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  clear();
  return {};
}

std::vector<FinishedNode> JobWatcher::handle_interrupt() {
  clear();
  interrupt_handled_ = true;
  const auto ids = unfinished_job_ids();
  bool cancel = settings_.cancel_on_exit;
  if (!cancel && ::isatty(STDIN_FILENO) == 1) {
    std::fprintf(stderr, "\nCancel the %zu unfinished SLURM job%s of this run (scancel)? [y/N] ", ids.size(),
                 ids.size() == 1 ? "" : "s");
    std::fflush(stderr);
    std::string answer;
    std::getline(std::cin, answer);
    cancel = !answer.empty() && (answer[0] == 'y' || answer[0] == 'Y');
  }
  std::string joined;
  for (const auto& id : ids) joined += " " + id;
  if (!cancel) {
    left_running_ = true;
    console_.log(2, "", std::to_string(ids.size()) + " job(s) keep running; follow them with `mien status " + run_dir_ +
                            "`, stop them with `scancel" + joined + "`");
    return {};
  }
  return cancel_all();
}

std::vector<FinishedNode> JobWatcher::cancel_all() {
  const auto ids = unfinished_job_ids();
  if (ids.empty()) return {};
  std::string joined;
  for (const auto& id : ids) joined += " " + id;
  console_.log(2, "", "cancelling " + std::to_string(ids.size()) + " job(s): scancel" + joined);
  std::string error;
  if (!slurm::cancel(ids, &error)) {
    left_running_ = true;
    console_.log(3, "", "scancel failed: " + error + "; the jobs may still be queued (`mien status " + run_dir_ + "`)");
    return {};
  }
  // Wait for SLURM to end them, so the manifest says what happened to each.
  WatchSettings quick = settings_;
  quick.state_file_grace_seconds = std::min(settings_.state_file_grace_seconds, 5.0);
  quick.queue_seconds = 0.5;
  std::swap(settings_, quick);
  std::vector<FinishedNode> done;
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (!jobs_.empty() && Clock::now() < deadline) {
    auto some = poll();
    for (auto& f : some) done.push_back(std::move(f));
    if (!jobs_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::swap(settings_, quick);
  for (const auto& j : jobs_) {
    NodeOutcome o;
    o.status = NodeOutcome::Status::kCancelled;
    o.error = "scancel sent; SLURM had not confirmed job " + j.job_id + " ended when mien stopped watching";
    o.details = {{"slurm_job_id", j.job_id}, {"log", j.log}};
    done.push_back({j.index, std::move(o)});
  }
  jobs_.clear();
  return done;
}

void JobWatcher::clear() {
  if (!tty_ || drawn_lines_ == 0) return;
  std::fprintf(stderr, "\033[%zuF\033[J", drawn_lines_);  // up to the first drawn line, erase below
  std::fflush(stderr);
  drawn_lines_ = 0;
}

void JobWatcher::draw() {
  if (!tty_) return;
  size_t running = 0, pending = 0;
  std::map<std::string, Row> rows;
  for (const auto& [id, row] : finished_rows_) rows[id] = row;
  for (const auto& j : jobs_) {
    const bool is_running = j.state == "RUNNING" || j.state == "COMPLETING";
    (is_running ? running : pending) += 1;
    Row row{j.node, j.job_id, "", is_running ? 0 : 2};
    if (is_running) row.state = "running " + j.elapsed + (j.where.empty() ? "" : " on " + j.where);
    else if (j.state == "PENDING") row.state = "pending" + (j.reason.empty() ? std::string() : " (" + j.reason + ")");
    else row.state = lower_state(j.state);
    rows[j.job_id] = row;
  }
  const long secs = static_cast<long>(seconds_since(start_));
  char head[256];
  std::snprintf(head, sizeof head, "slurm: %zu done, %zu failed, %zu running, %zu pending  [%ld:%02ld]%s%s",
                ended_ok_, ended_bad_, running, pending, secs / 60, secs % 60, note_.empty() ? "" : "  ", note_.c_str());
  std::vector<std::string> lines = {head};
  winsize ws{};
  size_t term_rows = 24;
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 4) term_rows = ws.ws_row;
  const size_t room = term_rows > 4 ? term_rows - 4 : 1;
  // Every job in the order submitted when they fit; else running, failed, pending, done.
  std::vector<const Row*> shown;
  for (const auto& id : order_)
    if (rows.count(id)) shown.push_back(&rows[id]);
  const size_t total = shown.size();
  if (total > room) {
    std::stable_sort(shown.begin(), shown.end(), [](const Row* a, const Row* b) { return a->rank < b->rank; });
    shown.resize(room);
  }
  size_t width = 4;
  for (const Row* r : shown) width = std::max(width, r->node.size());
  for (const Row* r : shown) {
    char line[512];
    std::snprintf(line, sizeof line, "  %-*s  job %-10s %s", static_cast<int>(width), r->node.c_str(), r->job_id.c_str(),
                  r->state.c_str());
    lines.push_back(line);
  }
  if (total > shown.size()) lines.push_back("  ... and " + std::to_string(total - shown.size()) + " more");
  clear();
  for (const auto& l : lines) std::fprintf(stderr, "%s\033[K\n", l.c_str());
  std::fflush(stderr);
  drawn_lines_ = lines.size();
}

}  // namespace mien::host::slurm
