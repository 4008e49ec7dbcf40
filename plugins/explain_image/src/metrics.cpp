// Image-explanation metrics: deletion / insertion curves, ground truth (AU masks and
// changed features), the model-randomisation sanity check.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <cstdio>
#include <map>
#include <set>

#include "components.hpp"

namespace mien::ximg {

namespace {

std::vector<std::string> ids_of(const std::optional<TableView>& t, int64_t n) {
  std::vector<std::string> ids;
  if (t && t->num_rows() == n) {
    const auto c = t->with_role(MIEN_ROLE_ID);
    if (!c.empty()) return c.front().texts();
  }
  char buf[32];
  for (int64_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "i%05lld", static_cast<long long>(i));
    ids.emplace_back(buf);
  }
  return ids;
}

double mean_of(const std::vector<double>& v) {
  if (v.empty()) return 0.0;
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}
double std_of(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

// ROAD-like imputation (Rong et al. 2022, simplified): removed pixels take the average of
// their 4-neighbours, iterated (Jacobi) from the image mean so values diffuse in from the
// kept pixels, then Gaussian noise. `removed` has one flag per pixel.
void impute_noisy(const float* x, const std::vector<uint8_t>& removed, int64_t H, int64_t W, int64_t C,
                  double noise, std::mt19937_64& rng, float* out) {
  const int64_t HW = H * W;
  const auto mean = channel_mean(x, H, W, C);
  std::vector<float> cur(x, x + HW * C), next;
  for (int64_t q = 0; q < HW; ++q)
    if (removed[static_cast<size_t>(q)])
      for (int64_t k = 0; k < C; ++k) cur[static_cast<size_t>(q * C + k)] = mean[static_cast<size_t>(k)];
  next = cur;
  for (int it = 0; it < 24; ++it) {
    for (int64_t y = 0; y < H; ++y)
      for (int64_t xx = 0; xx < W; ++xx) {
        const int64_t q = y * W + xx;
        if (!removed[static_cast<size_t>(q)]) continue;
        for (int64_t k = 0; k < C; ++k) {
          double s = 0;
          int n = 0;
          if (y > 0) { s += cur[static_cast<size_t>((q - W) * C + k)]; ++n; }
          if (y + 1 < H) { s += cur[static_cast<size_t>((q + W) * C + k)]; ++n; }
          if (xx > 0) { s += cur[static_cast<size_t>((q - 1) * C + k)]; ++n; }
          if (xx + 1 < W) { s += cur[static_cast<size_t>((q + 1) * C + k)]; ++n; }
          next[static_cast<size_t>(q * C + k)] = static_cast<float>(s / std::max(n, 1));
        }
      }
    std::swap(cur, next);
  }
  std::normal_distribution<double> nd(0.0, 1.0);
  for (int64_t q = 0; q < HW; ++q)
    for (int64_t k = 0; k < C; ++k) {
      double v = cur[static_cast<size_t>(q * C + k)];
      if (removed[static_cast<size_t>(q)] && noise > 0) v += noise * nd(rng);
      out[q * C + k] = static_cast<float>(std::clamp(v, 0.0, 255.0));
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------
static ComponentInfo curve_info(const char* id, const char* summary) {
  return ComponentInfo(id, 1, MIEN_KIND_METRIC, summary)
      .params(ImageDeletion::kSteps, ImageDeletion::kReplacement, ImageDeletion::kSigma, ImageDeletion::kNoise,
              ImageDeletion::kTarget, TargetParams::kBatchSize)
      .ports(ImageDeletion::kModel, Ports::kImages, ImageDeletion::kMaps, ImageDeletion::kTable,
             ImageDeletion::kCurve, ImageDeletion::kSummary);
}
ComponentInfo ImageDeletion::info() {
  return curve_info("metric.image_deletion",
                    "Deletion curve: the class probability as the most important pixels are removed (lower AUC = "
                    "better map)");
}
ComponentInfo ImageInsertion::info() {
  return curve_info("metric.image_insertion",
                    "Insertion curve: the class probability as the most important pixels are restored (higher AUC "
                    "= better map)");
}

ImageDeletion::ImageDeletion(const Setup& s, bool insertion)
    : steps_(kSteps.read(s.params())), batch_size_(TargetParams::kBatchSize.read(s.params())),
      replacement_(kReplacement.read(s.params())), target_(kTarget.read(s.params())), sigma_(kSigma.read(s.params())),
      noise_(kNoise.read(s.params())), insertion_(insertion), seed_(s.seed()) {}

void ImageDeletion::process(Context& ctx) {
  const Host& host = ctx.host();
  const ModelRef model = ctx.model(kModel);
  const Images im = read_images(ctx.tensor(Ports::kImages), Ports::kImages.name);
  const Maps maps = read_maps(ctx.tensor(kMaps), kMaps.name);
  if (maps.n != im.n || maps.h != im.h || maps.w != im.w)
    throw Error("input 'maps' is [" + std::to_string(maps.n) + ", " + std::to_string(maps.h) + ", " +
                std::to_string(maps.w) + "] but the images are [" + std::to_string(im.n) + ", " +
                std::to_string(im.h) + ", " + std::to_string(im.w) + ", ...]: give the maps of these images");
  std::optional<TableView> table;
  if (ctx.connected(kTable)) table = ctx.table(kTable);
  if (table && table->num_rows() != im.n)
    throw Error("input 'table' has " + std::to_string(table->num_rows()) + " rows but there are " +
                std::to_string(im.n) + " images");
  const auto classes = class_names(model);
  const int64_t C = static_cast<int64_t>(classes.size());
  check_input_shape(model, im);
  std::vector<int64_t> target(static_cast<size_t>(im.n), 0);
  if (target_ == "explained") {
    if (!table || !table->find("explained_class"))
      throw Error("parameter 'target' is 'explained' but no table with an explained_class column is connected to "
                  "'table': connect the explainer's attributions, or use target: predicted");
    const auto ex = table->get("explained_class").texts();
    for (int64_t i = 0; i < im.n; ++i) target[static_cast<size_t>(i)] = class_index(ex[static_cast<size_t>(i)], classes, "target");
  } else {
    int64_t pc = 0;
    const auto pr = predict(model, im.px.data(), im.n, im, batch_size_, host, &pc);
    target = argmax_rows(pr, im.n, pc);
  }

  const int64_t H = im.h, W = im.w, Cc = im.c, HW = H * W, S = steps_ + 1;
  std::vector<double> fractions(static_cast<size_t>(S));
  std::vector<int64_t> counts(static_cast<size_t>(S));
  for (int64_t s = 0; s < S; ++s) {
    counts[static_cast<size_t>(s)] = (s * HW + steps_ / 2) / steps_;
    fractions[static_cast<size_t>(s)] = static_cast<double>(counts[static_cast<size_t>(s)]) / HW;
  }
  const auto ids = ids_of(table, im.n);
  std::vector<std::string> c_id, c_cls;
  std::vector<double> c_step, c_frac, c_prob, aucs;
  std::vector<double> mean_curve(static_cast<size_t>(S), 0.0);
  std::vector<float> batch(static_cast<size_t>(std::min<int64_t>(S, batch_size_) * im.size()));
  std::vector<uint8_t> removed(static_cast<size_t>(HW));
  for (int64_t i = 0; i < im.n; ++i) {
    host.check_cancelled();
    host.progress(static_cast<uint64_t>(i), static_cast<uint64_t>(im.n), insertion_ ? "insertion" : "deletion");
    const float* x = im.image(i);
    const float* m = maps.map(i);
    std::vector<int64_t> order(static_cast<size_t>(HW));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      const float va = std::isnan(m[a]) ? -INFINITY : m[a], vb = std::isnan(m[b]) ? -INFINITY : m[b];
      return va > vb;
    });
    std::vector<float> fixed;
    if (replacement_ == "blur") fixed = blur_image(x, H, W, Cc, sigma_);
    else if (replacement_ == "mean") {
      const auto mean = channel_mean(x, H, W, Cc);
      fixed.resize(static_cast<size_t>(HW * Cc));
      for (int64_t q = 0; q < HW; ++q)
        for (int64_t k = 0; k < Cc; ++k) fixed[static_cast<size_t>(q * Cc + k)] = mean[static_cast<size_t>(k)];
    }
    std::mt19937_64 rng(seed_ * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(i) * 0xD1B54A32D192ED03ULL + 3);
    std::vector<float> pr(static_cast<size_t>(S * C));
    // batch_size steps at a time: memory stays batch_size images whatever `steps` is.
    for (int64_t s0 = 0; s0 < S; s0 += batch_size_) {
      const int64_t ns = std::min<int64_t>(batch_size_, S - s0);
      for (int64_t s = s0; s < s0 + ns; ++s) {
        // Deletion: the first counts[s] pixels of the order are removed; insertion: only they are kept.
        std::fill(removed.begin(), removed.end(), static_cast<uint8_t>(insertion_ ? 1 : 0));
        for (int64_t r = 0; r < counts[static_cast<size_t>(s)]; ++r)
          removed[static_cast<size_t>(order[static_cast<size_t>(r)])] = insertion_ ? 0 : 1;
        float* dst = batch.data() + (s - s0) * im.size();
        if (replacement_ == "noisy") {
          impute_noisy(x, removed, H, W, Cc, noise_, rng, dst);
        } else {
          for (int64_t q = 0; q < HW; ++q) {
            const float* src = removed[static_cast<size_t>(q)] ? fixed.data() : x;
            for (int64_t k = 0; k < Cc; ++k) dst[q * Cc + k] = src[q * Cc + k];
          }
        }
      }
      const auto part = predict(model, batch.data(), ns, im, batch_size_, host);
      std::copy(part.begin(), part.end(), pr.begin() + s0 * C);
    }
    std::vector<double> curve(static_cast<size_t>(S));
    const int64_t t = target[static_cast<size_t>(i)];
    for (int64_t s = 0; s < S; ++s) {
      curve[static_cast<size_t>(s)] = pr[static_cast<size_t>(s * C + t)];
      mean_curve[static_cast<size_t>(s)] += curve[static_cast<size_t>(s)] / static_cast<double>(im.n);
      c_id.push_back(ids[static_cast<size_t>(i)]);
      c_cls.push_back(classes[static_cast<size_t>(t)]);
      c_step.push_back(static_cast<double>(s));
      c_frac.push_back(fractions[static_cast<size_t>(s)]);
      c_prob.push_back(curve[static_cast<size_t>(s)]);
    }
    aucs.push_back(auc(fractions, curve));
  }
  host.progress(static_cast<uint64_t>(im.n), static_cast<uint64_t>(im.n), insertion_ ? "insertion" : "deletion");
  Table curve(static_cast<int64_t>(c_id.size()));
  curve.add_strings("id", MIEN_ROLE_GROUP, c_id)
      .add_strings("explained_class", MIEN_ROLE_VALUE, c_cls)
      .add_numbers("step", MIEN_ROLE_VALUE, c_step)
      .add_numbers("fraction", MIEN_ROLE_VALUE, c_frac)
      .add_numbers("probability", MIEN_ROLE_VALUE, c_prob);
  Json summary = {{"metric", insertion_ ? "image_insertion" : "image_deletion"},
                  {"better", insertion_ ? "higher" : "lower"},
                  {"n", im.n},
                  {"steps", steps_},
                  {"replacement", replacement_},
                  {"fractions", fractions},
                  {"mean_curve", mean_curve},
                  {"auc_mean", mean_of(aucs)},
                  {"auc_std", std_of(aucs)},
                  {"auc", aucs},
                  {"ids", ids}};
  ctx.set(kCurve, std::move(curve));
  ctx.set(kSummary, summary);
}

// ---------------------------------------------------------------------------------------
ComponentInfo GroundTruth::info() {
  return ComponentInfo("metric.ground_truth", 1, MIEN_KIND_METRIC,
                       "Explanation accuracy against known ground truth: map mass inside AU masks, pointing game, "
                       "precision/recall@k of the changed features")
      .params(kK, kClassFrom)
      .ports(kMaps, kMasks, kTable, kAttributions, kGroundTruth, kSummary, kPerSample, kPerClass);
}

GroundTruth::GroundTruth(const Setup& s) : k_(kK.read(s.params())), class_from_(kClassFrom.read(s.params())) {
  if (k_.empty()) throw Error("parameter 'k' is empty: give at least one k, e.g. [1, 3, 5]");
  for (int k : k_)
    if (k < 1) throw Error("parameter 'k' holds " + std::to_string(k) + ": every k must be at least 1");
}

void GroundTruth::process(Context& ctx) {
  const bool image_part = ctx.connected(kMaps) || ctx.connected(kMasks);
  const bool feature_part = ctx.connected(kAttributions) || ctx.connected(kGroundTruth);
  if (!image_part && !feature_part)
    throw Error("metric.ground_truth needs maps + masks (image maps) or attributions + ground_truth (features)");
  if (image_part && !(ctx.connected(kMaps) && ctx.connected(kMasks)))
    throw Error("inputs 'maps' and 'masks' go together: connect both (masks = dataset.synthetic_faces' au_masks)");
  if (feature_part && !(ctx.connected(kAttributions) && ctx.connected(kGroundTruth)))
    throw Error("inputs 'attributions' and 'ground_truth' go together: connect both");
  Json summary = {{"metric", "ground_truth"}};

  // (a) maps against masks.
  std::vector<std::string> s_id;
  std::vector<double> s_mass, s_point, s_area;
  if (image_part) {
    const Maps maps = read_maps(ctx.tensor(kMaps), kMaps.name);
    const TensorView mv = ctx.tensor(kMasks);
    if (mv.ndim() != 3 || mv.dim(0) != maps.n || mv.dim(1) != maps.h || mv.dim(2) != maps.w)
      throw Error("input 'masks' must be uint8 [N, H, W] of the maps' shape [" + std::to_string(maps.n) + ", " +
                  std::to_string(maps.h) + ", " + std::to_string(maps.w) + "]");
    const auto mask = mv.to_vector<uint8_t>();
    std::optional<TableView> table;
    if (ctx.connected(kTable)) table = ctx.table(kTable);
    const auto ids = ids_of(table, maps.n);
    const int64_t HW = maps.h * maps.w;
    int64_t empty_mask = 0, no_mass = 0;
    for (int64_t i = 0; i < maps.n; ++i) {
      const float* m = maps.map(i);
      const uint8_t* k = mask.data() + i * HW;
      int64_t area = 0;
      for (int64_t q = 0; q < HW; ++q) area += k[q] != 0;
      if (area == 0) {
        ++empty_mask;
        continue;
      }
      double in = 0, all = 0;
      int64_t best = 0;
      for (int64_t q = 0; q < HW; ++q) {
        const double v = std::isnan(m[q]) ? 0.0 : std::max<double>(m[q], 0.0);
        all += v;
        if (k[q]) in += v;
        if (m[q] > m[best]) best = q;
      }
      if (all <= 0) {
        ++no_mass;
        continue;
      }
      s_id.push_back(ids[static_cast<size_t>(i)]);
      s_mass.push_back(in / all);
      s_point.push_back(k[best] ? 1.0 : 0.0);
      s_area.push_back(static_cast<double>(area) / HW);
    }
    summary["image"] = {{"n", s_mass.size()},
                        {"skipped_empty_mask", empty_mask},
                        {"skipped_no_positive_mass", no_mass},
                        {"mass_mean", mean_of(s_mass)},
                        {"mass_std", std_of(s_mass)},
                        {"pointing_rate", mean_of(s_point)},
                        {"mask_area_mean", mean_of(s_area)}};
  }
  Table per_sample(static_cast<int64_t>(s_id.size()));
  per_sample.add_strings("id", MIEN_ROLE_ID, s_id)
      .add_numbers("mass", MIEN_ROLE_VALUE, s_mass)
      .add_numbers("pointing", MIEN_ROLE_VALUE, s_point)
      .add_numbers("mask_area", MIEN_ROLE_VALUE, s_area);

  // (b) feature attributions against the changed features of each class.
  std::vector<std::string> r_class;
  std::vector<double> r_k, r_prec, r_rec, r_n;
  if (feature_part) {
    const TableView at = ctx.table(kAttributions);
    const Json gt0 = ctx.json(kGroundTruth);
    const Json& gt = gt0.contains("classes") ? gt0.at("classes") : gt0;
    auto changed_of = [&](const std::string& cls) -> std::optional<std::set<std::string>> {
      auto features = [](const Json& e) {
        std::set<std::string> s;
        const Json& f = e.is_array() ? e : e.value("features", Json::array());
        for (const auto& x : f) s.insert(x.get<std::string>());
        return s;
      };
      if (gt.is_object()) {
        if (gt.contains(cls)) return features(gt.at(cls));
        for (auto it = gt.begin(); it != gt.end(); ++it)
          if (it.value().is_object() && it.value().value("name", "") == cls) return features(it.value());
      }
      return std::nullopt;
    };
    const auto fcols = at.with_role(MIEN_ROLE_FEATURE);
    if (fcols.empty()) throw Error("input 'attributions' has no FEATURE columns (plugins/CONVENTIONS.md)");
    std::vector<std::string> cls(static_cast<size_t>(at.num_rows()));
    const auto lab = at.label();
    const auto ex = at.find("explained_class");
    if (class_from_ == "explained" && !ex)
      throw Error("parameter 'class_from' is 'explained' but the attributions have no explained_class column");
    if (!lab && !ex) throw Error("input 'attributions' has neither a LABEL nor an explained_class column");
    for (int64_t i = 0; i < at.num_rows(); ++i)
      cls[static_cast<size_t>(i)] = (class_from_ == "label" && lab) ? lab->text(i) : ex->text(i);
    // Per class and k: sums of precision and recall.
    std::map<std::string, std::vector<std::pair<double, double>>> acc;
    std::map<std::string, int64_t> cnt;
    std::vector<std::pair<double, double>> total(k_.size(), {0.0, 0.0});
    int64_t n_total = 0, skipped = 0;
    std::set<std::string> unknown;
    for (int64_t i = 0; i < at.num_rows(); ++i) {
      const std::string& c = cls[static_cast<size_t>(i)];
      const auto g = changed_of(c);
      if (!g) {
        unknown.insert(c);
        ++skipped;
        continue;
      }
      if (g->empty()) {
        ++skipped;
        continue;
      }
      std::vector<size_t> idx(fcols.size());
      std::iota(idx.begin(), idx.end(), 0);
      std::vector<double> a(fcols.size());
      for (size_t j = 0; j < fcols.size(); ++j) a[j] = std::fabs(fcols[j].number(i));
      std::stable_sort(idx.begin(), idx.end(), [&](size_t x, size_t y) { return a[x] > a[y]; });
      auto& slot = acc[c];
      slot.resize(k_.size(), {0.0, 0.0});
      for (size_t kk = 0; kk < k_.size(); ++kk) {
        const size_t k = std::min<size_t>(static_cast<size_t>(k_[kk]), idx.size());
        size_t hit = 0;
        for (size_t r = 0; r < k; ++r) hit += g->count(fcols[idx[r]].name());
        const double prec = static_cast<double>(hit) / static_cast<double>(k_[kk]);
        const double rec = static_cast<double>(hit) / static_cast<double>(g->size());
        slot[kk].first += prec;
        slot[kk].second += rec;
        total[kk].first += prec;
        total[kk].second += rec;
      }
      ++cnt[c];
      ++n_total;
    }
    Json per_class = Json::object();
    for (const auto& [c, slot] : acc) {
      const double n = static_cast<double>(cnt[c]);
      Json pc = {{"n", cnt[c]}, {"precision", Json::array()}, {"recall", Json::array()}};
      for (size_t kk = 0; kk < k_.size(); ++kk) {
        pc["precision"].push_back(slot[kk].first / n);
        pc["recall"].push_back(slot[kk].second / n);
        r_class.push_back(c);
        r_k.push_back(k_[kk]);
        r_prec.push_back(slot[kk].first / n);
        r_rec.push_back(slot[kk].second / n);
        r_n.push_back(n);
      }
      per_class[c] = pc;
    }
    Json fj = {{"n", n_total}, {"skipped", skipped}, {"k", k_}, {"precision", Json::array()},
               {"recall", Json::array()}, {"per_class", per_class}};
    for (size_t kk = 0; kk < k_.size(); ++kk) {
      fj["precision"].push_back(n_total ? total[kk].first / n_total : 0.0);
      fj["recall"].push_back(n_total ? total[kk].second / n_total : 0.0);
    }
    if (!unknown.empty()) fj["classes_not_in_ground_truth"] = std::vector<std::string>(unknown.begin(), unknown.end());
    if (!unknown.empty())
      ctx.host().warn(std::to_string(unknown.size()) + " class(es) of the attributions are not in the ground truth; their rows are skipped");
    summary["features"] = fj;
  }
  Table per_class(static_cast<int64_t>(r_class.size()));
  per_class.add_strings("class", MIEN_ROLE_GROUP, r_class)
      .add_numbers("k", MIEN_ROLE_VALUE, r_k)
      .add_numbers("precision", MIEN_ROLE_VALUE, r_prec)
      .add_numbers("recall", MIEN_ROLE_VALUE, r_rec)
      .add_numbers("n", MIEN_ROLE_VALUE, r_n);
  ctx.set(kSummary, summary);
  ctx.set(kPerSample, std::move(per_sample));
  ctx.set(kPerClass, std::move(per_class));
}

// ---------------------------------------------------------------------------------------
ComponentInfo RandomizationCheck::info() {
  return ComponentInfo("metric.randomization_check", 1, MIEN_KIND_METRIC,
                       "Model-randomisation sanity check: explanations of a trained and a randomised model should "
                       "differ (Spearman, SSIM)")
      .params(kThreshold, kAbsolute)
      .ports(kMaps, kMapsRandom, kAttributions, kAttributionsRandom, kSummary, kPerSample);
}

RandomizationCheck::RandomizationCheck(const Setup& s)
    : threshold_(kThreshold.read(s.params())), absolute_(kAbsolute.read(s.params())) {}

void RandomizationCheck::process(Context& ctx) {
  const bool maps = ctx.connected(kMaps) || ctx.connected(kMapsRandom);
  const bool tabs = ctx.connected(kAttributions) || ctx.connected(kAttributionsRandom);
  if (maps == tabs)
    throw Error("connect either maps + maps_randomized (image maps) or attributions + attributions_randomized "
                "(feature attributions), one pair");
  if (maps && !(ctx.connected(kMaps) && ctx.connected(kMapsRandom)))
    throw Error("inputs 'maps' and 'maps_randomized' go together: connect both");
  if (tabs && !(ctx.connected(kAttributions) && ctx.connected(kAttributionsRandom)))
    throw Error("inputs 'attributions' and 'attributions_randomized' go together: connect both");
  std::vector<std::vector<double>> a, b;
  int64_t h = 1, w = 1;
  std::vector<std::string> ids;
  if (maps) {
    const Maps m1 = read_maps(ctx.tensor(kMaps), kMaps.name), m2 = read_maps(ctx.tensor(kMapsRandom), kMapsRandom.name);
    if (m1.n != m2.n || m1.h != m2.h || m1.w != m2.w)
      throw Error("inputs 'maps' and 'maps_randomized' differ in shape: explain the same images with both models");
    h = m1.h;
    w = m1.w;
    for (int64_t i = 0; i < m1.n; ++i) {
      a.emplace_back(m1.map(i), m1.map(i) + h * w);
      b.emplace_back(m2.map(i), m2.map(i) + h * w);
    }
    ids = ids_of(std::nullopt, m1.n);
  } else {
    const TableView t1 = ctx.table(kAttributions), t2 = ctx.table(kAttributionsRandom);
    if (t1.num_rows() != t2.num_rows() || t1.feature_names() != t2.feature_names())
      throw Error("inputs 'attributions' and 'attributions_randomized' differ in rows or FEATURE columns: explain the "
                  "same samples with the same explainer");
    const auto x1 = t1.feature_matrix(), x2 = t2.feature_matrix();
    const size_t F = t1.feature_names().size();
    for (int64_t i = 0; i < t1.num_rows(); ++i) {
      a.emplace_back(x1.begin() + i * F, x1.begin() + (i + 1) * F);
      b.emplace_back(x2.begin() + i * F, x2.begin() + (i + 1) * F);
    }
    ids = ids_of(t1, t1.num_rows());
  }
  std::vector<double> rho, sim;
  for (size_t i = 0; i < a.size(); ++i) {
    if (absolute_) {
      for (double& v : a[i]) v = std::fabs(v);
      for (double& v : b[i]) v = std::fabs(v);
    }
    rho.push_back(spearman(a[i], b[i]));
    sim.push_back(ssim(a[i], b[i], maps ? h : 1, maps ? w : 1));
  }
  const double rm = mean_of(rho);
  Json summary = {{"metric", "randomization_check"}, {"n", rho.size()},       {"spearman_mean", rm},
                  {"spearman_std", std_of(rho)},     {"ssim_mean", mean_of(sim)}, {"threshold", threshold_},
                  {"passed", rm < threshold_},       {"absolute", absolute_}};
  Table per(static_cast<int64_t>(ids.size()));
  per.add_strings("id", MIEN_ROLE_ID, ids).add_numbers("spearman", MIEN_ROLE_VALUE, rho).add_numbers("ssim", MIEN_ROLE_VALUE, sim);
  ctx.set(kSummary, summary);
  ctx.set(kPerSample, std::move(per));
}

}  // namespace mien::ximg
