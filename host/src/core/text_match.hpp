// Hand-written matchers for the few fixed patterns the host checks. Not std::regex: its
// matcher recurses once per character, so a YAML value of some 30,000 characters
// overflowed the stack (a segfault in `mien validate`). These are linear and iterative.
#pragma once

#include <cstddef>
#include <string_view>

namespace mien::host::text {

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_word(char c) { return is_alpha(c) || is_digit(c) || c == '_'; }

// [A-Za-z_][A-Za-z0-9_]*
inline bool is_identifier(std::string_view s) {
  if (s.empty() || is_digit(s[0])) return false;
  for (char c : s)
    if (!is_word(c)) return false;
  return true;
}

// [A-Za-z0-9_-]+
inline bool is_plain_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_word(c) && c != '-') return false;
  return true;
}

// [A-Za-z0-9_-]+(\[[^\]]*\])?
inline bool is_node_name(std::string_view s) {
  const size_t open = s.find('[');
  if (open == std::string_view::npos) return is_plain_name(s);
  if (!is_plain_name(s.substr(0, open)) || s.back() != ']') return false;
  const std::string_view inside = s.substr(open + 1, s.size() - open - 2);
  return inside.find(']') == std::string_view::npos;
}

// [-+]?[0-9]+
inline bool is_integer(std::string_view s) {
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i)
    if (!is_digit(s[i])) return false;
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
inline bool is_decimal_number(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  if (i < n && (s[i] == '-' || s[i] == '+')) ++i;
  size_t int_digits = 0, frac_digits = 0;
  while (i < n && is_digit(s[i])) ++i, ++int_digits;
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && is_digit(s[i])) ++i, ++frac_digits;
    if (int_digits == 0 && frac_digits == 0) return false;
  } else if (int_digits == 0) {
    return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < n && is_digit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == n;
}

// [A-Za-z_/][A-Za-z0-9_./@+-]*
inline bool is_plain_yaml_word(std::string_view s) {
  if (s.empty() || !(is_alpha(s[0]) || s[0] == '_' || s[0] == '/')) return false;
  for (char c : s)
    if (!is_word(c) && c != '.' && c != '/' && c != '@' && c != '+' && c != '-') return false;
  return true;
}

}  // namespace mien::host::text
