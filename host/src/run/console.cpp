#include "run/console.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>

namespace mien::host {
namespace {
std::string timestamp() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%H:%M:%S", std::localtime(&t));
  return buf;
}
const char* level_name(int level) {
  switch (level) {
    case 0: return "debug";
    case 1: return "info";
    case 2: return "warning";
    default: return "error";
  }
}
}  // namespace

Console::Console() : last_progress_(std::chrono::steady_clock::now()) {
  tty_ = ::isatty(STDERR_FILENO) == 1 && std::getenv("MIEN_NO_PROGRESS") == nullptr;
}

void Console::open_log(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  file_.open(path, std::ios::app);
}

void Console::close_log() {
  std::lock_guard<std::mutex> lock(mutex_);
  file_.close();
}

void Console::clear_bar_locked() {
  if (bar_shown_) {
    std::fputs("\r\033[K", err_);
    bar_shown_ = false;
  }
}

void Console::log(int level, const std::string& source, const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string line = "[" + timestamp() + "] " + level_name(level) + (source.empty() ? "" : " [" + source + "]") + ": " + message;
  if (file_.is_open()) file_ << line << '\n' << std::flush;
  if (level == 0 && !verbose_) return;
  if (quiet_ && level < 2) return;
  clear_bar_locked();
  std::fprintf(err_, "%s\n", line.c_str());
  std::fflush(err_);
}

void Console::print(const std::string& text) {
  std::lock_guard<std::mutex> lock(mutex_);
  clear_bar_locked();
  std::fputs(text.c_str(), out_);
  std::fflush(out_);
  if (file_.is_open()) file_ << text << std::flush;
}

void Console::progress(const std::string& node, uint64_t done, uint64_t total, const std::string& note) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (quiet_) return;
  const auto now = std::chrono::steady_clock::now();
  const bool finished = total > 0 && done >= total;
  const auto since = now - last_progress_;
  if (tty_) {
    if (since < std::chrono::milliseconds(100) && !finished) return;
    last_progress_ = now;
    const int width = 30;
    const double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0.0;
    const int filled = static_cast<int>(frac * width);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(width - filled), '.');
    std::fprintf(err_, "\r\033[K%s [%s] %3d%% %llu/%llu %s", node.c_str(), bar.c_str(), static_cast<int>(frac * 100),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total), note.c_str());
    std::fflush(err_);
    bar_shown_ = true;
  } else {
    // Not a terminal (CI, a pipe): a plain line at most every 5 seconds.
    if (since < std::chrono::seconds(5)) return;
    last_progress_ = now;
    std::fprintf(err_, "  %s: %llu/%llu %s\n", node.c_str(), static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total), note.c_str());
  }
}

bool Console::plugin_output(const std::string& node, const std::string& component, const std::string& line) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!file_.is_open()) return false;
  file_ << "[" << timestamp() << "] output [" << node << "] " << component << ": " << line << '\n' << std::flush;
  return true;
}

std::pair<FILE*, FILE*> Console::set_terminal(FILE* out, FILE* err) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::fflush(out_);
  std::fflush(err_);
  return {std::exchange(out_, out), std::exchange(err_, err)};
}

void Console::end_progress() {
  std::lock_guard<std::mutex> lock(mutex_);
  clear_bar_locked();
  // The next node's first plain line waits a full interval: short nodes stay quiet.
  last_progress_ = std::chrono::steady_clock::now();
}

}  // namespace mien::host
