#include "run/cache.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "core/files.hpp"
#include "core/sha256.hpp"
#include "run/call_context.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace mien::host {
namespace {

uint64_t env_bytes(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v, &end, 10);
  return end != v ? static_cast<uint64_t>(n) : fallback;
}

int64_t ns_of(const timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1000000000LL + t.tv_nsec; }

std::string errno_text(int err) { return std::generic_category().message(err); }

// SHA-256 of a regular file. Opened non-blocking and checked with fstat first, so a FIFO
// that appeared where a file was a moment ago is refused instead of blocking for ever.
std::string hash_regular_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) throw std::runtime_error("cannot read " + path + ": " + errno_text(errno));
  struct stat st{};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw std::runtime_error(path + " is not a regular file");
  }
  Sha256 h;
  std::vector<unsigned char> buf(1 << 16);
  size_t since_check = 0;
  for (;;) {
    const ssize_t got = ::read(fd, buf.data(), buf.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw std::runtime_error("cannot read " + path + ": " + errno_text(err));
    }
    if (got == 0) break;
    h.update(buf.data(), static_cast<size_t>(got));
    since_check += static_cast<size_t>(got);
    if (since_check >= (16u << 20)) {
      since_check = 0;
      if (cancel_flag().load()) {
        ::close(fd);
        throw DigestCancelled();
      }
    }
  }
  ::close(fd);
  return h.hex_digest();
}

const char* special_kind(mode_t mode) {
  if (S_ISFIFO(mode)) return "fifo";
  if (S_ISSOCK(mode)) return "socket";
  if (S_ISCHR(mode)) return "character device";
  if (S_ISBLK(mode)) return "block device";
  if (S_ISDIR(mode)) return "folder";
  return "not a regular file";
}

// Content hashes of the files below one declared path, remembered between runs by the
// facts that change whenever a file's content can have changed: size, mtime and ctime (a
// user cannot set ctime back, so `touch -d` or `cp -p` over a file is still noticed) and
// the inode (a file replaced by rename).
class HashMemo {
 public:
  HashMemo(const std::string& cache_dir, const std::string& resolved) {
    if (cache_dir.empty()) return;
    path_ = (fs::path(cache_dir) / "input-hashes" / (sha256_hex(resolved).substr(0, 32) + ".json")).string();
    std::error_code ec;
    if (!fs::is_regular_file(path_, ec)) return;
    try {
      old_ = json::parse(read_file(path_));
      if (!old_.is_object()) old_ = json::object();
    } catch (...) {
      old_ = json::object();  // a damaged memo only costs a rehash
    }
  }

  // The file's hash, from the memo when its facts are unchanged.
  std::string hash(const std::string& rel, const std::string& full, const struct stat& st) {
    const json facts = {static_cast<uint64_t>(st.st_size), ns_of(st.st_mtim), ns_of(st.st_ctim),
                        static_cast<uint64_t>(st.st_ino)};
    if (old_.contains(rel)) {
      const json& was = old_[rel];
      if (was.is_object() && was.value("facts", json()) == facts && was.contains("sha256")) {
        fresh_[rel] = was;
        return was["sha256"].get<std::string>();
      }
    }
    if (cancel_flag().load()) throw DigestCancelled();
    const std::string h = hash_regular_file(full);
    fresh_[rel] = {{"facts", facts}, {"sha256", h}};
    changed_ = true;
    return h;
  }

  void save() {
    if (path_.empty() || (!changed_ && fresh_.size() == old_.size())) return;
    try {
      fs::create_directories(fs::path(path_).parent_path());
      write_file_atomic(path_, fresh_.dump());
    } catch (...) {
      // Only a speed-up: a cache folder we cannot write to costs a rehash next time.
    }
  }

 private:
  std::string path_;
  json old_ = json::object();
  json fresh_ = json::object();
  bool changed_ = false;
};

json digest_one_path(const std::string& given, const std::string& base_dir, const std::string& cache_dir) {
  fs::path p(given);
  if (p.is_relative() && !base_dir.empty()) p = fs::path(base_dir) / p;
  std::error_code ec;
  p = fs::absolute(p, ec).lexically_normal();
  json out = {{"path", given}};
  struct stat st{};
  if (::stat(p.c_str(), &st) != 0) {
    struct stat lst{};
    out["type"] = ::lstat(p.c_str(), &lst) == 0 ? "dangling link" : "missing";
    return out;
  }
  HashMemo memo(cache_dir, p.string());
  if (S_ISREG(st.st_mode)) {
    out["type"] = "file";
    try {
      out["sha256"] = memo.hash("", p.string(), st);
    } catch (const DigestCancelled&) {
      throw;
    } catch (const std::exception& e) {
      out["sha256"] = std::string("unreadable: ") + e.what();
    }
    memo.save();
    return out;
  }
  if (!S_ISDIR(st.st_mode)) {
    out["type"] = special_kind(st.st_mode);
    return out;
  }
  out["type"] = "folder";
  json files = json::object(), other = json::object();
  fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    out["error"] = ec.message();
    return out;
  }
  for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) {
      out["error"] = ec.message();
      break;
    }
    const fs::path& entry = it->path();
    const std::string name = entry.filename().string();
    // Hidden names are left out, as the readers leave them out (`.DS_Store`, `._x.jpg`).
    if (!name.empty() && name[0] == '.') {
      std::error_code dir_ec;
      if (it->is_directory(dir_ec) && !it->is_symlink(dir_ec)) it.disable_recursion_pending();
      continue;
    }
    const std::string rel = entry.lexically_relative(p).generic_string();
    struct stat lst{};
    if (::lstat(entry.c_str(), &lst) != 0) continue;
    if (S_ISDIR(lst.st_mode)) continue;  // walked into
    struct stat target{};
    if (S_ISLNK(lst.st_mode)) {
      if (::stat(entry.c_str(), &target) != 0) {
        other[rel] = "dangling link";
        continue;
      }
      if (S_ISDIR(target.st_mode)) {
        other[rel] = "link to a folder (not followed)";
        continue;
      }
    } else {
      target = lst;
    }
    if (!S_ISREG(target.st_mode)) {
      other[rel] = special_kind(target.st_mode);
      continue;
    }
    try {
      files[rel] = memo.hash(rel, entry.string(), target);
    } catch (const DigestCancelled&) {
      throw;
    } catch (const std::exception& e) {
      files[rel] = std::string("unreadable: ") + e.what();
    }
  }
  out["files"] = std::move(files);
  if (!other.empty()) out["other"] = std::move(other);
  memo.save();
  return out;
}

void walk_files(const fs::path& root, const std::function<void(const fs::path&, const std::string&)>& visit) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    if (it->is_directory(e2)) continue;
    visit(it->path(), it->path().lexically_relative(root).generic_string());
  }
}

std::string list_names(const std::vector<std::string>& names) {
  std::string out;
  const size_t shown = std::min<size_t>(names.size(), 5);
  for (size_t i = 0; i < shown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > shown) out += " and " + std::to_string(names.size() - shown) + " more";
  return out;
}

// A value for a message: short, one line.
std::string brief(const json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

std::string explain_files(const std::string& param, const json& before, const json& now) {
  std::vector<std::string> parts;
  const size_t n = std::max(before.size(), now.size());
  for (size_t i = 0; i < n; ++i) {
    const json b = i < before.size() ? before[i] : json();
    const json a = i < now.size() ? now[i] : json();
    if (a == b) continue;
    const std::string path = a.is_object() ? a.value("path", "") : b.value("path", "");
    if (!a.is_object() || !b.is_object() || a.value("path", "") != b.value("path", "")) {
      parts.push_back("the paths changed");
      continue;
    }
    if (a.value("type", "") != b.value("type", "")) {
      parts.push_back(path + " was " + b.value("type", "?") + ", is now " + a.value("type", "?"));
      continue;
    }
    if (a.value("type", "") == "file") {
      parts.push_back(path + " changed content");
      continue;
    }
    std::vector<std::string> changed, added, removed;
    const json fa = a.value("files", json::object()), fb = b.value("files", json::object());
    for (const auto& [rel, h] : fa.items()) {
      if (!fb.contains(rel)) added.push_back(rel);
      else if (fb[rel] != h) changed.push_back(rel);
    }
    for (const auto& [rel, h] : fb.items())
      if (!fa.contains(rel)) removed.push_back(rel);
    const json oa = a.value("other", json::object()), ob = b.value("other", json::object());
    for (const auto& [rel, k] : oa.items())
      if (ob.value(rel, json()) != k) added.push_back(rel + " (" + k.get<std::string>() + ")");
    for (const auto& [rel, k] : ob.items())
      if (!oa.contains(rel)) removed.push_back(rel + " (" + k.get<std::string>() + ")");
    std::string s = "in " + path + ":";
    if (!changed.empty()) s += " " + std::to_string(changed.size()) + " changed (" + list_names(changed) + ")";
    if (!added.empty()) s += " " + std::to_string(added.size()) + " added (" + list_names(added) + ")";
    if (!removed.empty()) s += " " + std::to_string(removed.size()) + " removed (" + list_names(removed) + ")";
    parts.push_back(s);
  }
  std::string out = "input files of '" + param + "' changed:";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "; " : " ") + parts[i];
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::vector<std::string>>> declared_input_paths(const ResolvedNode& node) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  if (node.component == nullptr) return out;
  const json& schema = node.component->schema;
  if (!schema.is_object() || !schema.contains("properties") || !schema["properties"].is_object()) return out;
  for (const auto& [name, prop] : schema["properties"].items()) {
    if (!prop.is_object() || prop.value("format", json()) != "input-path") continue;
    if (!node.params.is_object() || !node.params.contains(name)) continue;
    const json& v = node.params[name];
    std::vector<std::string> paths;
    if (v.is_string()) {
      paths.push_back(v.get<std::string>());
    } else if (v.is_array()) {
      for (const auto& x : v)
        if (x.is_string()) paths.push_back(x.get<std::string>());
    }
    out.emplace_back(name, std::move(paths));
  }
  return out;
}

json digest_input_files(const ResolvedNode& node, const std::string& base_dir, const std::string& cache_dir) {
  const auto declared = declared_input_paths(node);
  if (declared.empty()) return nullptr;
  json out = json::object();
  for (const auto& [param, paths] : declared) {
    json list = json::array();
    for (const auto& p : paths)
      if (!p.empty()) list.push_back(digest_one_path(p, base_dir, cache_dir));
    out[param] = std::move(list);
  }
  return out;
}

json describe_entry_files(const std::string& entry_dir) {
  json files = json::object();
  walk_files(entry_dir, [&](const fs::path& full, const std::string& rel) {
    if (rel == "entry.json") return;
    struct stat st{};
    if (::stat(full.c_str(), &st) != 0) throw std::runtime_error("cannot read " + full.string() + ": " + errno_text(errno));
    files[rel] = {{"size", static_cast<uint64_t>(st.st_size)}, {"mtime_ns", ns_of(st.st_mtim)},
                  {"sha256", hash_regular_file(full.string())}};
  });
  return files;
}

uint64_t verify_hash_limit() { return env_bytes("MIEN_CACHE_VERIFY_BYTES", 64ull << 20); }

std::string check_entry(const std::string& entry_dir, bool full_hash) {
  const fs::path dir(entry_dir);
  json entry;
  try {
    entry = json::parse(read_file((dir / "entry.json").string()));
  } catch (const std::exception& e) {
    return (dir / "entry.json").string() + ": cannot be read as JSON";
  }
  if (!entry.is_object() || !entry.contains("files") || !entry["files"].is_object())
    return (dir / "entry.json").string() + ": lists no files";
  const json& files = entry["files"];
  uint64_t total = 0;
  for (const auto& [rel, f] : files.items()) total += f.value("size", uint64_t{0});
  const bool hash_all = full_hash || total <= verify_hash_limit();
  for (const auto& [rel, f] : files.items()) {
    const fs::path p = dir / rel;
    struct stat st{};
    if (::lstat(p.c_str(), &st) != 0) return p.string() + ": missing";
    if (!S_ISREG(st.st_mode)) return p.string() + ": not a regular file";
    const uint64_t want = f.value("size", uint64_t{0});
    if (static_cast<uint64_t>(st.st_size) != want)
      return p.string() + ": " + std::to_string(st.st_size) + " bytes, the entry recorded " + std::to_string(want);
    if (hash_all || ns_of(st.st_mtim) != f.value("mtime_ns", int64_t{0})) {
      std::string h;
      try {
        h = hash_regular_file(p.string());
      } catch (const DigestCancelled&) {
        throw;
      } catch (const std::exception& e) {
        return e.what();
      }
      if (h != f.value("sha256", "")) return p.string() + ": content differs from the recorded SHA-256";
    }
  }
  std::string extra;
  walk_files(dir, [&](const fs::path& full, const std::string& rel) {
    if (extra.empty() && rel != "entry.json" && !files.contains(rel)) extra = full.string() + ": not recorded in entry.json";
  });
  return extra;
}

void discard_entry(const std::string& entry_dir) {
  // Named like a staging folder of this process, so that an interrupted removal is
  // cleaned up the way staging leftovers are.
  const std::string aside = entry_dir + ".tmp-" + std::to_string(::getpid()) + "-discarded@" + this_host();
  std::error_code ec;
  fs::rename(entry_dir, aside, ec);
  fs::remove_all(ec ? fs::path(entry_dir) : fs::path(aside), ec);
}

void make_tree_read_only(const std::string& dir) {
  walk_files(dir, [](const fs::path& full, const std::string&) { ::chmod(full.c_str(), 0444); });
}

void touch_entry(const std::string& entry_dir) { ::utimensat(AT_FDCWD, entry_dir.c_str(), nullptr, 0); }

std::string materialize_file(const std::string& from, const std::string& to) {
  static const uint64_t copy_limit = env_bytes("MIEN_CACHE_COPY_BYTES", 64ull << 20);
  std::error_code ec;
  if (fs::path(to).has_parent_path()) fs::create_directories(fs::path(to).parent_path());
  fs::remove(to, ec);
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) throw std::runtime_error("cannot read " + from + ": " + errno_text(errno));
  struct stat st{};
  ::fstat(in, &st);
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) {
    const int err = errno;
    ::close(in);
    throw std::runtime_error("cannot write " + to + ": " + errno_text(err));
  }
  auto fail = [&](const std::string& what, int err) {
    ::close(in);
    ::close(out);
    ::unlink(to.c_str());
    throw std::runtime_error(what + ": " + errno_text(err));
  };
  if (::ioctl(out, FICLONE, in) == 0) {
    ::close(in);
    ::close(out);
    return "reflink";
  }
  if (static_cast<uint64_t>(st.st_size) > copy_limit) {
    ::close(in);
    ::close(out);
    ::unlink(to.c_str());
    if (::link(from.c_str(), to.c_str()) == 0) return "link";  // the cache file is read-only
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
    fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
    return "copy";
  }
  off_t left = st.st_size;
  while (left > 0) {
    const ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, static_cast<size_t>(left), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // No copy_file_range between these file systems: plain read/write.
      if (n < 0 && errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
        fail("cannot copy " + from + " to " + to, errno);
      std::vector<char> buf(1 << 16);
      for (;;) {
        const ssize_t got = ::read(in, buf.data(), buf.size());
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) fail("cannot read " + from, errno);
        if (got == 0) break;
        for (ssize_t done = 0; done < got;) {
          const ssize_t w = ::write(out, buf.data() + done, static_cast<size_t>(got - done));
          if (w < 0 && errno == EINTR) continue;
          if (w < 0) fail("cannot write " + to, errno);
          done += w;
        }
      }
      break;
    }
    left -= n;
  }
  if (::close(out) != 0) {
    const int err = errno;
    ::close(in);
    ::unlink(to.c_str());
    throw std::runtime_error("cannot write " + to + ": " + errno_text(err));
  }
  ::close(in);
  return "copy";
}

void materialize_tree(const std::string& from, const std::string& to) {
  std::error_code ec;
  if (!fs::is_directory(from, ec)) {
    materialize_file(from, to);
    return;
  }
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(from)) materialize_tree(e.path().string(), (fs::path(to) / e.path().filename()).string());
}

std::string last_material_file(const std::string& cache_dir, const std::string& experiment, const std::string& node) {
  return (fs::path(cache_dir) / "last" / (sha256_hex(experiment + '\0' + node).substr(0, 32) + ".json")).string();
}

void remember_material(const std::string& cache_dir, const std::string& experiment, const std::string& node,
                       const json& material) {
  try {
    const std::string path = last_material_file(cache_dir, experiment, node);
    fs::create_directories(fs::path(path).parent_path());
    write_file_atomic(path, material.dump());
  } catch (...) {
    // Only used to explain the next run's decisions.
  }
}

std::string explain_difference(const json& previous, const json& current, const std::vector<std::string>& ports) {
  std::vector<std::string> reasons;
  if (previous.value("format", json()) != current.value("format", json()))
    reasons.push_back("the cache format changed (a newer mien)");
  if (previous.value("type_id", json()) != current.value("type_id", json()))
    reasons.push_back("the component changed (" + brief(previous.value("type_id", json())) + " -> " +
                      brief(current.value("type_id", json())) + ")");
  else if (previous.value("version", json()) != current.value("version", json()))
    reasons.push_back("the component's version changed (" + brief(previous.value("version", json())) + " -> " +
                      brief(current.value("version", json())) + ")");
  else if (previous.value("library", json()) != current.value("library", json()))
    reasons.push_back("the plugin library changed (sha256 " + brief(previous.value("library", "")).substr(0, 12) + " -> " +
                      brief(current.value("library", "")).substr(0, 12) + ")");
  const json pp = previous.value("params", json::object()), cp = current.value("params", json::object());
  if (pp != cp && pp.is_object() && cp.is_object()) {
    std::set<std::string> names;
    for (const auto& [k, v] : pp.items()) names.insert(k);
    for (const auto& [k, v] : cp.items()) names.insert(k);
    for (const auto& k : names) {
      const json a = pp.value(k, json()), b = cp.value(k, json());
      if (a != b) reasons.push_back("parameter '" + k + "' changed (" + brief(a) + " -> " + brief(b) + ")");
    }
  }
  if (previous.value("seed", json()) != current.value("seed", json())) reasons.push_back("the seed changed");
  const json pi = previous.value("inputs", json::array()), ci = current.value("inputs", json::array());
  for (size_t i = 0; i < std::max(pi.size(), ci.size()); ++i) {
    const json a = i < pi.size() ? pi[i] : json(), b = i < ci.size() ? ci[i] : json();
    if (a != b) reasons.push_back("input '" + (i < ports.size() ? ports[i] : std::to_string(i)) + "' changed (its node's key)");
  }
  const json pf = previous.value("input_files", json::object()), cf = current.value("input_files", json::object());
  if (pf != cf) {
    std::set<std::string> names;
    for (const auto& [k, v] : pf.items()) names.insert(k);
    for (const auto& [k, v] : cf.items()) names.insert(k);
    for (const auto& k : names) {
      const json a = pf.value(k, json::array()), b = cf.value(k, json::array());
      if (a != b) reasons.push_back(explain_files(k, a, b));
    }
  }
  std::string out;
  for (size_t i = 0; i < reasons.size(); ++i) out += (i ? "; " : "") + reasons[i];
  return out;
}

std::vector<CacheEntryInfo> list_cache_entries(const std::string& cache_dir) {
  std::vector<CacheEntryInfo> out;
  std::error_code ec;
  for (fs::directory_iterator shard(cache_dir, ec), end; !ec && shard != end; shard.increment(ec)) {
    const std::string sname = shard->path().filename().string();
    if (sname.size() != 2 || !shard->is_directory()) continue;  // input-hashes/, last/ are not entries
    std::error_code e2;
    for (fs::directory_iterator it(shard->path(), e2), end2; !e2 && it != end2; it.increment(e2)) {
      if (!it->is_directory()) continue;
      CacheEntryInfo info;
      info.dir = it->path().string();
      info.key = it->path().filename().string();
      if (info.key.find(".tmp-") != std::string::npos) continue;
      walk_files(it->path(), [&](const fs::path& full, const std::string&) {
        std::error_code e3;
        const auto n = fs::file_size(full, e3);
        if (!e3) info.bytes += n;
      });
      struct stat st{};
      if (::stat(info.dir.c_str(), &st) == 0) info.last_used = st.st_mtim.tv_sec;
      const fs::path ej = it->path() / "entry.json";
      info.complete = fs::exists(ej, e2);
      if (info.complete) {
        try {
          const json e = json::parse(read_file(ej.string()));
          info.node = e.value("node", "");
          info.type_id = e.value("type_id", "");
        } catch (...) {
        }
      }
      out.push_back(std::move(info));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return out;
}

}  // namespace mien::host
