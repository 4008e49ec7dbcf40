// `mien cache du | verify | gc` (run/cache_command.cpp).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace mien::host {
// Returns the exit status: 0 fine, 1 verify found damaged entries, 2 usage.
int cache_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
}  // namespace mien::host
