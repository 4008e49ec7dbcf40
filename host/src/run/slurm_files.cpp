#include "run/slurm_files.hpp"

#include <filesystem>
#include <fstream>
#include <vector>

#include "core/files.hpp"
#include "run/runner.hpp"

namespace fs = std::filesystem;

namespace mien::host::slurm {

std::string slurm_dir(const std::string& run_dir) { return (fs::path(run_dir) / "slurm").string(); }
std::string submission_file(const std::string& run_dir) { return (fs::path(slurm_dir(run_dir)) / "submission.json").string(); }
std::string job_file(const std::string& run_dir, const std::string& node) {
  return (fs::path(slurm_dir(run_dir)) / "jobs" / (node_folder_name(node) + ".json")).string();
}
std::string node_state_file(const std::string& run_dir, const std::string& node) {
  return (fs::path(slurm_dir(run_dir)) / "nodes" / (node_folder_name(node) + ".json")).string();
}
std::string script_file(const std::string& run_dir, const std::string& node) {
  return (fs::path(slurm_dir(run_dir)) / "scripts" / (node_folder_name(node) + ".sh")).string();
}
std::string log_pattern(const std::string& run_dir, const std::string& node) {
  return (fs::path(slurm_dir(run_dir)) / "logs" / (node_folder_name(node) + ".%j.log")).string();
}
std::string log_file(const std::string& run_dir, const std::string& node, const std::string& job_id) {
  return (fs::path(slurm_dir(run_dir)) / "logs" / (node_folder_name(node) + "." + job_id + ".log")).string();
}

std::optional<nlohmann::json> read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  try {
    return nlohmann::json::parse(in);
  } catch (...) {
    return std::nullopt;
  }
}

void write_json_file(const std::string& path, const nlohmann::json& value) {
  fs::create_directories(fs::path(path).parent_path());
  write_file_atomic(path, value.dump(2) + "\n");
}

std::string tail_lines(const std::string& path, size_t lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  // Logs can be large: read only the end.
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff from = size > 65536 ? size - 65536 : 0;
  in.seekg(from);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Split into lines; a '\r' (a progress bar redrawing itself) restarts its line, as on a terminal.
  std::vector<std::string> all(1);
  for (char c : text) {
    if (c == '\n') all.emplace_back();
    else if (c == '\r') all.back().clear();
    else all.back() += c;
  }
  while (!all.empty() && all.back().empty()) all.pop_back();
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) out += all[i] + "\n";
  return out;
}

}  // namespace mien::host::slurm
