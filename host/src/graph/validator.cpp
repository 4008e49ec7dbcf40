// validate_experiment: expands matrix propagation, then checks every node copy
// against the catalog (component, parameters, inputs) and orders the graph. Every
// problem is reported; matrix copies that share a mistake report it once.
#include <algorithm>
#include <deque>
#include <cctype>
#include <functional>
#include <map>
#include <set>

#include <mien/text.hpp>

#include "graph/experiment.hpp"
#include "graph/matrix_binding.hpp"
#include "graph/param_schema.hpp"
#include "graph/yaml_tree.hpp"

namespace mien::host {
namespace {

using graph::Binding;
using graph::closest;
using graph::closest_hint;
using graph::error_once;
using graph::MatrixExpansion;
using graph::node_label;

std::string with_article(const std::string& noun) {
  const bool vowel = !noun.empty() && std::string("aeiou").find(noun[0]) != std::string::npos;
  return (vowel ? "an " : "a ") + noun;
}

std::vector<std::string> port_names(const std::vector<PortInfo>& ports) {
  std::vector<std::string> out;
  for (const auto& p : ports) out.push_back(p.name);
  return out;
}

// A producer output may feed an input when the kinds are equal, either side is ANY,
// or an image goes to a tensor input (an image is a tensor with a pixel format).
bool kinds_fit(mien_value_kind input, mien_value_kind output) {
  return input == output || input == MIEN_VALUE_ANY || output == MIEN_VALUE_ANY ||
         (input == MIEN_VALUE_TENSOR && output == MIEN_VALUE_IMAGE);
}

// A bound source before node indices are known.
struct PendingSource {
  std::string node;
  size_t output;
};

class NodeValidator {
 public:
  NodeValidator(const Catalog& catalog, const MatrixExpansion& expansion, Diagnostics& diags)
      : catalog_(catalog), expansion_(expansion), diags_(diags) {}

  // Checks one node copy; the result's inputs are filled by the caller from pending.
  ResolvedNode check(const NodeSpec& spec, std::vector<std::vector<PendingSource>>& pending) {
    ResolvedNode node;
    node.spec = spec;
    node.component = find_component(spec);
    if (node.component) node.params = graph::type_params(spec, *node.component, diags_);
    const auto inputs = node.component ? node.component->inputs() : std::vector<PortInfo>{};
    pending.assign(inputs.size(), {});
    node.spec.inputs = bind_inputs(spec, node.component, inputs, pending);
    return node;
  }

 private:
  const ComponentEntry* find_component(const NodeSpec& spec) {
    if (spec.use.empty()) return nullptr;  // a missing 'use' was reported while reading
    if (const ComponentEntry* e = catalog_.find(spec.use, spec.pinned_version)) return e;
    if (catalog_.find(spec.use) == nullptr) {
      error_once(diags_, spec.use_where, node_label(spec),
                 "unknown component '" + spec.use + "'" + catalog_.rejection_note(spec.use),
                 closest_hint(spec.use, catalog_.type_ids()));
      return nullptr;
    }
    std::vector<std::string> versions;
    for (const ComponentEntry* e : catalog_.all())
      if (e->type_id == spec.use) versions.push_back(std::to_string(e->version));
    error_once(diags_, spec.use_where, node_label(spec),
               "component '" + spec.use + "' has no version " + std::to_string(*spec.pinned_version),
               "versions found: " + join(versions));
    return nullptr;
  }

  // Binds every `in:` entry; returns the refs rewritten to the copies they bind to.
  std::map<std::string, std::vector<InputRef>> bind_inputs(const NodeSpec& spec, const ComponentEntry* component,
                                                           const std::vector<PortInfo>& inputs,
                                                           std::vector<std::vector<PendingSource>>& pending) {
    std::map<std::string, std::vector<InputRef>> bound;
    std::set<std::string> meant;  // ports a misspelt input probably meant
    for (const auto& [port, refs] : spec.inputs) {
      const PortInfo* info = component ? component->find_port(port, MIEN_PORT_IN) : nullptr;
      if (component && info == nullptr) report_unknown_port(spec, *component, port, refs, inputs, meant);
      size_t count = 0;
      std::vector<std::pair<const InputRef*, std::vector<const NodeSpec*>>> gathered;
      for (const auto& ref : refs) {
        if (graph::has_error_at(diags_, ref.where)) continue;  // e.g. an unknown variable in it
        gathered.emplace_back(&ref, bind_ref(spec, port, ref));
        for (const NodeSpec* producer : gathered.back().second) {
          ++count;
          bound[port].push_back(InputRef{producer->name, ref.port, ref.where});
          const size_t output = check_source(spec, info, port, ref, *producer);
          if (info != nullptr && output != SIZE_MAX) pending[index_of(inputs, port)].push_back({producer->name, output});
        }
      }
      if (info && !info->multiple() && count > 1) report_too_many(spec, port, bound[port]);
      if (info && info->multiple() && component->kind != MIEN_KIND_REPORT) warn_mixed_copies(spec, port, gathered);
    }
    if (component) report_missing_inputs(spec, inputs, meant);
    return bound;
  }

  // Two or more refs of one list that each gather all copies of a matrix node over the same
  // key (e.g. [deep_shap.attributions, kernel_shap.attributions], both over pose) make one
  // list that mixes the key's values: right for pooling, wrong for a node that compares
  // its inputs row by row (metric.agreement). Only the author knows, so this warns.
  void warn_mixed_copies(const NodeSpec& spec, const std::string& port,
                         const std::vector<std::pair<const InputRef*, std::vector<const NodeSpec*>>>& gathered) {
    std::map<std::string, std::vector<std::string>> refs_by_key;  // matrix key -> refs gathering over it
    std::map<std::string, std::vector<std::string>> values_by_key;  // in the copies' order
    size_t total = 0;
    for (const auto& [ref, producers] : gathered) {
      total += producers.size();
      if (producers.size() < 2) continue;
      std::set<std::string> keys;
      for (const NodeSpec* p : producers)
        for (const auto& [key, value] : p->matrix)
          if (!spec.matrix.count(key)) {
            keys.insert(key);
            auto& vs = values_by_key[key];
            if (std::find(vs.begin(), vs.end(), value) == vs.end()) vs.push_back(value);
          }
      for (const auto& key : keys) refs_by_key[key].push_back(ref->node);
    }
    for (const auto& [key, nodes] : refs_by_key) {
      if (nodes.size() < 2 || values_by_key[key].size() < 2) continue;
      std::vector<std::string> quoted;
      const std::vector<std::string>& values = values_by_key[key];
      for (const auto& n : nodes) quoted.push_back("'" + n + "'");
      diags_.warning(gathered.front().first->where, node_label(spec),
                     "input '" + port + "' gathers the copies of " + join(quoted) + " over matrix '" + key + "' (" +
                         join(values) + ") into one list of " + std::to_string(total) + " values, so it mixes " + key +
                         " " + join(values),
                     "to take each " + key + " on its own, give this node the same matrix: 'matrix: {" + key + ": [" +
                         join(values) + "]}' (each copy then binds to its own " + key +
                         "'s inputs); to pool them on purpose, keep it as written");
      return;
    }
  }

  void report_too_many(const NodeSpec& spec, const std::string& port, const std::vector<InputRef>& bound) {
    std::vector<std::string> names;
    for (const auto& ref : bound) names.push_back(ref.node + "." + ref.port);
    error_once(diags_, bound.front().where, node_label(spec),
               "input '" + port + "' takes one value, but " + std::to_string(bound.size()) + " are connected (" +
                   join(names) + ")");
  }

  static size_t index_of(const std::vector<PortInfo>& ports, const std::string& name) {
    for (size_t i = 0; i < ports.size(); ++i)
      if (ports[i].name == name) return i;
    return SIZE_MAX;
  }

  void report_unknown_port(const NodeSpec& spec, const ComponentEntry& component, const std::string& port,
                           const std::vector<InputRef>& refs, const std::vector<PortInfo>& inputs,
                           std::set<std::string>& meant) {
    const auto names = port_names(inputs);
    for (const auto& s : closest(port, names)) meant.insert(s);
    std::string hint = closest_hint(port, names);
    if (hint.empty()) hint = names.empty() ? component.type_id + " has no inputs" : "its inputs are " + join(names);
    const SourceLocation where = refs.empty() ? spec.where : refs.front().where;
    error_once(diags_, where, node_label(spec), "unknown input '" + port + "' for " + component.type_id, hint);
  }

  std::vector<const NodeSpec*> bind_ref(const NodeSpec& spec, const std::string& port, const InputRef& ref) {
    const Binding b = expansion_.bind(ref, spec.matrix, expansion_.gathers(spec, port));
    if (b.status == Binding::Status::kUnknownNode) {
      error_once(diags_, ref.where, node_label(spec), "input '" + port + "' refers to unknown node '" + ref.node + "'",
                 closest_hint(ref.node, expansion_.node_names()));
    } else if (b.status == Binding::Status::kNoMatch) {
      std::string values;
      for (const auto& key : spec.matrix_keys) values += (values.empty() ? "" : ", ") + key + "=" + spec.matrix.at(key);
      error_once(diags_, ref.where, node_label(spec),
                 "input '" + port + "': no copy of '" + ref.node + "' matches this node's matrix (" + values + ")");
    }
    return b.producers;
  }

  // Checks one producer output against the input; its index among the producer's
  // outputs, or SIZE_MAX when it cannot be used.
  size_t check_source(const NodeSpec& spec, const PortInfo* input, const std::string& port, const InputRef& ref,
                      const NodeSpec& producer) {
    const ComponentEntry* from = catalog_.find(producer.use, producer.pinned_version);
    if (from == nullptr) return SIZE_MAX;  // reported at the producer
    const auto outputs = from->outputs();
    const size_t index = index_of(outputs, ref.port);
    if (index == SIZE_MAX) {
      error_once(diags_, ref.where, node_label(spec),
                 "node '" + ref.node + "' (" + from->type_id + ") has no output '" + ref.port + "'",
                 closest_hint(ref.port, port_names(outputs)));
      return SIZE_MAX;
    }
    if (input == nullptr) return index;
    const PortInfo& output = outputs[index];
    if (!kinds_fit(input->kind, output.kind)) {
      error_once(diags_, ref.where, node_label(spec),
                 "input '" + port + "' expects " + with_article(value_kind_name(input->kind)) + ", but '" + ref.node +
                     "." + ref.port + "' gives " + with_article(value_kind_name(output.kind)));
      return SIZE_MAX;
    }
    return check_caps(spec, *input, ref, *from) ? index : SIZE_MAX;
  }

  bool check_caps(const NodeSpec& spec, const PortInfo& input, const InputRef& ref, const ComponentEntry& from) {
    if (input.requires_caps == 0 || from.kind != MIEN_KIND_MODEL) return true;
    const uint64_t lacking = input.requires_caps & ~from.model_caps;
    if (lacking == 0) return true;
    error_once(diags_, ref.where, node_label(spec),
               spec.use + " needs " + capability_names(lacking) + " on input '" + input.name + "'; " + from.type_id +
                   " '" + ref.node + "' offers only " + capability_names(from.model_caps));
    return false;
  }

  void report_missing_inputs(const NodeSpec& spec, const std::vector<PortInfo>& inputs,
                             const std::set<std::string>& meant) {
    for (const auto& p : inputs) {
      // A misspelt input that probably meant this port was reported already.
      if (p.optional() || spec.inputs.count(p.name) || meant.count(p.name)) continue;
      error_once(diags_, spec.where, node_label(spec),
                 "missing required input '" + p.name + "' (" + with_article(value_kind_name(p.kind)) + ")",
                 "connect it under 'in:', e.g. 'in: {" + p.name + ": node.port}'");
    }
  }

  const Catalog& catalog_;
  const MatrixExpansion& expansion_;
  Diagnostics& diags_;
};

void report_duplicate_names(const std::vector<NodeSpec>& specs, Diagnostics& diags) {
  std::set<std::string> seen;
  std::map<std::string, std::string> folders;  // folder -> the first node writing it
  for (const auto& s : specs) {
    if (!seen.insert(s.name).second) {
      error_once(diags, s.where, s.name, "two nodes are named '" + s.name + "'", "rename one of them");
      continue;
    }
    const auto [it, fresh] = folders.emplace(node_folder_name(s.name), s.name);
    if (!fresh)
      error_once(diags, s.where, s.name,
                 "nodes '" + it->second + "' and '" + s.name + "' would both write the folder nodes/" + it->first,
                 "rename one of them");
  }
}

// consumers[i]: the nodes that take an input from node i (one entry per edge).
std::vector<std::vector<size_t>> consumers_of(const std::vector<ResolvedNode>& nodes) {
  std::vector<std::vector<size_t>> out(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const auto& port : nodes[i].inputs)
      for (const auto& src : port) out[src.node].push_back(i);
  return out;
}

// Kahn's algorithm; among ready nodes the earliest in the file goes first.
std::vector<size_t> topological_order(const std::vector<std::vector<size_t>>& consumers) {
  std::vector<size_t> waiting(consumers.size(), 0);
  for (const auto& cs : consumers)
    for (size_t c : cs) ++waiting[c];
  std::set<size_t> ready;
  for (size_t i = 0; i < waiting.size(); ++i)
    if (waiting[i] == 0) ready.insert(i);
  std::vector<size_t> order;
  while (!ready.empty()) {
    const size_t n = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(n);
    for (size_t c : consumers[n])
      if (--waiting[c] == 0) ready.insert(c);
  }
  return order;
}

// Strongly connected components (Tarjan); each component's nodes sorted.
std::vector<std::vector<size_t>> components_of(const std::vector<std::vector<size_t>>& consumers) {
  const size_t n = consumers.size();
  std::vector<size_t> index(n, SIZE_MAX), low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<size_t> stack;
  std::vector<std::vector<size_t>> out;
  size_t counter = 0;
  std::function<void(size_t)> visit = [&](size_t v) {
    index[v] = low[v] = counter++;
    stack.push_back(v);
    on_stack[v] = true;
    for (size_t w : consumers[v]) {
      if (index[w] == SIZE_MAX) {
        visit(w);
        low[v] = std::min(low[v], low[w]);
      } else if (on_stack[w]) {
        low[v] = std::min(low[v], index[w]);
      }
    }
    if (low[v] != index[v]) return;
    std::vector<size_t> component;
    size_t w;
    do {
      w = stack.back();
      stack.pop_back();
      on_stack[w] = false;
      component.push_back(w);
    } while (w != v);
    std::sort(component.begin(), component.end());
    out.push_back(std::move(component));
  };
  for (size_t v = 0; v < n; ++v)
    if (index[v] == SIZE_MAX) visit(v);
  return out;
}

// The shortest way from the component's first node back to itself, in data-flow order.
std::vector<size_t> cycle_through(size_t start, const std::vector<size_t>& component,
                                  const std::vector<std::vector<size_t>>& consumers) {
  std::map<size_t, size_t> came_from;
  std::deque<size_t> queue{start};
  while (!queue.empty()) {
    const size_t v = queue.front();
    queue.pop_front();
    std::vector<size_t> next = consumers[v];
    std::sort(next.begin(), next.end());
    for (size_t w : next) {
      if (!std::binary_search(component.begin(), component.end(), w)) continue;
      if (w == start) {
        std::vector<size_t> path{start};
        for (size_t x = v; x != start; x = came_from[x]) path.insert(path.begin() + 1, x);
        path.push_back(start);
        return path;
      }
      if (came_from.emplace(w, v).second) queue.push_back(w);
    }
  }
  return {start, start};
}

void report_cycles(const std::vector<ResolvedNode>& nodes, const std::vector<std::vector<size_t>>& consumers,
                   Diagnostics& diags) {
  auto components = components_of(consumers);
  std::sort(components.begin(), components.end());
  for (const auto& component : components) {
    const size_t start = component.front();
    const auto& self = consumers[start];
    if (component.size() == 1 && std::find(self.begin(), self.end(), start) == self.end()) continue;
    std::string text;
    for (size_t v : cycle_through(start, component, consumers)) text += (text.empty() ? "" : " -> ") + nodes[v].spec.name;
    error_once(diags, nodes[start].spec.where, {}, "cycle: " + text, "a node cannot depend on its own outputs");
  }
}

}  // namespace

std::string node_folder_name(const std::string& node) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : node) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.') out += ch;
    else if (c == '[' || c == ',') out += '-';
    else if (c == ']') continue;
    else out += {'%', kHex[c >> 4], kHex[c & 15]};
  }
  return out;
}

std::optional<ResolvedGraph> validate_experiment(const Experiment& exp, const Catalog& catalog, Diagnostics& diags) {
  const MatrixExpansion expansion(exp, catalog);
  const std::vector<NodeSpec> specs = expansion.nodes();
  report_duplicate_names(specs, diags);

  ResolvedGraph graph;
  graph.experiment = exp;
  NodeValidator validator(catalog, expansion, diags);
  std::vector<std::vector<std::vector<PendingSource>>> pending(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) graph.nodes.push_back(validator.check(specs[i], pending[i]));

  std::map<std::string, size_t> index;
  for (size_t i = 0; i < graph.nodes.size(); ++i) index.emplace(graph.nodes[i].spec.name, i);
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    for (const auto& port : pending[i]) {
      graph.nodes[i].inputs.emplace_back();
      for (const auto& src : port) graph.nodes[i].inputs.back().push_back({index.at(src.node), src.output});
    }

  const auto consumers = consumers_of(graph.nodes);
  graph.order = topological_order(consumers);
  if (graph.order.size() < graph.nodes.size()) report_cycles(graph.nodes, consumers, diags);
  // Errors from reading count too: a graph from a broken file must not run.
  if (diags.has_errors()) return std::nullopt;
  return graph;
}

}  // namespace mien::host
