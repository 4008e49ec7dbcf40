// The local executor: runs a node in this process, reading its inputs from published
// cache entries and publishing its outputs atomically (staging folder, entry.json last,
// rename). A cluster job runs exactly this through `mien run-node`.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "core/clock.hpp"
#include "core/files.hpp"
#include "run/cache.hpp"
#include "run/call_context.hpp"
#include "run/executor.hpp"
#include "run/model_ref.hpp"
#include "run/plugin_output.hpp"
#include "run/runner.hpp"
#include "run/stored_value.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace mien::host {
namespace {

// Staging folders of a process that died are garbage; those of a live one are not ours.
// Only this machine can tell whether one of its pids is alive: another machine's staging
// folder (a cluster job writing the same entry) is left alone unless it is a day old.
void remove_dead_staging(const std::string& entry_dir) {
  const fs::path parent = fs::path(entry_dir).parent_path();
  const std::string prefix = fs::path(entry_dir).filename().string() + ".tmp-";
  std::error_code ec;
  if (!fs::is_directory(parent, ec)) return;
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const size_t at = name.find('@', prefix.size());
    if (at != std::string::npos && name.substr(at + 1) != this_host()) {
      const auto age = fs::file_time_type::clock::now() - fs::last_write_time(e.path(), ec);
      if (ec || age < std::chrono::hours(24)) continue;
    } else {
      const pid_t pid = static_cast<pid_t>(std::atol(name.c_str() + prefix.size()));
      if (pid > 0 && pid != ::getpid() && ::kill(pid, 0) == 0) continue;
    }
    fs::remove_all(e.path(), ec);
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

}  // namespace

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
  // From opening its input models to destroy(): whatever the plugin code prints goes to
  // log.txt, attributed to this node and component, not into the terminal.
  PluginOutputCapture capture(console_, node.spec.name, comp.key());

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
  // Every file the entry holds, with its size and hash: what reusing it checks.
  json files;
  try {
    files = describe_entry_files(staging);
  } catch (const std::exception& e) {
    return fail(std::string("cannot record its output files: ") + e.what());
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
                      {"created", now_iso()},
                      {"files", files},
                      {"key_material", job.key_material}};
  try {
    // entry.json is written last: an entry without it is never trusted.
    write_file_atomic((fs::path(staging) / "entry.json").string(), entry.dump(2) + "\n");
    make_tree_read_only(staging);  // run folders get copies or read-only links, never a writable alias
    // The rename is the only test-and-set: checking first and renaming after would let a
    // job racing for the same key (two runs on one cache) discard the entry the other had
    // just published while that run was linking from it.
    if (job.replace_entry && fs::exists(job.entry_dir)) discard_entry(job.entry_dir);  // --no-cache refresh
    if (!publish_dir(staging, job.entry_dir, /*keep_staging_on_failure=*/true)) {
      if (entry_complete(job.entry_dir) && !job.replace_entry) {
        // Another job published this key first: keep its entry, which other runs may be
        // reading, and drop ours (same key, same bytes).
        std::error_code ec;
        fs::remove_all(staging, ec);
      } else {
        // A partial entry (a crash before the fix that made entry.json last, a deleted
        // file), or a --no-cache run racing another: ours replaces it.
        if (fs::exists(job.entry_dir)) discard_entry(job.entry_dir);
        if (!publish_dir(staging, job.entry_dir) && !entry_complete(job.entry_dir))
          throw std::runtime_error("cannot publish " + job.entry_dir);
      }
    }
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  if (!job.key_material.is_null()) remember_material(job.cache_dir, job.experiment, node.spec.name, job.key_material);
  out.status = NodeOutcome::Status::kRan;
  return out;
}

void LocalExecutor::submit(const NodeSubmission& submission) {
  const ResolvedNode& node = *submission.job.node;
  console_.log(1, node.spec.name, "running " + node.component->key());
  NodeOutcome outcome = execute(submission.job);
  outcome.key = submission.job.key;
  finished_.push_back({submission.index, std::move(outcome)});
}

std::vector<FinishedNode> LocalExecutor::wait() { return std::exchange(finished_, {}); }

}  // namespace mien::host
