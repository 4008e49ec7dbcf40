#include "run/plugin_output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <tuple>
#include <vector>

namespace mien::host {
namespace {

// Flush every C stdio stream and the C++ standard streams: what the plugin (or mien)
// buffered must reach the fd it was written for before the fd is switched.
void flush_all() {
  std::cout.flush();
  std::cerr.flush();
  std::clog.flush();
  std::fflush(nullptr);
}

std::FILE* copy_of(int fd, bool line_buffered) {
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) return nullptr;
  std::FILE* f = ::fdopen(copy, "w");
  if (f == nullptr) {
    ::close(copy);
    return nullptr;
  }
  std::setvbuf(f, nullptr, line_buffered ? _IOLBF : _IONBF, line_buffered ? BUFSIZ : 0);
  return f;
}

}  // namespace

PluginOutputCapture::PluginOutputCapture(Console& console, std::string node, std::string component)
    : console_(console), node_(std::move(node)), component_(std::move(component)) {
  flush_all();
  std::FILE* tmp = std::tmpfile();  // already unlinked: nothing to clean up after a crash
  if (tmp == nullptr) return;
  saved_out_ = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  saved_err_ = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  term_out_ = saved_out_ >= 0 ? copy_of(saved_out_, true) : nullptr;
  term_err_ = saved_err_ >= 0 ? copy_of(saved_err_, false) : nullptr;
  if (saved_out_ < 0 || saved_err_ < 0 || term_out_ == nullptr || term_err_ == nullptr) {
    if (term_out_) std::fclose(term_out_);
    if (term_err_) std::fclose(term_err_);
    if (saved_out_ >= 0) ::close(saved_out_);
    if (saved_err_ >= 0) ::close(saved_err_);
    term_out_ = term_err_ = nullptr;
    saved_out_ = saved_err_ = -1;
    std::fclose(tmp);
    return;
  }
  std::tie(prev_out_, prev_err_) = console_.set_terminal(term_out_, term_err_);
  // Both fds share one open file description (one offset), so stdout and stderr lines
  // stay in the order they were written.
  if (::dup2(::fileno(tmp), STDOUT_FILENO) < 0 || ::dup2(::fileno(tmp), STDERR_FILENO) < 0) {
    ::dup2(saved_out_, STDOUT_FILENO);
    ::dup2(saved_err_, STDERR_FILENO);
    console_.set_terminal(prev_out_, prev_err_);
    std::fclose(term_out_);
    std::fclose(term_err_);
    ::close(saved_out_);
    ::close(saved_err_);
    term_out_ = term_err_ = nullptr;
    saved_out_ = saved_err_ = -1;
    std::fclose(tmp);
    return;
  }
  tmp_ = tmp;
}

PluginOutputCapture::~PluginOutputCapture() { finish(); }

void PluginOutputCapture::finish() noexcept {
  if (tmp_ == nullptr) return;
  std::FILE* tmp = tmp_;
  tmp_ = nullptr;
  try {
    flush_all();  // the plugin's last, unterminated line included
    ::dup2(saved_out_, STDOUT_FILENO);
    ::dup2(saved_err_, STDERR_FILENO);
    ::close(saved_out_);
    ::close(saved_err_);
    saved_out_ = saved_err_ = -1;
    console_.set_terminal(prev_out_, prev_err_);
    std::fclose(term_out_);
    std::fclose(term_err_);
    term_out_ = term_err_ = nullptr;

    struct stat st {};
    const int fd = ::fileno(tmp);
    const long size = ::fstat(fd, &st) == 0 ? static_cast<long>(st.st_size) : 0;
    if (size <= 0) {
      std::fclose(tmp);
      return;
    }
    const long keep = size < kMaxKeptBytes ? size : kMaxKeptBytes;
    std::string text(static_cast<size_t>(keep), '\0');
    long got = 0;
    while (got < keep) {
      const ssize_t n = ::pread(fd, &text[static_cast<size_t>(got)], static_cast<size_t>(keep - got), got);
      if (n <= 0) break;
      got += n;
    }
    text.resize(static_cast<size_t>(got));
    std::fclose(tmp);
    tmp = nullptr;

    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(std::move(line));
      start = end + 1;
    }
    if (size > keep) lines.push_back("(" + std::to_string(size - keep) + " more bytes not kept)");
    bool in_log = true;
    for (const auto& line : lines) in_log = console_.plugin_output(node_, component_, line) && in_log;
    const std::string count = std::to_string(lines.size()) + (lines.size() == 1 ? " line" : " lines");
    console_.log(2, node_,
                 component_ + " printed " + count + " to stdout/stderr instead of logging through the host" +
                     (in_log ? "; they are in log.txt, marked 'output [" + node_ + "]'" : ":"));
    if (!in_log)
      for (const auto& line : lines) console_.log(2, node_, component_ + ": " + line);
  } catch (...) {
    if (tmp) std::fclose(tmp);
  }
}

}  // namespace mien::host
