// dataset.image_folder: root/<class>/*.jpg -> a sample table.
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <re2/re2.h>

#include <memory>
#include <set>

#include "components.hpp"

namespace mien::datasets {

ComponentInfo ImageFolderDataset::info() {
  return ComponentInfo("dataset.image_folder", 2, MIEN_KIND_DATASET,
                       "Reads a folder with one subfolder of images per class into a sample table (and, with "
                       "faces: whole_image, the images themselves as face crops)")
      .params(kRoot, kClassMap, kSubjectRegex, kClasses, kVerify, kFaces, kSize, kChannels)
      .ports(kTable, kImages, kSkipped, kSummary);
}

ImageFolderDataset::ImageFolderDataset(const Setup& s)
    : root_(resolve_folder(s, kRoot.read(s.params()), "root")),
      subject_regex_(kSubjectRegex.read(s.params())),
      classes_(check_classes(kClasses.read(s.params()))),
      class_map_(class_synonyms(), kClassMap.read(s.params()), /*closed=*/false, /*fold_case=*/true,
                 "class folder names"),
      verify_(kVerify.read(s.params())),
      whole_image_(kFaces.read(s.params()) == "whole_image"),
      size_(kSize.read(s.params())),
      channels_(kChannels.read(s.params())),
      threads_(s.num_threads()) {
  if (!subject_regex_.empty()) {
    const RE2 test(subject_regex_, RE2::Quiet);
    if (!test.ok())
      throw Error("subject_regex: '" + subject_regex_ + "' is not a valid regular expression (RE2 syntax): " +
                  test.error());
  }
}

void ImageFolderDataset::process(Context& ctx) {
  const Host& host = ctx.host();
  Collector col("dataset.image_folder", host);
  const Listing listing = list_files(root_, host);
  // RE2 matches in time linear in the name, so a pattern such as ^(a+)+$ cannot hang the
  // reader the way a backtracking std::regex does.
  std::unique_ptr<RE2> subject;
  if (!subject_regex_.empty()) subject = std::make_unique<RE2>(subject_regex_, RE2::Quiet);

  size_t ignored = 0;
  std::vector<std::string> paths;  // by Sample::index, for decoding the kept crops
  std::map<std::string, size_t> unknown_folders;  // folder -> image count
  std::map<std::string, size_t> folder_counts;
  for (const auto& file : listing.files) {
    if (!has_image_extension(file)) {
      ++ignored;
      continue;
    }
    const fs::path rel = file.lexically_relative(root_);
    const std::string path = file.string();
    if (std::distance(rel.begin(), rel.end()) < 2) {
      col.skip(path, "misplaced", "'" + rel.generic_string() + "' lies directly in root, not in a class folder");
      continue;
    }
    const std::string folder = rel.begin()->string();
    const std::string* target = class_map_.find(folder);
    if (target == nullptr) {
      ++unknown_folders[folder];
      continue;
    }
    if (target->empty()) {
      col.exclude("class_map");
      continue;
    }
    Sample smp;
    smp.id = rel.generic_string();
    smp.label = *target;
    smp.path = path;
    smp.index = paths.size();
    paths.push_back(path);
    if (subject) {
      const std::string name = file.filename().string();
      // The first capture group, or the whole match when the pattern has none.
      const int group = subject->NumberOfCapturingGroups() > 0 ? 1 : 0;
      re2::StringPiece found[2];
      if (!subject->Match(name, 0, name.size(), RE2::UNANCHORED, found, group + 1) || found[group].empty()) {
        col.skip(path, "misnamed", "'" + name + "' does not match subject_regex '" + subject_regex_ + "'");
        continue;
      }
      smp.groups = {std::string(found[group].data(), found[group].size())};
    }
    ++folder_counts[folder];
    col.add(std::move(smp));
  }
  if (!unknown_folders.empty()) {
    std::vector<std::string> names;
    const std::vector<std::string> known = class_map_.codes();
    for (const auto& [folder, n] : unknown_folders) {
      names.push_back("'" + folder + "' (" + std::to_string(n) + " images" + did_you_mean(folder, known) + ")");
    }
    throw Error("root: class folder(s) " + join(names) + " in " + root_.string() +
                " are not class names; map them with class_map (e.g. {" + unknown_folders.begin()->first +
                ": happy}) or leave them out with null ({" + unknown_folders.begin()->first +
                ": null}). Canonical classes: " + join(canonical_classes()));
  }
  col.restrict_classes(classes_);
  // Crops are decoded below, so an unreadable one must be skipped here, before the table is made.
  if (verify_ || whole_image_) col.verify_images(threads_);

  Collector::Spec spec;
  spec.dataset = "image_folder";
  spec.source = root_.string();
  if (subject) spec.group_names = {"subject"};
  spec.classes = classes_;
  spec.class_map = class_map_.to_json();
  OrderedJson fc = OrderedJson::object();
  for (const auto& [f, n] : folder_counts) fc[f] = n;
  spec.extra["folder_counts"] = fc;
  spec.extra["subject_regex"] = subject_regex_;
  spec.extra["verify_images"] = verify_;
  spec.extra["faces"] = whole_image_ ? "whole_image" : "detect";
  if (whole_image_) spec.extra["crop"] = {{"size", size_}, {"channels", channels_}, {"resize", "stretched to the square"}};
  spec.extra["ignored_files"] = {{"not_images", ignored}, {"hidden", listing.hidden}};
  auto res = col.finish(spec);

  // ---- the crops: decoded, converted to the channels asked for, resized (area averaging
  // when shrinking, bilinear when enlarging), RGB order ----
  const auto n = whole_image_ ? static_cast<int64_t>(res.kept.size()) : int64_t{0};
  Tensor images = Tensor::zeros<uint8_t>({n, size_, size_, channels_});
  uint8_t* dst = images.data<uint8_t>();
  const size_t plane = static_cast<size_t>(size_) * static_cast<size_t>(size_) * static_cast<size_t>(channels_);
  for (int64_t i = 0; i < n; ++i) {
    if (i % 64 == 0) {
      host.check_cancelled();
      host.progress(static_cast<uint64_t>(i), static_cast<uint64_t>(n), "decoding face crops");
    }
    const std::string& path = paths[res.kept[static_cast<size_t>(i)]];
    cv::Mat m = cv::imread(path, channels_ == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
    if (m.empty()) throw Error("dataset.image_folder: " + path + " could be checked but not decoded (changed while reading?)", MIEN_ERR_IO);
    if (channels_ == 3) cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
    cv::Mat r;
    const bool shrink = m.cols >= size_ && m.rows >= size_;
    cv::resize(m, r, cv::Size(size_, size_), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
    if (!r.isContinuous()) r = r.clone();
    std::copy(r.data, r.data + plane, dst + static_cast<size_t>(i) * plane);
  }
  ctx.set(kImages, std::move(images), channels_ == 1 ? MIEN_PIXEL_GRAY : MIEN_PIXEL_RGB);
  ctx.set(kTable, std::move(res.table));
  ctx.set(kSkipped, std::move(res.skipped));
  ctx.set_text(kSummary, res.summary.dump(2));
}

}  // namespace mien::datasets
