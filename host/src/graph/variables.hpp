// Variable substitution in scalars: ${name}, ${name:-default}, ${env:NAME},
// ${env:NAME:-default}, ${matrix.key}; "$${" writes a literal "${".
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"
#include "graph/yaml_tree.hpp"

namespace mien::host::graph {

struct VariableScope {
  // Variables defined so far, in the order written.
  std::vector<std::pair<std::string, YamlNode>> vars;
  // Every variable name in the file, so a use before the definition gets a clear message.
  std::vector<std::string> all_var_names;
  // The matrix values of the node copy being read; has_matrix is false outside a node
  // with a matrix. A node whose matrix is broken (already reported) sets matrix_broken
  // so its ${matrix.*} uses are left alone instead of reported again.
  bool has_matrix = false;
  bool matrix_broken = false;
  std::map<std::string, YamlNode> matrix;
  std::string node;  // for diagnostics

  const YamlNode* find_var(const std::string& name) const;
};

// Replaces variable uses in every scalar below node (values, not keys). A scalar that
// is exactly one ${...} takes the variable's value with its YAML type (a list stays a
// list, a plain 5 stays a plain 5); otherwise the values are pasted into the text.
// Unknown variables are reported at the scalar and left as written.
void substitute(YamlNode& node, const VariableScope& scope, Diagnostics& diags);

}  // namespace mien::host::graph
