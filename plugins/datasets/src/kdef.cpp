// dataset.kdef: KDEF images named AF01AFS.JPG -> a sample table.
#include <regex>
#include <set>

#include "components.hpp"

namespace mien::datasets {

namespace {

const std::vector<std::pair<std::string, std::string>> kKdefCodes = {
    {"AF", "fear"}, {"AN", "anger"}, {"DI", "disgust"}, {"HA", "happy"},
    {"NE", "neutral"}, {"SA", "sad"}, {"SU", "surprise"}};
const std::vector<std::string> kPoseCodes = {"S", "HL", "HR", "FL", "FR"};
const std::vector<std::string> kSeriesCodes = {"A", "B"};

// Upper-cased, checked against `allowed` (with a suggestion), no repeats, not empty.
std::vector<std::string> check_codes(const std::vector<std::string>& given, const std::vector<std::string>& allowed,
                                     const std::string& param) {
  if (given.empty()) throw Error(param + " is empty; list at least one of " + join(allowed));
  std::vector<std::string> out;
  for (const auto& g : given) {
    const std::string u = upper(trim(g));
    if (std::find(allowed.begin(), allowed.end(), u) == allowed.end())
      throw Error(param + ": '" + g + "' is not one of " + join(allowed) + did_you_mean(g, allowed));
    if (std::find(out.begin(), out.end(), u) != out.end()) throw Error(param + " lists '" + u + "' twice");
    out.push_back(u);
  }
  return out;
}

}  // namespace

ComponentInfo KdefDataset::info() {
  return ComponentInfo("dataset.kdef", 1, MIEN_KIND_DATASET,
                       "Reads the KDEF face images (AF01AFS.JPG names) into a sample table")
      .params(kRoot, kPoses, kSeries, kClassMap, kClasses, kVerify)
      .ports(kTable, kSkipped, kSummary);
}

KdefDataset::KdefDataset(const Setup& s)
    : root_(resolve_folder(s, kRoot.read(s.params()), "root")),
      poses_(check_codes(kPoses.read(s.params()), kPoseCodes, "poses")),
      series_(check_codes(kSeries.read(s.params()), kSeriesCodes, "series")),
      classes_(check_classes(kClasses.read(s.params()))),
      class_map_(kKdefCodes, kClassMap.read(s.params()), /*closed=*/true, /*fold_case=*/true,
                 "KDEF expression codes"),
      verify_(kVerify.read(s.params())),
      threads_(s.num_threads()) {}

void KdefDataset::process(Context& ctx) {
  const Host& host = ctx.host();
  Collector col("dataset.kdef", host);
  const Listing listing = list_files(root_, host);
  // Series, gender, person, expression code, angle (the angle last, so "S" is not eaten).
  static const std::regex pattern("^([A-Z])([A-Z])([0-9]{2})([A-Z]{2})(S|HL|HR|FL|FR)$");
  static const std::regex loose("^([A-Z])([A-Z])([0-9]+)([A-Z]{2})([A-Z]+)$");
  const std::set<std::string> poses(poses_.begin(), poses_.end());
  const std::set<std::string> series(series_.begin(), series_.end());
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
      std::string why = "'" + file.filename().string() +
                        "' does not follow the KDEF pattern <series A|B><gender F|M><person 01-35><expression "
                        "AF|AN|DI|HA|NE|SA|SU><angle S|HL|HR|FL|FR> (e.g. AF01AFS.JPG)";
      std::smatch l;
      if (std::regex_match(stem, l, loose)) {
        const std::string angle = l[5].str();
        if (std::find(kPoseCodes.begin(), kPoseCodes.end(), angle) == kPoseCodes.end())
          why = "'" + file.filename().string() + "': angle '" + angle + "' is not one of S, HL, HR, FL, FR" +
                did_you_mean(angle, kPoseCodes);
        else if (l[3].length() != 2)
          why = "'" + file.filename().string() + "': the person number '" + l[3].str() + "' is not two digits";
      }
      col.skip(path, "misnamed", why);
      continue;
    }
    const std::string ser = m[1].str(), gender = m[2].str(), person = m[3].str(), code = m[4].str(),
                      angle = m[5].str();
    if (ser != "A" && ser != "B") {
      col.skip(path, "misnamed", "'" + file.filename().string() + "': series '" + ser + "' is not A or B");
      continue;
    }
    if (gender != "F" && gender != "M") {
      col.skip(path, "misnamed", "'" + file.filename().string() + "': gender '" + gender + "' is not F or M");
      continue;
    }
    const int number = std::stoi(person);
    if (number < 1 || number > 35) {
      col.skip(path, "misnamed", "'" + file.filename().string() + "': person number " + person +
                                     " is outside 01-35");
      continue;
    }
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
    if (!poses.count(angle)) {
      col.exclude("poses");
      continue;
    }
    if (!series.count(ser)) {
      col.exclude("series");
      continue;
    }
    Sample smp;
    smp.id = stem;
    smp.label = *target;
    smp.groups = {gender + person, angle, ser};
    smp.path = path;
    col.add(std::move(smp));
  }
  col.restrict_classes(classes_);
  if (verify_) col.verify_images(threads_);

  Collector::Spec spec;
  spec.dataset = "kdef";
  spec.source = root_.string();
  spec.group_names = {"subject", "pose", "series"};
  spec.classes = classes_;
  spec.class_map = class_map_.to_json();
  spec.extra["poses"] = poses_;
  spec.extra["series"] = series_;
  spec.extra["verify_images"] = verify_;
  spec.extra["ignored_files"] = {{"not_images", ignored}, {"hidden", listing.hidden}};
  auto res = col.finish(spec);
  ctx.set(kTable, std::move(res.table));
  ctx.set(kSkipped, std::move(res.skipped));
  ctx.set_text(kSummary, res.summary.dump(2));
}

}  // namespace mien::datasets
