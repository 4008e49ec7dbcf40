#include "generator.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <mien_face_geometry/alignment.hpp>
#include <mien_face_geometry/geometric.hpp>

#include "rng.hpp"

namespace mien::faces_synth {

double pose_yaw(const std::string& pose, double yaw) {
  if (pose == "S") return 0.0;
  // KDEF's half-left profile shows the subject's left cheek: the head is turned to the
  // subject's right, the nose points to the image left (yaw < 0 in face_model.hpp).
  if (pose == "HL") return -yaw;
  if (pose == "HR") return yaw;
  throw std::invalid_argument("unknown pose '" + pose + "'");
}

std::string label_name(int cls, bool kdef) {
  const ClassDef& c = class_defs().at(static_cast<size_t>(cls));
  return kdef ? c.kdef : c.name;
}

namespace {

// All random draws of one sample, from two streams keyed by (identity, pose, repeat,
// class): pose jitter, framing and photometric nuisance from one, AU intensities and
// landmark noise from the other. The nuisance draws have the same distribution for every
// class, so they are independent of the label.
void draw_sample(const Options& o, uint64_t seed, Sample& smp, Shape3& noise) {
  const uint64_t base[] = {static_cast<uint64_t>(smp.identity), static_cast<uint64_t>(smp.pose),
                           static_cast<uint64_t>(smp.repeat), static_cast<uint64_t>(smp.cls)};
  Rng nr(stream_key(seed, {2, base[0], base[1], base[2], base[3]}));
  Rng ar(stream_key(seed, {3, base[0], base[1], base[2], base[3]}));
  const double S = o.size, q = o.nuisance;
  Camera& cam = smp.cam;
  cam.yaw = pose_yaw(o.poses[static_cast<size_t>(smp.pose)], o.yaw) + nr.normal(o.yaw_jitter, 2.0);
  cam.pitch = nr.normal(o.pitch_jitter, 2.0);
  cam.roll = nr.normal(o.roll_jitter, 2.0);
  cam.scale = 0.30 * S * (1.0 + nr.uniform(-o.scale_jitter, o.scale_jitter));
  cam.cx = S / 2 + nr.uniform(-o.position_jitter, o.position_jitter) * S;
  cam.cy = S / 2 + nr.uniform(-o.position_jitter, o.position_jitter) * S;
  cam.distance = 8.0;
  Nuisance& nz = smp.nuisance;
  nz.light_azimuth = nr.uniform(0, 360);
  nz.light_elevation = nr.uniform(15, 70);
  nz.light_strength = q * nr.uniform(0.0, 0.7);
  nz.contrast = 1.0 + q * nr.uniform(-0.4, 0.3);
  nz.brightness = q * nr.uniform(-35, 35);
  nz.background_level = 128 + q * nr.uniform(-105, 105);
  nz.background_texture = q * nr.uniform(0, 45);
  nz.blur_sigma = q * nr.uniform(0, 1.0) * S / 128.0;
  nz.noise_sigma = nr.uniform(0, o.pixel_noise);
  nz.gaze_x = nr.normal(0.04, 2.0);
  nz.gaze_y = nr.normal(0.02, 2.0);
  nz.texture_key = nr.next();
  const ClassDef& cd = class_defs()[static_cast<size_t>(smp.cls)];
  smp.au.fill(0.0);
  for (int a : cd.aus) smp.au[static_cast<size_t>(au_slot(a))] = ar.uniform(o.intensity_min, o.intensity_max);
  for (auto& v : noise) v = {ar.normal(o.landmark_noise), ar.normal(o.landmark_noise), ar.normal(o.landmark_noise)};
}

}  // namespace

size_t sample_count(const Options& o) {
  return static_cast<size_t>(o.identities) * o.poses.size() * static_cast<size_t>(o.repeats) * o.classes.size();
}

Dataset generate(const Options& o, uint64_t seed, const std::function<void(size_t, size_t)>& progress,
                 uint8_t* images_out, uint8_t* masks_out) {
  Dataset d;
  d.opts = o;
  d.seed = seed;
  const size_t n = sample_count(o);
  const size_t px = static_cast<size_t>(o.size) * static_cast<size_t>(o.size);
  uint8_t* images = images_out;
  uint8_t* masks = masks_out;
  if (o.render && !images) {
    d.images.assign(n * px, 0);
    images = d.images.data();
  }
  if (o.render && o.masks && !masks) {
    d.masks.assign(n * px, 0);
    masks = d.masks.data();
  }
  std::vector<Identity> ids;
  ids.reserve(static_cast<size_t>(o.identities));
  for (int i = 0; i < o.identities; ++i) ids.push_back(make_identity(seed, i));
  // the sample grid: identity → pose → repeat → class
  d.samples.resize(n);
  {
    size_t k = 0;
    for (int i = 0; i < o.identities; ++i)
      for (int p = 0; p < static_cast<int>(o.poses.size()); ++p)
        for (int r = 0; r < o.repeats; ++r)
          for (int c : o.classes) {
            Sample& smp = d.samples[k++];
            smp.identity = i;
            smp.pose = p;
            smp.repeat = r;
            smp.cls = c;
          }
  }
  // Each sample depends only on its own keys, so the order of work does not matter.
  auto make = [&](size_t k) {
    Sample& smp = d.samples[k];
    const Identity& id = ids[static_cast<size_t>(smp.identity)];
    Shape3 noise;
    draw_sample(o, seed, smp, noise);
    const Shape3 shape = deform(id, smp.au.data(), &noise);
    const Shape3 twin = deform(id, nullptr, &noise);
    smp.landmarks = project(smp.cam, shape);
    smp.neutral = project(smp.cam, twin);
    if (o.render) {
      render_face(id, shape, smp.au.data(), smp.cam, smp.nuisance, o.size, images + k * px);
      if (masks) {
        std::fill(masks + k * px, masks + (k + 1) * px, uint8_t{0});
        render_au_mask(shape, smp.au.data(), smp.cam, o.size, masks + k * px);
      }
    }
  };
  const int threads = std::max(1, std::min<int>(o.threads, static_cast<int>(n / 32) + 1));
  if (threads <= 1) {
    for (size_t k = 0; k < n; ++k) {
      make(k);
      if (progress && ((k + 1) % 64 == 0 || k + 1 == n)) progress(k + 1, n);
    }
    return d;
  }
  // Workers take chunks of samples; this thread reports progress (and may be cancelled).
  constexpr size_t kChunk = 16;
  std::atomic<size_t> next{0}, done{0};
  std::atomic<bool> stop{false};
  std::mutex err_mutex;
  std::exception_ptr error;
  auto work = [&] {
    try {
      while (!stop.load()) {
        const size_t b = next.fetch_add(kChunk);
        if (b >= n) break;
        const size_t e = std::min(n, b + kChunk);
        for (size_t k = b; k < e; ++k) make(k);
        done.fetch_add(e - b);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(err_mutex);
      if (!error) error = std::current_exception();
      stop.store(true);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(work);
  std::exception_ptr cancelled;
  size_t reported = 0;
  while (true) {
    const size_t now = done.load();
    if (progress && now != reported && !cancelled) {
      try {
        progress(now, n);
      } catch (...) {
        cancelled = std::current_exception();
        stop.store(true);
      }
      reported = now;
    }
    if (now >= n || stop.load()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  if (cancelled) std::rethrow_exception(cancelled);
  if (progress && reported != n) progress(n, n);
  return d;
}

std::vector<double> aligned_features(const Shape2& lm) {
  double xy[136];
  for (int i = 0; i < 68; ++i) {
    xy[2 * i] = lm[i].x;
    xy[2 * i + 1] = lm[i].y;
  }
  const auto t = mien::face::eye_alignment(xy, mien::face::AlignParams{});
  if (t) mien::face::transform_landmarks(*t, xy);
  return mien::face::compute_geometric_features(xy, nullptr);
}

nlohmann::json ground_truth(const Dataset& d) {
  using nlohmann::json;
  const Options& o = d.opts;
  const auto& feats = mien::face::geometric_features();
  const size_t F = feats.size(), P = o.poses.size();
  const size_t N = d.samples.size();

  // features of every sample and of its neutral twin
  std::vector<std::vector<double>> fx(N), fn(N);
  for (size_t i = 0; i < N; ++i) {
    fx[i] = aligned_features(d.samples[i].landmarks);
    fn[i] = aligned_features(d.samples[i].neutral);
  }
  // between-identity spread of each feature: per pose, the standard deviation over
  // identities of the identity's mean neutral-twin value; averaged over the poses.
  std::vector<double> spread(F, 0.0);
  for (size_t p = 0; p < P; ++p) {
    std::map<int, std::pair<std::vector<double>, int>> per_id;
    for (size_t i = 0; i < N; ++i) {
      if (static_cast<size_t>(d.samples[i].pose) != p) continue;
      auto& e = per_id[d.samples[i].identity];
      if (e.first.empty()) e.first.assign(F, 0.0);
      for (size_t f = 0; f < F; ++f) e.first[f] += fn[i][f];
      e.second += 1;
    }
    for (size_t f = 0; f < F; ++f) {
      double s = 0, s2 = 0;
      for (auto& kv : per_id) {
        const double v = kv.second.first[f] / kv.second.second;
        s += v;
        s2 += v * v;
      }
      const double m = per_id.empty() ? 0 : s / per_id.size();
      const double var = per_id.size() > 1 ? (s2 - per_id.size() * m * m) / (per_id.size() - 1) : 0.0;
      spread[f] += std::sqrt(std::max(0.0, var)) / static_cast<double>(P);
    }
  }

  json out;
  out["generator"] = "dataset.synthetic_faces";
  out["seed"] = d.seed;
  out["image_size"] = o.size;
  out["label_style"] = o.kdef_labels ? "kdef" : "canonical";
  out["threshold"] = o.gt_threshold;
  out["landmark_threshold"] = o.landmark_threshold;
  out["rules"] = {
      {"features",
       "Each sample is compared with its neutral twin (same identity, pose, landmark noise and nuisance, no AUs). "
       "Both landmark sets are aligned on the eyes (mien_face eye_alignment, 128 px crop) and the 40 geometric "
       "features computed. A feature is changed for a class when the mean over the class's samples of |feature - "
       "twin feature| exceeds `threshold` times the feature's between-identity spread (per pose, the standard "
       "deviation over identities of each identity's mean neutral-twin value, averaged over the poses)."},
      {"landmarks",
       "A landmark is moved by a class when its mean displacement from the neutral twin (image pixels) exceeds "
       "`landmark_threshold` times the mean inter-ocular distance (eye centres) of the twins."},
      {"au_masks",
       "au_masks[i] marks (255) the union of the regions of the AUs active in sample i (README.md lists them)."}};
  json spread_j = json::object();
  for (size_t f = 0; f < F; ++f) spread_j[feats[f].name] = spread[f];
  out["feature_spread"] = spread_j;

  json order = json::array();
  json classes = json::object();
  for (int c : o.classes) {
    const ClassDef& cd = class_defs()[static_cast<size_t>(c)];
    const std::string label = label_name(c, o.kdef_labels);
    order.push_back(label);
    std::vector<size_t> rows;
    for (size_t i = 0; i < N; ++i)
      if (d.samples[i].cls == c) rows.push_back(i);
    json cj;
    cj["name"] = cd.name;
    cj["kdef"] = cd.kdef;
    cj["aus"] = cd.aus;
    json au_names = json::array();
    for (int a : cd.aus) au_names.push_back(kAuNames[au_slot(a)]);
    cj["au_names"] = au_names;
    cj["samples"] = rows.size();

    // landmarks
    double iod = 0;
    std::vector<double> mdx(68, 0), mdy(68, 0), mdist(68, 0);
    for (size_t i : rows) {
      const Sample& s = d.samples[i];
      double l[2] = {0, 0}, r[2] = {0, 0};
      for (int k = 36; k < 42; ++k) {
        l[0] += s.neutral[k].x / 6;
        l[1] += s.neutral[k].y / 6;
        r[0] += s.neutral[k + 6].x / 6;
        r[1] += s.neutral[k + 6].y / 6;
      }
      iod += std::hypot(r[0] - l[0], r[1] - l[1]);
      for (int k = 0; k < 68; ++k) {
        const double dx = s.landmarks[k].x - s.neutral[k].x, dy = s.landmarks[k].y - s.neutral[k].y;
        mdx[k] += dx;
        mdy[k] += dy;
        mdist[k] += std::hypot(dx, dy);
      }
    }
    const double nr = rows.empty() ? 1.0 : static_cast<double>(rows.size());
    iod /= nr;
    json lms = json::array(), moved = json::array();
    for (int k = 0; k < 68; ++k) {
      const double dist = mdist[k] / nr;
      if (rows.empty() || !(dist > o.landmark_threshold * iod)) continue;
      moved.push_back(k);
      lms.push_back({{"index", k},
                     {"mean_dx", mdx[k] / nr},
                     {"mean_dy", mdy[k] / nr},
                     {"mean_distance", dist},
                     {"relative", dist / iod}});
    }
    cj["moved_landmarks"] = moved;
    cj["landmarks"] = lms;
    cj["mean_interocular_px"] = iod;

    // features, overall and per pose
    auto effects = [&](int pose_filter) {
      std::vector<double> md(F, 0), mad(F, 0);
      size_t cnt = 0;
      for (size_t i : rows) {
        if (pose_filter >= 0 && d.samples[i].pose != pose_filter) continue;
        ++cnt;
        for (size_t f = 0; f < F; ++f) {
          const double delta = fx[i][f] - fn[i][f];
          md[f] += delta;
          mad[f] += std::fabs(delta);
        }
      }
      for (size_t f = 0; f < F; ++f) {
        md[f] /= std::max<size_t>(cnt, 1);
        mad[f] /= std::max<size_t>(cnt, 1);
      }
      return std::make_pair(md, mad);
    };
    auto changed = [&](const std::vector<double>& mad) {
      std::vector<std::pair<double, size_t>> ch;
      for (size_t f = 0; f < F; ++f) {
        const double ratio = spread[f] > 0 ? mad[f] / spread[f] : (mad[f] > 1e-9 ? 1e9 : 0.0);
        if (ratio > o.gt_threshold) ch.push_back({ratio, f});
      }
      std::sort(ch.begin(), ch.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
      json names = json::array();
      for (auto& e : ch) names.push_back(feats[e.second].name);
      return names;
    };
    const auto all = effects(-1);
    cj["features"] = changed(all.second);
    json fe = json::array();
    for (size_t f = 0; f < F; ++f)
      fe.push_back({{"name", feats[f].name},
                    {"mean_delta", all.first[f]},
                    {"mean_abs_delta", all.second[f]},
                    {"spread", spread[f]},
                    {"ratio", spread[f] > 0 ? all.second[f] / spread[f] : 0.0}});
    cj["feature_effects"] = fe;
    json by_pose = json::object();
    for (size_t p = 0; p < P; ++p) by_pose[o.poses[p]] = changed(effects(static_cast<int>(p)).second);
    cj["features_by_pose"] = by_pose;
    classes[label] = cj;
  }
  out["class_order"] = order;
  out["classes"] = classes;

  json table = json::array();
  for (const AuMove& mv : au_table()) {
    table.push_back({{"au", mv.au}, {"landmark", mv.lm}, {"dx", mv.dx}, {"dy", mv.dy}, {"dz", mv.dz}});
    const int m = kMirror[mv.lm];
    if (m != mv.lm) table.push_back({{"au", mv.au}, {"landmark", m}, {"dx", -mv.dx}, {"dy", mv.dy}, {"dz", mv.dz}});
  }
  out["au_displacements"] = {{"units", "face units at intensity 1 (1 unit ~ half the face width; x right, y down, "
                                       "z towards the camera), before pose and projection"},
                             {"moves", table}};
  json poses = json::object();
  for (const auto& p : o.poses) poses[p] = pose_yaw(p, o.yaw);
  out["pose_yaw_degrees"] = poses;
  return out;
}

}  // namespace mien::faces_synth
