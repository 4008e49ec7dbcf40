// dataset.ckplus: CK+ labelled sequences -> a sample table of peak (and neutral) frames.
#include <charconv>
#include <cmath>
#include <fstream>
#include <regex>
#include <sstream>

#include "components.hpp"

namespace mien::datasets {

namespace {

const std::vector<std::pair<std::string, std::string>> kCkCodes = {
    {"0", "neutral"}, {"1", "anger"}, {"2", "contempt"}, {"3", "disgust"},
    {"4", "fear"},    {"5", "happy"}, {"6", "sad"},      {"7", "surprise"}};

// A whole token as a finite number (from_chars: no locale).
bool parse_double(const std::string& text, double* out) {
  const char* b = text.data();
  const char* e = text.data() + text.size();
  if (b != e && *b == '+') ++b;
  if (b == e) return false;
  const auto r = std::from_chars(b, e, *out);
  return r.ec == std::errc() && r.ptr == e && std::isfinite(*out);
}

std::string read_text(const fs::path& p, bool* ok) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  *ok = static_cast<bool>(in) || in.eof();
  return os.str();
}

// CK+ landmarks: 68 lines "x y". Empty on success, else the reason.
std::string read_landmarks(const fs::path& p, std::vector<double>* xy) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return "no landmarks file " + p.string();
  bool ok = false;
  const std::string text = read_text(p, &ok);
  if (!ok) return "cannot read the landmarks file " + p.string();
  std::vector<double> xs, ys;
  std::istringstream lines(text);
  std::string line;
  size_t lineno = 0;
  while (std::getline(lines, line)) {
    ++lineno;
    const std::string t = trim(line);
    if (t.empty()) continue;
    std::istringstream fields(t);
    std::string a, b, extra;
    fields >> a >> b;
    fields >> extra;
    double x = 0, y = 0;
    if (b.empty() || !extra.empty() || !parse_double(a, &x) || !parse_double(b, &y))
      return "landmarks file " + p.string() + " line " + std::to_string(lineno) + " is '" + t +
             "', expected two numbers \"x y\"";
    xs.push_back(x);
    ys.push_back(y);
  }
  if (xs.size() != 68)
    return "landmarks file " + p.string() + " has " + std::to_string(xs.size()) + " points, expected 68";
  xy->assign(xs.begin(), xs.end());
  xy->insert(xy->end(), ys.begin(), ys.end());
  return "";
}

struct Frame {
  long number;
  fs::path path;
};

struct Sequence {
  std::string subject, number;  // folder names: "S005", "001"
  fs::path dir;
};

std::vector<fs::path> child_folders(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] != '.' && it->is_directory(ec)) out.push_back(it->path());
  }
  if (ec) throw Error("cannot list " + dir.string() + ": " + ec.message(), MIEN_ERR_IO);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

ComponentInfo CkplusDataset::info() {
  return ComponentInfo("dataset.ckplus", 1, MIEN_KIND_DATASET,
                       "Reads the labelled CK+ sequences (peak and neutral frames) into a sample table")
      .params(kRoot, kPeakFrames, kIncludeNeutral, kUseLandmarks, kIncludeContempt, kClassMap, kClasses, kVerify)
      .ports(kTable, kSkipped, kSummary);
}

CkplusDataset::CkplusDataset(const Setup& s)
    : root_(resolve_folder(s, kRoot.read(s.params()), "root")),
      peak_frames_(kPeakFrames.read(s.params())),
      include_neutral_(kIncludeNeutral.read(s.params())),
      use_landmarks_(kUseLandmarks.read(s.params())),
      include_contempt_(kIncludeContempt.read(s.params())),
      verify_(kVerify.read(s.params())),
      classes_(check_classes(kClasses.read(s.params()))),
      class_map_(kCkCodes, kClassMap.read(s.params()), /*closed=*/true, /*fold_case=*/false, "CK+ emotion codes"),
      threads_(s.num_threads()) {
  if (peak_frames_ < 1) throw Error("peak_frames must be at least 1, not " + std::to_string(peak_frames_));
  const std::string layout =
      " (expected the CK+ layout: cohn-kanade-images/S005/001/S005_001_00000011.png, "
      "Emotion/S005/001/S005_001_00000011_emotion.txt, Landmarks/S005/001/S005_001_00000011_landmarks.txt)";
  images_dir_ = find_child_folder(root_, "cohn-kanade-images");
  if (images_dir_.empty()) throw Error("root: no folder cohn-kanade-images in " + root_.string() + layout, MIEN_ERR_IO);
  emotion_dir_ = find_child_folder(root_, "Emotion");
  if (emotion_dir_.empty()) throw Error("root: no folder Emotion in " + root_.string() + layout, MIEN_ERR_IO);
  if (use_landmarks_) {
    landmarks_dir_ = find_child_folder(root_, "Landmarks");
    if (landmarks_dir_.empty())
      throw Error("use_landmarks is true but there is no folder Landmarks in " + root_.string() + layout, MIEN_ERR_IO);
  }
  if (!include_contempt_ && std::find(classes_.begin(), classes_.end(), "contempt") != classes_.end())
    throw Error("classes lists 'contempt' but include_contempt is false; set include_contempt: true");
}

void CkplusDataset::process(Context& ctx) {
  const Host& host = ctx.host();
  Collector col("dataset.ckplus", host);

  // The image sequences: cohn-kanade-images/<subject>/<sequence>/.
  std::map<std::string, Sequence> sequences;
  for (const auto& subj : child_folders(images_dir_)) {
    host.check_cancelled();
    for (const auto& seq : child_folders(subj)) {
      const std::string key = upper(subj.filename().string()) + "_" + seq.filename().string();
      sequences.emplace(key, Sequence{subj.filename().string(), seq.filename().string(), seq});
    }
  }

  // The labels: Emotion/<subject>/<sequence>/<subject>_<sequence>_<frame>_emotion.txt.
  static const std::regex emotion_name("^(S[0-9]+)_([0-9]+)_([0-9]+)_EMOTION\\.TXT$");
  struct Label {
    fs::path file;
    long frame;
  };
  std::map<std::string, Label> labels;
  const Listing emotion_files = list_files(emotion_dir_, host);
  for (const auto& file : emotion_files.files) {
    const std::string name = upper(file.filename().string());
    std::smatch m;
    if (!std::regex_match(name, m, emotion_name)) {
      if (lower(file.extension().string()) == ".txt")
        col.skip(file.string(), "misnamed",
                 "'" + file.filename().string() +
                     "' does not follow the CK+ pattern S005_001_00000011_emotion.txt; not used as a label");
      continue;
    }
    const std::string key = m[1].str() + "_" + m[2].str();
    const long frame = std::stol(m[3].str());
    auto [it, fresh] = labels.emplace(key, Label{file, frame});
    if (!fresh) {
      // Two label files for one sequence: the later frame wins (it is the peak).
      Label other{file, frame};
      if (other.frame > it->second.frame) std::swap(other, it->second);
      col.skip(other.file.string(), "duplicate",
               "a second emotion file for sequence " + key + "; using " + it->second.file.filename().string());
    }
  }

  size_t labelled_used = 0, left_out_contempt = 0, left_out_class_map = 0, sequences_used = 0;
  const std::string* neutral = class_map_.find("0");
  static const std::regex frame_name("^(S[0-9]+)_([0-9]+)_([0-9]+)$");
  size_t done = 0;
  for (const auto& [key, label] : labels) {
    host.check_cancelled();
    host.progress(done++, labels.size(), "reading sequences");
    const std::string epath = label.file.string();
    const auto seq_it = sequences.find(key);
    if (seq_it == sequences.end()) {
      col.skip(epath, "missing_images", "no image folder for sequence " + key + " in " + images_dir_.string());
      continue;
    }
    const Sequence& seq = seq_it->second;
    ++labelled_used;

    // The label: a float holding an integer code.
    bool ok = false;
    const std::string text = trim(read_text(label.file, &ok));
    double value = 0;
    if (!ok) {
      col.skip(epath, "unreadable", "cannot read the emotion file");
      continue;
    }
    if (!parse_double(text, &value) || value != std::floor(value) || value < 0 || value > 1e6) {
      col.skip(epath, "bad_label", "the emotion file holds '" + text.substr(0, 40) + "', expected a code " +
                                       join(class_map_.codes()) + " (e.g. 3.0000000e+00)");
      continue;
    }
    const std::string code = std::to_string(static_cast<long>(value));
    const std::string* target = class_map_.find(code);
    if (target == nullptr) {
      col.skip(epath, "bad_label",
               "emotion code " + code + " is not one of the CK+ codes " + join(class_map_.codes()));
      continue;
    }
    if (target->empty()) {
      ++left_out_class_map;
      continue;
    }
    if (*target == "contempt" && !include_contempt_) {
      ++left_out_contempt;
      continue;
    }

    // The frames, by number.
    std::vector<Frame> frames;
    std::error_code ec;
    std::vector<fs::path> files;
    for (fs::directory_iterator it(seq.dir, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_regular_file(ec)) files.push_back(it->path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      const std::string fname = f.filename().string();
      if (fname.empty() || fname[0] == '.' || !has_image_extension(f)) continue;
      std::smatch m;
      const std::string stem = upper(f.stem().string());
      if (!std::regex_match(stem, m, frame_name) || m[1].str() + "_" + m[2].str() != key) {
        col.skip(f.string(), "misnamed",
                 "'" + fname + "' is not named like the frames of sequence " + key + " (" + key + "_00000001.png)");
        continue;
      }
      frames.push_back(Frame{std::stol(m[3].str()), f});
    }
    std::stable_sort(frames.begin(), frames.end(), [](const Frame& a, const Frame& b) { return a.number < b.number; });
    long peak = -1;
    for (size_t i = 0; i < frames.size(); ++i)
      if (frames[i].number == label.frame) peak = static_cast<long>(i);
    if (peak < 0) {
      col.skip(epath, "missing_frame",
               "the emotion file names frame " + std::to_string(label.frame) + " but " + seq.dir.string() +
                   " has no such frame (" + std::to_string(frames.size()) + " frames)");
      continue;
    }

    // The last peak_frames frames up to the peak, and the first frame as neutral.
    const bool with_neutral = include_neutral_ && neutral != nullptr && !neutral->empty() && peak > 0;
    const long first_peak = std::max<long>(with_neutral ? 1 : 0, peak - peak_frames_ + 1);
    std::vector<std::pair<const Frame*, std::string>> chosen;
    if (with_neutral) chosen.emplace_back(&frames[0], *neutral);
    for (long i = first_peak; i <= peak; ++i) chosen.emplace_back(&frames[static_cast<size_t>(i)], *target);
    ++sequences_used;

    for (const auto& [frame, cls] : chosen) {
      Sample smp;
      smp.id = upper(frame->path.stem().string());
      smp.label = cls;
      smp.groups = {upper(seq.subject), key};
      smp.path = frame->path.string();
      if (use_landmarks_) {
        const fs::path lm =
            landmarks_dir_ / seq.subject / seq.number / (frame->path.stem().string() + "_landmarks.txt");
        const std::string why = read_landmarks(lm, &smp.values);
        if (!why.empty()) {
          col.skip(smp.path, "bad_landmarks", why);
          continue;
        }
      }
      col.add(std::move(smp));
    }
  }
  host.progress(labels.size(), labels.size(), "reading sequences");
  col.restrict_classes(classes_);
  if (verify_) col.verify_images(threads_);

  Collector::Spec spec;
  spec.dataset = "ckplus";
  spec.source = root_.string();
  spec.group_names = {"subject", "sequence"};
  if (use_landmarks_) {
    for (int i = 0; i < 68; ++i) spec.value_names.push_back("x" + std::to_string(i));
    for (int i = 0; i < 68; ++i) spec.value_names.push_back("y" + std::to_string(i));
  }
  spec.classes = classes_;
  spec.class_map = class_map_.to_json();
  spec.extra["sequences"] = {{"found", sequences.size()},
                             {"labelled", labelled_used},
                             {"unlabelled", sequences.size() - labelled_used},
                             {"used", sequences_used},
                             {"left_out_contempt", left_out_contempt},
                             {"left_out_by_class_map", left_out_class_map}};
  spec.extra["peak_frames"] = peak_frames_;
  spec.extra["include_neutral"] = include_neutral_;
  spec.extra["include_contempt"] = include_contempt_;
  spec.extra["use_landmarks"] = use_landmarks_;
  spec.extra["verify_images"] = verify_;
  auto res = col.finish(spec);
  ctx.set(kTable, std::move(res.table));
  ctx.set(kSkipped, std::move(res.skipped));
  ctx.set_text(kSummary, res.summary.dump(2));
}

}  // namespace mien::datasets
