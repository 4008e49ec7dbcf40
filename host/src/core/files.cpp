#include "core/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace fs = std::filesystem;

namespace mien::host {
namespace {
// The machine's name is part of the suffix: on a shared file system a pid means nothing
// to another machine, so only the writer's own machine may judge its leftovers.
std::string temp_suffix() {
  static std::atomic<unsigned> counter{0};
  return ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "@" + this_host();
}
}  // namespace

std::string this_host() {
  static const std::string name = [] {
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    std::string h = host;
    for (char& c : h)
      if (c == '/' || c == '@') c = '_';
    return h.empty() ? std::string("unknown") : h;
  }();
  return name;
}

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + temp_suffix();
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot write " + path + ": " + std::generic_category().message(errno));
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::runtime_error("cannot write " + path + ": " + std::generic_category().message(err));
    }
    done += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot write " + path + ": " + std::generic_category().message(err));
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

std::string make_staging_dir(const std::string& final_path) {
  const std::string dir = final_path + temp_suffix();
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

bool publish_dir(const std::string& staging, const std::string& final_path, bool keep_staging_on_failure) {
  fs::create_directories(fs::path(final_path).parent_path());
  std::error_code ec;
  fs::rename(staging, final_path, ec);
  if (ec) {
    if (!keep_staging_on_failure) fs::remove_all(staging, ec);
    return false;
  }
  // Make the rename durable before anyone trusts it.
  const int dfd = ::open(fs::path(final_path).parent_path().c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

void link_or_copy_tree(const std::string& from, const std::string& to) {
  if (fs::is_directory(from)) {
    fs::create_directories(to);
    for (const auto& e : fs::directory_iterator(from)) link_or_copy_tree(e.path().string(), (fs::path(to) / e.path().filename()).string());
    return;
  }
  std::error_code ec;
  if (fs::path(to).has_parent_path()) fs::create_directories(fs::path(to).parent_path());
  fs::remove(to, ec);
  fs::create_hard_link(from, to, ec);
  if (ec) fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

void remove_stale_temporaries(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().filename().string().find(".tmp-") != std::string::npos) fs::remove_all(e.path(), ec);
  }
}

}  // namespace mien::host
