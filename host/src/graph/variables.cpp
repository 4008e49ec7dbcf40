#include "graph/variables.hpp"
#include "core/text_match.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>

namespace mien::host::graph {
namespace {

// A piece of a scalar: literal text, or the expression inside one ${...}.
struct Piece {
  bool is_ref = false;
  std::string text;
};

// Splits "a${x}b$${c}" into literal and reference pieces; nullopt when a "${" is
// never closed (reported by the caller).
std::optional<std::vector<Piece>> split_pieces(const std::string& text) {
  std::vector<Piece> pieces;
  auto literal = [&](const std::string& s) {
    if (pieces.empty() || pieces.back().is_ref) pieces.push_back({false, {}});
    pieces.back().text += s;
  };
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 3, "$${") == 0) {
      literal("${");
      i += 3;
    } else if (text.compare(i, 2, "${") == 0) {
      const size_t close = text.find('}', i + 2);
      if (close == std::string::npos) return std::nullopt;
      pieces.push_back({true, text.substr(i + 2, close - i - 2)});
      i = close + 1;
    } else {
      literal(std::string(1, text[i]));
      ++i;
    }
  }
  return pieces;
}

// "name:-default" -> name and the default (if any).
std::pair<std::string, std::optional<std::string>> split_default(const std::string& expr) {
  const size_t sep = expr.find(":-");
  if (sep == std::string::npos) return {expr, std::nullopt};
  return {expr.substr(0, sep), expr.substr(sep + 2)};
}

bool is_name(const std::string& s) {
  return text::is_identifier(s);
}

class Resolver {
 public:
  Resolver(const VariableScope& scope, const YamlNode& at, Diagnostics& diags)
      : scope_(scope), at_(at), diags_(diags) {}

  // The value of one ${expr}, or nullopt after reporting why there is none.
  std::optional<YamlNode> resolve(const std::string& expr) {
    if (expr.rfind("env:", 0) == 0) return from_env(expr.substr(4));
    if (expr.rfind("matrix.", 0) == 0) return from_matrix(expr.substr(7));
    return from_vars(expr);
  }

 private:
  std::optional<YamlNode> from_env(const std::string& rest) {
    const auto [name, fallback] = split_default(rest);
    if (!is_name(name)) return malformed("env:" + rest);
    const char* value = std::getenv(name.c_str());
    // Like the shell's ${X:-d}: an empty variable also takes the default.
    if (value != nullptr && (*value != '\0' || !fallback)) return plain(value);
    if (fallback) return plain(*fallback);
    fail("environment variable '" + name + "' is not set",
         "set it, or give a default: ${env:" + name + ":-value}");
    return std::nullopt;
  }

  std::optional<YamlNode> from_matrix(const std::string& key) {
    if (scope_.matrix_broken) return std::nullopt;
    if (!scope_.has_matrix) {
      fail("'${matrix." + key + "}' is used outside a node with a matrix", {});
      return std::nullopt;
    }
    auto it = scope_.matrix.find(key);
    if (it != scope_.matrix.end()) return it->second;
    std::vector<std::string> keys;
    for (const auto& [k, v] : scope_.matrix) keys.push_back(k);
    fail("unknown matrix key '" + key + "'", closest_hint(key, keys));
    return std::nullopt;
  }

  std::optional<YamlNode> from_vars(const std::string& expr) {
    const auto [name, fallback] = split_default(expr);
    if (!is_name(name)) return malformed(expr);
    if (const YamlNode* value = scope_.find_var(name)) return *value;
    if (fallback) return plain(*fallback);
    const auto& all = scope_.all_var_names;
    if (std::find(all.begin(), all.end(), name) != all.end()) {
      fail("variable '" + name + "' is used before it is defined", "vars are read in the order written");
    } else {
      fail("unknown variable '" + name + "'", closest_hint(name, all));
    }
    return std::nullopt;
  }

  std::optional<YamlNode> malformed(const std::string& expr) {
    fail("invalid variable reference '${" + expr + "}'",
         "expected ${name}, ${name:-default}, ${env:NAME}, ${env:NAME:-default} or ${matrix.key}");
    return std::nullopt;
  }

  YamlNode plain(const std::string& text) const { return make_scalar(text, false, at_.where); }

  void fail(const std::string& message, const std::string& hint) {
    error_once(diags_, at_.where, scope_.node, message, hint);
  }

  const VariableScope& scope_;
  const YamlNode& at_;
  Diagnostics& diags_;
};

void substitute_scalar(YamlNode& node, const VariableScope& scope, Diagnostics& diags) {
  if (node.text.find('$') == std::string::npos) return;
  const auto pieces = split_pieces(node.text);
  if (!pieces) {
    error_once(diags, node.where, scope.node, "unterminated '${' in '" + node.text + "'",
               "write '$${' for a literal '${'");
    return;
  }
  Resolver resolver(scope, node, diags);
  if (pieces->size() == 1 && pieces->front().is_ref) {
    auto value = resolver.resolve(pieces->front().text);
    if (!value) return;
    // The whole scalar is the variable: take its value and type, at this position.
    relocate(*value, node.where);
    value->key = node.key;
    value->key_where = node.key_where;
    node = std::move(*value);
    return;
  }
  std::string text;
  for (const auto& piece : *pieces) {
    if (!piece.is_ref) {
      text += piece.text;
      continue;
    }
    auto value = resolver.resolve(piece.text);
    if (!value) return;
    if (value->is_sequence() || value->is_map()) {
      error_once(diags, node.where, scope.node,
                 "'${" + piece.text + "}' is " + value->describe() + " and cannot be pasted into text",
                 "use it as the whole value");
      return;
    }
    text += value->text;  // null pastes as nothing
  }
  node.text = std::move(text);
}

}  // namespace

const YamlNode* VariableScope::find_var(const std::string& name) const {
  for (const auto& [n, value] : vars)
    if (n == name) return &value;
  return nullptr;
}

void substitute(YamlNode& node, const VariableScope& scope, Diagnostics& diags) {
  if (node.is_scalar()) {
    substitute_scalar(node, scope, diags);
    return;
  }
  for (auto& child : node.children) substitute(child, scope, diags);
}

}  // namespace mien::host::graph
