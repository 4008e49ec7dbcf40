// Loading plugin libraries (Boost.DLL) and the handshake on their descriptors.
//
// Every message names the library by the path it was given as, and says what was
// expected; tests/host/loader_test.cpp asserts them word for word.
#include "loader/plugin_library.hpp"

#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <system_error>
#include <utility>

#include "core/sha256.hpp"

namespace mien::host {

namespace fs = std::filesystem;

namespace {

// The size of mien_plugin_desc in ABI 1.0: every field up to and including
// build_info_json. A later minor appends fields, so this number is frozen; the
// layout test (tests/abi/abi_layout_test.c) pins the offsets it is made of.
constexpr size_t kPluginDescSizeV1_0 = offsetof(mien_plugin_desc, build_info_json) + sizeof(const char*);

// Boost.DLL throws system_error whose what() is
//   "boost::dll::shared_library::load() failed (dlerror system message: <dlerror>): Bad file descriptor"
// Keep only <dlerror>, and drop its leading "<path>: " when it is the path we passed,
// so the user sees the path once, as given.
std::string dlerror_text(const std::string& what, const std::string& loaded_path) {
  static const std::string kMarker = "(dlerror system message: ";
  std::string text = what;
  const size_t begin = what.find(kMarker);
  if (begin != std::string::npos) {
    const size_t from = begin + kMarker.size();
    size_t end = what.rfind("): ");
    if (end == std::string::npos || end < from) end = what.rfind(')');
    text = what.substr(from, end == std::string::npos || end < from ? std::string::npos : end - from);
  }
  const std::string prefix = loaded_path + ": ";
  if (text.compare(0, prefix.size(), prefix) == 0) text.erase(0, prefix.size());
  return text;
}

// Absolute and, when the file exists, canonical (symlinks resolved).
std::string canonical_or_absolute(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::canonical(path, ec);
  if (!ec) return p.string();
  p = fs::absolute(path, ec);
  if (!ec) return p.lexically_normal().string();
  return path;
}

std::string quoted_or(const char* s, const char* fallback) {
  return (s != nullptr && *s != 0) ? std::string(s) : std::string(fallback);
}

// Libraries whose handshake passed, by canonical path. Never emptied: a library is
// never unloaded during the process (deleters, vtables and thread-locals live in its
// code), and loading the same file twice gives back the same object.
struct Registry {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<PluginLibrary>> by_path;
};
Registry& registry() {
  static Registry* r = new Registry();  // leaked on purpose: no dlclose at exit either
  return *r;
}

}  // namespace

struct PluginLibrary::Impl {
  boost::dll::shared_library lib;
};

PluginLibrary::~PluginLibrary() = default;

std::string PluginLibrary::name() const { return desc_ && desc_->name ? desc_->name : ""; }
std::string PluginLibrary::version() const { return desc_ && desc_->version ? desc_->version : ""; }

// The type_ids a descriptor of this ABI major declares, copied (the library is unloaded
// when its handshake fails). Only fields of ABI 1.0 are read, each after checking that
// the struct is big enough to hold it.
static std::vector<std::string> declared_ids(const mien_plugin_desc* d) {
  std::vector<std::string> ids;
  if (d == nullptr || d->struct_size < kPluginDescSizeV1_0 || d->abi_major != MIEN_ABI_VERSION_MAJOR ||
      d->components == nullptr)
    return ids;
  for (uint32_t i = 0; i < d->num_components && i < 4096; ++i) {
    const mien_component_desc* c = d->components[i];
    if (c == nullptr || c->struct_size < offsetof(mien_component_desc, type_id) + sizeof(c->type_id) ||
        c->type_id == nullptr)
      continue;
    ids.emplace_back(c->type_id);
  }
  return ids;
}

std::shared_ptr<PluginLibrary> PluginLibrary::load(const std::string& path, std::string* error,
                                                   std::vector<std::string>* declared_type_ids) {
  const mien_plugin_desc* d = nullptr;
  auto fail = [&](const std::string& message) -> std::shared_ptr<PluginLibrary> {
    if (error) *error = message;
    if (declared_type_ids) *declared_type_ids = declared_ids(d);
    return nullptr;
  };
  const std::string resolved = canonical_or_absolute(path);
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    auto it = r.by_path.find(resolved);
    if (it != r.by_path.end()) return it->second;
  }

  std::shared_ptr<PluginLibrary> self(new PluginLibrary());
  self->impl_ = std::make_unique<Impl>();
  self->path_ = resolved;
  try {
    self->impl_->lib.load(boost::dll::fs::path(resolved),
                          boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    return fail("cannot load plugin library " + path + ": " + dlerror_text(e.what(), resolved));
  }
  if (!self->impl_->lib.has(MIEN_PLUGIN_ENTRY_NAME))
    return fail(path + " is not a mien plugin: it does not export " MIEN_PLUGIN_ENTRY_NAME);

  mien_plugin_entry_fn entry = nullptr;
  try {
    entry = &self->impl_->lib.get<const mien_plugin_desc*()>(MIEN_PLUGIN_ENTRY_NAME);
  } catch (const std::exception& e) {
    return fail(path + " is not a mien plugin: " + dlerror_text(e.what(), resolved));
  }
  d = entry();
  if (d == nullptr) return fail(path + ": " MIEN_PLUGIN_ENTRY_NAME " returned no plugin descriptor");
  if (d->struct_size < kPluginDescSizeV1_0)
    return fail(path + ": plugin descriptor is " + std::to_string(d->struct_size) + " bytes, expected at least " +
                std::to_string(kPluginDescSizeV1_0) + " (was it built against an older, incompatible SDK?)");

  const std::string name = quoted_or(d->name, "(unnamed)");
  const std::string version = quoted_or(d->version, "(no version)");
  const std::string who = "plugin '" + name + "' " + version;
  const std::string plugin_abi = std::to_string(d->abi_major) + "." + std::to_string(d->abi_minor);
  const std::string host_abi = std::to_string(MIEN_ABI_VERSION_MAJOR) + "." + std::to_string(MIEN_ABI_VERSION_MINOR);
  if (d->abi_major != MIEN_ABI_VERSION_MAJOR)
    return fail(path + ": " + who + " was built for mien ABI " + plugin_abi + ", but this host implements ABI " +
                host_abi + " (majors must match); rebuild the plugin against this SDK");
  if (d->abi_minor > MIEN_ABI_VERSION_MINOR)
    return fail(path + ": " + who + " needs mien ABI " + plugin_abi + ", but this host implements ABI " + host_abi +
                " (a plugin's minor may not be newer than the host's); upgrade mien or rebuild the plugin against "
                "this SDK");
  if (d->name == nullptr || *d->name == 0)
    return fail(path + ": plugin descriptor has no name (mien_plugin_desc.name is NULL or empty)");
  if (d->version == nullptr || *d->version == 0)
    return fail(path + ": plugin '" + name + "' has no version (mien_plugin_desc.version is NULL or empty)");
  if (d->num_components > 0 && d->components == nullptr)
    return fail(path + ": " + who + " declares " + std::to_string(d->num_components) +
                " components but its components array is NULL");

  try {
    self->hash_ = sha256_file(resolved);
  } catch (const std::exception& e) {
    return fail("cannot load plugin library " + path + ": " + e.what());
  }
  self->desc_ = d;

  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto [it, inserted] = r.by_path.emplace(resolved, self);
  return it->second;  // another thread may have won the race; both hold the same handle
}

std::string bundled_plugin_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);  // the executable itself, symlinks resolved
  if (ec || exe.empty()) return "";
  return (exe.parent_path().parent_path() / "lib" / "mien" / "plugins").lexically_normal().string();
}

std::vector<std::string> plugin_search_path(const std::vector<std::string>& experiment_paths,
                                            std::vector<std::string>* warnings) {
  struct Candidate {
    std::string path;
    bool from_env = false;
  };
  std::vector<Candidate> candidates;
  for (const auto& p : experiment_paths) candidates.push_back({p, false});
  if (const char* env = std::getenv("MIEN_PLUGIN_PATH")) {
    std::string value = env;
    size_t start = 0;
    while (start <= value.size()) {
      size_t end = value.find(':', start);
      if (end == std::string::npos) end = value.size();
      if (end > start) candidates.push_back({value.substr(start, end - start), true});
      start = end + 1;
    }
  }
  // MIEN_PLUGIN_PATH_ONLY=1: nothing but what the experiment and MIEN_PLUGIN_PATH name
  // (reproducible isolation, e.g. testing a plugin build against a clean set).
  const char* only = std::getenv("MIEN_PLUGIN_PATH_ONLY");
  if (only == nullptr || std::string(only) == "0" || std::string(only).empty())
    candidates.push_back({bundled_plugin_dir(), false});

  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& c : candidates) {
    if (c.path.empty()) continue;
    std::error_code ec;
    const fs::path p = fs::canonical(c.path, ec);
    if (ec) {
      if (c.from_env && warnings)
        warnings->push_back("MIEN_PLUGIN_PATH names " + c.path + ", which " +
                            (ec == std::errc::no_such_file_or_directory ? std::string("does not exist")
                                                                        : "cannot be read (" + ec.message() + ")") +
                            "; no plugins are loaded from it");
      continue;
    }
    if (seen.insert(p.string()).second) out.push_back(p.string());
  }
  return out;
}

namespace {

// libmien_*.so files directly in `dir`, sorted by name.
std::vector<std::string> plugin_files_in(const fs::path& dir, std::vector<LoadProblem>& problems) {
  static const std::regex kPluginFile("^libmien_.*\\.so$");
  std::vector<std::string> files;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  if (ec) {
    problems.push_back({dir.string(), "cannot list plugin folder " + dir.string() + ": " + ec.message(), {}});
    return files;
  }
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;  // follows symlinks
    const std::string fname = it->path().filename().string();
    if (std::regex_match(fname, kPluginFile)) files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void add_library(const std::string& path, Catalog& catalog, std::set<std::string>& loaded,
                 std::vector<LoadProblem>& problems) {
  const std::string resolved = canonical_or_absolute(path);
  if (loaded.count(resolved)) return;
  loaded.insert(resolved);

  std::string error;
  std::vector<std::string> declared;
  std::shared_ptr<PluginLibrary> lib = PluginLibrary::load(path, &error, &declared);
  if (!lib) {
    problems.push_back({path, error, declared});
    return;
  }
  const mien_plugin_desc* d = lib->descriptor();
  // A library is taken whole or not at all, so a rejection concerns every id it declares.
  std::vector<std::string> ids;
  for (uint32_t i = 0; i < d->num_components; ++i)
    if (d->components[i] != nullptr && d->components[i]->type_id != nullptr) ids.emplace_back(d->components[i]->type_id);

  // All or nothing: every component must be valid and new before any is added.
  std::vector<ComponentEntry> entries;
  for (uint32_t i = 0; i < d->num_components; ++i) {
    std::string err;
    auto e = entry_from_descriptor(d->components[i], &err);
    if (!e) {
      problems.push_back({path, path + ": " + err, ids});
      return;
    }
    e->library = lib;
    e->library_path = lib->path();
    e->library_hash = lib->hash();
    e->plugin_name = lib->name();
    e->plugin_version = lib->version();
    entries.push_back(std::move(*e));
  }
  bool ok = true;
  Catalog own;  // duplicates inside this library
  for (const auto& e : entries) {
    std::string err;
    if (catalog.find(e.type_id, e.version) != nullptr) {
      catalog.add(e, &err);  // fails without changing the catalog; gives the message naming both libraries
      problems.push_back({path, err, ids});
      ok = false;
    } else if (!own.add(e, &err)) {
      problems.push_back({path, err, ids});
      ok = false;
    }
  }
  if (!ok) return;
  for (auto& e : entries) {
    std::string err;
    if (!catalog.add(std::move(e), &err)) problems.push_back({path, err, ids});  // cannot happen: checked above
  }
}

}  // namespace

std::vector<LoadProblem> load_plugins(const std::vector<std::string>& paths, Catalog& catalog) {
  std::vector<LoadProblem> problems;
  std::set<std::string> loaded;
  for (const ComponentEntry* e : catalog.all())
    if (!e->library_path.empty()) loaded.insert(e->library_path);
  for (const auto& path : paths) {
    try {
      std::error_code ec;
      if (fs::is_directory(path, ec)) {
        for (const auto& file : plugin_files_in(path, problems)) add_library(file, catalog, loaded, problems);
      } else {
        add_library(path, catalog, loaded, problems);
      }
    } catch (const std::exception& e) {
      problems.push_back({path, "cannot load plugin library " + path + ": " + e.what(), {}});
    }
  }
  for (const auto& p : problems)
    for (const auto& id : p.declared_type_ids) catalog.add_rejection(id, p.library, p.message);
  return problems;
}

}  // namespace mien::host
