// A small, editable copy of a YAML document that remembers where every value came
// from. yaml-cpp nodes share storage and lose "was this scalar quoted?" once edited,
// so the reader converts once and then applies --set overrides, variables and matrix
// values to this tree.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/diagnostics.hpp"
#include "graph/messages.hpp"

namespace mien::host::graph {

struct YamlNode {
  enum class Type { kNull, kScalar, kSequence, kMap };
  Type type = Type::kNull;
  std::string text;        // kScalar
  bool quoted = false;     // kScalar written with quotes (or an explicit !!str tag): always a string
  SourceLocation where;
  std::string key;         // set on the children of a kMap
  SourceLocation key_where;
  std::vector<YamlNode> children;  // kSequence items or kMap entries, in the order written

  bool is_null() const { return type == Type::kNull; }
  bool is_scalar() const { return type == Type::kScalar; }
  bool is_sequence() const { return type == Type::kSequence; }
  bool is_map() const { return type == Type::kMap; }

  // kMap: the entry with this key, or nullptr.
  const YamlNode* find(const std::string& k) const;
  YamlNode* find(const std::string& k);
  // A short description for messages: "'text'", "a list", "a mapping", "nothing".
  std::string describe() const;
};

YamlNode make_scalar(std::string text, bool quoted, SourceLocation where);

// Parses YAML text. A syntax error becomes a diagnostic and the result is null.
// Duplicate keys are reported (the first one wins).
YamlNode parse_yaml(const std::string& text, const std::string& file, Diagnostics& diags);

// Gives every node of the tree (keys included) the same location; used when a value
// is copied to where a variable was used, so errors point at the use.
void relocate(YamlNode& node, const SourceLocation& where);

// Applies "a.b.c=value" overrides: each path segment walks a mapping (missing keys
// are created), the value is parsed as YAML. Problems are reported on file "--set".
void apply_overrides(YamlNode& root, const std::vector<std::string>& overrides, Diagnostics& diags);

// True for a plain scalar YAML reads as null ("~", "null", "Null", "NULL", "").
bool is_null_text(const std::string& text);
// Scalar text as a typed JSON value, or null JSON when the text is not of that type.
// Integers: optional sign and digits. Numbers: decimal or exponent notation.
// Booleans: true/false/yes/no/on/off in any case.
nlohmann::json parse_integer_text(const std::string& text);
nlohmann::json parse_number_text(const std::string& text);
nlohmann::json parse_bool_text(const std::string& text);
// The JSON value the YAML core schema gives a scalar: null, bool, integer, float or
// string. Quoted scalars are always strings.
nlohmann::json guess_scalar(const std::string& text, bool quoted);
// The whole tree as JSON, scalars typed by guess_scalar.
nlohmann::json to_guessed_json(const YamlNode& node);
// The whole tree as JSON with every scalar kept as a string (null stays null); the
// form NodeSpec::Param::value uses, typed later against the parameter schema.
nlohmann::json to_raw_json(const YamlNode& node);

}  // namespace mien::host::graph
