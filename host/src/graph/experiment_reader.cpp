// read_experiment: YAML text -> Experiment. Order of work: parse, --set overrides,
// top-level keys, vars, the experiment's own fields, then each node (matrix
// expansion and variable substitution per copy).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "graph/experiment.hpp"
#include "core/text_match.hpp"
#include "graph/matrix_binding.hpp"
#include "graph/variables.hpp"
#include "graph/yaml_tree.hpp"

namespace mien::host {
namespace {

using graph::closest_hint;
using graph::error_once;
using graph::node_label;
using graph::VariableScope;
using graph::YamlNode;

const std::vector<std::string> kTopLevelKeys = {"experiment", "seed", "vars", "plugin_paths", "nodes", "doc", "resources"};
const std::vector<std::string> kNodeKeys = {"use", "with", "in", "matrix", "doc", "resources"};

// Node names end up in refs ("node.port") and folder names, so no dots or spaces. A
// trailing "[...]" is allowed so a resolved.yaml, whose copies are spelt out, reads back.
bool is_node_name(const std::string& s) {
  return text::is_node_name(s);
}

std::optional<uint64_t> as_unsigned(const std::string& text) {
  const auto value = graph::parse_integer_text(text);
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer() && value.get<int64_t>() >= 0) return static_cast<uint64_t>(value.get<int64_t>());
  return std::nullopt;
}

void check_keys(const YamlNode& map, const std::vector<std::string>& allowed, const std::string& node,
                const std::string& what, Diagnostics& diags) {
  for (const auto& entry : map.children) {
    if (std::find(allowed.begin(), allowed.end(), entry.key) != allowed.end()) continue;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    const std::string hint = closest_hint(entry.key, allowed);
    error_once(diags, entry.key_where, node, "unknown " + what + " key '" + entry.key + "' (expected one of " + list + ")",
               hint);
  }
}

// vars: each value may use the environment and the variables above it.
VariableScope read_vars(const YamlNode& root, Experiment& exp, Diagnostics& diags) {
  VariableScope scope;
  exp.vars = nlohmann::json::object();
  const YamlNode* vars = root.find("vars");
  if (vars == nullptr || vars->is_null()) return scope;
  if (!vars->is_map()) {
    error_once(diags, vars->where, {}, "'vars' must be a mapping of names to values, got " + vars->describe());
    return scope;
  }
  for (const auto& v : vars->children) scope.all_var_names.push_back(v.key);
  for (const auto& v : vars->children) {
    if (!text::is_identifier(v.key)) {
      error_once(diags, v.key_where, {}, "variable name '" + v.key + "' may only contain letters, digits and '_'");
      continue;
    }
    YamlNode value = v;
    graph::substitute(value, scope, diags);
    exp.vars[v.key] = graph::to_guessed_json(value);
    scope.vars.emplace_back(v.key, std::move(value));
  }
  return scope;
}

// A top-level value after substitution, or nullopt when absent.
std::optional<YamlNode> top_level(const YamlNode& root, const std::string& key, const VariableScope& scope,
                                  Diagnostics& diags) {
  const YamlNode* node = root.find(key);
  if (node == nullptr) return std::nullopt;
  YamlNode value = *node;
  graph::substitute(value, scope, diags);
  return value;
}

void read_name(const YamlNode& root, const VariableScope& scope, Experiment& exp, Diagnostics& diags) {
  const auto name = top_level(root, "experiment", scope, diags);
  if (!name || name->is_null()) {
    error_once(diags, root.where, {}, "missing 'experiment' (the experiment's name)", "add e.g. 'experiment: demo'");
    return;
  }
  if (!name->is_scalar() || !text::is_plain_name(name->text)) {
    error_once(diags, name->where, {},
               "experiment name " + name->describe() + " may only contain letters, digits, '_' and '-'");
    return;
  }
  exp.name = name->text;
}

void read_seed(const YamlNode& root, const VariableScope& scope, Experiment& exp, Diagnostics& diags) {
  const auto seed = top_level(root, "seed", scope, diags);
  if (!seed || seed->is_null()) return;
  const auto value = seed->is_scalar() ? as_unsigned(seed->text) : std::nullopt;
  if (!value) {
    error_once(diags, seed->where, {}, "seed must be a non-negative integer, got " + seed->describe());
    return;
  }
  exp.seed = *value;
}

std::string absolute_path(const std::string& base_dir, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::path(base_dir) / p;
  p = p.lexically_normal();
  if (!p.has_filename() && p.has_parent_path() && p != p.root_path()) p = p.parent_path();  // drop a trailing '/'
  return p.string();
}

void read_plugin_paths(const YamlNode& root, const VariableScope& scope, Experiment& exp, Diagnostics& diags) {
  const auto paths = top_level(root, "plugin_paths", scope, diags);
  if (!paths || paths->is_null()) return;
  std::vector<YamlNode> items = paths->is_sequence() ? paths->children : std::vector<YamlNode>{*paths};
  for (const auto& item : items) {
    if (!item.is_scalar() || item.text.empty()) {
      error_once(diags, item.where, {}, "plugin_paths must list folders, got " + item.describe());
      continue;
    }
    exp.plugin_paths.push_back(absolute_path(exp.base_dir, item.text));
    // Not an error (the components may come from elsewhere), but never silent: otherwise
    // the user sees only "unknown component" for what this folder should have provided.
    std::error_code ec;
    if (!std::filesystem::exists(exp.plugin_paths.back(), ec))
      diags.warning(item.where, {},
                    "plugin_paths entry '" + item.text + "' does not exist (" + exp.plugin_paths.back() +
                        "); no plugins are loaded from it");
  }
}

// ---- matrix ----------------------------------------------------------------------

struct MatrixAxis {
  std::string key;
  std::vector<YamlNode> values;
};

// Checks one matrix entry; false after reporting what is wrong with it.
bool read_axis(const YamlNode& entry, const std::string& node, MatrixAxis& axis, Diagnostics& diags) {
  if (!text::is_identifier(entry.key)) {
    error_once(diags, entry.key_where, node, "matrix key '" + entry.key + "' may only contain letters, digits and '_'");
    return false;
  }
  if (!entry.is_sequence() || entry.children.empty()) {
    error_once(diags, entry.where, node,
               "matrix '" + entry.key + "' must be a non-empty list of values, got " + entry.describe(),
               "e.g. matrix: {" + entry.key + ": [a, b]}");
    return false;
  }
  axis.key = entry.key;
  bool ok = true;
  std::vector<std::string> seen;
  for (const auto& v : entry.children) {
    if (!v.is_scalar() || v.text.empty() || v.text.find_first_of("[],") != std::string::npos) {
      error_once(diags, v.where, node,
                 "matrix '" + entry.key + "' value " + v.describe() +
                     " must be a non-empty single value without ',', '[' or ']' (it becomes part of node names)");
      ok = false;
    } else if (std::find(seen.begin(), seen.end(), v.text) != seen.end()) {
      error_once(diags, v.where, node, "matrix '" + entry.key + "' lists '" + v.text + "' twice");
      ok = false;
    }
    seen.push_back(v.text);
    axis.values.push_back(v);
  }
  return ok;
}

// The node's matrix with variables substituted; nullopt when the node has none, an
// empty vector (with diagnostics) when the matrix is broken.
std::optional<std::vector<MatrixAxis>> read_matrix(const YamlNode& node_yaml, const std::string& name,
                                                   VariableScope scope, Diagnostics& diags) {
  const YamlNode* matrix = node_yaml.find("matrix");
  if (matrix == nullptr) return std::nullopt;
  YamlNode m = *matrix;
  scope.node = name;
  graph::substitute(m, scope, diags);
  if (!m.is_map() || m.children.empty()) {
    error_once(diags, m.where, name, "matrix must map keys to lists of values, got " + m.describe(),
               "e.g. matrix: {pose: [S, HL, HR]}");
    return std::vector<MatrixAxis>{};
  }
  std::vector<MatrixAxis> axes;
  bool ok = true;
  for (const auto& entry : m.children) {
    MatrixAxis axis;
    ok = read_axis(entry, name, axis, diags) && ok;
    axes.push_back(std::move(axis));
  }
  if (!ok) return std::vector<MatrixAxis>{};
  return axes;
}

// The cartesian product, first key outermost: [[a,x],[a,y],[b,x],[b,y]].
std::vector<std::vector<const YamlNode*>> combinations(const std::vector<MatrixAxis>& axes) {
  std::vector<std::vector<const YamlNode*>> out{{}};
  for (const auto& axis : axes) {
    std::vector<std::vector<const YamlNode*>> next;
    for (const auto& partial : out)
      for (const auto& v : axis.values) {
        next.push_back(partial);
        next.back().push_back(&v);
      }
    out = std::move(next);
  }
  return out;
}

// ---- one node copy ----------------------------------------------------------------

void read_use(const YamlNode& node_yaml, NodeSpec& spec, Diagnostics& diags) {
  const YamlNode* use = node_yaml.find("use");
  if (use == nullptr || use->is_null()) {
    error_once(diags, spec.where, node_label(spec), "missing 'use' (the component's type id, e.g. 'use: dataset.table')");
    return;
  }
  spec.use_where = use->where;
  if (!use->is_scalar() || use->text.empty()) {
    error_once(diags, use->where, node_label(spec), "'use' must name a component, got " + use->describe());
    return;
  }
  const size_t at = use->text.find('@');
  spec.use = use->text.substr(0, at);
  if (at == std::string::npos) return;
  const auto version = as_unsigned(use->text.substr(at + 1));
  if (!version || *version > UINT32_MAX) {
    error_once(diags, use->where, node_label(spec),
               "the version in '" + use->text + "' must be a whole number, as in '" + spec.use + "@1'");
    return;
  }
  spec.pinned_version = static_cast<uint32_t>(*version);
}

void read_with(const YamlNode& node_yaml, NodeSpec& spec, Diagnostics& diags) {
  const YamlNode* with = node_yaml.find("with");
  spec.with_where = with ? with->key_where : spec.where;
  if (with == nullptr || with->is_null()) return;
  if (!with->is_map()) {
    error_once(diags, with->where, node_label(spec), "'with' must map parameter names to values, got " + with->describe());
    return;
  }
  for (const auto& p : with->children)
    spec.with[p.key] = NodeSpec::Param{graph::to_raw_json(p), p.is_scalar() && p.quoted, p.where};
}

// "node.port", split at the last dot (a copy name such as "mlp[0.5]" may hold dots).
std::optional<InputRef> parse_ref(const YamlNode& value, const std::string& port, const NodeSpec& spec,
                                  Diagnostics& diags) {
  const size_t dot = value.is_scalar() ? value.text.rfind('.') : std::string::npos;
  if (dot == std::string::npos || dot == 0 || dot + 1 == value.text.size()) {
    error_once(diags, value.where, node_label(spec),
               "input '" + port + "' must name an output as 'node.port', got " + value.describe(),
               "e.g. 'data.table'");
    return std::nullopt;
  }
  return InputRef{value.text.substr(0, dot), value.text.substr(dot + 1), value.where};
}

void read_inputs(const YamlNode& node_yaml, NodeSpec& spec, Diagnostics& diags) {
  const YamlNode* in = node_yaml.find("in");
  if (in == nullptr || in->is_null()) return;
  if (!in->is_map()) {
    error_once(diags, in->where, node_label(spec), "'in' must map input names to 'node.port' references, got " + in->describe());
    return;
  }
  for (const auto& port : in->children) {
    auto& refs = spec.inputs[port.key];
    const std::vector<YamlNode> values = port.is_sequence() ? port.children : std::vector<YamlNode>{port};
    for (const auto& v : values)
      if (auto ref = parse_ref(v, port.key, spec, diags)) refs.push_back(std::move(*ref));
  }
}

void read_doc(const YamlNode& node_yaml, const std::string& name, Diagnostics& diags) {
  const YamlNode* doc = node_yaml.find("doc");
  if (doc != nullptr && !doc->is_scalar() && !doc->is_null())
    error_once(diags, doc->where, name, "'doc' must be text, got " + doc->describe());
}

// One copy of a node; spec arrives with its name, position and matrix values set.
NodeSpec read_copy(const YamlNode& node_yaml, NodeSpec spec, const VariableScope& scope, Diagnostics& diags) {
  YamlNode body = node_yaml;
  if (YamlNode* matrix = body.find("matrix")) *matrix = YamlNode{};  // read already, not substituted again
  graph::substitute(body, scope, diags);
  read_use(body, spec, diags);
  read_with(body, spec, diags);
  read_inputs(body, spec, diags);
  read_doc(body, node_label(spec), diags);
  if (const YamlNode* resources = body.find("resources")) spec.resources = read_resources(*resources, node_label(spec), diags);
  return spec;
}

std::string copy_name(const std::string& base, const std::vector<const YamlNode*>& values) {
  if (values.empty()) return base;
  std::string out = base + "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + values[i]->text;
  return out + "]";
}

void read_node(const YamlNode& entry, VariableScope scope, Experiment& exp, Diagnostics& diags) {
  const std::string& name = entry.key;
  scope.node = name;
  if (!is_node_name(name)) {
    error_once(diags, entry.key_where, {},
               "node name '" + name + "' may only contain letters, digits, '_' and '-'");
    return;
  }
  if (!entry.is_map()) {
    error_once(diags, entry.where, name, "a node must be a mapping with 'use' (and 'with', 'in'), got " + entry.describe());
    return;
  }
  check_keys(entry, kNodeKeys, name, "node", diags);
  const auto axes = read_matrix(entry, name, scope, diags);
  if (axes && axes->empty()) scope.matrix_broken = true;
  NodeSpec spec;
  spec.where = entry.key_where;
  if (!axes || axes->empty()) {
    spec.name = name;
    exp.nodes.push_back(read_copy(entry, std::move(spec), scope, diags));
    return;
  }
  scope.has_matrix = true;
  for (const auto& values : combinations(*axes)) {
    NodeSpec copy = spec;
    copy.name = copy_name(name, values);
    scope.matrix.clear();
    for (size_t i = 0; i < axes->size(); ++i) {
      scope.matrix[(*axes)[i].key] = *values[i];
      copy.matrix[(*axes)[i].key] = values[i]->text;
      copy.matrix_keys.push_back((*axes)[i].key);
    }
    exp.nodes.push_back(read_copy(entry, std::move(copy), scope, diags));
  }
}

void read_nodes(const YamlNode& root, const VariableScope& scope, Experiment& exp, Diagnostics& diags) {
  const YamlNode* nodes = root.find("nodes");
  if (nodes == nullptr || nodes->is_null()) {
    error_once(diags, nodes ? nodes->where : root.where, {}, "missing 'nodes' (the components to run)");
    return;
  }
  if (!nodes->is_map()) {
    error_once(diags, nodes->where, {}, "'nodes' must map node names to nodes, got " + nodes->describe());
    return;
  }
  for (const auto& entry : nodes->children) read_node(entry, scope, exp, diags);
}

}  // namespace

Experiment read_experiment_text(const std::string& text, const std::string& file, const std::string& base_dir,
                                const std::vector<std::string>& overrides, Diagnostics& diags) {
  Experiment exp;
  exp.file = file;
  exp.base_dir = base_dir;
  exp.vars = nlohmann::json::object();
  const size_t errors_before = diags.error_count();
  YamlNode root = graph::parse_yaml(text, file, diags);
  if (root.is_null() && diags.error_count() > errors_before) return exp;  // a syntax error: nothing more to say
  root.where = {file, 1, 1};
  graph::apply_overrides(root, overrides, diags);
  if (!root.is_map()) {
    error_once(diags, root.where, {},
               "an experiment must be a mapping with 'experiment' and 'nodes', got " + root.describe());
    return exp;
  }
  check_keys(root, kTopLevelKeys, {}, "top-level", diags);
  const VariableScope scope = read_vars(root, exp, diags);
  read_name(root, scope, exp, diags);
  read_seed(root, scope, exp, diags);
  read_plugin_paths(root, scope, exp, diags);
  if (const auto resources = top_level(root, "resources", scope, diags)) exp.resources = read_resources_by_kind(*resources, diags);
  read_nodes(root, scope, exp, diags);
  return exp;
}

Experiment read_experiment(const std::string& path, const std::vector<std::string>& overrides, Diagnostics& diags) {
  const std::string base_dir = std::filesystem::absolute(path).lexically_normal().parent_path().string();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Experiment exp;
    exp.file = path;
    exp.base_dir = base_dir;
    diags.error({path, 0, 0}, {}, "cannot read the experiment file (does it exist?)");
    return exp;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return read_experiment_text(text.str(), path, base_dir, overrides, diags);
}

}  // namespace mien::host
