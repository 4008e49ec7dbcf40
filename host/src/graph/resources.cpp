#include "graph/resources.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include "graph/messages.hpp"

namespace mien::host {
namespace {

const std::vector<std::string> kResourceKeys = {"cpus", "memory", "time"};
const std::vector<std::string> kKindKeys = {"default", "dataset", "transform", "features", "model",
                                            "explainer", "metric", "report"};

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

std::optional<uint64_t> to_number(const std::string& s) {
  if (!all_digits(s) || s.size() > 12) return std::nullopt;
  return std::stoull(s);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

NodeResources NodeResources::or_else(const NodeResources& fallback) const {
  NodeResources r = *this;
  if (!r.cpus) r.cpus = fallback.cpus;
  if (!r.memory_mb) r.memory_mb = fallback.memory_mb;
  if (!r.time_seconds) r.time_seconds = fallback.time_seconds;
  return r;
}

std::optional<uint64_t> parse_memory_mb(const std::string& text) {
  std::string s = lower(text);
  if (s.size() > 1 && s.back() == 'b' && std::isalpha(static_cast<unsigned char>(s[s.size() - 2]))) s.pop_back();  // "4GB"
  uint64_t scale_kb = 1024;  // plain numbers are megabytes, as in sbatch --mem
  if (!s.empty() && std::isalpha(static_cast<unsigned char>(s.back()))) {
    switch (s.back()) {
      case 'k': scale_kb = 1; break;
      case 'm': scale_kb = 1024; break;
      case 'g': scale_kb = 1024 * 1024; break;
      case 't': scale_kb = 1024ULL * 1024 * 1024; break;
      default: return std::nullopt;
    }
    s.pop_back();
  }
  const auto n = to_number(s);
  if (!n || *n == 0) return std::nullopt;
  return std::max<uint64_t>(1, (*n * scale_kb + 1023) / 1024);
}

std::optional<uint64_t> parse_time_seconds(const std::string& text) {
  const std::string s = lower(text);
  if (s.empty()) return std::nullopt;
  // "90m", "2h", "1d", "30s"
  const char unit = s.back();
  if (unit == 's' || unit == 'm' || unit == 'h' || unit == 'd') {
    const auto n = to_number(s.substr(0, s.size() - 1));
    if (!n || *n == 0) return std::nullopt;
    const uint64_t per = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400;
    return *n * per;
  }
  // SLURM: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS
  uint64_t days = 0;
  std::string rest = s;
  const size_t dash = s.find('-');
  const bool with_days = dash != std::string::npos;
  if (with_days) {
    const auto d = to_number(s.substr(0, dash));
    if (!d) return std::nullopt;
    days = *d;
    rest = s.substr(dash + 1);
  }
  std::vector<uint64_t> parts;
  size_t at = 0;
  while (true) {
    const size_t colon = rest.find(':', at);
    const auto n = to_number(rest.substr(at, colon == std::string::npos ? std::string::npos : colon - at));
    if (!n) return std::nullopt;
    parts.push_back(*n);
    if (colon == std::string::npos) break;
    at = colon + 1;
  }
  if (parts.size() > 3) return std::nullopt;
  uint64_t seconds = 0;
  if (with_days) {
    // D-HH, D-HH:MM, D-HH:MM:SS
    const uint64_t mult[3] = {3600, 60, 1};
    for (size_t i = 0; i < parts.size(); ++i) seconds += parts[i] * mult[i];
  } else if (parts.size() == 1) {
    seconds = parts[0] * 60;  // minutes
  } else if (parts.size() == 2) {
    seconds = parts[0] * 60 + parts[1];  // MM:SS
  } else {
    seconds = parts[0] * 3600 + parts[1] * 60 + parts[2];
  }
  seconds += days * 86400;
  if (seconds == 0) return std::nullopt;
  return seconds;
}

std::string format_memory(uint64_t mb) {
  if (mb % (1024 * 1024) == 0) return std::to_string(mb / (1024 * 1024)) + "T";
  if (mb % 1024 == 0) return std::to_string(mb / 1024) + "G";
  return std::to_string(mb) + "M";
}

std::string format_time(uint64_t seconds) {
  const uint64_t d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60, s = seconds % 60;
  char buf[48];
  if (d > 0)
    std::snprintf(buf, sizeof buf, "%llu-%02llu:%02llu:%02llu", static_cast<unsigned long long>(d),
                  static_cast<unsigned long long>(h), static_cast<unsigned long long>(m), static_cast<unsigned long long>(s));
  else
    std::snprintf(buf, sizeof buf, "%llu:%02llu:%02llu", static_cast<unsigned long long>(h),
                  static_cast<unsigned long long>(m), static_cast<unsigned long long>(s));
  return buf;
}

NodeResources read_resources(const graph::YamlNode& map, const std::string& node, Diagnostics& diags) {
  NodeResources r;
  if (map.is_null()) return r;
  if (!map.is_map()) {
    graph::error_once(diags, map.where, node, "'resources' must be a mapping, got " + map.describe(),
                      "e.g. resources: {cpus: 4, memory: 8G, time: 2h}");
    return r;
  }
  for (const auto& e : map.children) {
    if (std::find(kResourceKeys.begin(), kResourceKeys.end(), e.key) == kResourceKeys.end()) {
      graph::error_once(diags, e.key_where, node, "unknown resources key '" + e.key + "' (expected one of cpus, memory, time)",
                        graph::closest_hint(e.key, kResourceKeys));
      continue;
    }
    const std::string text = e.is_scalar() ? e.text : std::string();
    if (e.key == "cpus") {
      const auto n = to_number(text);
      if (!n || *n == 0 || *n > 100000)
        graph::error_once(diags, e.where, node, "resources cpus must be a whole number of CPUs (1 or more), got " + e.describe());
      else
        r.cpus = static_cast<uint32_t>(*n);
    } else if (e.key == "memory") {
      r.memory_mb = parse_memory_mb(text);
      if (!r.memory_mb)
        graph::error_once(diags, e.where, node, "resources memory must be a size such as 500M, 4G or 1T, got " + e.describe());
    } else {
      r.time_seconds = parse_time_seconds(text);
      if (!r.time_seconds)
        graph::error_once(diags, e.where, node,
                          "resources time must be a duration such as 90m, 2h, 1-00:00:00 or HH:MM:SS, got " + e.describe());
    }
  }
  return r;
}

std::map<std::string, NodeResources> read_resources_by_kind(const graph::YamlNode& map, Diagnostics& diags) {
  std::map<std::string, NodeResources> out;
  if (map.is_null()) return out;
  if (!map.is_map()) {
    graph::error_once(diags, map.where, {}, "top-level 'resources' must map component kinds (or 'default') to resources, got " + map.describe(),
                      "e.g. resources: {default: {time: 1h}, model: {cpus: 4, memory: 8G}}");
    return out;
  }
  for (const auto& e : map.children) {
    if (std::find(kKindKeys.begin(), kKindKeys.end(), e.key) == kKindKeys.end()) {
      std::string list;
      for (const auto& k : kKindKeys) list += (list.empty() ? "" : ", ") + k;
      graph::error_once(diags, e.key_where, {}, "unknown component kind '" + e.key + "' in resources (expected one of " + list + ")",
                        graph::closest_hint(e.key, kKindKeys));
      continue;
    }
    out[e.key] = read_resources(e, {}, diags);
  }
  return out;
}

nlohmann::json resources_json(const NodeResources& r) {
  nlohmann::json j = nlohmann::json::object();
  if (r.cpus) j["cpus"] = *r.cpus;
  if (r.memory_mb) j["memory"] = format_memory(*r.memory_mb);
  if (r.time_seconds) j["time"] = format_time(*r.time_seconds);
  return j;
}

NodeResources default_resources(const std::string& kind) {
  // Training and explaining are the heavy steps; the rest reads, reshapes and scores.
  if (kind == "model" || kind == "explainer") return {2, 4096, 4 * 3600};
  if (kind == "dataset" || kind == "features") return {1, 4096, 2 * 3600};
  return {1, 2048, 3600};
}

}  // namespace mien::host
