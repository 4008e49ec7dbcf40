// dataset.fer2013: fer2013.csv (emotion,pixels,Usage) -> a sample table and a uint8 image tensor.
#include <charconv>
#include <cstring>
#include <fstream>
#include <set>

#include "components.hpp"

namespace mien::datasets {

namespace {

const std::vector<std::pair<std::string, std::string>> kFerCodes = {
    {"0", "anger"}, {"1", "disgust"}, {"2", "fear"},   {"3", "happy"},
    {"4", "sad"},   {"5", "surprise"}, {"6", "neutral"}};
const std::vector<std::string> kUsages = {"Training", "PublicTest", "PrivateTest"};
constexpr int kSide = 48;
constexpr size_t kPixels = kSide * kSide;

std::vector<std::string> check_usage(const std::vector<std::string>& given) {
  std::vector<std::string> out;
  for (const auto& g : given) {
    std::string found;
    for (const auto& u : kUsages)
      if (lower(u) == lower(trim(g))) found = u;
    if (found.empty()) throw Error("usage: '" + g + "' is not one of " + join(kUsages) + did_you_mean(g, kUsages));
    if (std::find(out.begin(), out.end(), found) != out.end()) throw Error("usage lists '" + found + "' twice");
    out.push_back(found);
  }
  return out;
}

// Splits a CSV line on commas; a field may be wrapped in double quotes ("" inside = ").
std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// 2304 integers 0..255 separated by spaces -> dst. Empty on success, else the reason.
std::string parse_pixels(const std::string& text, uint8_t* dst) {
  const char* p = text.data();
  const char* e = p + text.size();
  size_t count = 0;
  while (true) {
    while (p < e && (*p == ' ' || *p == '\t')) ++p;
    if (p >= e) break;
    const char* tok = p;
    while (p < e && *p != ' ' && *p != '\t') ++p;
    int v = -1;
    const auto r = std::from_chars(tok, p, v);
    if (r.ec != std::errc() || r.ptr != p || v < 0 || v > 255)
      return "pixel " + std::to_string(count + 1) + " is '" + std::string(tok, std::min<size_t>(p - tok, 20)) +
             "', expected an integer 0-255";
    if (count < kPixels) dst[count] = static_cast<uint8_t>(v);
    ++count;
  }
  if (count != kPixels)
    return "has " + std::to_string(count) + " pixel values, expected " + std::to_string(kPixels) + " (48x48)";
  return "";
}

std::string pad(size_t n, size_t width) {
  std::string s = std::to_string(n);
  return s.size() >= width ? s : std::string(width - s.size(), '0') + s;
}

}  // namespace

ComponentInfo Fer2013Dataset::info() {
  return ComponentInfo("dataset.fer2013", 1, MIEN_KIND_DATASET,
                       "Reads fer2013.csv into a sample table and a 48x48 gray image tensor")
      .params(kPath, kUsage, kClassMap, kClasses)
      .ports(kTable, kImages, kSkipped, kSummary);
}

Fer2013Dataset::Fer2013Dataset(const Setup& s)
    : path_(resolve_file(s, kPath.read(s.params()), "path")),
      usage_(check_usage(kUsage.read(s.params()))),
      classes_(check_classes(kClasses.read(s.params()))),
      class_map_(kFerCodes, kClassMap.read(s.params()), /*closed=*/true, /*fold_case=*/false,
                 "FER2013 emotion codes") {}

void Fer2013Dataset::process(Context& ctx) {
  const Host& host = ctx.host();
  Collector col("dataset.fer2013", host);
  const std::string file = path_.string();
  std::ifstream in(path_, std::ios::binary);
  if (!in) throw Error("path: cannot open " + file, MIEN_ERR_IO);
  std::error_code ec;
  const uintmax_t size = fs::file_size(path_, ec);

  std::string line;
  size_t lineno = 0;
  // The header names the columns (any order, any case; spaces around names allowed).
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (lineno == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
    if (!trim(line).empty()) break;
  }
  for (const auto& h : split_csv(line)) header.push_back(trim(h));
  std::vector<std::string> lowered;
  for (const auto& h : header) lowered.push_back(lower(h));
  auto column = [&](const std::string& name, bool required) -> long {
    const auto it = std::find(lowered.begin(), lowered.end(), name);
    if (it != lowered.end()) return static_cast<long>(it - lowered.begin());
    if (required)
      throw Error("path: " + file + " line " + std::to_string(lineno) + ": the header has no column '" + name +
                  "' (columns: " + join(header) + ")" + did_you_mean(name, header) +
                  "; expected the FER2013 header emotion,pixels,Usage");
    return -1;
  };
  const long c_emotion = column("emotion", true);
  const long c_pixels = column("pixels", true);
  const long c_usage = column("usage", false);
  if (c_usage < 0 && !usage_.empty())
    throw Error("usage is [" + join(usage_) + "] but " + file + " has no Usage column (columns: " + join(header) + ")");
  const std::set<std::string> keep_classes(classes_.begin(), classes_.end());

  std::vector<uint8_t> pixels;
  if (size > 0) pixels.reserve(static_cast<size_t>(size / 4));  // about 4 characters per pixel
  std::vector<uint8_t> row(kPixels);
  size_t data_rows = 0, slots = 0;
  std::map<std::string, size_t> usage_seen;
  uintmax_t bytes = 0;
  while (std::getline(in, line)) {
    ++lineno;
    bytes += line.size() + 1;
    if (lineno % 512 == 0) {
      host.check_cancelled();
      host.progress(bytes, size, "reading rows");
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line).empty()) continue;
    ++data_rows;
    const std::string where = file + ":" + std::to_string(lineno);
    const std::vector<std::string> fields = split_csv(line);
    if (fields.size() != header.size()) {
      col.skip(where, "malformed_row", "line " + std::to_string(lineno) + " has " + std::to_string(fields.size()) +
                                           " fields, the header " + std::to_string(header.size()));
      continue;
    }
    const std::string emotion = trim(fields[static_cast<size_t>(c_emotion)]);
    long code = -1;
    const auto r = std::from_chars(emotion.data(), emotion.data() + emotion.size(), code);
    if (emotion.empty() || r.ec != std::errc() || r.ptr != emotion.data() + emotion.size()) {
      col.skip(where, "malformed_row",
               "line " + std::to_string(lineno) + ": emotion '" + emotion.substr(0, 20) + "' is not an integer code");
      continue;
    }
    const std::string* target = class_map_.find(std::to_string(code));
    if (target == nullptr) {
      col.skip(where, "bad_label", "line " + std::to_string(lineno) + ": emotion code " + std::to_string(code) +
                                       " is not one of " + join(class_map_.codes()));
      continue;
    }
    const std::string usage = c_usage >= 0 ? trim(fields[static_cast<size_t>(c_usage)]) : "";
    const std::string why = parse_pixels(fields[static_cast<size_t>(c_pixels)], row.data());
    if (!why.empty()) {
      col.skip(where, "malformed_row", "line " + std::to_string(lineno) + ": " + why);
      continue;
    }
    if (c_usage >= 0) ++usage_seen[usage];
    if (target->empty()) {
      col.exclude("class_map");
      continue;
    }
    if (!usage_.empty() && std::none_of(usage_.begin(), usage_.end(),
                                        [&](const std::string& u) { return lower(u) == lower(usage); })) {
      col.exclude("usage");
      continue;
    }
    if (!keep_classes.empty() && !keep_classes.count(*target)) {
      col.exclude("classes");
      continue;
    }
    pixels.insert(pixels.end(), row.begin(), row.end());
    Sample smp;
    smp.id = "fer" + pad(data_rows, 6);
    smp.label = *target;
    if (c_usage >= 0) smp.groups = {usage};
    smp.index = slots++;
    col.add(std::move(smp));
  }
  if (in.bad()) throw Error("path: reading " + file + " failed at line " + std::to_string(lineno), MIEN_ERR_IO);
  host.progress(size, size, "reading rows");

  Collector::Spec spec;
  spec.dataset = "fer2013";
  spec.source = file;
  if (c_usage >= 0) spec.group_names = {"usage"};
  spec.with_path = false;
  spec.classes = classes_;
  spec.class_map = class_map_.to_json();
  spec.extra["rows_read"] = data_rows;
  OrderedJson us = OrderedJson::object();
  for (const auto& [u, n] : usage_seen) us[u] = n;
  spec.extra["usage_in_file"] = us;
  spec.extra["usage"] = usage_;
  auto res = col.finish(spec);

  const int64_t n = static_cast<int64_t>(res.kept.size());
  Tensor images = Tensor::zeros<uint8_t>({n, kSide, kSide, 1});
  uint8_t* dst = images.data<uint8_t>();
  for (size_t i = 0; i < res.kept.size(); ++i)
    std::memcpy(dst + i * kPixels, pixels.data() + res.kept[i] * kPixels, kPixels);
  pixels.clear();
  pixels.shrink_to_fit();

  ctx.set(kTable, std::move(res.table));
  ctx.set(kImages, std::move(images), MIEN_PIXEL_GRAY);
  ctx.set(kSkipped, std::move(res.skipped));
  ctx.set_text(kSummary, res.summary.dump(2));
}

}  // namespace mien::datasets
