#include "graph/param_schema.hpp"

#include <mien/param_schema.hpp>

#include <optional>

#include "graph/matrix_binding.hpp"
#include "graph/yaml_tree.hpp"

namespace mien::host::graph {
namespace {

using nlohmann::json;

// Where a problem goes: the parameter's position and node, and its name for messages
// ("parameter 'hidden[1]'").
struct Site {
  std::string label;
  SourceLocation where;
  std::string node;
  Diagnostics* diags;

  Site item(const std::string& suffix) const { return {label + suffix, where, node, diags}; }
  void fail(const std::string& message, const std::string& hint = {}) const {
    error_once(*diags, where, node, "parameter '" + label + "' " + message, hint);
  }
};

using param_schema::allows;
using Rule = param_schema::Violation::Rule;

std::string type_phrase(const std::string& type) {
  if (type == "integer") return "an integer";
  if (type == "number") return "a number";
  if (type == "boolean") return "a boolean (true or false)";
  if (type == "string") return "a string";
  if (type == "array") return "a list";
  if (type == "object") return "a mapping";
  if (type == "null") return "null";
  return "'" + type + "'";
}

std::string expected_phrase(const std::vector<std::string>& types) {
  std::string out;
  for (size_t i = 0; i < types.size(); ++i)
    out += (i == 0 ? "" : i + 1 == types.size() ? " or " : ", ") + type_phrase(types[i]);
  return out;
}

std::string got_phrase(const json& raw, bool quoted) {
  if (raw.is_null()) return "null";
  if (raw.is_array()) return "a list";
  if (raw.is_object()) return "a mapping";
  const std::string text = raw.is_string() ? raw.get<std::string>() : raw.dump();
  return "'" + text + "'" + (quoted ? " (quoted, so a string)" : "");
}

// A value as users write it in messages: strings in single quotes, numbers as is.
std::string show(const json& v) { return v.is_string() ? "'" + v.get<std::string>() + "'" : v.dump(); }

// A scalar written as text, converted to the first type in the schema it fits; a
// quoted scalar only fits "string". An integral number ("2.0") fits "integer", as in
// mien/param_schema.hpp.
std::optional<json> scalar_as(const std::string& text, bool quoted, const std::vector<std::string>& types) {
  if (types.empty()) return guess_scalar(text, quoted);
  if (!quoted) {
    if (allows(types, "boolean"))
      if (auto b = parse_bool_text(text); !b.is_null()) return b;
    if (allows(types, "integer")) {
      if (auto i = parse_integer_text(text); !i.is_null()) return i;
      if (auto n = parse_number_text(text); !n.is_null() && param_schema::is_integral(n))
        return json(static_cast<int64_t>(n.get<double>()));
    }
    if (allows(types, "number"))
      if (auto n = parse_number_text(text); !n.is_null()) return json(n.get<double>());
  }
  if (allows(types, "string")) return json(text);
  return std::nullopt;
}

std::optional<json> coerce(const json& raw, bool quoted, const json& schema, const Site& site);

std::optional<json> coerce_array(const json& raw, const json& schema, const Site& site) {
  const json items = schema.is_object() && schema.contains("items") ? schema["items"] : json::object();
  json out = json::array();
  bool ok = true;
  for (size_t i = 0; i < raw.size(); ++i) {
    auto v = coerce(raw[i], false, items, site.item("[" + std::to_string(i) + "]"));
    if (v) out.push_back(std::move(*v));
    ok = ok && v.has_value();
  }
  return ok ? std::optional<json>(out) : std::nullopt;
}

// A nested mapping: each member typed by its schema (param_schema::member_schema), an
// unknown key or a missing required one reported, the missing defaults filled. An
// additionalProperties schema only opens a nested mapping (the component checks its
// values), so its members are typed as YAML reads them.
std::optional<json> coerce_object(const json& raw, const json& schema, const Site& site) {
  const json any_schema = json::object();
  json out = json::object();
  bool ok = true;
  for (const auto& [key, value] : raw.items()) {
    const json* member = param_schema::member_schema(schema, key, any_schema);
    if (member == nullptr) {
      site.item("." + key).fail("is unknown", closest_hint(key, param_schema::property_names(schema)));
      ok = false;
      continue;
    }
    auto v = coerce(value, false, *member, site.item("." + key));
    if (v) out[key] = std::move(*v);
    ok = ok && v.has_value();
  }
  for (const auto& key : param_schema::missing_required(schema, raw)) {
    site.fail("lacks the required key '" + key + "'");
    ok = false;
  }
  if (!ok) return std::nullopt;
  param_schema::fill_defaults(schema, out);
  return out;
}

// The value typed by the schema's "type" alone, or nullopt after a type error.
std::optional<json> coerce_type(const json& raw, bool quoted, const json& schema, const Site& site) {
  const auto types = param_schema::types_of(schema);
  std::optional<json> out;
  if (raw.is_null()) {
    if (allows(types, "null")) out = json();
  } else if (raw.is_array()) {
    if (allows(types, "array")) return coerce_array(raw, schema, site);
  } else if (raw.is_object()) {
    if (allows(types, "object")) return coerce_object(raw, schema, site);
  } else if (raw.is_string()) {
    out = scalar_as(raw.get<std::string>(), quoted, types);
  } else if (param_schema::fits_types(raw, types)) {
    out = raw;  // already typed (a default, or a value from elsewhere)
  }
  if (!out) site.fail("expects " + expected_phrase(types) + ", got " + got_phrase(raw, quoted));
  return out;
}

// The enum, minimum and maximum rules on a typed value (param_schema::check_here),
// reported in the words of a YAML author.
bool check_rules(const json& value, const json& schema, const Site& site) {
  const auto v = param_schema::check_here(schema, value);
  if (v.rule == Rule::kEnum) {
    std::string list;
    std::vector<std::string> names;
    for (const auto& a : v.limit) {
      list += (list.empty() ? "" : ", ") + show(a);
      if (a.is_string()) names.push_back(a.get<std::string>());
    }
    site.fail("must be one of " + list + ", got " + show(value),
              value.is_string() ? closest_hint(value.get<std::string>(), names) : std::string());
  } else if (v.rule == Rule::kMinimum) {
    site.fail("must be >= " + v.limit.dump() + ", got " + value.dump());
  } else if (v.rule == Rule::kMaximum) {
    site.fail("must be <= " + v.limit.dump() + ", got " + value.dump());
  } else if (v.rule == Rule::kType) {
    site.fail("expects " + expected_phrase(v.types) + ", got " + show(value));
  }
  return !v;
}

std::optional<json> coerce(const json& raw, bool quoted, const json& schema, const Site& site) {
  auto value = coerce_type(raw, quoted, schema, site);
  if (!value) return std::nullopt;
  if (!check_rules(*value, schema, site)) return std::nullopt;
  return value;
}

void report_unknown(const std::string& name, const NodeSpec::Param& param, const NodeSpec& spec,
                    const ComponentEntry& entry, Diagnostics& diags) {
  const auto names = param_schema::property_names(entry.schema);
  std::string hint = closest_hint(name, names);
  if (hint.empty() && names.empty()) hint = entry.type_id + " takes no parameters";
  if (hint.empty()) {
    hint = "its parameters are ";
    for (size_t i = 0; i < names.size(); ++i) hint += (i ? ", " : "") + names[i];
  }
  error_once(diags, param.where, node_label(spec), "unknown parameter '" + name + "' for " + entry.type_id, hint);
}

void report_missing_required(const NodeSpec& spec, const ComponentEntry& entry, const json& props,
                             Diagnostics& diags) {
  json given = json::object();
  for (const auto& [name, param] : spec.with) given[name] = nullptr;
  for (const std::string& name : param_schema::missing_required(entry.schema, given)) {
    std::string message = "missing required parameter '" + name + "'";
    if (props.contains(name) && props[name].is_object() && props[name].contains("description") &&
        props[name]["description"].is_string())
      message += " (" + props[name]["description"].get<std::string>() + ")";
    error_once(diags, spec.with_where, node_label(spec), message);
  }
}

}  // namespace

json type_params(const NodeSpec& spec, const ComponentEntry& entry, Diagnostics& diags) {
  const json& schema = entry.schema;
  const json props = schema.is_object() && schema.contains("properties") && schema["properties"].is_object()
                         ? schema["properties"]
                         : json::object();
  const json any_schema = json::object();
  json params = json::object();
  for (const auto& [name, param] : spec.with) {
    const Site site{name, param.where, node_label(spec), &diags};
    if (has_error_at(diags, param.where)) continue;  // e.g. an unknown variable in it
    if (const json* member = param_schema::member_schema(schema, name, any_schema, /*top_level=*/true)) {
      if (auto v = coerce(param.value, param.quoted, *member, site)) params[name] = std::move(*v);
    } else {
      report_unknown(name, param, spec, entry, diags);
    }
  }
  report_missing_required(spec, entry, props, diags);
  for (const auto& [name, s] : props.items())
    if (!params.contains(name) && !spec.with.count(name) && s.is_object() && s.contains("default")) {
      params[name] = s["default"];
      param_schema::fill_defaults(s, params[name]);
    }
  return params;
}

}  // namespace mien::host::graph
