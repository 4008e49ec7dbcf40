// The components the host knows: one entry per (type_id, type_version), built from
// plugin descriptors. Validation works on the catalog alone, before any plugin code
// other than the descriptor has run.
#pragma once

#include <mien/plugin_abi.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"

namespace mien::host {

class PluginLibrary;  // loader/plugin_library.hpp

struct PortInfo {
  std::string name;
  mien_port_dir dir = MIEN_PORT_UNSPECIFIED;
  mien_value_kind kind = MIEN_VALUE_UNSPECIFIED;
  uint32_t flags = 0;
  uint64_t requires_caps = 0;
  std::string doc;
  bool optional() const { return (flags & MIEN_PORT_OPTIONAL) != 0; }
  bool multiple() const { return (flags & MIEN_PORT_MULTIPLE) != 0; }
  bool partial() const { return (flags & MIEN_PORT_PARTIAL) != 0; }
};

struct ComponentEntry {
  std::string type_id;
  uint32_t version = 0;
  mien_component_kind kind = MIEN_KIND_UNSPECIFIED;
  std::string summary;
  nlohmann::json schema;             // parsed params_schema_json
  std::vector<PortInfo> ports;       // declaration order
  uint64_t flags = 0;
  uint64_t model_caps = 0;           // MIEN_KIND_MODEL: capabilities of its models
  const mien_component_desc* desc = nullptr;  // vtables live here
  std::shared_ptr<const PluginLibrary> library;  // keeps the library loaded; null for in-memory entries
  std::string library_path;          // "" for in-memory entries
  std::string library_hash;          // sha256 of the library file
  std::string plugin_name;
  std::string plugin_version;

  std::vector<PortInfo> inputs() const;   // IN ports, declaration order (= process() order)
  std::vector<PortInfo> outputs() const;  // OUT ports, declaration order
  const PortInfo* find_port(const std::string& name, mien_port_dir dir) const;
  std::string key() const { return type_id + "@" + std::to_string(version); }
};

// Checks a component descriptor and turns it into an entry. On a problem returns
// nullopt and sets *error to a sentence naming the field and what was expected.
std::optional<ComponentEntry> entry_from_descriptor(const mien_component_desc* desc, std::string* error);

// Names users see.
const char* kind_name(mien_component_kind kind);        // "dataset", "model", ...
const char* value_kind_name(mien_value_kind kind);      // "tensor", "table", ...
std::string capability_names(uint64_t caps);            // "predict, input gradients"

class Catalog {
 public:
  // Adds an entry. The same type_id@version twice is an error naming both libraries.
  bool add(ComponentEntry entry, std::string* error);
  // Exact version when given, else the highest version.
  const ComponentEntry* find(const std::string& type_id, std::optional<uint32_t> version = std::nullopt) const;
  std::vector<std::string> type_ids() const;  // sorted, unique
  std::vector<const ComponentEntry*> all() const;  // sorted by type_id, version

  // A library that declares `type_id` but was not loaded, and why (the loader's sentence).
  struct Rejection {
    std::string library;
    std::string reason;
  };
  void add_rejection(const std::string& type_id, const std::string& library, const std::string& reason);
  // Rejected libraries that would have provided type_id (in the order they were found).
  std::vector<Rejection> rejections(const std::string& type_id) const;
  // "; it is declared by X, which was not loaded: <reason>" (one clause per library), or
  // "" when no rejected library declares it: appended to "unknown component" errors.
  std::string rejection_note(const std::string& type_id) const;

 private:
  std::map<std::string, std::map<uint32_t, ComponentEntry>> entries_;
  std::map<std::string, std::vector<Rejection>> rejections_;
};

}  // namespace mien::host
