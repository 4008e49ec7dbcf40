// system.info: records what the numbers of a run depend on — the machine, the
// libraries the plugins were built with, the BLAS actually loaded, the thread counts.
//
// Example config:
//   nodes:
//     env: {use: system.info}
#include <mien/plugin.hpp>

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <dlib/revision.h>
#include <link.h>
#include <opencv2/core/utility.hpp>
#include <opencv2/core/version.hpp>
#include <torch/version.h>

#include <filesystem>
#include <fstream>
#include <thread>

#define MIEN_STR2(x) #x
#define MIEN_STR(x) MIEN_STR2(x)
#define DLIB_VERSION_TEXT MIEN_STR(DLIB_MAJOR_VERSION) "." MIEN_STR(DLIB_MINOR_VERSION) "." MIEN_STR(DLIB_PATCH_VERSION)

namespace {

int find_blas(dl_phdr_info* info, size_t, void* data) {
  const std::string name = info->dlpi_name ? info->dlpi_name : "";
  auto* out = static_cast<std::string*>(data);
  if (out->empty() && (name.find("libblas") != std::string::npos || name.find("libopenblas") != std::string::npos))
    *out = name;
  return 0;
}

// The BLAS LibTorch resolved at load time, and OpenBLAS's own description of itself.
mien::Json blas_in_use() {
  std::string path;
  dl_iterate_phdr(find_blas, &path);
  mien::Json j = {{"library", path}};
  if (path.empty()) return j;
  std::error_code ec;
  j["resolved"] = std::filesystem::canonical(path, ec).string();
  if (void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD)) {
    using ConfigFn = char* (*)();
    if (auto fn = reinterpret_cast<ConfigFn>(dlsym(h, "openblas_get_config"))) j["openblas"] = fn();
    dlclose(h);
  }
  return j;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "";
}

}  // namespace

class SystemInfo {
 public:
  static inline const mien::Output kInfo{"info", MIEN_VALUE_JSON, "machine, library versions, BLAS in use, threads"};
  static mien::ComponentInfo info() {
    return mien::ComponentInfo("system.info", 1, MIEN_KIND_REPORT,
                               "Records the machine, library versions, the BLAS in use and thread counts")
        .ports(kInfo)
        .flags(MIEN_COMPONENT_NONDETERMINISTIC);  // describes this machine now: never reused from the cache
  }
  explicit SystemInfo(const mien::Setup& s) : threads_(s.num_threads()) {}
  void process(mien::Context& ctx) {
    at::set_num_threads(static_cast<int>(threads_));
    mien::Json j = {{"libtorch", TORCH_VERSION},
                    {"opencv_built", CV_VERSION},
                    {"opencv_runtime", cv::getVersionString()},
                    {"dlib", DLIB_VERSION_TEXT},
                    {"blas", blas_in_use()},
                    {"torch_threads", at::get_num_threads()},
                    {"threads_requested", threads_},
                    {"hardware_threads", std::thread::hardware_concurrency()},
                    {"cpu", cpu_model()}};
    ctx.host().info("BLAS in use: " + j["blas"].value("openblas", j["blas"].value("resolved", std::string("unknown"))));
    ctx.set(kInfo, j);
  }

 private:
  uint32_t threads_;
};

MIEN_PLUGIN_WITH_BUILD_INFO("mien-system", "0.1.0", "MIT",
                            "{\"libtorch\": \"" TORCH_VERSION "\", \"opencv\": \"" CV_VERSION "\", \"dlib\": \"" DLIB_VERSION_TEXT "\"}",
                            SystemInfo)
