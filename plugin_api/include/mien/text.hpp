// mien SDK: small text helpers for messages, so every plugin lists names and shapes alike.
// Header-only, standard library only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mien {

// "a, b, c". Past `max_items` items the rest is summarised: "a, b, ... (40 in all)", so a
// message about a 100,000-column table stays one readable line.
inline std::string join(const std::vector<std::string>& items, const std::string& sep = ", ",
                        size_t max_items = SIZE_MAX) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < max_items; ++i) {
    if (i) out += sep;
    out += items[i];
  }
  if (items.size() > max_items) out += sep + "... (" + std::to_string(items.size()) + " in all)";
  return out;
}

// A tensor shape as "[3, 112, 112]".
inline std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

}  // namespace mien
