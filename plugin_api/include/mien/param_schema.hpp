// The parameter-schema rules, once: what a typed JSON value must satisfy under the
// JSON Schema subset of plugin_abi.h (type, properties, required, default, enum,
// minimum, maximum, items, additionalProperties).
//
// Used by the host (typing a node's `with:` and checking a plugin's defaults when it
// loads) and by mien/testing.hpp (validating a ComponentRunner's parameters), so that
// "validated as the host would" holds by construction. Each caller words the
// violations its own way; the verdicts come from here.
//
// The rules:
//  * "integer" accepts an integral number (2.0 is the integer 2); "number" any number;
//    a type this subset does not know accepts anything;
//  * enum, minimum and maximum do not apply to null (a nullable parameter's null);
//  * an object whose schema lists "properties" (and the top level of a parameter
//    schema, always) is closed: a key it does not list is unknown unless
//    "additionalProperties" is true or a schema; a "required" key must be given even
//    when it has a default; missing keys get their defaults;
//  * an "additionalProperties" schema types the extra parameters at the top level; in
//    a nested mapping (e.g. a class map) it only opens the object and the component
//    checks the values itself, with messages that know what they mean.
//
// Header-only; needs only nlohmann_json and the C++17 library.
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace mien {
namespace param_schema {

using Json = nlohmann::json;

// The types a schema allows (its "type", a string or a list); empty = any.
inline std::vector<std::string> types_of(const Json& schema) {
  std::vector<std::string> out;
  if (!schema.is_object() || !schema.contains("type")) return out;
  const Json& t = schema["type"];
  if (t.is_string()) out.push_back(t.get<std::string>());
  if (t.is_array())
    for (const auto& x : t)
      if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

inline bool allows(const std::vector<std::string>& types, const std::string& type) {
  return types.empty() || std::find(types.begin(), types.end(), type) != types.end();
}

// A finite number without a fractional part, small enough for int64.
inline bool is_integral(const Json& v) {
  if (v.is_number_integer()) return true;
  if (!v.is_number_float()) return false;
  const double d = v.get<double>();
  return std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.2e18;
}

inline bool has_type(const Json& v, const std::string& type) {
  if (type == "null") return v.is_null();
  if (type == "boolean") return v.is_boolean();
  if (type == "string") return v.is_string();
  if (type == "number") return v.is_number();
  if (type == "array") return v.is_array();
  if (type == "object") return v.is_object();
  if (type == "integer") return is_integral(v);
  return true;  // a type this subset does not know: not ours to reject
}

inline bool fits_types(const Json& v, const std::vector<std::string>& types) {
  if (types.empty()) return true;
  for (const auto& t : types)
    if (has_type(v, t)) return true;
  return false;
}

// The first rule a value breaks, with what the caller needs to word it.
struct Violation {
  enum class Rule { kNone, kType, kEnum, kMinimum, kMaximum, kUnknown, kRequired };
  Rule rule = Rule::kNone;
  std::string path;                // below the checked value: "", "[2]", ".opt.p"
  Json value;                      // the offending value (kUnknown: the given value)
  std::vector<std::string> types;  // kType: the allowed types
  Json limit;                      // kEnum: the allowed list; kMinimum/kMaximum: the bound
  std::string key;                 // kUnknown/kRequired: the key
  std::vector<std::string> known;  // kUnknown: the keys the object takes (for hints)

  explicit operator bool() const { return rule != Rule::kNone; }
};

// Type, enum, minimum and maximum of this value alone (not its items or members).
inline Violation check_here(const Json& schema, const Json& value) {
  Violation v;
  if (!schema.is_object()) return v;
  const auto types = types_of(schema);
  if (!fits_types(value, types)) {
    v.rule = Violation::Rule::kType;
    v.value = value;
    v.types = types;
    return v;
  }
  if (value.is_null()) return v;
  if (schema.contains("enum") && schema["enum"].is_array()) {
    bool found = false;
    for (const auto& a : schema["enum"]) found = found || a == value;
    if (!found) {
      v.rule = Violation::Rule::kEnum;
      v.value = value;
      v.limit = schema["enum"];
      return v;
    }
  }
  if (value.is_number()) {
    const double d = value.get<double>();
    for (const char* bound : {"minimum", "maximum"}) {
      if (!schema.contains(bound) || !schema[bound].is_number()) continue;
      const bool below = std::string(bound) == "minimum";
      const double limit = schema[bound].get<double>();
      if (below ? d < limit : d > limit) {
        v.rule = below ? Violation::Rule::kMinimum : Violation::Rule::kMaximum;
        v.value = value;
        v.limit = schema[bound];
        return v;
      }
    }
  }
  return v;
}

// Whether members of an object with this schema are checked key by key.
inline bool is_closed(const Json& schema) {
  return schema.is_object() && schema.contains("properties") && schema["properties"].is_object();
}

inline std::vector<std::string> property_names(const Json& schema) {
  std::vector<std::string> out;
  if (schema.is_object() && schema.contains("properties") && schema["properties"].is_object())
    for (const auto& [name, s] : schema["properties"].items()) out.push_back(name);
  return out;
}

// The schema of member `key` of an object with `schema`: its property's, the
// additionalProperties schema (top level only), `any_schema` (additionalProperties:
// true, or absent on an open object), or nullptr when the key is unknown. `any_schema`
// is a caller-owned empty object, so the pointer stays valid. `top_level`: the object
// is a component's whole parameter set (always closed).
inline const Json* member_schema(const Json& schema, const std::string& key, const Json& any_schema,
                                 bool top_level = false) {
  if (!schema.is_object()) return &any_schema;
  if (schema.contains("properties") && schema["properties"].is_object() && schema["properties"].contains(key))
    return &schema["properties"][key];
  if (!schema.contains("additionalProperties")) return top_level || is_closed(schema) ? nullptr : &any_schema;
  const Json& a = schema["additionalProperties"];
  if (a.is_object()) return top_level ? &a : &any_schema;
  if (a.is_boolean() && a.get<bool>()) return &any_schema;
  return nullptr;
}

// The required keys of an object schema that `given` (an object) lacks, in schema order.
inline std::vector<std::string> missing_required(const Json& schema, const Json& given) {
  std::vector<std::string> out;
  if (!schema.is_object() || !schema.contains("required") || !schema["required"].is_array()) return out;
  for (const auto& r : schema["required"])
    if (r.is_string() && !(given.is_object() && given.contains(r.get<std::string>())))
      out.push_back(r.get<std::string>());
  return out;
}

inline Violation check(const Json& schema, const Json& value, bool top_level = false);

// The members of an object value: unknown keys, each member, then missing required keys.
inline Violation check_members(const Json& schema, const Json& value, bool top_level) {
  const Json any_schema = Json::object();
  for (const auto& [key, member] : value.items()) {
    const Json* sub = member_schema(schema, key, any_schema, top_level);
    if (sub == nullptr) {
      Violation v;
      v.rule = Violation::Rule::kUnknown;
      v.path = "." + key;
      v.key = key;
      v.value = member;
      v.known = property_names(schema);
      return v;
    }
    if (Violation v = check(*sub, member); v) {
      v.path = "." + key + v.path;
      return v;
    }
  }
  for (const auto& key : missing_required(schema, value)) {
    Violation v;
    v.rule = Violation::Rule::kRequired;
    v.path = "." + key;
    v.key = key;
    return v;
  }
  return {};
}

// The first rule `value` breaks under `schema`, items and members included (a
// component's whole parameter object is checked with top_level = true).
inline Violation check(const Json& schema, const Json& value, bool top_level) {
  if (Violation v = check_here(schema, value); v) return v;
  if (value.is_array() && schema.is_object() && schema.contains("items"))
    for (size_t i = 0; i < value.size(); ++i)
      if (Violation v = check(schema["items"], value[i]); v) {
        v.path = "[" + std::to_string(i) + "]" + v.path;
        return v;
      }
  if (value.is_object()) return check_members(schema, value, top_level);
  return {};
}

// An integral float where the schema asks for an integer becomes an integer (items
// and members included), so a component reads it with get<int64_t>().
inline void normalise_integers(const Json& schema, Json& value, bool top_level = false) {
  const auto types = types_of(schema);
  if (value.is_number_float() && allows(types, "integer") && !types.empty() && !allows(types, "number") &&
      is_integral(value))
    value = static_cast<int64_t>(value.get<double>());
  if (value.is_array() && schema.is_object() && schema.contains("items"))
    for (auto& item : value) normalise_integers(schema["items"], item);
  if (value.is_object()) {
    const Json any_schema = Json::object();
    for (auto& [key, member] : value.items())
      if (const Json* sub = member_schema(schema, key, any_schema, top_level)) normalise_integers(*sub, member);
  }
}

// Every missing member of `value` (an object) that has a default gets it, nested
// objects included: the parameters a component's create() receives.
inline void fill_defaults(const Json& schema, Json& value) {
  if (!value.is_object() || !schema.is_object() || !schema.contains("properties") ||
      !schema["properties"].is_object())
    return;
  for (const auto& [key, sub] : schema["properties"].items()) {
    if (!value.contains(key) && sub.is_object() && sub.contains("default")) value[key] = sub["default"];
    if (value.contains(key)) fill_defaults(sub, value[key]);
  }
}

// The first declared default (nested properties included) that its own schema
// rejects; path names the parameter ("k", "opt.p") and the violation's own path is
// below the default ("[2]").
struct DefaultViolation {
  std::string parameter;
  Violation violation;
  explicit operator bool() const { return static_cast<bool>(violation); }
};

inline DefaultViolation check_defaults(const Json& schema, const std::string& prefix = "") {
  if (!schema.is_object() || !schema.contains("properties") || !schema["properties"].is_object()) return {};
  for (const auto& [name, sub] : schema["properties"].items()) {
    if (!sub.is_object()) continue;
    if (sub.contains("default"))
      if (Violation v = check(sub, sub["default"]); v) return {prefix + name, v};
    if (DefaultViolation d = check_defaults(sub, prefix + name + "."); d) return d;
  }
  return {};
}

}  // namespace param_schema
}  // namespace mien
