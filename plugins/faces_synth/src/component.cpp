#include "component.hpp"

#include <cstdio>
#include <cstring>
#include <set>

namespace mien::faces_synth {

ComponentInfo SyntheticFaces::info() {
  return ComponentInfo("dataset.synthetic_faces", 1, MIEN_KIND_DATASET,
                       "Synthetic grey faces of the seven expressions from FACS action units on a 3D face model, "
                       "with landmarks, AU masks and ground truth")
      .params(kIdentities, kRepeats, kPoses, kClasses, kLabelStyle, kSize, kYaw, kYawJitter, kPitchJitter,
              kRollJitter, kIntensityMin, kIntensityMax, kLandmarkNoise, kNuisance, kPixelNoise, kPositionJitter,
              kScaleJitter, kThreshold, kLandmarkThreshold)
      .ports(kTable, kImages, kGroundTruth, kAuMasks);
}

SyntheticFaces::SyntheticFaces(const Setup& s) : seed_(s.seed()) {
  const Params& p = s.params();
  Options& o = opts_;
  o.threads = static_cast<int>(s.num_threads());
  o.identities = kIdentities.read(p);
  o.repeats = kRepeats.read(p);
  o.poses = kPoses.read(p);
  if (o.poses.empty()) throw Error("poses is empty: expected a list of S, HL and HR");
  std::set<std::string> seen;
  for (const auto& q : o.poses) {
    if (q != "S" && q != "HL" && q != "HR")
      throw Error("poses: '" + q + "' is not a pose; expected S, HL or HR");
    if (!seen.insert(q).second) throw Error("poses lists '" + q + "' twice");
  }
  const auto classes = kClasses.read(p);
  if (!classes.empty()) {
    std::set<int> chosen;
    for (const auto& c : classes) {
      int found = -1;
      for (int k = 0; k < kNumClasses; ++k)
        if (c == class_defs()[k].name || c == class_defs()[k].kdef) found = k;
      if (found < 0)
        throw Error("classes: '" + c +
                    "' is not an expression; expected fear, anger, disgust, happy, neutral, sad, surprise or "
                    "AF, AN, DI, HA, NE, SA, SU");
      if (!chosen.insert(found).second) throw Error("classes lists '" + c + "' twice");
    }
    o.classes.assign(chosen.begin(), chosen.end());  // canonical order
  }
  o.kdef_labels = kLabelStyle.read(p) == "kdef";
  o.size = kSize.read(p);
  o.yaw = kYaw.read(p);
  o.yaw_jitter = kYawJitter.read(p);
  o.pitch_jitter = kPitchJitter.read(p);
  o.roll_jitter = kRollJitter.read(p);
  o.intensity_min = kIntensityMin.read(p);
  o.intensity_max = kIntensityMax.read(p);
  if (o.intensity_max < o.intensity_min)
    throw Error("intensity_max (" + std::to_string(o.intensity_max) + ") must be at least intensity_min (" +
                std::to_string(o.intensity_min) + ")");
  o.landmark_noise = kLandmarkNoise.read(p);
  o.nuisance = kNuisance.read(p);
  o.pixel_noise = kPixelNoise.read(p);
  o.position_jitter = kPositionJitter.read(p);
  o.scale_jitter = kScaleJitter.read(p);
  o.gt_threshold = kThreshold.read(p);
  o.landmark_threshold = kLandmarkThreshold.read(p);
  const double n = static_cast<double>(o.identities) * o.repeats * o.poses.size() * o.classes.size();
  const double bytes = n * o.size * o.size * 2.0;
  if (bytes > 16e9)
    throw Error("identities × repeats × poses × classes × size² is too large (" + std::to_string(bytes / 1e9) +
                " GB of images and masks); lower identities, repeats or size");
}

Table make_table(const Dataset& d) {
  const Options& o = d.opts;
  const size_t n = d.samples.size();
  Table t(static_cast<int64_t>(n));
  std::vector<std::string> ids(n), subjects(n), poses(n);
  std::vector<int64_t> labels(n);
  std::vector<std::string> cats;
  for (int c : o.classes) cats.push_back(label_name(c, o.kdef_labels));
  for (size_t i = 0; i < n; ++i) {
    const Sample& s = d.samples[i];
    char buf[32];
    std::snprintf(buf, sizeof buf, "s%05zu", i);
    ids[i] = buf;
    std::snprintf(buf, sizeof buf, "p%03d", s.identity);
    subjects[i] = buf;
    poses[i] = o.poses[static_cast<size_t>(s.pose)];
    labels[i] = std::find(o.classes.begin(), o.classes.end(), s.cls) - o.classes.begin();
  }
  t.add_strings("id", MIEN_ROLE_ID, ids);
  t.add_codes("label", MIEN_ROLE_LABEL, labels, cats);
  t.add_strings("subject", MIEN_ROLE_GROUP, subjects);
  t.add_strings("pose", MIEN_ROLE_GROUP, poses);
  auto column = [&](const std::string& name, auto get) {
    std::vector<double> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = get(d.samples[i]);
    t.add_numbers(name, MIEN_ROLE_VALUE, std::move(v));
  };
  for (int k = 0; k < 68; ++k) column("x" + std::to_string(k), [k](const Sample& s) { return s.landmarks[k].x; });
  for (int k = 0; k < 68; ++k) column("y" + std::to_string(k), [k](const Sample& s) { return s.landmarks[k].y; });
  auto box = [](const Sample& s, int which) {
    double x0 = s.landmarks[0].x, x1 = x0, y0 = s.landmarks[0].y, y1 = y0;
    for (const auto& q : s.landmarks) {
      x0 = std::min(x0, q.x);
      x1 = std::max(x1, q.x);
      y0 = std::min(y0, q.y);
      y1 = std::max(y1, q.y);
    }
    const double v[4] = {x0, y0, x1 - x0, y1 - y0};
    return v[which];
  };
  column("face_x", [&](const Sample& s) { return box(s, 0); });
  column("face_y", [&](const Sample& s) { return box(s, 1); });
  column("face_w", [&](const Sample& s) { return box(s, 2); });
  column("face_h", [&](const Sample& s) { return box(s, 3); });
  // AU intensities: only the AUs the generated classes use
  std::set<int> used;
  for (int c : o.classes)
    for (int a : class_defs()[static_cast<size_t>(c)].aus) used.insert(a);
  for (int slot = 0; slot < kNumAus; ++slot)
    if (used.count(kAuCodes[slot]))
      column("au" + std::to_string(kAuCodes[slot]), [slot](const Sample& s) { return s.au[static_cast<size_t>(slot)]; });
  column("yaw", [](const Sample& s) { return s.cam.yaw; });
  column("pitch", [](const Sample& s) { return s.cam.pitch; });
  column("roll", [](const Sample& s) { return s.cam.roll; });
  column("face_scale", [](const Sample& s) { return s.cam.scale; });
  column("light_azimuth", [](const Sample& s) { return s.nuisance.light_azimuth; });
  column("light_elevation", [](const Sample& s) { return s.nuisance.light_elevation; });
  column("light_strength", [](const Sample& s) { return s.nuisance.light_strength; });
  column("contrast", [](const Sample& s) { return s.nuisance.contrast; });
  column("brightness", [](const Sample& s) { return s.nuisance.brightness; });
  column("background_level", [](const Sample& s) { return s.nuisance.background_level; });
  column("background_texture", [](const Sample& s) { return s.nuisance.background_texture; });
  column("blur_sigma", [](const Sample& s) { return s.nuisance.blur_sigma; });
  column("pixel_noise", [](const Sample& s) { return s.nuisance.noise_sigma; });
  nlohmann::json meta = {{"generator", "dataset.synthetic_faces"},
                         {"seed", d.seed},
                         {"image_size", o.size},
                         {"landmarks", "iBUG 68, pixels of the image in `images`"}};
  t.meta(meta);
  return t;
}

void SyntheticFaces::process(Context& ctx) {
  const Host& host = ctx.host();
  const int64_t n = static_cast<int64_t>(sample_count(opts_)), s = opts_.size;
  Tensor img = Tensor::zeros<uint8_t>({n, s, s, 1});
  Tensor masks = Tensor::zeros<uint8_t>({n, s, s});
  const Dataset d = generate(
      opts_, seed_,
      [&](size_t done, size_t total) {
        host.check_cancelled();
        host.progress(done, total, "rendering faces");
      },
      img.data<uint8_t>(), masks.data<uint8_t>());
  host.info("generated " + std::to_string(n) + " synthetic faces (" + std::to_string(opts_.identities) +
            " identities, " + std::to_string(opts_.classes.size()) + " classes, " +
            std::to_string(opts_.poses.size()) + " poses, " + std::to_string(opts_.repeats) + " repeats)");
  ctx.set(kTable, make_table(d));
  ctx.set(kImages, std::move(img), MIEN_PIXEL_GRAY);
  ctx.set(kAuMasks, std::move(masks));
  host.check_cancelled();
  ctx.set(kGroundTruth, ground_truth(d));
}

}  // namespace mien::faces_synth
