// What a plugin prints. Plugins should log through the host API, but a library they use
// (or a forgotten printf) may write to stdout/stderr; that text would land unattributed in
// the user's terminal and be missing from log.txt. While a node's plugin code runs, the
// process's fds 1 and 2 point at an anonymous temporary file (a file, not a pipe: nothing
// has to drain it, so a plugin that prints megabytes never blocks); afterwards the fds are
// restored and each captured line goes into log.txt as
//   [time] output [node] type_id@version: line
// with one warning on the terminal. mien's own console output meanwhile goes to copies of
// the real fds (Console::set_terminal), so it is never captured.
#pragma once

#include <cstdio>
#include <string>

#include "run/console.hpp"

namespace mien::host {

class PluginOutputCapture {
 public:
  // Starts capturing; if the fds cannot be redirected (fd 1 or 2 closed, no temporary
  // file), nothing is captured and the plugin prints where it would have.
  PluginOutputCapture(Console& console, std::string node, std::string component);
  // Restores fds 1 and 2 (also when the node failed or an exception is unwinding) and
  // logs what was captured. Never throws.
  ~PluginOutputCapture();
  PluginOutputCapture(const PluginOutputCapture&) = delete;
  PluginOutputCapture& operator=(const PluginOutputCapture&) = delete;

  // Restores the fds now and logs; later calls and the destructor do nothing.
  void finish() noexcept;
  bool active() const { return tmp_ != nullptr; }

  // At most this many bytes of a node's output are kept in log.txt (the rest is counted).
  static constexpr long kMaxKeptBytes = 1 << 20;

 private:
  Console& console_;
  std::string node_, component_;
  std::FILE* tmp_ = nullptr;                 // the anonymous file fds 1 and 2 point at
  int saved_out_ = -1, saved_err_ = -1;      // the real fds 1 and 2
  std::FILE* term_out_ = nullptr;            // the console's copies of them while capturing
  std::FILE* term_err_ = nullptr;
  std::FILE* prev_out_ = nullptr;            // what the console wrote to before
  std::FILE* prev_err_ = nullptr;
};

}  // namespace mien::host
