// resolved_yaml: the validated experiment written back as YAML, fully spelt out
// (versions pinned, defaults filled, copies named), in a fixed layout so equal
// experiments give equal text (the run folder's resolved.yaml, and its hash).
// Mappings are written as blocks with sorted keys, lists in flow style.
#include <sstream>

#include "graph/experiment.hpp"
#include "core/text_match.hpp"
#include "graph/yaml_tree.hpp"

namespace mien::host {
namespace {

using nlohmann::json;

// "${" in a value must not be read as a variable when the file is read back.
std::string escape_variables(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 2, "${") == 0) out += '$';
    out += s[i];
  }
  return out;
}

// Plain when it reads back as the same string in block and flow context, else
// double-quoted (JSON escapes are valid YAML).
std::string string_scalar(const std::string& raw) {
  const std::string s = escape_variables(raw);
  const bool plain = text::is_plain_yaml_word(s) && graph::guess_scalar(s, false).is_string() &&
                     graph::parse_bool_text(s).is_null();
  return plain ? s : json(s).dump();
}

std::string flow(const json& v) {
  if (v.is_string()) return string_scalar(v.get<std::string>());
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + flow(v[i]);
    return out + "]";
  }
  if (v.is_object()) {
    std::string out = "{";
    bool first = true;
    for (const auto& [k, x] : v.items()) {
      out += (first ? "" : ", ") + string_scalar(k) + ": " + flow(x);
      first = false;
    }
    return out + "}";
  }
  return v.dump();  // null, booleans and numbers are already YAML
}

// Writes " value\n" after a "key:"; non-empty mappings become indented blocks.
void block(std::ostream& os, const json& v, int indent) {
  if (!v.is_object() || v.empty()) {
    os << ' ' << flow(v) << '\n';
    return;
  }
  os << '\n';
  for (const auto& [k, x] : v.items()) {
    os << std::string(indent, ' ') << string_scalar(k) << ':';
    block(os, x, indent + 2);
  }
}

void write_inputs(std::ostream& os, const ResolvedGraph& graph, const ResolvedNode& node) {
  const auto inputs = node.component->inputs();
  std::ostringstream body;
  for (size_t i = 0; i < inputs.size() && i < node.inputs.size(); ++i) {
    if (node.inputs[i].empty()) continue;
    json refs = json::array();
    for (const auto& src : node.inputs[i]) {
      const ResolvedNode& producer = graph.nodes[src.node];
      refs.push_back(producer.spec.name + "." + producer.component->outputs()[src.output].name);
    }
    body << "      " << string_scalar(inputs[i].name) << ": "
         << flow(inputs[i].multiple() ? refs : refs[0]) << '\n';
  }
  if (!body.str().empty()) os << "    in:\n" << body.str();
}

void write_node(std::ostream& os, const ResolvedGraph& graph, const ResolvedNode& node) {
  os << "  " << string_scalar(node.spec.name) << ":\n";
  os << "    use: " << node.component->key() << '\n';
  os << "    with:";
  block(os, node.params.is_object() ? node.params : json::object(), 6);
  write_inputs(os, graph, node);
  if (!node.spec.resources.empty()) os << "    resources: " << flow(resources_json(node.spec.resources)) << '\n';
}

}  // namespace

std::string resolved_yaml(const ResolvedGraph& graph) {
  const Experiment& exp = graph.experiment;
  std::ostringstream os;
  os << "experiment: " << string_scalar(exp.name) << '\n';
  os << "seed: " << exp.seed << '\n';
  os << "vars:";
  block(os, exp.vars.is_object() ? exp.vars : json::object(), 2);
  os << "plugin_paths: " << flow(json(exp.plugin_paths)) << '\n';
  if (!exp.resources.empty()) {
    json by_kind = json::object();
    for (const auto& [kind, r] : exp.resources) by_kind[kind] = resources_json(r);
    os << "resources:";
    block(os, by_kind, 2);
  }
  os << "nodes:\n";
  for (const auto& node : graph.nodes)
    if (node.component != nullptr) write_node(os, graph, node);
  return os.str();
}

}  // namespace mien::host
