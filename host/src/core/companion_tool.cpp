#include "core/companion_tool.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace mien::host {

namespace fs = std::filesystem;

std::string executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec || exe.empty()) return "";
  return exe.parent_path().string();
}

int exec_companion_tool(const std::string& tool, const std::vector<std::string>& args, std::ostream& err) {
  const std::string dir = executable_dir();
  const std::string path = (fs::path(dir) / tool).string();
  std::error_code ec;
  if (dir.empty() || !fs::is_regular_file(path, ec)) {
    err << "error: " << tool << " is not installed: looked for " << (dir.empty() ? tool : path)
        << " (it is built with the report plugin; build the target " << tool << " or reinstall mien)\n";
    return 2;
  }
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  err.flush();
  ::execv(path.c_str(), argv.data());
  err << "error: cannot run " << path << ": " << std::strerror(errno) << "\n";
  return 2;
}

}  // namespace mien::host
