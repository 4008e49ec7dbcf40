// Loading plugin libraries with Boost.DLL and filling the catalog from their
// descriptors. Libraries are never unloaded during a run: tensors, vtables and
// deleters live in their code.
#pragma once

#include <mien/plugin_abi.h>

#include <memory>
#include <string>
#include <vector>

#include "loader/catalog.hpp"

namespace mien::host {

class PluginLibrary {
 public:
  // Loads the library (RTLD_NOW | RTLD_LOCAL), calls the entry symbol and checks the
  // descriptor: struct size, ABI major equal to the host's and minor not newer, name
  // and version present. On failure returns null and sets *error to a sentence that
  // names the file and what was expected (see tests/host/loader_test.cpp).
  // When the handshake fails on a descriptor whose layout is still this ABI's (same
  // major), *declared_type_ids receives the type_ids it declares, so "unknown component"
  // can say which rejected library would have provided one.
  static std::shared_ptr<PluginLibrary> load(const std::string& path, std::string* error,
                                             std::vector<std::string>* declared_type_ids = nullptr);
  ~PluginLibrary();

  const std::string& path() const { return path_; }
  const std::string& hash() const { return hash_; }  // sha256 of the file, hex
  const mien_plugin_desc* descriptor() const { return desc_; }
  std::string name() const;
  std::string version() const;

 private:
  PluginLibrary() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
  std::string hash_;
  const mien_plugin_desc* desc_ = nullptr;
};

struct LoadProblem {
  std::string library;  // path
  std::string message;  // full sentence, already naming the library
  // The type_ids the rejected library declares, when its descriptor could be read
  // (empty when dlopen failed or the ABI major differs: then nobody can tell).
  std::vector<std::string> declared_type_ids;
};

// The folder the bundled plugins live in, found from the running executable:
// <folder of mien>/../lib/mien/plugins. The build tree (build/bin/mien,
// build/lib/mien/plugins) and an installed prefix (P/bin/mien, P/lib/mien/plugins) have
// the same layout, so one relative path serves both and nothing absolute is compiled in.
std::string bundled_plugin_dir();

// Where plugins are looked for, in order: the experiment's plugin_paths (already made
// absolute), then MIEN_PLUGIN_PATH (colon-separated), then bundled_plugin_dir(). Entries
// that do not exist are left out; for MIEN_PLUGIN_PATH entries a sentence saying so is
// added to *warnings (the experiment reader warns about its own, with file:line:col).
std::vector<std::string> plugin_search_path(const std::vector<std::string>& experiment_paths,
                                            std::vector<std::string>* warnings = nullptr);

// Loads every libmien_*.so (or any .so given by file path) in the given folders and
// files, adding their components to the catalog. Problems are collected, not fatal:
// a broken library only matters to an experiment that needs its components.
std::vector<LoadProblem> load_plugins(const std::vector<std::string>& paths, Catalog& catalog);

}  // namespace mien::host
