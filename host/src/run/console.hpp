// The run's log (file + terminal) and progress display. Plugins never print: they
// call the host API, which lands here.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <utility>

namespace mien::host {

class Console {
 public:
  Console();
  // Also append every line to this file (the run folder's log.txt).
  void open_log(const std::string& path);
  void close_log();
  void set_verbose(bool v) { verbose_ = v; }
  void set_quiet(bool q) { quiet_ = q; }

  // level: 0 debug, 1 info, 2 warning, 3 error. Debug goes to the file only unless verbose.
  void log(int level, const std::string& source, const std::string& message);
  // Plain output to stdout (results, tables), also copied to the log file.
  void print(const std::string& text);

  // Progress of the current node: a bar on a terminal, a line every few seconds otherwise.
  void progress(const std::string& node, uint64_t done, uint64_t total, const std::string& note);
  void end_progress();

  // What a plugin wrote to stdout/stderr (run/plugin_output.hpp): one line into the log
  // file only, tagged "output" and attributed to node and component. False when no log
  // file is open (the caller then shows it otherwise).
  bool plugin_output(const std::string& node, const std::string& component, const std::string& line);
  // Where terminal output goes (stdout, stderr by default). While a plugin's fds 1 and 2
  // are captured, the console writes to copies of the real ones, so mien's own lines are
  // never mixed into the plugin's output. Returns the previous pair.
  std::pair<FILE*, FILE*> set_terminal(FILE* out, FILE* err);

 private:
  void clear_bar_locked();
  std::mutex mutex_;
  FILE* out_ = stdout;
  FILE* err_ = stderr;
  std::ofstream file_;
  bool tty_ = false;
  bool verbose_ = false;
  bool quiet_ = false;
  bool bar_shown_ = false;
  std::chrono::steady_clock::time_point last_progress_{};
  std::chrono::steady_clock::time_point start_{std::chrono::steady_clock::now()};
};

}  // namespace mien::host
