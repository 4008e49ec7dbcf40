// The host side of the ABI's per-call context: what a plugin reaches through
// mien_host_api during one create(), process() or model call.
#pragma once

#include <mien/plugin_abi.h>

#include <atomic>
#include <functional>
#include <string>

#include "run/console.hpp"

namespace mien::host {

// Set by SIGINT/SIGTERM; every call context reports it as cancellation.
std::atomic<bool>& cancel_flag();
void install_signal_handlers();

}  // namespace mien::host

// Outside the namespace: the ABI declares it as an opaque global struct.
struct mien_call_ctx {
  mien::host::Console* console = nullptr;
  std::string node;         // for log prefixes and messages
  std::string error;        // set_error() text, newest wins
  std::string node_dir;     // output_dir(NULL)
  std::string run_dir;
  std::function<std::string(const char* port)> port_dir;  // output_dir(port)
  std::string dir_buffer;   // keeps the last returned folder alive for the call
};

namespace mien::host {
// The one host API table handed to every plugin.
const mien_host_api* host_api();
}  // namespace mien::host
