#include "run/runner.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include "core/files.hpp"
#include "core/sha256.hpp"
#include "run/call_context.hpp"
#include "run/model_ref.hpp"
#include "run/stored_value.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace mien::host {
namespace {

constexpr int kCacheFormat = 1;  // bump when the on-disk layout of entries changes

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string now_compact() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::localtime(&t));
  return buf;
}

// Node names like "mlp[S]" become safe folder names.
std::string folder_name(const std::string& node) {
  std::string out;
  for (char c : node) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') ? c : (c == '[' || c == ',' ? '-' : c == ']' ? '\0' : '_');
  out.erase(std::remove(out.begin(), out.end(), '\0'), out.end());
  return out;
}

// Staging folders of a process that died are garbage; those of a live one are not ours.
void remove_dead_staging(const std::string& entry_dir) {
  const fs::path parent = fs::path(entry_dir).parent_path();
  const std::string prefix = fs::path(entry_dir).filename().string() + ".tmp-";
  std::error_code ec;
  if (!fs::is_directory(parent, ec)) return;
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const pid_t pid = static_cast<pid_t>(std::atol(name.c_str() + prefix.size()));
    if (pid > 0 && pid != ::getpid() && ::kill(pid, 0) == 0) continue;
    fs::remove_all(e.path(), ec);
  }
}

bool entry_complete(const std::string& entry_dir) { return fs::exists(fs::path(entry_dir) / "entry.json"); }

const char* status_name(NodeOutcome::Status s) {
  switch (s) {
    case NodeOutcome::Status::kRan: return "ran";
    case NodeOutcome::Status::kCached: return "cached";
    case NodeOutcome::Status::kFailed: return "failed";
    case NodeOutcome::Status::kCancelled: return "cancelled";
    default: return "skipped";
  }
}

std::string status_text(mien_status st) {
  switch (st) {
    case MIEN_OK: return "ok";
    case MIEN_ERR_INVALID_ARGUMENT: return "invalid argument";
    case MIEN_ERR_UNSUPPORTED: return "unsupported";
    case MIEN_ERR_OUT_OF_MEMORY: return "out of memory";
    case MIEN_ERR_CANCELLED: return "cancelled";
    case MIEN_ERR_IO: return "i/o error";
    case MIEN_ERR_INTERNAL: return "internal error";
    default: return "status " + std::to_string(static_cast<int>(st));
  }
}

std::string blas_note() {
  const char* env = std::getenv("OPENBLAS_NUM_THREADS");
  return env ? env : "";
}

// Each node's seed is the experiment's seed mixed with the node's name (matrix copies
// included: `mlp[S]`), so two copies of one node draw different random numbers and a node
// keeps its numbers when others are added or reordered. FNV-1a of the name, then
// splitmix64's finaliser: cheap, stable across platforms and compilers.
uint64_t splitmix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

uint64_t node_seed(uint64_t experiment_seed, const std::string& node_name) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : node_name) h = (h ^ c) * 0x100000001b3ULL;
  return splitmix64(experiment_seed ^ splitmix64(h));
}

std::string node_cache_key(const ResolvedNode& node, uint64_t seed, const std::vector<std::vector<std::string>>& input_keys) {
  const ComponentEntry& c = *node.component;
  json k = {{"format", kCacheFormat},
            {"type_id", c.type_id},
            {"version", c.version},
            {"library", c.library_hash},
            {"params", node.params},
            {"seed", seed},
            {"inputs", input_keys}};
  return sha256_hex(k.dump());
}

NodeOutcome LocalExecutor::execute(const NodeJob& job) {
  NodeOutcome out;
  const ResolvedNode& node = *job.node;
  const ComponentEntry& comp = *node.component;
  const auto t0 = std::chrono::steady_clock::now();

  remove_dead_staging(job.entry_dir);
  const std::string staging = make_staging_dir(job.entry_dir);
  const auto outputs = comp.outputs();
  const auto inputs = comp.inputs();

  mien_call_ctx ctx;
  ctx.console = &console_;
  ctx.node = node.spec.name;
  ctx.node_dir = (fs::path(staging) / "files").string();
  ctx.run_dir = job.run_dir;
  ctx.port_dir = [&](const char* port) { return (fs::path(staging) / port).string(); };

  auto fail = [&](const std::string& what) {
    out.status = cancel_flag().load() ? NodeOutcome::Status::kCancelled : NodeOutcome::Status::kFailed;
    out.error = what;
    out.wall_seconds = seconds_since(t0);
    std::error_code ec;
    fs::remove_all(staging, ec);  // never leave a partial entry
    return out;
  };

  // Inputs: loaded from the producers' published entries; models opened through the
  // component that wrote them.
  std::vector<std::unique_ptr<StoredValue>> stored;
  std::vector<std::unique_ptr<OpenedModel>> models;
  std::vector<std::unique_ptr<ValueView>> views;
  std::vector<std::vector<mien_value>> port_values(inputs.size());
  try {
    for (size_t i = 0; i < inputs.size(); ++i) {
      for (const InputSource& src : job.inputs[i]) {
        auto v = std::make_unique<StoredValue>(StoredValue::load(src.entry_dir, src.port, src.kind));
        const mien_model_ref* ref = nullptr;
        if (v->kind == MIEN_VALUE_MODEL) {
          models.push_back(std::make_unique<OpenedModel>(*src.producer, v->model, job.threads, &ctx));
          ref = models.back()->ref();
        }
        views.push_back(std::make_unique<ValueView>(*v, ref));
        port_values[i].push_back(views.back()->value());
        stored.push_back(std::move(v));
      }
    }
  } catch (const std::exception& e) {
    return fail(std::string("cannot read its inputs: ") + e.what());
  }
  std::vector<mien_input> in(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    in[i].count = static_cast<uint32_t>(port_values[i].size());
    in[i].values = port_values[i].empty() ? nullptr : port_values[i].data();
  }

  const std::string params = node.params.dump();
  mien_create_info info{};
  info.struct_size = sizeof(mien_create_info);
  info.params_json = params.c_str();
  info.seed = job.seed;
  info.num_threads = job.threads;
  info.node_name = node.spec.name.c_str();
  info.base_dir = job.base_dir.c_str();

  const mien_component_vtable* vt = comp.desc->vtable;
  mien_instance* instance = nullptr;
  ctx.error.clear();
  mien_status st = vt->create(host_api(), &ctx, &info, &instance);
  if (st != MIEN_OK || instance == nullptr) {
    return fail("create failed (" + status_text(st) + ")" +
                (ctx.error.empty() ? std::string() : ": " + ctx.error));
  }
  std::vector<mien_value> outs(outputs.size());
  for (auto& o : outs) o.struct_size = sizeof(mien_value);
  ctx.error.clear();
  st = vt->process(instance, &ctx, in.data(), static_cast<uint32_t>(in.size()), outs.data(), static_cast<uint32_t>(outs.size()));
  // The instance is destroyed only after its outputs are copied: output strings may
  // live in the instance until then (ABI rule 5).
  struct DestroyOnExit {
    const mien_component_vtable* vt;
    mien_instance* instance;
    ~DestroyOnExit() { vt->destroy(instance); }
  } destroy_on_exit{vt, instance};
  console_.end_progress();
  if (st != MIEN_OK) {
    if (st == MIEN_ERR_CANCELLED) return fail("cancelled");
    return fail("process failed (" + status_text(st) + ")" + (ctx.error.empty() ? std::string() : ": " + ctx.error));
  }

  // Outputs: copied into host memory (releasing the plugin's), then written as files.
  json entry_outputs = json::object();
  try {
    for (size_t j = 0; j < outputs.size(); ++j) {
      StoredValue v;
      try {
        v = StoredValue::take(outs[j], outputs[j].kind);
      } catch (const std::exception& e) {
        // Release whatever else the plugin handed over before reporting.
        for (size_t k = j + 1; k < outputs.size(); ++k) {
          try { (void)StoredValue::take(outs[k], MIEN_VALUE_ANY); } catch (...) {}
        }
        throw std::runtime_error("output '" + outputs[j].name + "': " + e.what());
      }
      if (v.kind == MIEN_VALUE_MODEL) {
        v.model.type_id = comp.type_id;
        v.model.type_version = comp.version;
        fs::create_directories(fs::path(staging) / outputs[j].name);
      }
      v.save(staging, outputs[j].name);
      entry_outputs[outputs[j].name] = value_kind_name(v.kind);
      out.outputs.push_back(outputs[j].name + ": " + v.describe());
    }
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  out.wall_seconds = seconds_since(t0);
  const json entry = {{"key", job.key},
                      {"node", node.spec.name},
                      {"type_id", comp.type_id},
                      {"version", comp.version},
                      {"library", comp.library_path},
                      {"library_sha256", comp.library_hash},
                      {"params", node.params},
                      {"outputs", entry_outputs},
                      {"output_summary", out.outputs},
                      {"wall_seconds", out.wall_seconds},
                      {"created", now_iso()}};
  try {
    // entry.json is written last: an entry without it is never trusted.
    write_file_atomic((fs::path(staging) / "entry.json").string(), entry.dump(2) + "\n");
    if (fs::exists(job.entry_dir)) fs::remove_all(job.entry_dir);  // --no-cache refresh
    if (!publish_dir(staging, job.entry_dir) && !entry_complete(job.entry_dir))
      throw std::runtime_error("cannot publish " + job.entry_dir);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  out.status = NodeOutcome::Status::kRan;
  return out;
}

RunResult run_experiment(const ResolvedGraph& graph, const std::string& resolved_yaml_text, const RunOptions& options,
                         Console& console, Executor& executor) {
  const Experiment& exp = graph.experiment;
  RunResult result;
  result.run_dir = options.run_dir.empty() ? (fs::path("runs") / (exp.name + "-" + now_compact())).string() : options.run_dir;
  fs::create_directories(result.run_dir);
  result.run_dir = fs::canonical(result.run_dir).string();
  const std::string cache_dir =
      options.cache_dir.empty() ? (fs::path(result.run_dir).parent_path() / ".cache").string() : options.cache_dir;
  fs::create_directories(cache_dir);
  remove_stale_temporaries(result.run_dir);

  console.open_log((fs::path(result.run_dir) / "log.txt").string());
  write_file_atomic((fs::path(result.run_dir) / "resolved.yaml").string(), resolved_yaml_text);
  console.log(1, "", "running experiment '" + exp.name + "' (" + std::to_string(graph.nodes.size()) + " nodes) into " + result.run_dir);

  json manifest = {{"mien_version", MIEN_VERSION},
                   {"abi", std::to_string(MIEN_ABI_VERSION_MAJOR) + "." + std::to_string(MIEN_ABI_VERSION_MINOR)},
                   {"experiment", exp.name},
                   {"experiment_file", exp.file},
                   {"seed", exp.seed},
                   {"threads", options.threads},
                   {"cache_dir", fs::absolute(cache_dir).string()},
                   {"started", now_iso()},
                   {"status", "running"}};
  try {
    manifest["mien_executable_sha256"] = sha256_file("/proc/self/exe");
  } catch (...) {
  }
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  manifest["machine"] = {{"hostname", host}, {"cpus", std::thread::hardware_concurrency()}};
  json plugins = json::object();
  for (const auto& n : graph.nodes) {
    const ComponentEntry& c = *n.component;
    const std::string lib = c.library_path.empty() ? "(built in)" : c.library_path;
    plugins[lib] = {{"plugin", c.plugin_name}, {"version", c.plugin_version}, {"sha256", c.library_hash}};
  }
  manifest["plugins"] = plugins;
  manifest["nodes"] = json::array();
  const std::string manifest_path = (fs::path(result.run_dir) / "manifest.json").string();
  auto write_manifest = [&] { write_file_atomic(manifest_path, manifest.dump(2) + "\n"); };
  write_manifest();

  std::vector<std::string> keys(graph.nodes.size());
  std::vector<NodeOutcome::Status> status(graph.nodes.size(), NodeOutcome::Status::kSkipped);
  std::vector<bool> done(graph.nodes.size(), false);
  std::vector<std::string> summary_lines;

  for (size_t idx : graph.order) {
    const ResolvedNode& node = graph.nodes[idx];
    const ComponentEntry& comp = *node.component;
    json rec = {{"name", node.spec.name}, {"type_id", comp.type_id}, {"version", comp.version}};
    NodeOutcome outcome;

    // Inputs must come from nodes that finished.
    bool inputs_ready = true;
    std::vector<std::vector<std::string>> input_keys;
    NodeJob job;
    job.node = &node;
    const auto in_ports = comp.inputs();
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      input_keys.emplace_back();
      job.inputs.emplace_back();
      for (const auto& s : node.inputs[i]) {
        if (!done[s.node]) inputs_ready = false;
        const ResolvedNode& prod = graph.nodes[s.node];
        const PortInfo port = prod.component->outputs()[s.output];
        input_keys.back().push_back(keys[s.node] + ":" + port.name);
        InputSource src;
        src.entry_dir = keys[s.node].empty() ? "" : (fs::path(cache_dir) / keys[s.node].substr(0, 2) / keys[s.node]).string();
        src.port = port.name;
        src.kind = port.kind;
        src.producer = prod.component;
        job.inputs.back().push_back(src);
      }
    }
    if (cancel_flag().load()) {
      outcome.status = NodeOutcome::Status::kCancelled;
      outcome.error = "not started: the run was cancelled";
    } else if (!inputs_ready) {
      outcome.status = NodeOutcome::Status::kSkipped;
      outcome.error = "skipped: an input's node did not finish";
    } else {
      const bool nondeterministic = (comp.flags & MIEN_COMPONENT_NONDETERMINISTIC) != 0;
      json key_inputs = input_keys;
      const uint64_t seed = node_seed(exp.seed, node.spec.name);
      std::string key = node_cache_key(node, seed, input_keys);
      if (nondeterministic) key = sha256_hex(key + now_iso() + std::to_string(::getpid()));
      keys[idx] = key;
      job.key = key;
      job.entry_dir = (fs::path(cache_dir) / key.substr(0, 2) / key).string();
      job.seed = seed;
      job.threads = options.threads;
      job.base_dir = exp.base_dir;
      job.run_dir = result.run_dir;
      rec["cache_key"] = key;
      rec["seed"] = seed;
      if (options.use_cache && !nondeterministic && entry_complete(job.entry_dir)) {
        outcome.status = NodeOutcome::Status::kCached;
        try {
          const auto entry = json::parse(read_file((fs::path(job.entry_dir) / "entry.json").string()));
          outcome.outputs = entry.value("output_summary", std::vector<std::string>{});
          rec["original_wall_seconds"] = entry.value("wall_seconds", 0.0);
        } catch (...) {
        }
        console.log(1, node.spec.name, "cached (" + comp.key() + ")");
      } else {
        console.log(1, node.spec.name, "running " + comp.key());
        outcome = executor.execute(job);
      }
    }

    status[idx] = outcome.status;
    rec["status"] = status_name(outcome.status);
    rec["wall_seconds"] = outcome.wall_seconds;
    rec["peak_rss_mb"] = static_cast<double>(peak_rss_kb()) / 1024.0;
    rec["outputs"] = outcome.outputs;
    if (!outcome.error.empty()) rec["error"] = outcome.error;
    switch (outcome.status) {
      case NodeOutcome::Status::kRan: ++result.ran; break;
      case NodeOutcome::Status::kCached: ++result.cached; break;
      case NodeOutcome::Status::kFailed: ++result.failed; break;
      case NodeOutcome::Status::kCancelled: result.cancelled = true; break;
      case NodeOutcome::Status::kSkipped: ++result.skipped; break;
    }
    if (outcome.status == NodeOutcome::Status::kRan || outcome.status == NodeOutcome::Status::kCached) {
      done[idx] = true;
      // The run folder gets the node's files (hard links into the cache).
      const std::string entry_dir = (fs::path(cache_dir) / keys[idx].substr(0, 2) / keys[idx]).string();
      const fs::path node_dir = fs::path(result.run_dir) / "nodes" / folder_name(node.spec.name);
      std::error_code ec;
      fs::remove_all(node_dir, ec);
      for (const auto& e : fs::directory_iterator(entry_dir)) link_or_copy_tree(e.path().string(), (node_dir / e.path().filename()).string());
      rec["folder"] = fs::relative(node_dir, result.run_dir).string();
      if (outcome.status == NodeOutcome::Status::kRan)
        console.log(1, node.spec.name, "done in " + format_number(std::round(outcome.wall_seconds * 1000) / 1000) + " s");
      for (const auto& o : outcome.outputs) console.log(0, node.spec.name, o);
    } else if (outcome.status == NodeOutcome::Status::kFailed) {
      console.log(3, node.spec.name, "failed: " + outcome.error + " [" + comp.key() + " in " + comp.library_path + "]");
    } else if (outcome.status == NodeOutcome::Status::kSkipped) {
      console.log(2, node.spec.name, outcome.error);
    }
    manifest["nodes"].push_back(rec);
    write_manifest();
  }

  result.ok = result.failed == 0 && !result.cancelled && result.skipped == 0;
  manifest["status"] = result.cancelled ? "cancelled" : result.ok ? "completed" : "failed";
  manifest["finished"] = now_iso();
  manifest["peak_rss_mb"] = static_cast<double>(peak_rss_kb()) / 1024.0;
  write_manifest();
  (void)blas_note;
  return result;
}

}  // namespace mien::host
