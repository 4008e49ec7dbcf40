// Node parameters: YAML as written -> JSON typed by the component's JSON Schema
// (the subset plugins use: type, properties, required, default, enum, minimum,
// maximum, items, additionalProperties).
#pragma once

#include <nlohmann/json.hpp>

#include "core/diagnostics.hpp"
#include "graph/experiment.hpp"
#include "loader/catalog.hpp"

namespace mien::host::graph {

// The node's parameters typed against entry.schema with every default filled in.
// Unknown, mistyped, out-of-range, not-allowed and missing required parameters are
// reported (each at the parameter's position).
nlohmann::json type_params(const NodeSpec& spec, const ComponentEntry& entry, Diagnostics& diags);

}  // namespace mien::host::graph
