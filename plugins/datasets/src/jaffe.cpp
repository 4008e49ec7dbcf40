// dataset.jaffe: JAFFE images named KA.AN1.39.tiff -> a sample table.
#include <regex>

#include "components.hpp"

namespace mien::datasets {

namespace {

const std::vector<std::pair<std::string, std::string>> kJaffeCodes = {
    {"FE", "fear"}, {"AN", "anger"}, {"DI", "disgust"}, {"HA", "happy"},
    {"NE", "neutral"}, {"SA", "sad"}, {"SU", "surprise"}};

}  // namespace

ComponentInfo JaffeDataset::info() {
  return ComponentInfo("dataset.jaffe", 1, MIEN_KIND_DATASET,
                       "Reads the JAFFE face images (KA.AN1.39.tiff names) into a sample table")
      .params(kRoot, kClassMap, kClasses, kVerify)
      .ports(kTable, kSkipped, kSummary);
}

JaffeDataset::JaffeDataset(const Setup& s)
    : root_(resolve_folder(s, kRoot.read(s.params()), "root")),
      classes_(check_classes(kClasses.read(s.params()))),
      class_map_(kJaffeCodes, kClassMap.read(s.params()), /*closed=*/true, /*fold_case=*/true,
                 "JAFFE expression codes"),
      verify_(kVerify.read(s.params())),
      threads_(s.num_threads()) {}

void JaffeDataset::process(Context& ctx) {
  const Host& host = ctx.host();
  Collector col("dataset.jaffe", host);
  const Listing listing = list_files(root_, host);
  // Subject, expression code, take, image number.
  static const std::regex pattern("^([A-Z]{2})\\.([A-Z]{2})([0-9]+)\\.([0-9]+)$");
  size_t ignored = 0;
  for (const auto& file : listing.files) {
    const std::string path = file.string();
    if (!has_image_extension(file)) {
      ++ignored;
      continue;
    }
    const std::string stem = upper(file.stem().string());
    std::smatch m;
    if (!std::regex_match(stem, m, pattern)) {
      col.skip(path, "misnamed",
               "'" + file.filename().string() +
                   "' does not follow the JAFFE pattern <subject>.<expression><take>.<number> (e.g. KA.AN1.39.tiff)");
      continue;
    }
    const std::string code = m[2].str();
    const std::string* target = class_map_.find(code);
    if (target == nullptr) {
      col.skip(path, "misnamed", "'" + file.filename().string() + "': expression code '" + code +
                                     "' is not one of " + join(class_map_.codes()) +
                                     did_you_mean(code, class_map_.codes()));
      continue;
    }
    if (target->empty()) {
      col.exclude("class_map");
      continue;
    }
    Sample smp;
    smp.id = stem;
    smp.label = *target;
    smp.groups = {m[1].str()};
    smp.path = path;
    col.add(std::move(smp));
  }
  col.restrict_classes(classes_);
  if (verify_) col.verify_images(threads_);

  Collector::Spec spec;
  spec.dataset = "jaffe";
  spec.source = root_.string();
  spec.group_names = {"subject"};
  spec.classes = classes_;
  spec.class_map = class_map_.to_json();
  spec.extra["verify_images"] = verify_;
  spec.extra["ignored_files"] = {{"not_images", ignored}, {"hidden", listing.hidden}};
  auto res = col.finish(spec);
  ctx.set(kTable, std::move(res.table));
  ctx.set(kSkipped, std::move(res.skipped));
  ctx.set_text(kSummary, res.summary.dump(2));
}

}  // namespace mien::datasets
