// `mien cache du | verify | gc`: what the cache holds, whether every entry still holds what
// it recorded, and removing what has not been used for a while.
#include "run/cache_command.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <map>
#include <sstream>

#include "run/cache.hpp"

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace mien::host {
namespace {

constexpr const char* kUsage =
    "Usage: mien cache du|verify|gc [options]\n\n"
    "  du      the entries, their size, per component\n"
    "  verify  hashes every file of every entry against what its entry.json recorded;\n"
    "          exit 1 when an entry is damaged (--remove-damaged discards those)\n"
    "  gc      removes entries not used for --older-than days (default 30) and, with\n"
    "          --max-size, the least recently used ones until the cache fits; also\n"
    "          unfinished entries and leftovers of interrupted writes a day old\n\n"
    "The cache: --cache, else $MIEN_CACHE_DIR, else runs/.cache (beside the default run folders).\n\nOptions";

std::string human_bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  std::ostringstream os;
  os << std::fixed << std::setprecision(u == 0 ? 0 : 1) << v << " " << units[u];
  return os.str();
}

// "500M", "2G", "1024" (bytes).
bool parse_size(const std::string& s, uint64_t* out) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || v < 0) return false;
  std::string unit(end);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'B') unit.pop_back();
  if (unit.size() == 2 && unit[1] == 'I') unit.pop_back();
  const std::map<std::string, double> mult = {{"", 1}, {"K", 1024.0}, {"M", 1048576.0}, {"G", 1073741824.0}, {"T", 1099511627776.0}};
  if (!mult.count(unit)) return false;
  *out = static_cast<uint64_t>(v * mult.at(unit));
  return true;
}

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

int cache_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  po::options_description desc(kUsage);
  desc.add_options()("help,h", "this help")("cache", po::value<std::string>(), "the cache folder")(
      "remove-damaged", "verify: discard damaged entries (their nodes rerun next time)")(
      "older-than", po::value<double>()->default_value(30), "gc: remove entries not used for this many days")(
      "max-size", po::value<std::string>(), "gc: then remove the least recently used until the cache is at most this (e.g. 20G)")(
      "dry-run", "gc: only say what would be removed")("action", po::value<std::string>(), "du, verify or gc");
  po::positional_options_description pos;
  pos.add("action", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  if (vm.count("help") || !vm.count("action")) {
    out << desc << "\n";
    return vm.count("help") ? 0 : 2;
  }
  const std::string action = vm["action"].as<std::string>();
  std::string dir = "runs/.cache";
  if (const char* env = std::getenv("MIEN_CACHE_DIR"); env != nullptr && *env != '\0') dir = env;
  if (vm.count("cache")) dir = vm["cache"].as<std::string>();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    err << "error: no cache folder " << dir << " (give --cache DIR or set MIEN_CACHE_DIR)\n";
    return 2;
  }
  auto entries = list_cache_entries(dir);

  if (action == "du") {
    uint64_t total = 0;
    size_t incomplete = 0;
    std::map<std::string, std::pair<size_t, uint64_t>> per_type;
    for (const auto& e : entries) {
      total += e.bytes;
      if (!e.complete) ++incomplete;
      auto& t = per_type[e.complete ? (e.type_id.empty() ? "(unknown)" : e.type_id) : "(unfinished)"];
      ++t.first;
      t.second += e.bytes;
    }
    out << dir << ": " << entries.size() << " entries, " << human_bytes(total) << "\n";
    std::vector<std::pair<std::string, std::pair<size_t, uint64_t>>> rows(per_type.begin(), per_type.end());
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.second > b.second.second; });
    for (const auto& [type, t] : rows)
      out << "  " << std::left << std::setw(32) << type << std::right << std::setw(6) << t.first << "  "
          << human_bytes(t.second) << "\n";
    if (incomplete > 0) out << incomplete << " unfinished entr" << (incomplete == 1 ? "y" : "ies") << " (`mien cache gc` removes them)\n";
    return 0;
  }

  if (action == "verify") {
    size_t damaged = 0, checked = 0;
    for (const auto& e : entries) {
      if (!e.complete) continue;
      ++checked;
      const std::string problem = check_entry(e.dir, true);
      if (problem.empty()) continue;
      ++damaged;
      err << "damaged: " << problem << " (node '" << e.node << "', " << e.type_id << ")";
      if (vm.count("remove-damaged")) {
        discard_entry(e.dir);
        err << "; discarded";
      }
      err << "\n";
    }
    out << checked << " entries checked, " << damaged << " damaged" << (damaged && !vm.count("remove-damaged") ? " (--remove-damaged discards them)" : "") << "\n";
    return damaged == 0 ? 0 : 1;
  }

  if (action == "gc") {
    const double days = vm["older-than"].as<double>();
    uint64_t max_size = UINT64_MAX;
    if (vm.count("max-size") && !parse_size(vm["max-size"].as<std::string>(), &max_size)) {
      err << "error: --max-size '" << vm["max-size"].as<std::string>() << "' is not a size (e.g. 500M, 20G)\n";
      return 2;
    }
    const bool dry = vm.count("dry-run") > 0;
    const int64_t now = now_seconds();
    const int64_t cutoff = now - static_cast<int64_t>(days * 86400);
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.last_used < b.last_used; });
    uint64_t total = 0;
    for (const auto& e : entries) total += e.bytes;
    size_t removed = 0;
    uint64_t freed = 0;
    for (const auto& e : entries) {
      const bool stale = e.complete ? e.last_used < cutoff : e.last_used < now - 86400;
      if (!stale && total <= max_size) continue;
      out << (dry ? "would remove " : "removed ") << e.dir << " (" << (e.node.empty() ? "?" : e.node) << ", "
          << human_bytes(e.bytes) << ")\n";
      if (!dry) discard_entry(e.dir);
      ++removed;
      freed += e.bytes;
      total -= e.bytes;
    }
    // Leftovers of interrupted writes and discards, a day old.
    for (fs::directory_iterator shard(dir, ec), end; !ec && shard != end; shard.increment(ec)) {
      if (shard->path().filename().string().size() != 2) continue;
      std::error_code e2;
      for (fs::directory_iterator it(shard->path(), e2), end2; !e2 && it != end2; it.increment(e2)) {
        if (it->path().filename().string().find(".tmp-") == std::string::npos) continue;
        const auto age = fs::file_time_type::clock::now() - fs::last_write_time(it->path(), e2);
        if (e2 || age < std::chrono::hours(24)) continue;
        if (!dry) fs::remove_all(it->path(), e2);
        ++removed;
      }
    }
    out << (dry ? "would free " : "freed ") << human_bytes(freed) << " (" << removed << " removed); "
        << human_bytes(total) << " left\n";
    return 0;
  }
  err << "error: unknown cache action '" << action << "' (du, verify or gc)\n";
  return 2;
}

}  // namespace mien::host
