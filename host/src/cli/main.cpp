// mien: the command line. Subcommands: run, validate, plugins, describe, survey, status,
// run-node (the job side of --executor slurm).
#include <dlfcn.h>
#include <link.h>

#include <boost/program_options.hpp>

#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "core/companion_tool.hpp"
#include "core/diagnostics.hpp"
#include "graph/experiment.hpp"
#include "loader/catalog.hpp"
#include "loader/plugin_library.hpp"
#include "core/files.hpp"
#include "run/cache_command.hpp"
#include "run/call_context.hpp"
#include "run/cluster_node.hpp"
#include "run/console.hpp"
#include "run/run_status.hpp"
#include "run/runner.hpp"
#include "run/slurm_executor.hpp"
#include "run/slurm_files.hpp"
#include "run/stored_value.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using nlohmann::json;
using namespace mien::host;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitCancelled = 130;

// Results worth seeing on the terminal: every node output named `headline` (a JSON
// {"title", "rows": [{"label", "value"}]}, e.g. from report.html) is printed after the node
// table, so a run ends with its key figures, not only with paths. A malformed headline is
// skipped with a note rather than failing a finished run.
void print_headlines(const nlohmann::json& manifest, const std::string& run_dir, std::ostream& os) {
  for (const auto& n : manifest["nodes"]) {
    if (!n.contains("folder")) continue;
    const std::string status = n.value("status", "");
    if (status != "ran" && status != "cached") continue;
    const fs::path file = fs::path(run_dir) / n["folder"].get<std::string>() / "headline.json";
    if (!fs::exists(file)) continue;
    try {
      const auto h = nlohmann::json::parse(std::ifstream(file));
      const auto& rows = h.at("rows");
      // Columns in characters, not bytes: a label may hold "—" or "±" (UTF-8).
      const auto chars = [](const std::string& s) {
        size_t n = 0;
        for (unsigned char c : s) n += (c & 0xC0) != 0x80;
        return n;
      };
      size_t width = 0;
      for (const auto& row : rows) width = std::max(width, chars(row.at("label").get<std::string>()));
      os << "\n" << h.value("title", n["name"].get<std::string>()) << "\n";
      for (const auto& row : rows) {
        const auto& v = row.at("value");
        const std::string label = row.at("label").get<std::string>();
        os << "  " << label << std::string(width + 2 - chars(label), ' ')
           << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
      }
    } catch (const std::exception& e) {
      os << "\n(" << file.string() << ": not a headline: " << e.what() << ")\n";
    }
  }
}

const char* kTopHelp = R"(mien: a workbench for explaining facial-expression classifiers

Usage: mien <command> [options]

Commands:
  run EXPERIMENT.yaml       validate, then run an experiment graph into a run folder
                            (on this machine, or as SLURM jobs: --executor slurm)
  status RUN_DIR            what a run's nodes (and SLURM jobs) are doing or did
  validate EXPERIMENT.yaml  check an experiment without running anything (exit 0 when valid)
  plugins                   list every component found on the plugin path
  describe TYPE_ID          a component's parameters (with defaults) and ports
  survey summarize FILES... summarise user-study responses (report.survey): CSV, Wilcoxon, HTML
  run-node RUN_DIR NODE     run one node of a submitted run folder (what each SLURM job runs)
  cache du|verify|gc        the cache's size, a full check of every entry, removing old entries

Options:
  -h, --help                this help; `mien <command> --help` for a command's options
  --version                 versions of mien, the plugin ABI, LibTorch, OpenCV and the BLAS in use

Plugins are looked for in the experiment's plugin_paths, in MIEN_PLUGIN_PATH
(colon-separated folders or files) and in the bundled plugin folder next to this
executable, ../lib/mien/plugins (skipped when MIEN_PLUGIN_PATH_ONLY=1).
)";

// Plugin libraries read these when loaded, so they are set before any dlopen. Torch
// parallelises with OpenMP; a second level of BLAS threads only fights it.
// `force`: a cluster job uses exactly the CPUs SLURM gave it, whatever the submitting
// shell's OMP_NUM_THREADS said.
void configure_threads(uint32_t threads, bool force = false) {
  const std::string n = std::to_string(threads);
  setenv("OMP_NUM_THREADS", n.c_str(), force ? 1 : 0);
  setenv("OPENBLAS_NUM_THREADS", "1", 0);
  setenv("MKL_NUM_THREADS", "1", 0);
  // Idle OpenMP threads sleep instead of spinning: spinning threads are ruinous as soon
  // as another process wants the cores (measured: 2.7 s -> 315 s for the paper's MLP).
  setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
}

uint32_t default_threads() {
  const unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : hc;
}

void print_load_problems(const std::vector<LoadProblem>& problems) {
  for (const auto& p : problems) std::cerr << "warning: " << p.message << "\n";
}

// The plugin search path; a MIEN_PLUGIN_PATH entry that does not exist is always said.
std::vector<std::string> search_path(const std::vector<std::string>& experiment_paths) {
  std::vector<std::string> warnings;
  auto path = plugin_search_path(experiment_paths, &warnings);
  for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
  return path;
}

Catalog load_catalog(const std::vector<std::string>& experiment_paths, bool report_problems) {
  Catalog catalog;
  const auto problems = load_plugins(search_path(experiment_paths), catalog);
  if (report_problems) print_load_problems(problems);
  return catalog;
}

std::vector<std::string> collect_args(int argc, char** argv, int from) {
  std::vector<std::string> out;
  for (int i = from; i < argc; ++i) out.emplace_back(argv[i]);
  return out;
}

// ---------------------------------------------------------------------------------
// --version
// ---------------------------------------------------------------------------------
struct LoadedBlas {
  std::string path;
};

int find_blas(dl_phdr_info* info, size_t, void* data) {
  const std::string name = info->dlpi_name ? info->dlpi_name : "";
  if (name.find("libblas") != std::string::npos || name.find("libopenblas") != std::string::npos ||
      name.find("libmkl") != std::string::npos) {
    auto* b = static_cast<LoadedBlas*>(data);
    if (b->path.empty()) b->path = name;
  }
  return 0;
}

std::string blas_in_use() {
  LoadedBlas b;
  dl_iterate_phdr(find_blas, &b);
  void* handle = nullptr;
  if (b.path.empty()) {
    // No plugin pulled a BLAS in: show what LibTorch would get (Debian's alternative).
    handle = dlopen("libblas.so.3", RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) return "none found (install libopenblas0-pthread)";
    dl_iterate_phdr(find_blas, &b);
  } else {
    handle = dlopen(b.path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  }
  std::string real = b.path;
  std::error_code ec;
  if (!real.empty()) real = fs::canonical(real, ec).string();
  std::string name = "reference BLAS (slow: install libopenblas0-pthread)";
  if (handle != nullptr) {
    using ConfigFn = char* (*)();
    if (auto fn = reinterpret_cast<ConfigFn>(dlsym(handle, "openblas_get_config"))) {
      name = fn();
      if (name.rfind("OpenBLAS", 0) != 0) name = "OpenBLAS " + name;
    }
    else if (dlsym(handle, "mkl_get_version") != nullptr) name = "Intel MKL";
  }
  return name + " (" + (real.empty() ? b.path : real) + ")";
}

int cmd_version() {
  configure_threads(default_threads());
  std::cout << "mien " << MIEN_VERSION << "\n";
  std::cout << "plugin ABI " << MIEN_ABI_VERSION_MAJOR << "." << MIEN_ABI_VERSION_MINOR << "\n";
  Catalog catalog = load_catalog({}, false);
  // Libraries the plugins were built with, as they report them.
  std::map<std::string, std::string> libs;
  std::set<const mien_plugin_desc*> seen;
  for (const ComponentEntry* e : catalog.all()) {
    if (!e->library) continue;
    const mien_plugin_desc* d = e->library->descriptor();
    if (!seen.insert(d).second) continue;
    if (!MIEN_HAS_FIELD(d, mien_plugin_desc, build_info_json) || d->build_info_json == nullptr) continue;
    try {
      const json info = json::parse(d->build_info_json);  // named: items() refers into it
      for (const auto& [k, v] : info.items())
        if (!libs.count(k)) libs[k] = v.is_string() ? v.get<std::string>() : v.dump();
    } catch (...) {
    }
  }
  auto show = [&](const char* key, const char* label) {
    std::cout << label << " " << (libs.count(key) ? libs[key] : "(no installed plugin uses it)") << "\n";
  };
  show("libtorch", "LibTorch");
  show("opencv", "OpenCV");
  show("dlib", "dlib");
  std::cout << "BLAS " << blas_in_use() << "\n";
  std::cout << "compute threads " << default_threads() << " (set with --threads)\n";
  return kExitOk;
}

// ---------------------------------------------------------------------------------
// plugins / describe
// ---------------------------------------------------------------------------------
int cmd_plugins(const std::vector<std::string>& args) {
  po::options_description desc("Usage: mien plugins [--json]\n\nLists every component found on the plugin path.\n\nOptions");
  desc.add_options()("help,h", "this help")("json", "print a JSON array (type_id, version, kind, summary, library, plugin)");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kExitOk;
  }
  Catalog catalog;
  const auto problems = load_plugins(search_path({}), catalog);
  print_load_problems(problems);
  if (vm.count("json")) {
    json arr = json::array();
    for (const ComponentEntry* e : catalog.all())
      arr.push_back({{"type_id", e->type_id},
                     {"version", e->version},
                     {"kind", kind_name(e->kind)},
                     {"summary", e->summary},
                     {"library", e->library_path},
                     {"plugin", e->plugin_name},
                     {"plugin_version", e->plugin_version}});
    std::cout << arr.dump(2) << "\n";
    return kExitOk;
  }
  size_t width = 10;
  for (const ComponentEntry* e : catalog.all()) width = std::max(width, e->key().size());
  for (const ComponentEntry* e : catalog.all()) {
    std::cout << std::left << std::setw(static_cast<int>(width) + 2) << e->key() << std::setw(11) << kind_name(e->kind)
              << e->summary << "  [" << fs::path(e->library_path).filename().string() << "]\n";
  }
  if (catalog.all().empty()) std::cout << "no plugins found; searched: MIEN_PLUGIN_PATH and " << bundled_plugin_dir() << "\n";
  return kExitOk;
}

std::string schema_type(const json& p) {
  if (!p.contains("type")) return "any";
  const json& t = p["type"];
  std::string s;
  if (t.is_array()) {
    for (const auto& x : t) s += (s.empty() ? "" : "|") + x.get<std::string>();
  } else {
    s = t.get<std::string>();
  }
  if (s == "array" && p.contains("items") && p["items"].contains("type")) s = "array of " + p["items"]["type"].get<std::string>();
  return s;
}

int cmd_describe(const std::vector<std::string>& args) {
  po::options_description desc("Usage: mien describe TYPE_ID[@VERSION] [--json]\n\nA component's parameters (with defaults) and ports.\n\nOptions");
  desc.add_options()("help,h", "this help")("json", "print JSON (type_id, version, kind, summary, library, params_schema, ports)")(
      "type", po::value<std::string>(), "type id");
  po::positional_options_description pos;
  pos.add("type", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  if (vm.count("help") || !vm.count("type")) {
    std::cout << desc << "\n";
    return vm.count("help") ? kExitOk : kExitUsage;
  }
  std::string id = vm["type"].as<std::string>();
  std::optional<uint32_t> version;
  if (auto at = id.find('@'); at != std::string::npos) {
    version = static_cast<uint32_t>(std::stoul(id.substr(at + 1)));
    id = id.substr(0, at);
  }
  Catalog catalog;
  const auto problems = load_plugins(search_path({}), catalog);
  const ComponentEntry* e = catalog.find(id, version);
  if (e == nullptr) {
    std::cerr << "error: no component '" << vm["type"].as<std::string>() << "'" << catalog.rejection_note(id);
    const std::string hint = did_you_mean(id, catalog.type_ids());
    if (!hint.empty()) std::cerr << "; " << hint;
    std::cerr << "\n";
    // Libraries that failed before saying what they declare may be the one.
    for (const auto& p : problems)
      if (p.declared_type_ids.empty()) std::cerr << "warning: " << p.message << "\n";
    std::cerr << "(`mien plugins` lists what is installed)\n";
    return kExitUsage;
  }
  json ports = json::array();
  for (const auto& p : e->ports) {
    json jp = {{"name", p.name}, {"direction", p.dir == MIEN_PORT_IN ? "in" : "out"}, {"kind", value_kind_name(p.kind)},
               {"optional", p.optional()}, {"multiple", p.multiple()}, {"doc", p.doc}};
    if (p.requires_caps) jp["requires"] = capability_names(p.requires_caps);
    ports.push_back(jp);
  }
  if (vm.count("json")) {
    json out = {{"type_id", e->type_id}, {"version", e->version}, {"kind", kind_name(e->kind)}, {"summary", e->summary},
                {"library", e->library_path}, {"plugin", e->plugin_name}, {"params_schema", e->schema}, {"ports", ports}};
    if (e->kind == MIEN_KIND_MODEL) out["model_capabilities"] = capability_names(e->model_caps);
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << e->key() << " (" << kind_name(e->kind) << ")\n  " << e->summary << "\n  library: " << e->library_path << "\n";
  if (e->kind == MIEN_KIND_MODEL) std::cout << "  models offer: " << capability_names(e->model_caps) << "\n";
  std::cout << "\nParameters (with: ...):\n";
  const json props = e->schema.value("properties", json::object());
  const json required = e->schema.value("required", json::array());
  if (props.empty()) std::cout << "  (none)\n";
  for (const auto& [name, p] : props.items()) {
    std::cout << "  " << name << " (" << schema_type(p) << ")";
    if (p.contains("default")) std::cout << " = " << p["default"].dump();
    else if (std::find(required.begin(), required.end(), name) != required.end()) std::cout << " [required]";
    if (p.contains("minimum")) std::cout << " min " << p["minimum"].dump();
    if (p.contains("maximum")) std::cout << " max " << p["maximum"].dump();
    if (p.contains("enum")) std::cout << " one of " << p["enum"].dump();
    std::cout << "\n      " << p.value("description", "") << "\n";
  }
  std::cout << "\nInputs (in: ...):\n";
  bool any = false;
  for (const auto& p : e->ports) {
    if (p.dir != MIEN_PORT_IN) continue;
    any = true;
    std::cout << "  " << p.name << " (" << value_kind_name(p.kind) << (p.optional() ? ", optional" : "")
              << (p.multiple() ? ", several" : "") << (p.requires_caps ? ", needs " + capability_names(p.requires_caps) : "")
              << ")  " << p.doc << "\n";
  }
  if (!any) std::cout << "  (none)\n";
  std::cout << "\nOutputs:\n";
  for (const auto& p : e->ports)
    if (p.dir == MIEN_PORT_OUT) std::cout << "  " << p.name << " (" << value_kind_name(p.kind) << ")  " << p.doc << "\n";
  return kExitOk;
}

// ---------------------------------------------------------------------------------
// validate / run
// ---------------------------------------------------------------------------------
struct Loaded {
  std::optional<ResolvedGraph> graph;
  Diagnostics diags;
  Catalog catalog;
};

void load_and_validate(const std::string& file, const std::vector<std::string>& sets, Loaded& out) {
  Experiment exp = read_experiment(file, sets, out.diags);
  const auto problems = load_plugins(search_path(exp.plugin_paths), out.catalog);
  if (out.diags.has_errors()) {
    print_load_problems(problems);
    return;
  }
  out.graph = validate_experiment(exp, out.catalog, out.diags);
  // Load problems matter when a component could not be found: show them then.
  if (out.diags.has_errors()) print_load_problems(problems);
}

int cmd_validate(const std::vector<std::string>& args) {
  po::options_description desc("Usage: mien validate EXPERIMENT.yaml [--set key.path=value ...]\n\n"
                               "Checks the whole experiment (components, parameters, wiring) without running it;\n"
                               "exit 0 when valid, 2 otherwise.\n\nOptions");
  desc.add_options()("help,h", "this help")("set", po::value<std::vector<std::string>>()->composing(), "override a value, e.g. nodes.explain.use=explain.lime")(
      "experiment", po::value<std::string>(), "experiment file");
  po::positional_options_description pos;
  pos.add("experiment", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  if (vm.count("help") || !vm.count("experiment")) {
    std::cout << desc << "\n";
    return vm.count("help") ? kExitOk : kExitUsage;
  }
  const std::string file = vm["experiment"].as<std::string>();
  configure_threads(default_threads());
  Loaded l;
  load_and_validate(file, vm.count("set") ? vm["set"].as<std::vector<std::string>>() : std::vector<std::string>{}, l);
  std::cerr << l.diags.to_string();
  if (l.diags.has_errors() || !l.graph) {
    std::cerr << file << ": " << l.diags.error_count() << " problem" << (l.diags.error_count() == 1 ? "" : "s") << " found\n";
    return kExitUsage;
  }
  std::cout << file << ": valid (" << l.graph->nodes.size() << " nodes)\n";
  return kExitOk;
}

// "--slurm-option --qos=long" as two words: the value starts with "--", which the option
// parser would take for an option of mien's.
std::vector<std::string> join_slurm_options(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--slurm-option" && i + 1 < args.size()) {
      out.push_back("--slurm-option=" + args[++i]);
    } else {
      out.push_back(args[i]);
    }
  }
  return out;
}

// The closing summary: what ran, what came from the cache, where it all is.
void print_run_summary(const RunResult& r, Console& console, bool on_slurm) {
  std::ostringstream os;
  const auto manifest = json::parse(std::ifstream(fs::path(r.run_dir) / "manifest.json"));
  size_t width = 4;
  for (const auto& n : manifest["nodes"]) width = std::max(width, n["name"].get<std::string>().size());
  os << "\n" << std::left << std::setw(static_cast<int>(width) + 2) << "node" << std::setw(28) << "component";
  if (on_slurm) os << std::setw(10) << "job";
  os << std::setw(10) << "status" << "seconds\n";
  for (const auto& n : manifest["nodes"]) {
    std::ostringstream secs;
    secs << std::fixed << std::setprecision(2) << n.value("wall_seconds", 0.0);
    os << std::setw(static_cast<int>(width) + 2) << n["name"].get<std::string>()
       << std::setw(28) << (n["type_id"].get<std::string>() + "@" + std::to_string(n["version"].get<int>()));
    if (on_slurm) os << std::setw(10) << n.value("slurm_job_id", "-");
    os << std::setw(10) << n["status"].get<std::string>() << secs.str() << "\n";
  }
  os << "\n" << r.ran << " ran, " << r.cached << " cached, " << r.failed << " failed, " << r.skipped << " skipped";
  if (r.cancelled_nodes > 0) os << ", " << r.cancelled_nodes << " cancelled";
  if (r.submitted > 0) os << ", " << r.submitted << " submitted and not finished";
  os << "\n";
  print_headlines(manifest, r.run_dir, os);
  const fs::path report = fs::path(r.run_dir) / "report.html";
  if (fs::exists(report)) os << "report: " << report.string() << "\n";
  if (r.submitted > 0) os << "follow the jobs: mien status " << r.run_dir << "\n";
  os << "run folder: " << r.run_dir << "\n";
  console.print(os.str());
}

int cmd_run(const std::vector<std::string>& raw_args) {
  po::options_description desc("Usage: mien run EXPERIMENT.yaml [options]\n\n"
                               "Validates, then runs the experiment. Nodes whose inputs and parameters did not\n"
                               "change are taken from the cache. Ctrl-C stops at the next check and keeps what finished.\n"
                               "With --executor slurm every other node becomes a SLURM batch job (see the README's\n"
                               "\"Running on a cluster\"): the run folder and the cache must be on a file system\n"
                               "that every node of the cluster sees at the same path.\n\nOptions");
  desc.add_options()("help,h", "this help")("set", po::value<std::vector<std::string>>()->composing(), "override a value, e.g. nodes.explain.use=explain.lime (repeatable)")(
      "out", po::value<std::string>(), "run folder (default runs/<experiment>-<timestamp>)")(
      "threads", po::value<uint32_t>(), "compute threads per node (default: the number of cores; with slurm: each job's CPUs)")(
      "no-cache", "recompute every node (the cache is refreshed)")(
      "explain-cache", "say why each node ran or was cached (always in log.txt and the manifest's \"cache\")")(
      "cache", po::value<std::string>(), "cache folder (default: $MIEN_CACHE_DIR, else .cache beside the run folder)")(
      "cache-dir", po::value<std::string>(), "the same as --cache")(
      "executor", po::value<std::string>()->default_value("local"), "local: this process; slurm: one sbatch job per node")(
      "slurm-partition", po::value<std::string>(), "slurm: sbatch --partition")(
      "slurm-account", po::value<std::string>(), "slurm: sbatch --account")(
      "slurm-option", po::value<std::vector<std::string>>()->composing(), "slurm: another sbatch option, e.g. --slurm-option --qos=long (repeatable)")(
      "detach", "slurm: return once the jobs are submitted (`mien status RUN_DIR` follows them)")(
      "cancel-on-exit", "slurm: Ctrl-C cancels the run's jobs without asking")(
      "verbose,v", "also show debug lines")("quiet,q", "only warnings and errors")(
      "experiment", po::value<std::string>(), "experiment file");
  po::positional_options_description pos;
  pos.add("experiment", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(join_slurm_options(raw_args)).options(desc).positional(pos).run(), vm);
  if (vm.count("help") || !vm.count("experiment")) {
    std::cout << desc << "\n";
    return vm.count("help") ? kExitOk : kExitUsage;
  }
  const std::string executor_name = vm["executor"].as<std::string>();
  const bool on_slurm = executor_name == "slurm";
  if (executor_name != "local" && !on_slurm) {
    std::cerr << "error: --executor must be 'local' or 'slurm', got '" << executor_name << "'";
    const std::string hint = did_you_mean(executor_name, {"local", "slurm"});
    if (!hint.empty()) std::cerr << "; " << hint;
    std::cerr << "\n";
    return kExitUsage;
  }
  for (const char* only_slurm : {"slurm-partition", "slurm-account", "slurm-option", "detach", "cancel-on-exit"})
    if (vm.count(only_slurm) && !on_slurm) {
      std::cerr << "error: --" << only_slurm << " needs --executor slurm\n";
      return kExitUsage;
    }
  if (on_slurm && vm.count("threads")) {
    std::cerr << "error: --threads does not apply to --executor slurm: each job uses as many threads as the CPUs it\n"
                 "asks for (`resources: {cpus: N}` on the node, or per component kind at the top level)\n";
    return kExitUsage;
  }
  if (vm.count("cache") && vm.count("cache-dir")) {
    std::cerr << "error: give --cache or --cache-dir, not both\n";
    return kExitUsage;
  }
  RunOptions options;
  options.threads = vm.count("threads") ? vm["threads"].as<uint32_t>() : default_threads();
  if (options.threads == 0) options.threads = 1;
  options.use_cache = vm.count("no-cache") == 0;
  options.explain_cache = vm.count("explain-cache") > 0;
  options.executor = executor_name;
  if (vm.count("out")) options.run_dir = vm["out"].as<std::string>();
  if (const char* env = std::getenv("MIEN_CACHE_DIR"); env != nullptr && *env != '\0') options.cache_dir = env;
  if (vm.count("cache")) options.cache_dir = vm["cache"].as<std::string>();
  if (vm.count("cache-dir")) options.cache_dir = vm["cache-dir"].as<std::string>();
  configure_threads(options.threads);
  if (on_slurm) options.threads = 0;  // each job: the CPUs SLURM gives it

  const std::string file = vm["experiment"].as<std::string>();
  Loaded l;
  load_and_validate(file, vm.count("set") ? vm["set"].as<std::vector<std::string>>() : std::vector<std::string>{}, l);
  std::cerr << l.diags.to_string();
  if (l.diags.has_errors() || !l.graph) {
    std::cerr << file << ": " << l.diags.error_count() << " problem" << (l.diags.error_count() == 1 ? "" : "s")
              << " found; nothing was run\n";
    return kExitUsage;
  }

  Console console;
  console.set_verbose(vm.count("verbose") > 0);
  console.set_quiet(vm.count("quiet") > 0);
  std::unique_ptr<Executor> executor;
  if (on_slurm) {
    std::string problem;
    if (!slurm_reachable(&problem)) {
      std::cerr << "error: --executor slurm: cannot reach the SLURM controller (squeue: " << problem
                << "); run mien on a machine that can submit jobs (is SLURM_CONF right?)\n";
      return kExitFailed;
    }
    SlurmOptions so;
    if (vm.count("slurm-partition")) so.partition = vm["slurm-partition"].as<std::string>();
    if (vm.count("slurm-account")) so.account = vm["slurm-account"].as<std::string>();
    if (vm.count("slurm-option")) so.sbatch_options = vm["slurm-option"].as<std::vector<std::string>>();
    so.detach = vm.count("detach") > 0;
    so.use_cache = options.use_cache;
    so.mien_executable = fs::canonical("/proc/self/exe").string();
    so.watch = slurm::watch_settings_from_env();
    so.watch.cancel_on_exit = vm.count("cancel-on-exit") > 0;
    executor = std::make_unique<SlurmExecutor>(console, so);
  } else {
    executor = std::make_unique<LocalExecutor>(console);
  }
  install_signal_handlers();
  RunResult r;
  try {
    r = run_experiment(*l.graph, resolved_yaml(*l.graph), options, console, *executor);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitFailed;
  }
  print_run_summary(r, console, on_slurm);
  console.close_log();
  // 130 when the user interrupted; a job someone else cancelled (scancel) is a failed run.
  if (cancel_flag().load()) return kExitCancelled;
  if (r.submitted > 0) return r.failed + r.skipped == 0 ? kExitOk : kExitFailed;  // --detach
  return r.ok ? kExitOk : kExitFailed;
}

// ---------------------------------------------------------------------------------
// status / run-node
// ---------------------------------------------------------------------------------
int cmd_status(const std::vector<std::string>& args) {
  po::options_description desc("Usage: mien status RUN_DIR [--watch] [--cancel]\n\n"
                               "What a run's nodes are doing or did. For a run submitted with --executor slurm it\n"
                               "asks SLURM about the jobs, shows the error and the log's end of failed ones, and\n"
                               "brings manifest.json up to date. Exit status: 0 finished and complete, 1 finished\n"
                               "with failed, skipped or cancelled nodes, 3 still running, 2 not a run folder.\n\nOptions");
  desc.add_options()("help,h", "this help")("watch,w", "follow the jobs until they all ended")(
      "cancel", "scancel the run's unfinished jobs")("run", po::value<std::string>(), "run folder");
  po::positional_options_description pos;
  pos.add("run", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  if (vm.count("help") || !vm.count("run")) {
    std::cout << desc << "\n";
    return vm.count("help") ? kExitOk : kExitUsage;
  }
  StatusOptions options;
  options.watch = vm.count("watch") > 0;
  options.cancel = vm.count("cancel") > 0;
  options.settings = slurm::watch_settings_from_env();
  Console console;
  install_signal_handlers();
  return run_status(vm["run"].as<std::string>(), options, console, std::cout);
}

int cmd_run_node(const std::vector<std::string>& args) {
  po::options_description desc("Usage: mien run-node RUN_DIR NODE [--threads N]\n\n"
                               "Runs one node of a run folder that `mien run --executor slurm` submitted: what each\n"
                               "SLURM job runs. Reads RUN_DIR/resolved.yaml and RUN_DIR/slurm/submission.json, takes\n"
                               "the node's inputs from the cache (their keys from their nodes' state files), publishes\n"
                               "its outputs there, links them into RUN_DIR/nodes/ and writes RUN_DIR/slurm/nodes/NODE.json.\n"
                               "Exit status: 0 ran or cached, 1 failed, 130 cancelled.\n\nOptions");
  desc.add_options()("help,h", "this help")(
      "threads", po::value<uint32_t>(), "compute threads (default: $SLURM_CPUS_PER_TASK, else 1)")(
      "run", po::value<std::string>(), "run folder")("node", po::value<std::string>(), "node name, e.g. mlp[S]");
  po::positional_options_description pos;
  pos.add("run", 1).add("node", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  if (vm.count("help") || !vm.count("run") || !vm.count("node")) {
    std::cout << desc << "\n";
    return vm.count("help") ? kExitOk : kExitUsage;
  }
  const std::string node = vm["node"].as<std::string>();
  Console console;
  std::string run_dir;
  try {
    run_dir = fs::canonical(vm["run"].as<std::string>()).string();
  } catch (const std::exception&) {
    console.log(3, node, "no run folder " + vm["run"].as<std::string>() + " on this machine: is it on a shared file system?");
    return kExitFailed;
  }
  const auto submission = slurm::read_json_file(slurm::submission_file(run_dir));
  if (!submission) {
    console.log(3, node, run_dir + " was not submitted to a cluster (no readable " + slurm::submission_file(run_dir) + ")");
    return kExitFailed;
  }
  // Threads follow the CPUs SLURM gave the job.
  uint32_t threads = 1;
  if (const char* cpus = std::getenv("SLURM_CPUS_PER_TASK")) threads = static_cast<uint32_t>(std::max(1L, std::atol(cpus)));
  if (vm.count("threads")) threads = std::max<uint32_t>(1, vm["threads"].as<uint32_t>());
  configure_threads(threads, true);
  install_signal_handlers();

  const std::string resolved = (fs::path(run_dir) / "resolved.yaml").string();
  Diagnostics diags;
  std::string text;
  try {
    text = read_file(resolved);
  } catch (const std::exception& e) {
    return fail_submitted_node(run_dir, node, e.what(), console);
  }
  // The experiment's folder, not the run folder, anchors relative paths (as in the submitting run).
  Experiment exp = read_experiment_text(text, resolved, submission->value("base_dir", ""), {}, diags);
  Catalog catalog;
  const auto problems = load_plugins(search_path(exp.plugin_paths), catalog);
  std::optional<ResolvedGraph> graph;
  if (!diags.has_errors()) graph = validate_experiment(exp, catalog, diags);
  if (diags.has_errors() || !graph) {
    std::string why = "cannot read back " + resolved + " on this machine:\n" + diags.to_string();
    for (const auto& p : problems) why += "warning: " + p.message + "\n";
    return fail_submitted_node(run_dir, node, why, console);
  }
  return run_submitted_node(*graph, *submission, run_dir, node, threads, console);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cout << kTopHelp;
    return kExitUsage;
  }
  const std::string cmd = argv[1];
  // A pixel bomb (a small PNG declaring 16000x16000) must not be decoded into gigabytes:
  // OpenCV checks this limit from the header, in every plugin, before decoding.
  if (std::getenv("OPENCV_IO_MAX_IMAGE_PIXELS") == nullptr) {
    const char* mien_limit = std::getenv("MIEN_MAX_IMAGE_PIXELS");
    ::setenv("OPENCV_IO_MAX_IMAGE_PIXELS", mien_limit != nullptr && *mien_limit ? mien_limit : "100000000", 1);
  }
  try {
    if (cmd == "-h" || cmd == "--help" || cmd == "help") {
      std::cout << kTopHelp;
      return kExitOk;
    }
    if (cmd == "--version" || cmd == "version") return cmd_version();
    const auto rest = collect_args(argc, argv, 2);
    if (cmd == "run") return cmd_run(rest);
    if (cmd == "validate") return cmd_validate(rest);
    if (cmd == "plugins") return cmd_plugins(rest);
    if (cmd == "describe") return cmd_describe(rest);
    // The survey summary is plugins/report/tools' mien-survey, installed beside mien.
    if (cmd == "survey") return mien::host::exec_companion_tool("mien-survey", rest, std::cerr);
    if (cmd == "status") return cmd_status(rest);
    if (cmd == "run-node") return cmd_run_node(rest);
    if (cmd == "cache") return mien::host::cache_command(rest, std::cout, std::cerr);
    std::cerr << "error: unknown command '" << cmd << "'";
    const std::string hint = did_you_mean(cmd, {"run", "validate", "plugins", "describe", "survey", "status", "run-node", "cache"});
    if (!hint.empty()) std::cerr << "; " << hint;
    std::cerr << "\n\n" << kTopHelp;
    return kExitUsage;
  } catch (const po::error& e) {
    std::cerr << "error: " << e.what() << " (see `mien " << cmd << " --help`)\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitFailed;
  }
}
