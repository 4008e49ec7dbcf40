// Running another program (sbatch, squeue, ...) and capturing what it prints.
#pragma once

#include <string>
#include <vector>

namespace mien::host {

struct ProcessResult {
  int exit_code = -1;     // -1: could not be started (then `error` says why)
  std::string out, err;   // what it wrote to stdout and stderr
  std::string error;
  bool ok() const { return exit_code == 0; }
};

// Runs argv[0] (searched on PATH) with the given arguments, no shell involved, stdin
// closed; waits for it. SIGINT is not passed on specially: the child is in our process
// group, like any command the user started.
ProcessResult run_process(const std::vector<std::string>& argv);

// A word quoted for a POSIX shell: 'it'\''s'.
std::string shell_quote(const std::string& word);

}  // namespace mien::host
