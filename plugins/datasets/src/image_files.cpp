// dataset.image_files: a list of image files (a few photos to explain) -> a sample table.
#include "components.hpp"
#include "images.hpp"

namespace mien::datasets {

ComponentInfo ImageFilesDataset::info() {
  return ComponentInfo("dataset.image_files", 1, MIEN_KIND_DATASET,
                       "A list of image files (e.g. a few photos to explain), with optional labels")
      .params(kFiles, kLabels, kVerify)
      .ports(kTable, kSkipped, kSummary);
}

ImageFilesDataset::ImageFilesDataset(const Setup& s) : verify_(kVerify.read(s.params())) {
  const auto files = kFiles.read(s.params());
  labels_ = kLabels.read(s.params());
  if (files.empty()) throw Error("files: give at least one image path");
  if (!labels_.empty() && labels_.size() != files.size())
    throw Error("labels: " + std::to_string(labels_.size()) + " labels for " + std::to_string(files.size()) +
                " files; give one label per file, or none");
  for (const auto& label : labels_)
    if (canonical_index(label) < 0)
      throw Error("labels: '" + label + "' is not a canonical class (" + join(canonical_classes()) + ")" +
                  did_you_mean(label, canonical_classes()));
  for (const auto& f : files) paths_.push_back(fs::absolute(s.resolve_path(f)).lexically_normal().string());
}

void ImageFilesDataset::process(Context& ctx) {
  std::vector<std::string> ids, paths;
  std::vector<int64_t> codes;
  std::vector<std::string> skipped_paths, problems, reasons;
  for (size_t i = 0; i < paths_.size(); ++i) {
    const ImageCheck check = check_image(paths_[i], verify_);
    if (!check.ok) {
      ctx.host().warn("dataset.image_files: skipped " + paths_[i] + ": " + check.reason);
      skipped_paths.push_back(paths_[i]);
      problems.push_back(check.problem);
      reasons.push_back(check.reason);
      continue;
    }
    ids.push_back(fs::path(paths_[i]).stem().string());
    paths.push_back(paths_[i]);
    codes.push_back(labels_.empty() ? -1 : canonical_index(labels_[i]));
  }
  if (ids.empty()) throw Error("no usable image among the " + std::to_string(paths_.size()) + " files", MIEN_ERR_IO);
  const auto n = static_cast<int64_t>(ids.size());
  Table table(n);
  table.add_strings("id", MIEN_ROLE_ID, ids);
  table.add_codes("label", MIEN_ROLE_LABEL, codes, canonical_classes());
  table.add_strings("path", MIEN_ROLE_VALUE, paths);
  Table skipped(static_cast<int64_t>(skipped_paths.size()));
  skipped.add_strings("path", MIEN_ROLE_VALUE, skipped_paths);
  skipped.add_strings("problem", MIEN_ROLE_VALUE, problems);
  skipped.add_strings("reason", MIEN_ROLE_VALUE, reasons);
  Json per_class = Json::object();
  for (int64_t c : codes) {
    const std::string name = c < 0 ? std::string("unknown") : canonical_classes()[static_cast<size_t>(c)];
    per_class[name] = per_class.value(name, 0) + 1;
  }
  const Json summary = {{"dataset", "image_files"}, {"listed", paths_.size()}, {"rows", n},
                        {"classes", per_class}, {"skipped", skipped_paths.size()}};
  ctx.set(kTable, std::move(table));
  ctx.set(kSkipped, std::move(skipped));
  ctx.set(kSummary, summary);
}

}  // namespace mien::datasets
