#include "run/call_context.hpp"

#include <csignal>
#include <filesystem>

namespace mien::host {
namespace {

void on_log(mien_call_ctx* ctx, mien_log_level level, const char* message) {
  if (ctx == nullptr || ctx->console == nullptr || message == nullptr) return;
  ctx->console->log(static_cast<int>(level), ctx->node, message);
}

void on_set_error(mien_call_ctx* ctx, const char* message) {
  if (ctx != nullptr && message != nullptr) ctx->error = message;
}

void on_progress(mien_call_ctx* ctx, uint64_t done, uint64_t total, const char* note) {
  if (ctx == nullptr || ctx->console == nullptr) return;
  ctx->console->progress(ctx->node, done, total, note ? note : "");
}

int on_is_cancelled(mien_call_ctx*) { return cancel_flag().load() ? 1 : 0; }

const char* on_output_dir(mien_call_ctx* ctx, const char* port) {
  if (ctx == nullptr) return nullptr;
  try {
    ctx->dir_buffer = (port == nullptr || !ctx->port_dir) ? ctx->node_dir : ctx->port_dir(port);
    if (ctx->dir_buffer.empty()) return nullptr;
    std::filesystem::create_directories(ctx->dir_buffer);
    return ctx->dir_buffer.c_str();
  } catch (...) {
    return nullptr;
  }
}

const char* on_run_dir(mien_call_ctx* ctx) { return ctx == nullptr ? nullptr : ctx->run_dir.c_str(); }

void on_signal(int) {
  if (cancel_flag().exchange(true)) {
    // Second Ctrl-C: the user means it.
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
  }
}

}  // namespace

std::atomic<bool>& cancel_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}

void install_signal_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

const mien_host_api* host_api() {
  static const mien_host_api api = [] {
    mien_host_api a{};
    a.struct_size = sizeof(mien_host_api);
    a.abi_major = MIEN_ABI_VERSION_MAJOR;
    a.abi_minor = MIEN_ABI_VERSION_MINOR;
    a.log = &on_log;
    a.set_error = &on_set_error;
    a.report_progress = &on_progress;
    a.is_cancelled = &on_is_cancelled;
    a.output_dir = &on_output_dir;
    a.run_dir = &on_run_dir;
    return a;
  }();
  return &api;
}

}  // namespace mien::host
