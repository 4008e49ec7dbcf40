#include "graph/yaml_tree.hpp"
#include "core/text_match.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

namespace mien::host::graph {
namespace {

SourceLocation location_of(const YAML::Mark& mark, const std::string& file) {
  // yaml-cpp counts from 0 and uses -1 for "no position".
  if (mark.line < 0) return {file, 0, 0};
  return {file, mark.line + 1, mark.column + 1};
}

// Aliases ("*x") repeat what they name, so a few lines of anchors can expand to billions
// of values (an alias bomb). The tree built here counts what it has expanded and stops at
// a limit, as it stops at a nesting depth no experiment needs.
constexpr size_t kMaxDepth = 100;
struct ExpansionLimit {
  size_t values_max, values_left, bytes_max, bytes_left;
  explicit ExpansionLimit(size_t text_size)
      : values_max(std::max<size_t>(200000, text_size / 2)), values_left(values_max),
        bytes_max(std::max<size_t>(16u << 20, 2 * text_size)), bytes_left(bytes_max) {}
};
struct TooLarge {
  SourceLocation where;
  std::string message;
};

YamlNode convert(const YAML::Node& in, const std::string& file, Diagnostics& diags, ExpansionLimit& limit, size_t depth = 0) {
  YamlNode out;
  out.where = location_of(in.Mark(), file);
  if (depth > kMaxDepth)
    throw TooLarge{out.where, "the YAML nests more than " + std::to_string(kMaxDepth) + " levels deep"};
  const size_t bytes = in.IsScalar() ? in.Scalar().size() : 0;
  if (limit.values_left == 0 || limit.bytes_left < bytes)
    throw TooLarge{out.where, "the YAML expands to far more values than it has text (aliases '*name' repeat what their "
                              "anchor '&name' holds, and nested ones multiply): stopped at " +
                                  std::to_string(limit.values_max) + " values or " + std::to_string(limit.bytes_max >> 20) +
                                  " MB of text"};
  --limit.values_left;
  limit.bytes_left -= bytes;
  switch (in.Type()) {
    case YAML::NodeType::Scalar:
      out.type = YamlNode::Type::kScalar;
      out.text = in.Scalar();
      // "?" marks a plain scalar; "!" a quoted one; anything else is an explicit tag.
      out.quoted = in.Tag() != "?";
      break;
    case YAML::NodeType::Sequence:
      out.type = YamlNode::Type::kSequence;
      for (const auto& item : in) out.children.push_back(convert(item, file, diags, limit, depth + 1));
      break;
    case YAML::NodeType::Map:
      out.type = YamlNode::Type::kMap;
      for (auto it = in.begin(); it != in.end(); ++it) {
        YamlNode value = convert(it->second, file, diags, limit, depth + 1);
        value.key = it->first.IsScalar() ? it->first.Scalar() : std::string();
        value.key_where = location_of(it->first.Mark(), file);
        // An empty value ("key:") is marked at the next token; the key is clearer.
        if (value.is_null()) value.where = value.key_where;
        if (!it->first.IsScalar()) {
          error_once(diags, value.key_where, {}, "keys must be plain names, not lists or mappings");
        } else if (out.find(value.key) != nullptr) {
          error_once(diags, value.key_where, {}, "duplicate key '" + value.key + "'");
        } else {
          out.children.push_back(std::move(value));
        }
      }
      break;
    default:
      out.type = YamlNode::Type::kNull;
      break;
  }
  return out;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

const SourceLocation kOverrideWhere{"--set", 0, 0};

// Walks (and creates) the mappings along path; returns the entry for the last segment,
// or nullptr after reporting why it cannot be reached.
YamlNode* walk_to(YamlNode& root, const std::vector<std::string>& path, const std::string& text,
                  Diagnostics& diags) {
  YamlNode* cur = &root;
  std::string walked;
  for (const auto& seg : path) {
    if (cur->is_null()) cur->type = YamlNode::Type::kMap;
    if (!cur->is_map()) {
      diags.error(kOverrideWhere, {},
                  "cannot apply override '" + text + "': '" + walked + "' is " + cur->describe() +
                      ", not a mapping");
      return nullptr;
    }
    YamlNode* child = cur->find(seg);
    if (child == nullptr) {
      YamlNode fresh;
      fresh.key = seg;
      fresh.key_where = kOverrideWhere;
      fresh.where = kOverrideWhere;
      cur->children.push_back(std::move(fresh));
      child = &cur->children.back();
    }
    walked += (walked.empty() ? "" : ".") + seg;
    cur = child;
  }
  return cur;
}

void apply_override(YamlNode& root, const std::string& text, Diagnostics& diags) {
  const size_t eq = text.find('=');
  const std::vector<std::string> path = split(text.substr(0, eq == std::string::npos ? 0 : eq), '.');
  const bool bad_path = std::any_of(path.begin(), path.end(), [](const std::string& s) { return s.empty(); });
  if (eq == std::string::npos || bad_path) {
    diags.error(kOverrideWhere, {}, "malformed override '" + text + "': expected key.path=value",
                "e.g. --set seed=3 or --set nodes.mlp.with.epochs=20");
    return;
  }
  YamlNode value;
  try {
    ExpansionLimit limit(text.size());
    value = convert(YAML::Load(text.substr(eq + 1)), kOverrideWhere.file, diags, limit);
  } catch (const TooLarge& e) {
    diags.error(kOverrideWhere, {}, "override " + text.substr(0, eq) + ": " + e.message);
    return;
  } catch (const YAML::Exception& ex) {
    diags.error(kOverrideWhere, {}, "malformed override '" + text + "': the value is not valid YAML (" + ex.msg + ")");
    return;
  }
  relocate(value, kOverrideWhere);
  YamlNode* target = walk_to(root, path, text, diags);
  if (target == nullptr) return;
  value.key = target->key;
  value.key_where = target->key_where;
  *target = std::move(value);
}

bool matches_ci(const std::string& text, std::initializer_list<const char*> words) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::any_of(words.begin(), words.end(), [&](const char* w) { return lower == w; });
}

}  // namespace

const YamlNode* YamlNode::find(const std::string& k) const {
  for (const auto& c : children)
    if (c.key == k) return &c;
  return nullptr;
}

YamlNode* YamlNode::find(const std::string& k) {
  for (auto& c : children)
    if (c.key == k) return &c;
  return nullptr;
}

std::string YamlNode::describe() const {
  switch (type) {
    case Type::kScalar: return "'" + text + "'";
    case Type::kSequence: return "a list";
    case Type::kMap: return "a mapping";
    default: return "nothing";
  }
}

YamlNode make_scalar(std::string text, bool quoted, SourceLocation where) {
  YamlNode n;
  n.type = YamlNode::Type::kScalar;
  n.text = std::move(text);
  n.quoted = quoted;
  n.where = std::move(where);
  return n;
}

YamlNode parse_yaml(const std::string& text, const std::string& file, Diagnostics& diags) {
  try {
    ExpansionLimit limit(text.size());
    return convert(YAML::Load(text), file, diags, limit);
  } catch (const TooLarge& e) {
    diags.error(e.where, {}, e.message);
    return {};
  } catch (const YAML::DeepRecursion& ex) {
    diags.error(location_of(ex.mark, file), {}, "the YAML nests more than " + std::to_string(kMaxDepth) + " levels deep");
    return {};
  } catch (const YAML::Exception& ex) {
    diags.error(location_of(ex.mark, file), {}, "invalid YAML: " + ex.msg);
    return {};
  }
}

void relocate(YamlNode& node, const SourceLocation& where) {
  node.where = where;
  if (!node.key.empty()) node.key_where = where;
  for (auto& c : node.children) relocate(c, where);
}

void apply_overrides(YamlNode& root, const std::vector<std::string>& overrides, Diagnostics& diags) {
  for (const auto& text : overrides) apply_override(root, text, diags);
}

bool is_null_text(const std::string& text) {
  return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}

nlohmann::json parse_integer_text(const std::string& text) {
  if (!text::is_integer(text)) return nullptr;
  const char* begin = text.data() + (text[0] == '+' ? 1 : 0);
  const char* end = text.data() + text.size();
  int64_t signed_value = 0;
  if (std::from_chars(begin, end, signed_value).ec == std::errc()) return signed_value;
  uint64_t unsigned_value = 0;
  if (std::from_chars(begin, end, unsigned_value).ec == std::errc()) return unsigned_value;
  return nullptr;  // out of range
}

nlohmann::json parse_number_text(const std::string& text) {
  if (!text::is_decimal_number(text)) return nullptr;
  return std::strtod(text.c_str(), nullptr);
}

nlohmann::json parse_bool_text(const std::string& text) {
  if (matches_ci(text, {"true", "yes", "on"})) return true;
  if (matches_ci(text, {"false", "no", "off"})) return false;
  return nullptr;
}

nlohmann::json guess_scalar(const std::string& text, bool quoted) {
  if (quoted) return text;
  if (is_null_text(text)) return nullptr;
  // The YAML 1.2 core schema: only true/false are booleans when nothing says more.
  if (matches_ci(text, {"true", "false"})) return parse_bool_text(text);
  if (auto i = parse_integer_text(text); !i.is_null()) return i;
  if (auto n = parse_number_text(text); !n.is_null()) return n;
  return text;
}

nlohmann::json to_guessed_json(const YamlNode& node) {
  switch (node.type) {
    case YamlNode::Type::kScalar: return guess_scalar(node.text, node.quoted);
    case YamlNode::Type::kSequence: {
      auto out = nlohmann::json::array();
      for (const auto& c : node.children) out.push_back(to_guessed_json(c));
      return out;
    }
    case YamlNode::Type::kMap: {
      auto out = nlohmann::json::object();
      for (const auto& c : node.children) out[c.key] = to_guessed_json(c);
      return out;
    }
    default: return nullptr;
  }
}

nlohmann::json to_raw_json(const YamlNode& node) {
  switch (node.type) {
    case YamlNode::Type::kScalar: return (!node.quoted && is_null_text(node.text)) ? nlohmann::json() : nlohmann::json(node.text);
    case YamlNode::Type::kSequence: {
      auto out = nlohmann::json::array();
      for (const auto& c : node.children) out.push_back(to_raw_json(c));
      return out;
    }
    case YamlNode::Type::kMap: {
      auto out = nlohmann::json::object();
      for (const auto& c : node.children) out[c.key] = to_raw_json(c);
      return out;
    }
    default: return nullptr;
  }
}

}  // namespace mien::host::graph
