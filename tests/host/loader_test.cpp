// Loading real plugin libraries: the fixture plugins in tests/fixtures/plugins, each
// broken in exactly one way, and the exact sentence the loader says about each.
#include "loader/plugin_library.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/sha256.hpp"
#include "loader/catalog.hpp"

namespace mien::host {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kFixtures = MIEN_FIXTURE_PLUGIN_DIR;

std::string fixture(const std::string& case_name, const std::string& lib) {
  return kFixtures + "/" + case_name + "/libmien_fixture_" + lib + ".so";
}

std::string load_error(const std::string& path) {
  std::string error;
  auto lib = PluginLibrary::load(path, &error);
  EXPECT_EQ(lib, nullptr) << path << " loaded, expected an error";
  return error;
}

// Loads `paths` into a fresh catalog and returns the single problem's message.
std::string single_problem(const std::vector<std::string>& paths, Catalog* out_catalog = nullptr) {
  Catalog local;
  Catalog& catalog = out_catalog ? *out_catalog : local;
  const auto problems = load_plugins(paths, catalog);
  EXPECT_EQ(problems.size(), 1u);
  if (problems.empty()) return "";
  return problems.front().message;
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (had_) ::setenv(name_, old_.c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

// ------------------------------------------------------------------------------------
// The good plugin.
// ------------------------------------------------------------------------------------
TEST(PluginLibrary, LoadsTheGoodPlugin) {
  const std::string path = fixture("good", "good");
  std::string error;
  auto lib = PluginLibrary::load(path, &error);
  ASSERT_NE(lib, nullptr) << error;
  EXPECT_EQ(error, "");
  EXPECT_EQ(lib->name(), "fixture-good");
  EXPECT_EQ(lib->version(), "1.2.3");
  EXPECT_EQ(lib->path(), fs::canonical(path).string());
  EXPECT_EQ(lib->hash(), sha256_file(path));
  EXPECT_EQ(lib->hash().size(), 64u);
  ASSERT_NE(lib->descriptor(), nullptr);
  EXPECT_EQ(lib->descriptor()->num_components, 2u);
  EXPECT_EQ(lib->descriptor()->abi_major, MIEN_ABI_VERSION_MAJOR);
}

TEST(PluginLibrary, LoadingTwiceGivesTheSameLibrary) {
  std::string error;
  auto a = PluginLibrary::load(fixture("good", "good"), &error);
  // Another spelling of the same file.
  auto b = PluginLibrary::load(kFixtures + "/good/../good/./libmien_fixture_good.so", &error);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a, b);
}

TEST(LoadPlugins, GoodPluginComponentsAppearInTheCatalog) {
  Catalog catalog;
  const auto problems = load_plugins({kFixtures + "/good"}, catalog);
  EXPECT_THAT(problems, IsEmpty());
  EXPECT_THAT(catalog.type_ids(), ElementsAre("fixture.echo", "fixture.sum"));

  const std::string canonical = fs::canonical(fixture("good", "good")).string();
  const std::string hash = sha256_file(canonical);
  for (const char* id : {"fixture.echo", "fixture.sum"}) {
    const ComponentEntry* e = catalog.find(id);
    ASSERT_NE(e, nullptr) << id;
    EXPECT_EQ(e->version, 1u);
    EXPECT_EQ(e->library_path, canonical);
    EXPECT_TRUE(fs::path(e->library_path).is_absolute());
    EXPECT_EQ(e->library_hash, hash);
    EXPECT_EQ(e->plugin_name, "fixture-good");
    EXPECT_EQ(e->plugin_version, "1.2.3");
    ASSERT_NE(e->library, nullptr);
    EXPECT_EQ(e->library->path(), canonical);
    ASSERT_NE(e->desc, nullptr);
    EXPECT_STREQ(e->desc->type_id, id);
  }
  const ComponentEntry* sum = catalog.find("fixture.sum");
  EXPECT_EQ(sum->kind, MIEN_KIND_METRIC);
  EXPECT_EQ(sum->schema["properties"]["scale"]["default"], 1.0);
  ASSERT_EQ(sum->inputs().size(), 1u);
  EXPECT_TRUE(sum->inputs()[0].multiple());
  EXPECT_EQ(sum->outputs()[0].name, "total");
}

TEST(LoadPlugins, AFileGivenByPathLoadsAndTheSameFileIsLoadedOnce) {
  Catalog catalog;
  const std::string file = fixture("good", "good");
  const auto problems = load_plugins({file, kFixtures + "/good", kFixtures + "/good/"}, catalog);
  EXPECT_THAT(problems, IsEmpty());
  EXPECT_EQ(catalog.all().size(), 2u);
  // Loading into the same catalog again skips what is already there.
  EXPECT_THAT(load_plugins({kFixtures + "/good"}, catalog), IsEmpty());
  EXPECT_EQ(catalog.all().size(), 2u);
}

TEST(LoadPlugins, FolderScanIsNotRecursiveAndOnlyTakesLibmienSo) {
  const fs::path dir = fs::path(::testing::TempDir()) / "mien_loader_scan";
  fs::remove_all(dir);
  fs::create_directories(dir / "nested");
  fs::copy_file(fixture("good", "good"), dir / "nested" / "libmien_fixture_good.so");
  fs::copy_file(fixture("good", "good"), dir / "libfixture_good.so");      // no mien_ prefix
  fs::copy_file(fixture("good", "good"), dir / "libmien_good.so.bak");     // not .so
  std::ofstream(dir / "README.txt") << "not a plugin\n";
  Catalog catalog;
  EXPECT_THAT(load_plugins({dir.string()}, catalog), IsEmpty());
  EXPECT_THAT(catalog.all(), IsEmpty());
  fs::remove_all(dir);
}

TEST(LoadPlugins, ProblemsDoNotStopTheOtherLibraries) {
  Catalog catalog;
  const auto problems = load_plugins(
      {kFixtures + "/wrong_major", kFixtures + "/good", kFixtures + "/not_a_library"}, catalog);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].library, fixture("wrong_major", "wrong_major"));
  EXPECT_EQ(problems[1].library, fixture("not_a_library", "not_a_library"));
  EXPECT_THAT(catalog.type_ids(), ElementsAre("fixture.echo", "fixture.sum"));
}

// ------------------------------------------------------------------------------------
// Load-time fixtures: one exact sentence each.
// ------------------------------------------------------------------------------------
TEST(LoadErrors, MissingFile) {
  const std::string path = kFixtures + "/no_such_case/libmien_fixture_nothing.so";
  EXPECT_EQ(load_error(path),
            "cannot load plugin library " + path + ": cannot open shared object file: No such file or directory");
}

TEST(LoadErrors, NotALibrary) {
  const std::string path = fixture("not_a_library", "not_a_library");
  EXPECT_EQ(load_error(path), "cannot load plugin library " + path + ": invalid ELF header");
  EXPECT_EQ(single_problem({kFixtures + "/not_a_library"}), "cannot load plugin library " + path + ": invalid ELF header");
}

TEST(LoadErrors, TooShortToBeALibrary) {
  const fs::path path = fs::path(::testing::TempDir()) / "libmien_short.so";
  std::ofstream(path) << "ELF\n";
  EXPECT_EQ(load_error(path.string()), "cannot load plugin library " + path.string() + ": file too short");
  fs::remove(path);
}

TEST(LoadErrors, MissingEntrySymbol) {
  const std::string path = fixture("missing_entry", "missing_entry");
  EXPECT_EQ(load_error(path), path + " is not a mien plugin: it does not export mien_plugin_entry_v1");
  EXPECT_EQ(single_problem({path}), path + " is not a mien plugin: it does not export mien_plugin_entry_v1");
}

TEST(LoadErrors, NullDescriptor) {
  const std::string path = fixture("null_descriptor", "null_descriptor");
  EXPECT_EQ(load_error(path), path + ": mien_plugin_entry_v1 returned no plugin descriptor");
}

TEST(PluginLibrary, APluginBuiltForAnOlderMinorStillLoads) {
  // Built for ABI 1.0 (before MIEN_PORT_PARTIAL): a 1.x host keeps loading it.
  static_assert(MIEN_ABI_VERSION_MINOR >= 1, "this case needs a host minor above 0");
  const std::string path = fixture("older_minor", "older_minor");
  std::string error;
  auto lib = PluginLibrary::load(path, &error);
  ASSERT_NE(lib, nullptr) << error;
  EXPECT_EQ(error, "");
  EXPECT_EQ(lib->name(), "fixture-older-minor");
}

TEST(LoadErrors, DescriptorFromAnOlderSdk) {
  const std::string path = fixture("small_descriptor", "small_descriptor");
  EXPECT_EQ(load_error(path), path +
                                  ": plugin descriptor is 24 bytes, expected at least 56 (was it built against an "
                                  "older, incompatible SDK?)");
}

TEST(LoadErrors, WrongMajor) {
  const std::string path = fixture("wrong_major", "wrong_major");
  EXPECT_EQ(load_error(path), path +
                                  ": plugin 'fixture-wrong-major' 0.1.0 was built for mien ABI 2.1, but this host "
                                  "implements ABI 1.1 (majors must match); rebuild the plugin against this SDK");
}

TEST(LoadErrors, NewerMinor) {
  const std::string path = fixture("newer_minor", "newer_minor");
  EXPECT_EQ(load_error(path), path +
                                  ": plugin 'fixture-newer-minor' 0.1.0 needs mien ABI 1.2, but this host implements "
                                  "ABI 1.1 (a plugin's minor may not be newer than the host's); upgrade mien or "
                                  "rebuild the plugin against this SDK");
}

TEST(LoadErrors, InvalidSchemaRejectsTheWholeLibrary) {
  const std::string path = fixture("invalid_schema", "invalid_schema");
  Catalog catalog;
  const std::string message = single_problem({path}, &catalog);
  EXPECT_THAT(message, ::testing::StartsWith(path + ": component 'fixture.invalid_schema' has an invalid parameter "
                                                    "schema: "));
  EXPECT_THAT(message, HasSubstr("parse error"));
  EXPECT_THAT(catalog.all(), IsEmpty());
}

TEST(LoadErrors, BadTypeId) {
  const std::string path = fixture("bad_type_id", "bad_type_id");
  Catalog catalog;
  EXPECT_EQ(single_problem({path}, &catalog),
            path + ": component type_id 'Fixture.Bad-Name' is not of the form 'area.name' (lower-case letters, "
                   "digits, _ and dots)");
  EXPECT_THAT(catalog.all(), IsEmpty());
}

TEST(LoadErrors, DuplicateTypeIdNamesBothLibraries) {
  Catalog catalog;
  const std::string a = fs::canonical(fixture("duplicate_type_id", "dup_a")).string();
  const std::string b = fs::canonical(fixture("duplicate_type_id", "dup_b")).string();
  const auto problems = load_plugins({kFixtures + "/duplicate_type_id"}, catalog);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].library, fixture("duplicate_type_id", "dup_b"));
  EXPECT_EQ(problems[0].message, "duplicate component 'fixture.dup@1': defined in " + a + " and in " + b);
  // The first one found stays.
  ASSERT_NE(catalog.find("fixture.dup"), nullptr);
  EXPECT_EQ(catalog.find("fixture.dup")->plugin_name, "fixture-dup-a");
}

// A default its own schema rejects would reach create() unchecked (the host fills defaults
// in without validating them), although the same value in YAML is refused.
TEST(LoadErrors, ADefaultBelowItsOwnMinimumRejectsTheLibrary) {
  const std::string path = fixture("bad_default_min", "bad_default_min");
  Catalog catalog;
  EXPECT_EQ(single_problem({path}, &catalog),
            path + ": component 'fixture.bad_default' parameter 'k': its default is -1.0, below its minimum 0.0 (a "
                   "default must satisfy the parameter's own schema)");
  EXPECT_THAT(catalog.all(), IsEmpty());
}

TEST(LoadErrors, ADefaultOutsideItsOwnOneOfRejectsTheLibrary) {
  const std::string path = fixture("bad_default_enum", "bad_default_enum");
  Catalog catalog;
  EXPECT_EQ(single_problem({path}, &catalog),
            path + ": component 'fixture.bad_default' parameter 'mode': its default is 'fast', not one of its allowed "
                   "values 'exact', 'sampled' (a default must satisfy the parameter's own schema)");
  EXPECT_THAT(catalog.all(), IsEmpty());
}

TEST(LoadErrors, DefaultsAreCheckedForTypeItemsAndNestedProperties) {
  auto problem = [](const char* schema) {
    mien_component_vtable vt{};
    vt.struct_size = sizeof vt;
    vt.create = [](const mien_host_api*, mien_call_ctx*, const mien_create_info*, mien_instance**) { return MIEN_OK; };
    vt.destroy = [](mien_instance*) {};
    vt.process = [](mien_instance*, mien_call_ctx*, const mien_input*, uint32_t, mien_value*, uint32_t) {
      return MIEN_OK;
    };
    mien_component_desc d{};
    d.struct_size = sizeof d;
    d.type_id = "fixture.inline";
    d.type_version = 1;
    d.kind = MIEN_KIND_TRANSFORM;
    d.params_schema_json = schema;
    d.vtable = &vt;
    std::string error;
    const bool ok = entry_from_descriptor(&d, &error).has_value();
    return ok ? std::string("accepted") : error;
  };
  EXPECT_EQ(problem(R"({"type": "object", "properties": {"n": {"type": "integer", "default": 2.5}}})"),
            "component 'fixture.inline' parameter 'n': its default is 2.5, not of type integer (a default must "
            "satisfy the parameter's own schema)");
  EXPECT_EQ(problem(R"({"type": "object", "properties": {"n": {"type": "array", "items": {"type": "integer",
                       "minimum": 1}, "default": [1, 2, 0]}}})"),
            "component 'fixture.inline' parameter 'n': its default[2] is 0, below its minimum 1 (a default must "
            "satisfy the parameter's own schema)");
  EXPECT_EQ(problem(R"({"type": "object", "properties": {"opt": {"type": "object", "properties": {"p": {"type":
                       "number", "maximum": 1, "default": 3}}, "default": {}}}})"),
            "component 'fixture.inline' parameter 'opt.p': its default is 3, above its maximum 1 (a default must "
            "satisfy the parameter's own schema)");
  // What is valid stays valid: an integral float for an integer, null for a nullable one,
  // a number for a number with bounds it meets.
  EXPECT_EQ(problem(R"({"type": "object", "properties": {"n": {"type": "integer", "default": 3.0},
                       "m": {"type": ["integer", "null"], "minimum": 1, "default": null},
                       "x": {"type": "number", "minimum": 0, "maximum": 1, "default": 1}}})"),
            "accepted");
}

TEST(LoadErrors, RunTimeFixturesLoadFine) {
  Catalog catalog;
  EXPECT_THAT(load_plugins({kFixtures + "/throws_in_create", kFixtures + "/fails_in_process",
                            kFixtures + "/sleeps_in_process"},
                           catalog),
              IsEmpty());
  EXPECT_THAT(catalog.type_ids(), ElementsAre("fixture.fails_in_process", "fixture.slow", "fixture.throws_in_create"));
  const ComponentEntry* slow = catalog.find("fixture.slow");
  ASSERT_NE(slow, nullptr);
  EXPECT_EQ(slow->schema["properties"]["seconds"]["default"], 5.0);
  ASSERT_EQ(slow->inputs().size(), 1u);
  EXPECT_TRUE(slow->inputs()[0].optional());
}

// ------------------------------------------------------------------------------------
// Search path.
// ------------------------------------------------------------------------------------
TEST(PluginSearchPath, OrderDeduplicationAndOnlyExistingFolders) {
  const fs::path root = fs::path(::testing::TempDir()) / "mien_search_path";
  fs::remove_all(root);
  for (const char* d : {"exp", "env1", "env2"}) fs::create_directories(root / d);
  const std::string exp = (root / "exp").string(), env1 = (root / "env1").string(), env2 = (root / "env2").string();
  const std::string env = env1 + "::" + (root / "missing").string() + ":" + exp + ":" + env2 + "/:";
  ScopedEnv guard("MIEN_PLUGIN_PATH", env.c_str());

  const auto path = plugin_search_path({exp, (root / "nope").string()});
  ASSERT_GE(path.size(), 3u);
  EXPECT_EQ(path[0], exp);
  EXPECT_EQ(path[1], env1);
  EXPECT_EQ(path[2], env2);
  std::vector<std::string> rest(path.begin() + 3, path.end());
  // Last: the bundled folder beside this executable (build/bin/../lib/mien/plugins).
  EXPECT_THAT(rest, ElementsAre(fs::canonical(MIEN_PLUGIN_DIR).string()));
  fs::remove_all(root);
}

TEST(PluginSearchPath, AMissingEnvironmentEntryIsAWarningNotASilence) {
  const fs::path root = fs::path(::testing::TempDir()) / "mien_search_path_missing";
  fs::remove_all(root);
  fs::create_directories(root / "there");
  const std::string env = (root / "there").string() + ":" + (root / "gone").string();
  ScopedEnv guard("MIEN_PLUGIN_PATH", env.c_str());
  std::vector<std::string> warnings;
  const auto path = plugin_search_path({(root / "exp_gone").string()}, &warnings);
  ASSERT_FALSE(path.empty());
  EXPECT_EQ(path[0], (root / "there").string());
  // The experiment's own entries are warned about by the reader, with file:line:col.
  EXPECT_THAT(warnings, ElementsAre("MIEN_PLUGIN_PATH names " + (root / "gone").string() +
                                    ", which does not exist; no plugins are loaded from it"));
  fs::remove_all(root);
}

TEST(PluginSearchPath, TheBundledFolderIsFoundFromTheExecutableNotACompiledInPath) {
  // This test binary lives in build/bin like mien; the bundled plugins in build/lib/mien/plugins.
  EXPECT_EQ(bundled_plugin_dir(), fs::path(MIEN_PLUGIN_DIR).lexically_normal().string());
  ScopedEnv guard("MIEN_PLUGIN_PATH", nullptr);
  EXPECT_THAT(plugin_search_path({}), ElementsAre(fs::canonical(MIEN_PLUGIN_DIR).string()));
  ScopedEnv only("MIEN_PLUGIN_PATH_ONLY", "1");
  EXPECT_THAT(plugin_search_path({}), IsEmpty());
}

// "unknown component" and `mien describe` name the rejected library that would have
// provided a type_id, with the reason; the catalog remembers them.
TEST(LoadPlugins, RejectedLibrariesAreRememberedForTheIdsTheyDeclare) {
  Catalog catalog;
  const std::string minor = fixture("newer_minor", "newer_minor");
  const std::string bad = fixture("bad_default_min", "bad_default_min");
  const auto problems = load_plugins({minor, bad, kFixtures + "/wrong_major", kFixtures + "/not_a_library"}, catalog);
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_THAT(problems[0].declared_type_ids, ElementsAre("fixture.raw"));
  EXPECT_THAT(problems[1].declared_type_ids, ElementsAre("fixture.bad_default"));
  EXPECT_THAT(problems[2].declared_type_ids, IsEmpty());  // another major: its layout is unknown
  EXPECT_THAT(problems[3].declared_type_ids, IsEmpty());  // not even a library
  ASSERT_EQ(catalog.rejections("fixture.raw").size(), 1u);
  EXPECT_EQ(catalog.rejections("fixture.raw")[0].library, minor);
  EXPECT_EQ(catalog.rejection_note("fixture.raw"),
            "; it is declared by " + minor +
                ", which was not loaded: plugin 'fixture-newer-minor' 0.1.0 needs mien ABI 1.2, but this host "
                "implements ABI 1.1 (a plugin's minor may not be newer than the host's); upgrade mien or rebuild the "
                "plugin against this SDK");
  EXPECT_EQ(catalog.rejection_note("fixture.bad_default"),
            "; it is declared by " + bad +
                ", which was not loaded: component 'fixture.bad_default' parameter 'k': its default is -1.0, below "
                "its minimum 0.0 (a default must satisfy the parameter's own schema)");
  EXPECT_EQ(catalog.rejection_note("fixture.echo"), "");
}

}  // namespace
}  // namespace mien::host
