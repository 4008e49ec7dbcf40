// mien-survey: the survey summary as its own executable, next to the plugin that defines
// the response format. `mien survey ARGS` runs `mien-survey ARGS` (installed beside mien).
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "survey_summary.hpp"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    return mien::report::survey::survey_command(args, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
