#include "reader_support.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <system_error>

#include "images.hpp"

namespace mien::datasets {

// ---- names ----------------------------------------------------------------------------

const std::vector<std::string>& canonical_classes() {
  static const std::vector<std::string> names = {"fear",    "anger", "disgust",  "happy",
                                                 "neutral", "sad",   "surprise", "contempt"};
  return names;
}

int canonical_index(const std::string& name) {
  const auto& c = canonical_classes();
  const auto it = std::find(c.begin(), c.end(), name);
  return it == c.end() ? -1 : static_cast<int>(it - c.begin());
}

const std::vector<std::pair<std::string, std::string>>& class_synonyms() {
  static const std::vector<std::pair<std::string, std::string>> s = {
      {"fear", "fear"},         {"fearful", "fear"},         {"afraid", "fear"},       {"scared", "fear"},
      {"anger", "anger"},       {"angry", "anger"},          {"disgust", "disgust"},   {"disgusted", "disgust"},
      {"happy", "happy"},       {"happiness", "happy"},      {"joy", "happy"},         {"neutral", "neutral"},
      {"sad", "sad"},           {"sadness", "sad"},          {"surprise", "surprise"}, {"surprised", "surprise"},
      {"contempt", "contempt"}, {"contemptuous", "contempt"}};
  return s;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// ---- parameters -----------------------------------------------------------------------

Json class_map_schema() {
  return Json{{"type", "object"}, {"additionalProperties", {{"type", Json::array({"string", "null"})}}}};
}

namespace {

// "; did you mean 'anger'?" for a class name: synonyms first (angry -> anger), then spelling.
std::string class_hint(const std::string& name) {
  const std::string l = lower(trim(name));
  for (const auto& [syn, canon] : class_synonyms())
    if (syn == l) return "; did you mean '" + canon + "'?";
  return did_you_mean(name, canonical_classes());
}

std::string show(const Json& v) { return v.is_string() ? "'" + v.get<std::string>() + "'" : v.dump(); }

}  // namespace

ClassMap::ClassMap(const std::vector<std::pair<std::string, std::string>>& defaults, const Json& overrides,
                   bool closed, bool fold_case, const std::string& what_codes)
    : fold_case_(fold_case) {
  for (const auto& [code, target] : defaults) {
    if (index_.emplace(key(code), entries_.size()).second) entries_.emplace_back(code, target);
  }
  if (overrides.is_null()) return;
  if (!overrides.is_object())
    throw Error("class_map must be a mapping from " + what_codes + " to class names, not " + overrides.dump());
  std::vector<std::string> default_codes;
  for (const auto& d : defaults) default_codes.push_back(d.first);
  for (auto it = overrides.begin(); it != overrides.end(); ++it) {
    const std::string code = it.key();
    const Json& v = it.value();
    if (trim(code).empty()) throw Error("class_map has an empty code; its keys are " + what_codes);
    if (closed && !index_.count(key(code)))
      throw Error("class_map: '" + code + "' is not one of the " + what_codes + " (" + join(default_codes) + ")" +
                  did_you_mean(code, default_codes));
    std::string target;
    if (v.is_string()) {
      target = v.get<std::string>();
      if (canonical_index(target) < 0)
        throw Error("class_map: code '" + code + "' maps to '" + target +
                    "', which is not a class of the canonical vocabulary (" + join(canonical_classes()) + ")" +
                    class_hint(target));
    } else if (!v.is_null()) {
      throw Error("class_map: code '" + code + "' maps to " + show(v) +
                  "; expected a class name (" + join(canonical_classes()) + ") or null to drop the code");
    }
    auto found = index_.find(key(code));
    if (found != index_.end()) {
      entries_[found->second].second = target;
    } else {
      index_.emplace(key(code), entries_.size());
      entries_.emplace_back(code, target);
    }
  }
}

const std::string* ClassMap::find(const std::string& code) const {
  const auto it = index_.find(key(code));
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

OrderedJson ClassMap::to_json() const {
  OrderedJson o = OrderedJson::object();
  for (const auto& [code, target] : entries_) o[code] = target.empty() ? OrderedJson(nullptr) : OrderedJson(target);
  return o;
}

std::vector<std::string> ClassMap::codes() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.first);
  return out;
}

std::vector<std::string> check_classes(const std::vector<std::string>& classes) {
  std::set<std::string> seen;
  for (const auto& c : classes) {
    if (canonical_index(c) < 0)
      throw Error("classes: '" + c + "' is not a class of the canonical vocabulary (" + join(canonical_classes()) +
                  ")" + class_hint(c));
    if (!seen.insert(c).second) throw Error("classes lists '" + c + "' twice");
  }
  return classes;
}

namespace {

fs::path resolve(const Setup& s, const std::string& value, const std::string& param) {
  if (trim(value).empty()) throw Error(param + " is empty; give the data set's folder or file");
  std::error_code ec;
  fs::path p = fs::absolute(fs::path(s.resolve_path(value)), ec);
  if (ec) throw Error(param + ": cannot make '" + value + "' an absolute path: " + ec.message());
  return p.lexically_normal();
}

std::string resolved_note(const Setup& s, const std::string& value) {
  if (fs::path(value).is_absolute()) return "";
  return " (resolved from '" + value + "'" + (s.base_dir().empty() ? "" : " against " + s.base_dir()) + ")";
}

}  // namespace

fs::path resolve_folder(const Setup& s, const std::string& value, const std::string& param) {
  const fs::path p = resolve(s, value, param);
  std::error_code ec;
  if (!fs::exists(p, ec))
    throw Error(param + ": folder " + p.string() + resolved_note(s, value) + " does not exist", MIEN_ERR_IO);
  if (!fs::is_directory(p, ec))
    throw Error(param + ": " + p.string() + resolved_note(s, value) + " is not a folder", MIEN_ERR_IO);
  return p;
}

fs::path resolve_file(const Setup& s, const std::string& value, const std::string& param) {
  const fs::path p = resolve(s, value, param);
  std::error_code ec;
  if (!fs::exists(p, ec))
    throw Error(param + ": file " + p.string() + resolved_note(s, value) + " does not exist", MIEN_ERR_IO);
  if (fs::is_directory(p, ec))
    throw Error(param + ": " + p.string() + resolved_note(s, value) + " is a folder, expected a file", MIEN_ERR_IO);
  // Opening a FIFO blocks until a writer comes and a device never ends: refuse both.
  if (!fs::is_regular_file(p, ec))
    throw Error(param + ": " + p.string() + resolved_note(s, value) + " is not a regular file (a FIFO, socket or device)",
                MIEN_ERR_IO);
  return p;
}

// ---- files ----------------------------------------------------------------------------

bool has_image_extension(const fs::path& p) {
  static const std::set<std::string> ext = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"};
  return ext.count(lower(p.extension().string())) > 0;
}

Listing list_files(const fs::path& root, const Host& host) {
  Listing out;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  if (ec) throw Error("cannot list " + root.string() + ": " + ec.message(), MIEN_ERR_IO);
  size_t seen = 0;
  for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) throw Error("cannot list " + root.string() + ": " + ec.message(), MIEN_ERR_IO);
    if (++seen % 1024 == 0) host.check_cancelled();
    const fs::path& p = it->path();
    const std::string name = p.filename().string();
    std::error_code entry_ec;  // a dangling link or an unreadable entry is just not a file
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory(entry_ec)) it.disable_recursion_pending();
      else ++out.hidden;
      continue;
    }
    if (it->is_regular_file(entry_ec)) out.files.push_back(p);
  }
  if (ec) throw Error("cannot list " + root.string() + ": " + ec.message(), MIEN_ERR_IO);
  std::sort(out.files.begin(), out.files.end());
  return out;
}

fs::path find_child_folder(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  if (fs::is_directory(dir / name, ec)) return dir / name;
  std::vector<fs::path> matches;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (lower(it->path().filename().string()) == lower(name) && it->is_directory(ec)) matches.push_back(it->path());
  std::sort(matches.begin(), matches.end());
  return matches.empty() ? fs::path() : matches.front();
}

// ---- the collector --------------------------------------------------------------------

Collector::Collector(std::string component, const Host& host) : component_(std::move(component)), host_(host) {}

void Collector::skip(const std::string& path, const std::string& problem, const std::string& reason) {
  auto [it, fresh] = skips_.emplace(path, std::make_pair(problem, reason));
  if (!fresh) it->second.second += "; " + reason;
}

void Collector::exclude(const std::string& why, size_t n) {
  if (n > 0) excluded_[why] += n;
}

void Collector::restrict_classes(const std::vector<std::string>& classes) {
  if (classes.empty()) return;
  const std::set<std::string> keep(classes.begin(), classes.end());
  const size_t before = samples_.size();
  samples_.erase(std::remove_if(samples_.begin(), samples_.end(),
                                [&](const Sample& s) { return !keep.count(s.label); }),
                 samples_.end());
  exclude("classes", before - samples_.size());
}

void Collector::verify_images(unsigned threads) {
  std::vector<std::string> paths;
  paths.reserve(samples_.size());
  for (const auto& s : samples_) paths.push_back(s.path);
  const auto checks = check_images(paths, threads, host_, "checking images");
  std::vector<Sample> kept;
  kept.reserve(samples_.size());
  for (size_t i = 0; i < samples_.size(); ++i) {
    if (checks[i].ok) kept.push_back(std::move(samples_[i]));
    else skip(samples_[i].path, checks[i].problem, checks[i].reason);
  }
  samples_ = std::move(kept);
}

Collector::Result Collector::finish(const Spec& spec) {
  // Rows in id order; a repeated id keeps its first file (by path) and skips the others.
  std::stable_sort(samples_.begin(), samples_.end(), [](const Sample& a, const Sample& b) {
    return a.id != b.id ? a.id < b.id : a.path < b.path;
  });
  std::vector<Sample> rows;
  rows.reserve(samples_.size());
  for (auto& s : samples_) {
    if (!rows.empty() && rows.back().id == s.id) {
      skip(s.path.empty() ? s.id : s.path, "duplicate",
           "the same sample as " + (rows.back().path.empty() ? rows.back().id : rows.back().path) + " (id '" + s.id +
               "')");
      continue;
    }
    rows.push_back(std::move(s));
  }
  samples_.clear();

  // Problems: warned one by one (the first 50), always listed in `skipped`.
  std::map<std::string, size_t> problem_counts;
  const size_t kMaxWarnings = 50;
  size_t warned = 0;
  for (const auto& [path, pr] : skips_) {
    ++problem_counts[pr.first];
    if (warned < kMaxWarnings) {
      host_.warn(component_ + ": skipped " + path + ": " + pr.second);
      ++warned;
    }
  }
  if (skips_.size() > kMaxWarnings)
    host_.warn(component_ + ": ... and " + std::to_string(skips_.size() - kMaxWarnings) +
               " more skipped (listed in the node's skipped output)");

  if (rows.empty()) {
    std::string why;
    if (!skips_.empty()) {
      std::vector<std::string> parts;
      for (const auto& [p, n] : problem_counts) parts.push_back(std::to_string(n) + " " + p);
      why += std::to_string(skips_.size()) + " skipped (" + join(parts) + "; first: " + skips_.begin()->first + ": " +
             skips_.begin()->second.second + ")";
    }
    if (!excluded_.empty()) {
      std::vector<std::string> parts;
      for (const auto& [w, n] : excluded_) parts.push_back(std::to_string(n) + " by " + w);
      why += std::string(why.empty() ? "" : "; ") + "excluded " + join(parts);
    }
    throw Error(component_ + ": no usable samples in " + spec.source + (why.empty() ? "" : ": " + why),
                MIEN_ERR_INVALID_ARGUMENT);
  }

  // Categories: the `classes` parameter, else the classes present; in canonical order
  // either way, so every reader codes a class the same.
  std::set<int> wanted;
  for (const auto& c : spec.classes) wanted.insert(canonical_index(c));
  if (wanted.empty())
    for (const auto& r : rows) wanted.insert(canonical_index(r.label));
  std::vector<std::string> classes;
  for (int k : wanted) classes.push_back(canonical_classes()[static_cast<size_t>(k)]);
  std::map<std::string, int64_t> code_of;
  for (size_t k = 0; k < classes.size(); ++k) code_of[classes[k]] = static_cast<int64_t>(k);

  const size_t n = rows.size();
  std::vector<std::string> ids, paths;
  std::vector<int64_t> codes;
  std::vector<int64_t> class_counts(classes.size(), 0);
  std::vector<std::vector<std::string>> groups(spec.group_names.size());
  std::vector<std::vector<double>> values(spec.value_names.size());
  std::vector<size_t> kept;
  ids.reserve(n);
  codes.reserve(n);
  kept.reserve(n);
  for (const auto& r : rows) {
    ids.push_back(r.id);
    const auto c = code_of.find(r.label);
    if (c == code_of.end())  // restrict_classes() ran before: a reader bug
      throw Error(component_ + ": sample '" + r.id + "' has class '" + r.label + "' outside the classes",
                  MIEN_ERR_INTERNAL);
    codes.push_back(c->second);
    ++class_counts[static_cast<size_t>(c->second)];
    if (spec.with_path) paths.push_back(r.path);
    if (r.groups.size() != groups.size() || r.values.size() != values.size())
      throw Error(component_ + ": sample '" + r.id + "' has the wrong number of columns", MIEN_ERR_INTERNAL);
    for (size_t g = 0; g < groups.size(); ++g) groups[g].push_back(r.groups[g]);
    for (size_t v = 0; v < values.size(); ++v) values[v].push_back(r.values[v]);
    kept.push_back(r.index);
  }

  Result res{Table(static_cast<int64_t>(n)), Table(static_cast<int64_t>(skips_.size())), OrderedJson::object(),
             std::move(kept)};
  res.table.add_strings("id", MIEN_ROLE_ID, ids);
  res.table.add_codes("label", MIEN_ROLE_LABEL, codes, classes);
  for (size_t g = 0; g < groups.size(); ++g) res.table.add_strings(spec.group_names[g], MIEN_ROLE_GROUP, groups[g]);
  if (spec.with_path) res.table.add_strings("path", MIEN_ROLE_VALUE, paths);
  for (size_t v = 0; v < values.size(); ++v)
    res.table.add_numbers(spec.value_names[v], MIEN_ROLE_VALUE, std::move(values[v]));
  res.table.meta(Json{{"dataset", spec.dataset}, {"source", spec.source}});

  std::vector<std::string> sk_path, sk_problem, sk_reason;
  for (const auto& [path, pr] : skips_) {
    sk_path.push_back(path);
    sk_problem.push_back(pr.first);
    sk_reason.push_back(pr.second);
  }
  res.skipped.add_strings("path", MIEN_ROLE_ID, sk_path);
  res.skipped.add_strings("problem", MIEN_ROLE_GROUP, sk_problem);
  res.skipped.add_strings("reason", MIEN_ROLE_VALUE, sk_reason);

  OrderedJson& s = res.summary;
  s["dataset"] = spec.dataset;
  s["source"] = spec.source;
  s["samples"] = n;
  s["classes"] = classes;
  OrderedJson cc = OrderedJson::object();
  for (size_t k = 0; k < classes.size(); ++k) {
    cc[classes[k]] = class_counts[k];
    if (class_counts[k] == 0) host_.warn(component_ + ": class '" + classes[k] + "' has no samples");
  }
  s["class_counts"] = cc;
  OrderedJson gc = OrderedJson::object();
  for (size_t g = 0; g < groups.size(); ++g) {
    std::map<std::string, int64_t> counts;
    for (const auto& v : groups[g]) ++counts[v];
    OrderedJson o = OrderedJson::object();
    for (const auto& [v, c] : counts) o[v] = c;
    gc[spec.group_names[g]] = o;
  }
  s["group_counts"] = gc;
  OrderedJson pc = OrderedJson::object();
  for (const auto& [p, c] : problem_counts) pc[p] = c;
  s["skipped"] = {{"count", skips_.size()}, {"reasons", pc}};
  OrderedJson ex = OrderedJson::object();
  for (const auto& [w, c] : excluded_) ex[w] = c;
  s["excluded"] = ex;
  s["class_map"] = spec.class_map;
  for (auto it = spec.extra.begin(); it != spec.extra.end(); ++it) s[it.key()] = it.value();

  std::vector<std::string> parts;
  for (size_t k = 0; k < classes.size(); ++k) parts.push_back(classes[k] + " " + std::to_string(class_counts[k]));
  host_.info(component_ + ": " + std::to_string(n) + " samples (" + join(parts) + ") from " + spec.source +
             (skips_.empty() ? "" : "; skipped " + std::to_string(skips_.size())));
  return res;
}

}  // namespace mien::datasets
