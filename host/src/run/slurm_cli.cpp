#include "run/slurm_cli.hpp"

#include <unistd.h>

#include <sstream>

#include "core/process.hpp"

namespace mien::host::slurm {
namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::string first_line(const std::string& s) {
  const std::string t = trim(s);
  return t.substr(0, t.find('\n'));
}

// sacct and scontrol print "CANCELLED by 0"; the state is the first word.
std::string state_word(const std::string& s) { return trim(s).substr(0, trim(s).find(' ')); }

}  // namespace

Submitted sbatch(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"sbatch", "--parsable"};
  argv.insert(argv.end(), args.begin(), args.end());
  const ProcessResult r = run_process(argv);
  Submitted s;
  if (!r.ok()) {
    s.error = trim(r.err.empty() ? (r.error.empty() ? r.out : r.error) : r.err);
    if (s.error.empty()) s.error = "sbatch exited with status " + std::to_string(r.exit_code);
    return s;
  }
  const std::string id = first_line(r.out).substr(0, first_line(r.out).find(';'));
  if (id.empty() || id.find_first_not_of("0123456789_") != std::string::npos) {
    s.error = "sbatch printed no job id: '" + trim(r.out) + "'";
    return s;
  }
  s.job_id = id;
  return s;
}

std::map<std::string, JobState> parse_squeue(const std::string& out) {
  std::map<std::string, JobState> jobs;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    const auto f = split(trim(line), '|');
    if (f.size() < 5 || f[0].empty()) continue;
    JobState j;
    j.state = state_word(f[1]);
    j.reason = f[2] == "None" ? "" : f[2];
    j.elapsed = f[3];
    j.node = f[4];
    jobs[f[0]] = j;
  }
  return jobs;
}

std::optional<std::map<std::string, JobState>> queue(std::string* error) {
  // --states=all: recently ended jobs too, with their final state, while the controller
  // keeps them (MinJobAge).
  const ProcessResult r = run_process({"squeue", "--noheader", "--states=all", "--user=" + std::to_string(::getuid()),
                                       "--format=%i|%T|%r|%M|%N"});
  if (!r.ok()) {
    if (error) *error = trim(r.err.empty() ? r.error : r.err);
    return std::nullopt;
  }
  return parse_squeue(r.out);
}

std::optional<JobState> parse_scontrol_job(const std::string& out) {
  // One line of Key=Value pairs (scontrol -o show job).
  JobState j;
  std::istringstream in(first_line(out));
  std::string word;
  bool any = false;
  while (in >> word) {
    const size_t eq = word.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = word.substr(0, eq), value = word.substr(eq + 1);
    if (key == "JobState") {
      j.state = value;
      any = true;
    } else if (key == "Reason") {
      j.reason = value == "None" ? "" : value;
    } else if (key == "RunTime") {
      j.elapsed = value;
    } else if (key == "NodeList") {
      j.node = value == "(null)" ? "" : value;
    } else if (key == "ExitCode") {
      j.exit_code = value;
    }
  }
  if (!any) return std::nullopt;
  return j;
}

std::optional<JobState> parse_sacct(const std::string& out, const std::string& job_id) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    const auto f = split(trim(line), '|');
    if (f.size() < 4 || f[0] != job_id) continue;
    JobState j;
    j.state = state_word(f[1]);
    j.exit_code = f[2];
    j.elapsed = f[3];
    if (f.size() > 4) j.node = f[4] == "None assigned" ? "" : f[4];
    return j;
  }
  return std::nullopt;
}

std::optional<JobState> ended_job(const std::string& job_id) {
  const ProcessResult sc = run_process({"scontrol", "--oneliner", "show", "job", job_id});
  if (sc.ok())
    if (auto j = parse_scontrol_job(sc.out)) return j;
  const ProcessResult sa =
      run_process({"sacct", "--noheader", "--parsable2", "--allocations", "--jobs=" + job_id, "--format=JobID,State,ExitCode,Elapsed,NodeList"});
  if (sa.ok()) return parse_sacct(sa.out, job_id);
  return std::nullopt;
}

bool cancel(const std::vector<std::string>& job_ids, std::string* error) {
  if (job_ids.empty()) return true;
  std::vector<std::string> argv = {"scancel"};
  argv.insert(argv.end(), job_ids.begin(), job_ids.end());
  const ProcessResult r = run_process(argv);
  if (!r.ok() && error) *error = trim(r.err.empty() ? r.error : r.err);
  return r.ok();
}

bool is_final(const std::string& state) {
  static const char* kFinal[] = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL",
                                 "PREEMPTED", "BOOT_FAIL", "DEADLINE", "SPECIAL_EXIT", "REVOKED"};
  for (const char* s : kFinal)
    if (state == s) return true;
  return false;
}

}  // namespace mien::host::slurm
