// Matrix binding and propagation: which copies of a matrix node an input reference
// means, and the copies a node needs when a single input is fed by several copies.
//
// For a reference "mlp.model" from a consumer copy with matrix values M, the
// producer's copies that agree with M on the keys both have are "compatible":
//  * a copy named exactly (e.g. "mlp[S]", or a node without matrix) is used as is;
//  * if M covers all the producer's keys, that is the one matching copy;
//  * otherwise a MULTIPLE input gathers all compatible copies (expansion order);
//  * otherwise the consumer is expanded over the producer's other keys, one copy
//    per compatible producer copy (propagation), and each copy binds to one.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "graph/experiment.hpp"
#include "loader/catalog.hpp"

namespace mien::host::graph {

// "mlp[S,x]" -> "mlp": the name of the node as written.
std::string written_name(const std::string& copy_name);
// The name diagnostics use: the written name for a matrix copy, since its copies share
// the YAML (and one report covers them all); the messages name matrix values.
std::string node_label(const NodeSpec& spec);

struct Binding {
  enum class Status { kBound, kUnknownNode, kNoMatch, kNeedsExpansion };
  Status status = Status::kUnknownNode;
  std::vector<const NodeSpec*> producers;  // kBound: the copies; kNeedsExpansion: the compatible ones
};

class MatrixExpansion {
 public:
  // Expands exp.nodes until no node needs more copies. The catalog says which inputs
  // are MULTIPLE (unknown components and ports gather, so they never expand).
  MatrixExpansion(const Experiment& exp, const Catalog& catalog);

  // Every node copy, in file order, each written node's copies in expansion order.
  std::vector<NodeSpec> nodes() const;
  // What a reference from a copy with these matrix values means.
  Binding bind(const InputRef& ref, const std::map<std::string, std::string>& matrix, bool gather) const;
  // Names to suggest for a misspelt node reference.
  std::vector<std::string> node_names() const;
  // True when the input of spec accepts several values, or nothing is known about it.
  bool gathers(const NodeSpec& spec, const std::string& port) const;

 private:
  std::vector<NodeSpec> expand(const NodeSpec& spec) const;
  // The connected inputs of spec that take one value, in declaration order.
  std::vector<std::string> single_inputs(const NodeSpec& spec) const;
  void rebuild_index();

  const Catalog& catalog_;
  std::vector<NodeSpec> written_;              // experiment.nodes
  std::vector<std::vector<NodeSpec>> copies_;  // per written_ entry
  std::map<std::string, const NodeSpec*> by_name_;
  std::map<std::string, std::vector<const NodeSpec*>> by_written_name_;
};

}  // namespace mien::host::graph
