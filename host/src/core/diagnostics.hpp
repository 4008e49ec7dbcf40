// Problems found while loading plugins or validating an experiment. Validation
// collects every problem before reporting, so a YAML author fixes them all at once.
#pragma once

#include <string>
#include <vector>

namespace mien::host {

// 1-based line and column; line 0 means "no position" (e.g. a command-line --set).
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  SourceLocation where;
  std::string node;     // node name, empty when the problem is not about one node
  std::string message;  // what is wrong and what was expected
  std::string hint;     // e.g. "did you mean 'dataset.table'?", may be empty
};

// "file:line:col: error: node 'x': message; did you mean 'y'?"
std::string format(const Diagnostic& d);

class Diagnostics {
 public:
  void error(SourceLocation where, std::string node, std::string message, std::string hint = {});
  void warning(SourceLocation where, std::string node, std::string message, std::string hint = {});
  void add(Diagnostic d) { items_.push_back(std::move(d)); }
  void append(const Diagnostics& other);
  bool has_errors() const;
  size_t error_count() const;
  const std::vector<Diagnostic>& items() const { return items_; }
  // One formatted line per diagnostic, in the order found.
  std::string to_string() const;

 private:
  std::vector<Diagnostic> items_;
};

// Levenshtein distance, for "did you mean".
size_t edit_distance(const std::string& a, const std::string& b);
// The closest candidates (at most 3), only those plausibly a misspelling of word.
std::vector<std::string> suggest(const std::string& word, const std::vector<std::string>& candidates);
// "did you mean 'a'?" / "did you mean 'a' or 'b'?" / "" when nothing is close.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace mien::host
