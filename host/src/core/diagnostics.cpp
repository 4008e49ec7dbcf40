#include "core/diagnostics.hpp"

#include <algorithm>
#include <sstream>

namespace mien::host {

std::string format(const Diagnostic& d) {
  std::ostringstream os;
  if (!d.where.file.empty()) {
    os << d.where.file;
    if (d.where.line > 0) os << ':' << d.where.line << ':' << d.where.column;
    os << ": ";
  }
  os << (d.severity == Severity::kError ? "error: " : "warning: ");
  if (!d.node.empty()) os << "node '" << d.node << "': ";
  os << d.message;
  if (!d.hint.empty()) os << "; " << d.hint;
  return os.str();
}

void Diagnostics::error(SourceLocation where, std::string node, std::string message, std::string hint) {
  items_.push_back({Severity::kError, std::move(where), std::move(node), std::move(message), std::move(hint)});
}

void Diagnostics::warning(SourceLocation where, std::string node, std::string message, std::string hint) {
  items_.push_back({Severity::kWarning, std::move(where), std::move(node), std::move(message), std::move(hint)});
}

void Diagnostics::append(const Diagnostics& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

bool Diagnostics::has_errors() const { return error_count() > 0; }

size_t Diagnostics::error_count() const {
  return static_cast<size_t>(
      std::count_if(items_.begin(), items_.end(), [](const Diagnostic& d) { return d.severity == Severity::kError; }));
}

std::string Diagnostics::to_string() const {
  std::string out;
  for (const auto& d : items_) out += format(d) + "\n";
  return out;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      // Damerau: a swapped pair of letters ("tabel" for "table") costs one.
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        // prev-prev row is not kept; approximate with the substitution path, which is
        // at most one more. Good enough for ranking suggestions.
        cur[j] = std::min(cur[j], prev[j - 1]);
      }
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::vector<std::string> suggest(const std::string& word, const std::vector<std::string>& candidates) {
  std::vector<std::pair<size_t, std::string>> scored;
  const size_t limit = std::max<size_t>(2, word.size() / 3);
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    // The part after the last dot alone also counts ("tabel" for "dataset.table").
    const auto dot = c.rfind('.');
    if (dot != std::string::npos && word.find('.') == std::string::npos)
      d = std::min(d, edit_distance(word, c.substr(dot + 1)));
    if (d <= limit) scored.emplace_back(d, c);
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> out;
  for (const auto& s : scored) {
    if (out.size() == 3) break;
    if (std::find(out.begin(), out.end(), s.second) == out.end()) out.push_back(s.second);
  }
  return out;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  const auto s = suggest(word, candidates);
  if (s.empty()) return {};
  std::string out = "did you mean '" + s[0] + "'";
  for (size_t i = 1; i < s.size(); ++i) out += (i + 1 == s.size() ? " or '" : ", '") + s[i] + "'";
  return out + "?";
}

}  // namespace mien::host
