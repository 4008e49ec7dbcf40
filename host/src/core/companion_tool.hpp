// Commands the host hands on to an executable installed beside it (`mien survey` runs
// mien-survey, which lives with the report plugin that defines the response format), so
// the host itself depends on no plugin.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace mien::host {

// The folder of the running mien executable (symlinks resolved), or "".
std::string executable_dir();

// Replaces this process with `<executable_dir>/<tool> args...`: the tool's output and exit
// code are the command's. Returns only when the tool cannot be run, after telling `err`
// where it was looked for; the result is then the exit code to use (2).
int exec_companion_tool(const std::string& tool, const std::vector<std::string>& args, std::ostream& err);

}  // namespace mien::host
