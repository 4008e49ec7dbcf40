// What a node asks a batch scheduler for: CPUs, memory and a time limit, written as
// `resources:` on a node or, per component kind, at the top level of the experiment.
// Only an executor that submits jobs (SLURM) reads them; they never change a node's
// outputs or its cache key.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/diagnostics.hpp"
#include "graph/yaml_tree.hpp"

namespace mien::host {

struct NodeResources {
  std::optional<uint32_t> cpus;
  std::optional<uint64_t> memory_mb;
  std::optional<uint64_t> time_seconds;
  bool empty() const { return !cpus && !memory_mb && !time_seconds; }
  // Fills what is unset here from `fallback`.
  NodeResources or_else(const NodeResources& fallback) const;
};

// "cpus", "memory", "time": the keys of a resources mapping.
// memory: an integer with an optional unit K, M, G or T (SLURM's; plain numbers are MB),
// e.g. 4G, 500M. time: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS (SLURM's
// forms) or a number with s, m, h or d, e.g. 90m, 2h.
NodeResources read_resources(const graph::YamlNode& map, const std::string& node, Diagnostics& diags);
// Top level: `resources: {default: {...}, model: {...}, ...}`, keyed by component kind.
std::map<std::string, NodeResources> read_resources_by_kind(const graph::YamlNode& map, Diagnostics& diags);

std::optional<uint64_t> parse_memory_mb(const std::string& text);
std::optional<uint64_t> parse_time_seconds(const std::string& text);
std::string format_memory(uint64_t mb);       // "4G", "1536M" (SLURM reads both)
std::string format_time(uint64_t seconds);    // "2:00:00", "1-00:00:00"

// As written in resolved.yaml and manifest.json: {cpus: 2, memory: 4G, time: "2:00:00"}.
nlohmann::json resources_json(const NodeResources& r);

// What a node of this kind gets when neither it nor the experiment says otherwise.
NodeResources default_resources(const std::string& kind);

}  // namespace mien::host
