#include "graph/matrix_binding.hpp"

#include <algorithm>

namespace mien::host::graph {
namespace {

using Matrix = std::map<std::string, std::string>;

// Matrix values with their keys in naming order.
struct Assignment {
  Matrix values;
  std::vector<std::string> keys;
};

bool agrees(const Matrix& a, const Matrix& b) {
  for (const auto& [key, value] : a) {
    auto it = b.find(key);
    if (it != b.end() && it->second != value) return false;
  }
  return true;
}

bool covers(const Matrix& consumer, const Matrix& producer) {
  return std::all_of(producer.begin(), producer.end(), [&](const auto& kv) { return consumer.count(kv.first) > 0; });
}

Assignment merged(const Assignment& a, const NodeSpec& producer) {
  Assignment out = a;
  for (const auto& key : producer.matrix_keys) {
    if (out.values.count(key)) continue;
    out.values[key] = producer.matrix.at(key);
    out.keys.push_back(key);
  }
  return out;
}

std::string name_for(const std::string& base, const Assignment& a) {
  std::string out = base + "[";
  for (size_t i = 0; i < a.keys.size(); ++i) out += (i ? "," : "") + a.values.at(a.keys[i]);
  return out + "]";
}

std::vector<std::string> names_of(const std::vector<NodeSpec>& specs) {
  std::vector<std::string> out;
  for (const auto& s : specs) out.push_back(s.name);
  return out;
}

}  // namespace

std::string written_name(const std::string& copy_name) { return copy_name.substr(0, copy_name.find('[')); }

std::string node_label(const NodeSpec& spec) { return spec.matrix_keys.empty() ? spec.name : written_name(spec.name); }

MatrixExpansion::MatrixExpansion(const Experiment& exp, const Catalog& catalog)
    : catalog_(catalog), written_(exp.nodes) {
  for (const auto& spec : written_) copies_.push_back({spec});
  rebuild_index();
  // Each pass expands every node from the previous pass's copies. Copies only gain
  // keys, so this settles; the bound stops a pathological graph (e.g. a cycle).
  for (size_t pass = 0; pass <= written_.size() + 1; ++pass) {
    std::vector<std::vector<NodeSpec>> next;
    bool changed = false;
    for (size_t i = 0; i < written_.size(); ++i) {
      next.push_back(expand(written_[i]));
      changed = changed || names_of(next.back()) != names_of(copies_[i]);
    }
    copies_ = std::move(next);
    rebuild_index();
    if (!changed) break;
  }
}

void MatrixExpansion::rebuild_index() {
  by_name_.clear();
  by_written_name_.clear();
  for (const auto& copies : copies_)
    for (const auto& c : copies) {
      by_name_.emplace(c.name, &c);
      by_written_name_[written_name(c.name)].push_back(&c);
    }
}

std::vector<NodeSpec> MatrixExpansion::nodes() const {
  std::vector<NodeSpec> out;
  for (const auto& copies : copies_) out.insert(out.end(), copies.begin(), copies.end());
  return out;
}

std::vector<std::string> MatrixExpansion::node_names() const {
  std::vector<std::string> out;
  for (const auto& [name, copies] : by_written_name_) out.push_back(name);
  for (const auto& [name, spec] : by_name_)
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  return out;
}

bool MatrixExpansion::gathers(const NodeSpec& spec, const std::string& port) const {
  const ComponentEntry* entry = catalog_.find(spec.use, spec.pinned_version);
  const PortInfo* info = entry ? entry->find_port(port, MIEN_PORT_IN) : nullptr;
  return info == nullptr || info->multiple();
}

std::vector<std::string> MatrixExpansion::single_inputs(const NodeSpec& spec) const {
  // The component's declaration order, so new keys join copy names in a fixed order.
  std::vector<std::string> out;
  const ComponentEntry* entry = catalog_.find(spec.use, spec.pinned_version);
  if (entry == nullptr) return out;
  for (const auto& port : entry->inputs())
    if (!port.multiple() && spec.inputs.count(port.name)) out.push_back(port.name);
  return out;
}

Binding MatrixExpansion::bind(const InputRef& ref, const Matrix& matrix, bool gather) const {
  if (auto it = by_name_.find(ref.node); it != by_name_.end()) return {Binding::Status::kBound, {it->second}};
  auto group = by_written_name_.find(ref.node);
  if (group == by_written_name_.end()) return {Binding::Status::kUnknownNode, {}};
  Binding b;
  bool all_covered = true;
  for (const NodeSpec* copy : group->second) {
    if (!agrees(matrix, copy->matrix)) continue;
    b.producers.push_back(copy);
    all_covered = all_covered && covers(matrix, copy->matrix);
  }
  if (b.producers.empty()) b.status = Binding::Status::kNoMatch;
  else if (all_covered || gather) b.status = Binding::Status::kBound;
  else b.status = Binding::Status::kNeedsExpansion;
  return b;
}

std::vector<NodeSpec> MatrixExpansion::expand(const NodeSpec& spec) const {
  std::vector<Assignment> assignments{{spec.matrix, spec.matrix_keys}};
  for (const std::string& port : single_inputs(spec)) {
    for (const auto& ref : spec.inputs.at(port)) {
      std::vector<Assignment> next;
      for (const auto& a : assignments) {
        const Binding b = bind(ref, a.values, false);
        if (b.status != Binding::Status::kNeedsExpansion) {
          next.push_back(a);
          continue;
        }
        for (const NodeSpec* producer : b.producers) next.push_back(merged(a, *producer));
      }
      assignments = std::move(next);
    }
  }
  if (assignments.size() == 1 && assignments[0].keys == spec.matrix_keys) return {spec};
  // Copies of a written matrix node are renamed from the written name, so the new
  // keys join the old ones inside one pair of brackets.
  const std::string base = spec.matrix_keys.empty() ? spec.name : written_name(spec.name);
  std::vector<NodeSpec> out;
  for (const auto& a : assignments) {
    NodeSpec copy = spec;
    copy.name = name_for(base, a);
    copy.matrix = a.values;
    copy.matrix_keys = a.keys;
    out.push_back(std::move(copy));
  }
  return out;
}

}  // namespace mien::host::graph
