#include "graph/messages.hpp"

#include <algorithm>

namespace mien::host::graph {
namespace {

// The distance suggest() ranks by: the whole word, or the part after the last dot.
size_t distance(const std::string& word, const std::string& candidate) {
  size_t d = edit_distance(word, candidate);
  const auto dot = candidate.rfind('.');
  if (dot != std::string::npos && word.find('.') == std::string::npos)
    d = std::min(d, edit_distance(word, candidate.substr(dot + 1)));
  return d;
}

}  // namespace

void report_once(Diagnostics& diags, Diagnostic d) {
  for (const auto& old : diags.items()) {
    if (old.severity == d.severity && old.where.file == d.where.file && old.where.line == d.where.line &&
        old.where.column == d.where.column && old.message == d.message && old.hint == d.hint)
      return;
  }
  diags.add(std::move(d));
}

void error_once(Diagnostics& diags, SourceLocation where, std::string node, std::string message, std::string hint) {
  report_once(diags, {Severity::kError, std::move(where), std::move(node), std::move(message), std::move(hint)});
}

bool has_error_at(const Diagnostics& diags, const SourceLocation& where) {
  if (where.line == 0) return false;  // e.g. every --set value shares "no position"
  return std::any_of(diags.items().begin(), diags.items().end(), [&](const Diagnostic& d) {
    return d.severity == Severity::kError && d.where.file == where.file && d.where.line == where.line &&
           d.where.column == where.column;
  });
}

std::vector<std::string> closest(const std::string& word, const std::vector<std::string>& candidates) {
  std::vector<std::string> found = suggest(word, candidates);
  if (found.empty()) return found;
  const size_t best = distance(word, found.front());
  found.erase(std::remove_if(found.begin(), found.end(),
                             [&](const std::string& c) { return distance(word, c) > best; }),
              found.end());
  return found;
}

std::string closest_hint(const std::string& word, const std::vector<std::string>& candidates) {
  return did_you_mean(word, closest(word, candidates));
}

}  // namespace mien::host::graph
