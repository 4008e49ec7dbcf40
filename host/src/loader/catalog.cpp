#include "loader/catalog.hpp"

#include <mien/param_schema.hpp>

#include <cmath>
#include <regex>
#include <set>

namespace mien::host {

namespace {

using nlohmann::json;

// A value as plugin authors wrote it: strings quoted, everything else as JSON.
std::string shown(const json& v) { return v.is_string() ? "'" + v.get<std::string>() + "'" : v.dump(); }

// A default's violation (the rules are mien/param_schema.hpp's), worded for plugin
// authors: "its default[2] is 0, below its minimum 1".
std::string describe(const param_schema::Violation& v) {
  using Rule = param_schema::Violation::Rule;
  const std::string label = "its default" + v.path;
  switch (v.rule) {
    case Rule::kType: {
      std::string expected;
      for (size_t i = 0; i < v.types.size(); ++i) expected += (i ? " or " : "") + v.types[i];
      return label + " is " + shown(v.value) + ", not of type " + expected;
    }
    case Rule::kEnum: {
      std::string list;
      for (const auto& a : v.limit) list += (list.empty() ? "" : ", ") + shown(a);
      return label + " is " + shown(v.value) + ", not one of its allowed values " + list;
    }
    case Rule::kMinimum: return label + " is " + v.value.dump() + ", below its minimum " + v.limit.dump();
    case Rule::kMaximum: return label + " is " + v.value.dump() + ", above its maximum " + v.limit.dump();
    case Rule::kUnknown: return label + " has the key '" + v.key + "' its schema does not list";
    case Rule::kRequired: return label + " lacks the required key '" + v.key + "'";
    case Rule::kNone: break;
  }
  return "";
}

// The first parameter whose declared default its own schema rejects (nested object
// properties included), as "parameter 'k': its default is -1.0, below its minimum 0.0", or "".
// The host fills defaults in without re-checking them, so a lying default would reach
// create() although the same value written in YAML is refused.
std::string default_violation(const json& schema) {
  const auto bad = param_schema::check_defaults(schema);
  if (!bad) return "";
  return "parameter '" + bad.parameter + "': " + describe(bad.violation);
}

}  // namespace

std::vector<PortInfo> ComponentEntry::inputs() const {
  std::vector<PortInfo> out;
  for (const auto& p : ports)
    if (p.dir == MIEN_PORT_IN) out.push_back(p);
  return out;
}

std::vector<PortInfo> ComponentEntry::outputs() const {
  std::vector<PortInfo> out;
  for (const auto& p : ports)
    if (p.dir == MIEN_PORT_OUT) out.push_back(p);
  return out;
}

const PortInfo* ComponentEntry::find_port(const std::string& name, mien_port_dir dir) const {
  for (const auto& p : ports)
    if (p.dir == dir && p.name == name) return &p;
  return nullptr;
}

const char* kind_name(mien_component_kind kind) {
  switch (kind) {
    case MIEN_KIND_DATASET: return "dataset";
    case MIEN_KIND_TRANSFORM: return "transform";
    case MIEN_KIND_FEATURES: return "features";
    case MIEN_KIND_MODEL: return "model";
    case MIEN_KIND_EXPLAINER: return "explainer";
    case MIEN_KIND_METRIC: return "metric";
    case MIEN_KIND_REPORT: return "report";
    default: return "unspecified";
  }
}

const char* value_kind_name(mien_value_kind kind) {
  switch (kind) {
    case MIEN_VALUE_TENSOR: return "tensor";
    case MIEN_VALUE_IMAGE: return "image";
    case MIEN_VALUE_TABLE: return "table";
    case MIEN_VALUE_STRING: return "string";
    case MIEN_VALUE_JSON: return "json";
    case MIEN_VALUE_MODEL: return "model";
    case MIEN_VALUE_ANY: return "any";
    default: return "unspecified";
  }
}

std::string capability_names(uint64_t caps) {
  std::string out;
  auto add = [&](uint64_t bit, const char* name) {
    if (caps & bit) out += (out.empty() ? "" : ", ") + std::string(name);
  };
  add(MIEN_CAP_PREDICT, "predictions");
  add(MIEN_CAP_INPUT_GRADIENT, "input gradients");
  add(MIEN_CAP_LAYER_GRADIENT, "layer gradients");
  add(MIEN_CAP_LAYER_STRUCTURE, "layer structure");
  return out.empty() ? "nothing" : out;
}

std::optional<ComponentEntry> entry_from_descriptor(const mien_component_desc* d, std::string* error) {
  auto fail = [&](const std::string& msg) -> std::optional<ComponentEntry> {
    if (error) *error = msg;
    return std::nullopt;
  };
  if (d == nullptr) return fail("a component descriptor is NULL");
  if (d->struct_size < offsetof(mien_component_desc, model))
    return fail("component descriptor is " + std::to_string(d->struct_size) + " bytes, expected at least " +
                std::to_string(offsetof(mien_component_desc, model)));
  if (d->type_id == nullptr) return fail("a component has no type_id");
  const std::string id = d->type_id;
  static const std::regex kTypeId("^[a-z0-9_]+(\\.[a-z0-9_]+)+$");
  if (!std::regex_match(id, kTypeId))
    return fail("component type_id '" + id + "' is not of the form 'area.name' (lower-case letters, digits, _ and dots)");
  if (d->kind == MIEN_KIND_UNSPECIFIED || d->kind > MIEN_KIND_REPORT)
    return fail("component '" + id + "' has no valid kind (" + std::to_string(static_cast<int>(d->kind)) + ")");
  if (d->vtable == nullptr || d->vtable->create == nullptr || d->vtable->destroy == nullptr ||
      d->vtable->process == nullptr)
    return fail("component '" + id + "' has no complete vtable (create, destroy and process are required)");
  ComponentEntry e;
  e.type_id = id;
  e.version = d->type_version;
  e.kind = d->kind;
  e.summary = d->summary ? d->summary : "";
  e.flags = d->flags;
  e.desc = d;
  try {
    e.schema = nlohmann::json::parse(d->params_schema_json ? d->params_schema_json : "{}");
  } catch (const std::exception& ex) {
    return fail("component '" + id + "' has an invalid parameter schema: " + ex.what());
  }
  if (!e.schema.is_object() || (e.schema.contains("type") && e.schema["type"] != "object") ||
      (e.schema.contains("properties") && !e.schema["properties"].is_object()))
    return fail("component '" + id + "' has an invalid parameter schema: expected a JSON object schema with \"properties\"");
  if (e.schema.contains("properties"))
    if (const std::string why = default_violation(e.schema); !why.empty())
      return fail("component '" + id + "' " + why + " (a default must satisfy the parameter's own schema)");
  std::set<std::string> names;
  static const std::regex kPortName("^[a-z0-9_]+$");
  for (uint32_t i = 0; i < d->num_ports; ++i) {
    const mien_port_desc& p = d->ports[i];
    if (p.name == nullptr || !std::regex_match(p.name, kPortName))
      return fail("component '" + id + "' port " + std::to_string(i) + " has no valid name ([a-z0-9_]+)");
    if (p.dir != MIEN_PORT_IN && p.dir != MIEN_PORT_OUT)
      return fail("component '" + id + "' port '" + p.name + "' has no direction");
    if (p.kind == MIEN_VALUE_UNSPECIFIED || p.kind > MIEN_VALUE_ANY)
      return fail("component '" + id + "' port '" + p.name + "' has no valid value kind");
    if ((p.flags & MIEN_PORT_PARTIAL) != 0 && (p.dir != MIEN_PORT_IN || (p.flags & MIEN_PORT_MULTIPLE) == 0))
      return fail("component '" + id + "' port '" + p.name +
                  "' is MIEN_PORT_PARTIAL but not a MIEN_PORT_MULTIPLE input (only a list can leave values out)");
    if (!names.insert(std::string(p.dir == MIEN_PORT_IN ? "in:" : "out:") + p.name).second)
      return fail("component '" + id + "' declares port '" + std::string(p.name) + "' twice");
    e.ports.push_back(PortInfo{p.name, p.dir, p.kind, p.flags, p.requires_caps, p.doc ? p.doc : ""});
  }
  if (MIEN_HAS_FIELD(d, mien_component_desc, model) && d->model != nullptr) {
    if (d->model->open == nullptr || d->model->close == nullptr || d->model->predict == nullptr ||
        d->model->info_json == nullptr)
      return fail("component '" + id + "' has an incomplete model vtable (open, close, info_json, predict are required)");
    e.model_caps = d->model->capabilities | MIEN_CAP_PREDICT;
  } else if (d->kind == MIEN_KIND_MODEL) {
    return fail("model component '" + id + "' has no model vtable, so its models cannot be opened");
  }
  return e;
}

bool Catalog::add(ComponentEntry entry, std::string* error) {
  auto& versions = entries_[entry.type_id];
  auto it = versions.find(entry.version);
  if (it != versions.end()) {
    if (error)
      *error = "duplicate component '" + entry.key() + "': defined in " +
               (it->second.library_path.empty() ? std::string("(built in)") : it->second.library_path) + " and in " +
               (entry.library_path.empty() ? std::string("(built in)") : entry.library_path);
    return false;
  }
  versions.emplace(entry.version, std::move(entry));
  return true;
}

const ComponentEntry* Catalog::find(const std::string& type_id, std::optional<uint32_t> version) const {
  auto it = entries_.find(type_id);
  if (it == entries_.end() || it->second.empty()) return nullptr;
  if (!version) return &it->second.rbegin()->second;
  auto v = it->second.find(*version);
  return v == it->second.end() ? nullptr : &v->second;
}

std::vector<std::string> Catalog::type_ids() const {
  std::vector<std::string> out;
  for (const auto& [id, versions] : entries_)
    if (!versions.empty()) out.push_back(id);
  return out;
}

void Catalog::add_rejection(const std::string& type_id, const std::string& library, const std::string& reason) {
  auto& list = rejections_[type_id];
  for (const auto& r : list)
    if (r.library == library && r.reason == reason) return;
  list.push_back({library, reason});
}

std::vector<Catalog::Rejection> Catalog::rejections(const std::string& type_id) const {
  auto it = rejections_.find(type_id);
  return it == rejections_.end() ? std::vector<Rejection>{} : it->second;
}

std::string Catalog::rejection_note(const std::string& type_id) const {
  std::string out;
  for (const auto& r : rejections(type_id)) {
    // The loader's sentences start with the library's path; say it once.
    std::string reason = r.reason;
    if (reason.compare(0, r.library.size() + 2, r.library + ": ") == 0) reason.erase(0, r.library.size() + 2);
    out += "; it is declared by " + r.library + ", which was not loaded: " + reason;
  }
  return out;
}

std::vector<const ComponentEntry*> Catalog::all() const {
  std::vector<const ComponentEntry*> out;
  for (const auto& [id, versions] : entries_)
    for (const auto& [v, e] : versions) out.push_back(&e);
  return out;
}

}  // namespace mien::host
