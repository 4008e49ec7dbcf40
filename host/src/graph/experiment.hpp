// Experiment graphs: reading the YAML (variables, matrix expansion, --set overrides),
// validating it against the catalog, and writing the resolved form.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"
#include "graph/resources.hpp"
#include "loader/catalog.hpp"

namespace mien::host {

// A reference to another node's output, as written in `in:` ("node.port").
struct InputRef {
  std::string node;
  std::string port;
  SourceLocation where;
};

// One node after variable substitution and matrix expansion.
struct NodeSpec {
  std::string name;                 // e.g. "mlp" or, expanded, "mlp[S]"
  SourceLocation where;             // the node's key in the file
  std::string use;                  // type id without the version
  std::optional<uint32_t> pinned_version;  // from "type_id@version"
  SourceLocation use_where;
  // Parameters as written (after substitution), each with its position.
  struct Param {
    nlohmann::json value;          // YAML scalars stay strings here; typed by validation
    bool quoted = false;           // the YAML scalar was quoted: keep it a string
    SourceLocation where;
  };
  std::map<std::string, Param> with;
  SourceLocation with_where;
  std::map<std::string, std::vector<InputRef>> inputs;  // input port -> refs (lists for multiple ports)
  std::map<std::string, std::string> matrix;           // the matrix values this copy was expanded with
  std::vector<std::string> matrix_keys;                // those keys in the order written (as in the name)
  NodeResources resources;                             // `resources:` as written (batch executors only)
};

struct Experiment {
  std::string file;                // as given on the command line
  std::string base_dir;            // absolute folder of the file
  std::string name;
  uint64_t seed = 0;
  std::vector<std::string> plugin_paths;  // absolute
  std::vector<NodeSpec> nodes;     // file order
  nlohmann::json vars;             // resolved variables
  std::map<std::string, NodeResources> resources;  // top-level `resources:` by component kind ("default" too)
};

// Reads and expands an experiment. `overrides` are --set "key.path=value" strings,
// applied to the YAML document before anything else. Problems go to diags (with
// file:line:col); the returned experiment holds whatever could be read.
Experiment read_experiment(const std::string& path, const std::vector<std::string>& overrides, Diagnostics& diags);
// The same from text (tests); `file` is the name used in diagnostics.
Experiment read_experiment_text(const std::string& text, const std::string& file, const std::string& base_dir,
                                const std::vector<std::string>& overrides, Diagnostics& diags);

// A validated node: the component found, the parameters typed and defaulted, and each
// input port bound to producer outputs.
struct ResolvedNode {
  NodeSpec spec;                   // the copy; spec.inputs name the copies each input is bound to
  const ComponentEntry* component = nullptr;
  nlohmann::json params;           // every default filled in
  struct Source {
    size_t node;                   // index into ResolvedGraph::nodes
    size_t output;                 // index into that node's component->outputs()
  };
  std::vector<std::vector<Source>> inputs;  // per component->inputs(), in declaration order
};

struct ResolvedGraph {
  Experiment experiment;
  // experiment.nodes in order, except that a node expanded implicitly (a single
  // input fed by a matrix node's copies) is replaced in place by its copies, so
  // there may be more nodes here than in experiment.nodes.
  std::vector<ResolvedNode> nodes;
  std::vector<size_t> order;        // a topological order (dependencies first)
};

// Checks everything that can be checked without running plugin code: unknown
// component (with suggestions), version pin, unknown parameter, parameter type and
// range, unknown port, port kind mismatch, model capabilities an input requires,
// missing required input, unknown node, cycles. Collects every problem. Returns
// nullopt when diags holds any error afterwards (those from reading included).
std::optional<ResolvedGraph> validate_experiment(const Experiment& exp, const Catalog& catalog, Diagnostics& diags);

// The folder under <run>/nodes/ that holds a node's files: "mlp[S]" -> "mlp-S", "x[S,L]"
// -> "x-S-L"; any byte other than a letter, digit, '_', '-' or '.' becomes %XX ("S x" ->
// "S%20x"), so distinct matrix values never share a folder. Two node names that still map
// to one folder ("flt-S" beside the copy "flt[S]") are a validation error.
std::string node_folder_name(const std::string& node);

// The resolved experiment as YAML: every default filled in, versions pinned.
std::string resolved_yaml(const ResolvedGraph& graph);

}  // namespace mien::host
