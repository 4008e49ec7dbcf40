// report.geometric, report.heatmap and report.sheet.
#include "components.hpp"

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <filesystem>
#include <limits>

namespace mien::report {

namespace {

// The images input: [N, H, W, C] (or one [H, W, C]) uint8, C = 1 or 3.
struct Images {
  int64_t n = 0;
  int h = 0, w = 0, c = 0;
  std::vector<uint8_t> copy;
  const uint8_t* data = nullptr;
  const uint8_t* at(int64_t i) const { return data + static_cast<size_t>(i) * static_cast<size_t>(h * w * c); }
};

Images read_images(const TensorView& t, const std::string& who) {
  Images im;
  if (t.ndim() != 4 && t.ndim() != 3)
    throw Error(who + ": images must be uint8 [N, H, W, C] (got " + std::to_string(t.ndim()) + " dimensions)");
  const int off = t.ndim() == 4 ? 1 : 0;
  im.n = t.ndim() == 4 ? t.dim(0) : 1;
  im.h = static_cast<int>(t.dim(off));
  im.w = static_cast<int>(t.dim(off + 1));
  im.c = static_cast<int>(t.dim(off + 2));
  if (im.c != 1 && im.c != 3) throw Error(who + ": images must have 1 or 3 channels (got " + std::to_string(im.c) + ")");
  if (t.dtype() != MIEN_DTYPE_U8) throw Error(who + ": images must be uint8 (got " + std::string(dtype_name(t.dtype())) + ")");
  im.data = t.data_if<uint8_t>();
  if (!im.data) {
    im.copy = t.to_vector<uint8_t>();
    im.data = im.copy.data();
  }
  return im;
}

std::vector<cv::Point2d> scaled(const std::vector<cv::Point2d>& pts, double sx, double sy) {
  std::vector<cv::Point2d> out;
  out.reserve(pts.size());
  for (const auto& p : pts) out.emplace_back(p.x * sx, p.y * sy);
  return out;
}

Json rect_json(const cv::Rect& r) { return Json::array({r.x, r.y, r.width, r.height}); }

void paste(cv::Mat& dst, const cv::Mat& src, int x, int y) { src.copyTo(dst(cv::Rect(x, y, src.cols, src.rows))); }

constexpr int kBarPanel = 100, kBarWidth = 18, kLegendRow = 20, kChartH = 220, kCaption = 28;

// The colour of the k-th ranked feature: its rank's palette colour, or its |attribution| on
// the colour map. The drawing, its legend and the JSON all take it from here.
cv::Vec3b feature_colour(const std::vector<DrawnFeature>& feats, size_t k, const Scale& scale, const std::string& cmap,
                         bool by_rank) {
  return by_rank ? rank_colour(k) : colormap_bgr(cmap, scale.t(std::fabs(feats[k].attribution)));
}

// Face with the features drawn, legend below; at the right either the colour bar (colours
// by value) or the rank key (colours by rank: one distinct colour per rank, bars of |attribution|).
cv::Mat render_geometric(const cv::Mat& face, const std::vector<cv::Point2d>& pts, const std::vector<DrawnFeature>& feats,
                         const Scale& scale, const std::string& cmap, bool by_rank, Json* layout) {
  const int size = face.cols;
  const int legend_h = 12 + kLegendRow * static_cast<int>(feats.size());
  cv::Mat out(size + legend_h, size + kBarPanel, CV_8UC3, cv::Scalar(255, 255, 255));
  auto colour_of = [&](size_t k) { return feature_colour(feats, k, scale, cmap, by_rank); };
  cv::Mat f = face.clone();
  const int th = std::max(2, size / 128);
  for (size_t k = feats.size(); k-- > 0;)  // the top feature is drawn last, on top
    if (!feats[k].kind.empty()) draw_feature(f, feats[k], pts, colour_of(k), th);
  paste(out, f, 0, 0);
  Json right = Json::array();
  cv::Rect bar;
  if (by_rank) {
    std::vector<cv::Rect> bars;
    paste(out, rank_key(feats, kBarPanel, size, 12, &bars), size, 0);
    for (auto& b : bars) right.push_back(rect_json(cv::Rect(b.x + size, b.y, b.width, b.height)));
  } else {
    paste(out, colour_bar(cmap, scale, kBarPanel, size, kBarWidth, &bar), size, 0);
    bar.x += size;
  }
  Json rows = Json::array();
  for (size_t k = 0; k < feats.size(); ++k) {
    const int y = size + 8 + kLegendRow * static_cast<int>(k);
    const cv::Vec3b c = colour_of(k);
    const cv::Rect sw(8, y, 12, 12);
    cv::rectangle(out, sw, cv::Scalar(c[0], c[1], c[2]), cv::FILLED);
    cv::rectangle(out, sw, cv::Scalar(60, 60, 60), 1);
    const std::string line = std::to_string(feats[k].rank) + ". " + feats[k].name + "  " + format_value(feats[k].attribution) +
                             (feats[k].kind.empty() ? "  (not drawn)" : "");
    put_text(out, line, cv::Point(26, y + 11), 0.42, cv::Scalar(0, 0, 0));
    rows.push_back(rect_json(sw));
  }
  if (layout) {
    (*layout)["face"] = rect_json(cv::Rect(0, 0, size, size));
    if (by_rank) (*layout)["rank_bars"] = right;
    else (*layout)["colorbar"] = rect_json(bar);
    (*layout)["legend_swatches"] = rows;
  }
  return out;
}

// The colour of each drawn feature as "#rrggbb", in rank order (for HTML legends).
Json feature_colours(const std::vector<DrawnFeature>& feats, const Scale& scale, const std::string& cmap, bool by_rank) {
  Json c = Json::array();
  for (size_t k = 0; k < feats.size(); ++k)
    c.push_back(hex_colour(feature_colour(feats, k, scale, cmap, by_rank)));
  return c;
}

// Face with the map overlaid, colour bar at the right, caption below.
cv::Mat render_heatmap(const cv::Mat& face, const cv::Mat& map, const Scale& scale, const std::string& cmap, double alpha,
                       const std::string& caption, Json* layout) {
  const int size = face.cols;
  cv::Mat m;
  cv::resize(map, m, cv::Size(size, size), 0, 0, cv::INTER_LINEAR);
  cv::Mat f = face.clone();
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      const cv::Vec3b c = colormap_bgr(cmap, scale.t(m.at<float>(y, x)));
      cv::Vec3b& p = f.at<cv::Vec3b>(y, x);
      for (int k = 0; k < 3; ++k) p[k] = cv::saturate_cast<uint8_t>((1 - alpha) * p[k] + alpha * c[k]);
    }
  cv::Mat out(size + kCaption, size + kBarPanel, CV_8UC3, cv::Scalar(255, 255, 255));
  paste(out, f, 0, 0);
  cv::Rect bar;
  paste(out, colour_bar(cmap, scale, kBarPanel, size, kBarWidth, &bar), size, 0);
  bar.x += size;
  put_text(out, caption, cv::Point(8, size + 19), 0.45, cv::Scalar(0, 0, 0));
  if (layout) {
    (*layout)["face"] = rect_json(cv::Rect(0, 0, size, size));
    (*layout)["colorbar"] = rect_json(bar);
  }
  return out;
}

struct Common {
  std::string who, node, dir, rel;
  explicit Common(Context& ctx, const std::string& who_, const std::string& node_) : who(who_), node(node_) {
    dir = ctx.output_dir(Ports::kFiles);
    rel = "nodes/" + folder_name(node) + "/files";
  }
  Json header(const std::string& scale, const std::string& cmap) const {
    return Json{{"report", who}, {"node", node}, {"files", rel}, {"dir", dir}, {"scale", scale}, {"colormap", cmap}};
  }
};

std::string stem_of(int64_t row, const std::string& id) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04lld_", static_cast<long long>(row));
  return buf + safe_name(id);
}

int index_of(const std::vector<std::string>& v, const std::string& s) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] == s) return static_cast<int>(i);
  return -1;
}

// Fields every per-sample record has.
Json sample_fields(const Samples& s, int64_t row, const std::string& pred, const Predictions* p) {
  const size_t u = static_cast<size_t>(row);
  const std::string& truth = s.truth[u];
  Json j{{"id", s.ids[u]},
         {"row", row},
         {"true", truth.empty() ? Json() : Json(truth)},
         {"predicted", pred.empty() ? Json() : Json(pred)},
         {"correct", truth.empty() || pred.empty() ? Json() : Json(truth == pred)},
         {"groups", s.groups[u]}};
  if (p && !p->probs[u].empty()) {
    Json probs = Json::object();
    for (size_t k = 0; k < p->classes.size(); ++k) probs[p->classes[k]] = p->probs[u][k];
    j["probabilities"] = probs;
  }
  return j;
}

// The probability chart of a row, or an empty Mat when there are no probabilities.
cv::Mat chart_of(const Samples& s, int64_t row, const std::string& pred, const Predictions* p, int w, Json* bars_out) {
  const size_t u = static_cast<size_t>(row);
  if (!p || p->probs[u].empty()) return cv::Mat();
  std::vector<cv::Rect> bars;
  cv::Mat c = probability_chart(p->classes, p->probs[u], index_of(p->classes, s.truth[u]), index_of(p->classes, pred), w,
                                kChartH, &bars);
  if (bars_out) {
    *bars_out = Json::array();
    for (const auto& b : bars) bars_out->push_back(rect_json(b));
  }
  return c;
}

// Per sample: the top features and their |attribution| range.
struct GeoSample {
  std::vector<DrawnFeature> feats;
  double weight = 0, lo = 0, hi = 0;
};

GeoSample geo_sample(const Attributions& a, int64_t row, int top_n) {
  GeoSample g;
  g.feats = top_features(a.features, a.values[static_cast<size_t>(row)], top_n, &g.weight);
  g.lo = std::numeric_limits<double>::infinity();
  g.hi = -g.lo;
  for (const auto& f : g.feats) {
    g.lo = std::min(g.lo, std::fabs(f.attribution));
    g.hi = std::max(g.hi, std::fabs(f.attribution));
  }
  if (g.feats.empty()) g.lo = g.hi = 0;
  return g;
}

std::vector<Scale> scales_for(const std::vector<std::pair<double, double>>& ranges, const std::string& mode) {
  std::vector<Scale> out;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& r : ranges) lo = std::min(lo, r.first), hi = std::max(hi, r.second);
  for (const auto& r : ranges) out.push_back(mode == "run" ? Scale{lo, hi} : Scale{r.first, r.second});
  return out;
}

Json features_json(const std::vector<DrawnFeature>& feats) {
  Json arr = Json::array();
  for (const auto& f : feats)
    arr.push_back({{"rank", f.rank},
                   {"name", f.name},
                   {"description", f.description},
                   {"kind", f.kind.empty() ? Json() : Json(f.kind)},
                   {"landmarks", f.landmarks},
                   {"attribution", f.attribution},
                   {"abs_attribution", std::fabs(f.attribution)},
                   {"share", f.share}});
  return arr;
}

std::vector<std::string> texts_of(const std::vector<DrawnFeature>& feats) {
  std::vector<std::string> t;
  for (const auto& f : feats) t.push_back(f.description);
  return t;
}

void check_rows(const Images& im, const Samples& s, const std::string& who) {
  if (im.n != s.n)
    throw Error(who + ": the images have " + std::to_string(im.n) + " rows and the table " + std::to_string(s.n) +
                "; row i of the images must be row i of the table");
}

cv::Mat map_of(const TensorView& maps, const std::vector<float>& data, int64_t row) {
  const int h = static_cast<int>(maps.dim(1)), w = static_cast<int>(maps.dim(2));
  return cv::Mat(h, w, CV_32F, const_cast<float*>(data.data()) + static_cast<size_t>(row) * static_cast<size_t>(h * w));
}

void check_maps(const TensorView& maps, const Images& im, const std::string& who) {
  if (!(maps.ndim() == 3 || (maps.ndim() == 4 && maps.dim(3) == 1)))
    throw Error(who + ": maps must be float32 [N, H, W] (got " + std::to_string(maps.ndim()) + " dimensions)");
  if (maps.dim(0) != im.n)
    throw Error(who + ": the maps have " + std::to_string(maps.dim(0)) + " rows and the images " + std::to_string(im.n));
  if (maps.dim(1) < 1 || maps.dim(2) < 1) throw Error(who + ": the maps are empty");
}

std::pair<double, double> finite_range(const cv::Mat& m) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (int y = 0; y < m.rows; ++y)
    for (int x = 0; x < m.cols; ++x) {
      const float v = m.at<float>(y, x);
      if (std::isfinite(v)) lo = std::min(lo, static_cast<double>(v)), hi = std::max(hi, static_cast<double>(v));
    }
  if (!(lo <= hi)) lo = hi = 0;
  return {lo, hi};
}

std::string caption_of(const std::string& pred, const std::string& truth) {
  std::string c = "Predicted: " + (pred.empty() ? std::string("?") : paper_label(pred));
  if (!truth.empty()) c += "   true: " + paper_label(truth);
  return c;
}

// A caption of "Predicted: ?" usually means an input was left unconnected, not that the
// prediction is unknowable: say which port would fill it in.
void warn_unknown_predictions(Context& ctx, const std::string& who, const std::vector<std::string>& pred,
                              const std::vector<int64_t>& chosen, const std::string& port, const std::string& source) {
  size_t unknown = 0;
  for (int64_t row : chosen) unknown += pred[static_cast<size_t>(row)].empty() ? 1 : 0;
  if (unknown == 0) return;
  ctx.host().warn(who + ": " + std::to_string(unknown) + " of " + std::to_string(chosen.size()) +
                  " drawn faces have no known prediction, so their captions read 'Predicted: ?'; connect `" + port +
                  ":` to " + source);
}

}  // namespace

// =============================================================== report.geometric
GeometricReport::GeometricReport(const Setup& s)
    : top_n_(kTopN.read(s.params())),
      samples_(Ports::kSamples.read(s.params())),
      size_(Ports::kSize.read(s.params())),
      colours_(kColours.read(s.params())),
      scale_(Ports::kScale.read(s.params())),
      cmap_(Ports::kColormap.read(s.params())),
      node_(s.node_name()) {
  colormap_code(cmap_);
}

void GeometricReport::process(Context& ctx) {
  const std::string who = "report.geometric";
  const Images im = read_images(ctx.tensor(Ports::kImages), who);
  const Samples s = read_samples(ctx.table(Ports::kTable), true, who);
  check_rows(im, s, who);
  const Attributions a = match_attributions(ctx.table(Ports::kAttributions), s, who);
  std::optional<Predictions> p;
  if (ctx.connected(Ports::kPredictions)) p = match_predictions(ctx.table(Ports::kPredictions), s, who);
  std::vector<std::string> pred(static_cast<size_t>(s.n));
  std::vector<bool> eligible(static_cast<size_t>(s.n));
  for (int64_t i = 0; i < s.n; ++i) {
    pred[static_cast<size_t>(i)] = predicted_of(i, p ? &*p : nullptr, &a);
    eligible[static_cast<size_t>(i)] = !a.values[static_cast<size_t>(i)].empty();
  }
  size_t unknown = 0;
  for (const auto& f : a.features) unknown += find_geometric(f) ? 0 : 1;
  if (unknown == a.features.size())
    ctx.host().warn(who + ": none of the attribution features is a geometric feature; they are listed but not drawn");
  const auto chosen = choose_samples(s, pred, eligible, samples_);
  if (chosen.empty()) throw Error(who + ": no row of the table has an attribution row (matched by id)");
  warn_unknown_predictions(ctx, who, pred, chosen, "predictions", "the eval.predict output of the explained model");

  std::vector<GeoSample> gs;
  std::vector<std::pair<double, double>> ranges;
  for (int64_t row : chosen) {
    gs.push_back(geo_sample(a, row, top_n_));
    ranges.emplace_back(gs.back().lo, gs.back().hi);
  }
  const auto scales = scales_for(ranges, scale_);
  Common cm(ctx, who, node_);
  Json out = cm.header(scale_, cmap_);
  out["top_n"] = top_n_;
  out["colours"] = colours_;
  if (p) out["classes"] = p->classes;
  Json list = Json::array();
  for (size_t k = 0; k < chosen.size(); ++k) {
    ctx.host().check_cancelled();
    ctx.host().progress(k, chosen.size(), "rendering");
    const int64_t row = chosen[k];
    const size_t u = static_cast<size_t>(row);
    const std::string stem = stem_of(row, s.ids[u]);
    const cv::Mat face = face_canvas(im.at(row), im.h, im.w, im.c, size_);
    const auto pts = scaled(s.landmarks[u], static_cast<double>(size_) / im.w, static_cast<double>(size_) / im.h);
    Json layout = Json::object();
    const cv::Mat img = render_geometric(face, pts, gs[k].feats, scales[k], cmap_, colours_ == "rank", &layout);
    Json j = sample_fields(s, row, pred[u], p ? &*p : nullptr);
    Json files = {{"explanation", stem + "_geometric.png"}, {"text", stem + ".txt"}, {"json", stem + ".json"}};
    write_png(cm.dir + "/" + stem + "_geometric.png", img);
    Json bars;
    const cv::Mat chart = chart_of(s, row, pred[u], p ? &*p : nullptr, 360, &bars);
    if (!chart.empty()) {
      write_png(cm.dir + "/" + stem + "_probabilities.png", chart);
      files["probabilities"] = stem + "_probabilities.png";
      layout["probability_bars"] = bars;
    }
    const std::string text = pred[u].empty() ? "No prediction is known for this sample.\n"
                                              : text_explanation(pred[u], s.truth[u], texts_of(gs[k].feats), gs[k].weight);
    write_file(cm.dir + "/" + stem + ".txt", text);
    j["explained_class"] = a.explained[u].empty() ? Json() : Json(a.explained[u]);
    j["text"] = text;
    j["top_features"] = features_json(gs[k].feats);
    j["feature_colours"] = feature_colours(gs[k].feats, scales[k], cmap_, colours_ == "rank");
    j["weight_percent"] = gs[k].weight;
    j["scale"] = {{"lo", scales[k].lo}, {"hi", scales[k].hi}, {"lo_label", format_value(scales[k].lo)},
                  {"hi_label", format_value(scales[k].hi)}};
    j["layout"] = layout;
    j["files"] = files;
    write_file(cm.dir + "/" + stem + ".json", j.dump(2));
    list.push_back(j);
  }
  out["samples"] = list;
  ctx.set(Ports::kExplanations, out);
  ctx.set_text(Ports::kFiles, cm.rel);
}

// =============================================================== report.heatmap
HeatmapReport::HeatmapReport(const Setup& s)
    : alpha_(kAlpha.read(s.params())),
      samples_(Ports::kSamples.read(s.params())),
      size_(Ports::kSize.read(s.params())),
      scale_(Ports::kScale.read(s.params())),
      cmap_(Ports::kColormap.read(s.params())),
      node_(s.node_name()) {
  colormap_code(cmap_);
}

void HeatmapReport::process(Context& ctx) {
  const std::string who = "report.heatmap";
  const Images im = read_images(ctx.tensor(Ports::kImages), who);
  const Samples s = read_samples(ctx.table(Ports::kTable), false, who);
  check_rows(im, s, who);
  const TensorView maps = ctx.tensor(Ports::kMaps);
  check_maps(maps, im, who);
  const std::vector<float> md = maps.to_vector<float>();
  std::optional<Predictions> p;
  if (ctx.connected(Ports::kPredictions)) p = match_predictions(ctx.table(Ports::kPredictions), s, who);
  std::vector<std::string> pred(static_cast<size_t>(s.n));
  for (int64_t i = 0; i < s.n; ++i) pred[static_cast<size_t>(i)] = predicted_of(i, p ? &*p : nullptr, nullptr);
  const auto chosen = choose_samples(s, pred, std::vector<bool>(static_cast<size_t>(s.n), true), samples_);
  warn_unknown_predictions(ctx, who, pred, chosen, "predictions",
                           "the eval.predict output of the model the maps explain (its rows matched by id)");
  std::vector<std::pair<double, double>> ranges;
  for (int64_t row : chosen) ranges.push_back(finite_range(map_of(maps, md, row)));
  const auto scales = scales_for(ranges, scale_);
  Common cm(ctx, who, node_);
  Json out = cm.header(scale_, cmap_);
  out["alpha"] = alpha_;
  if (p) out["classes"] = p->classes;
  Json list = Json::array();
  for (size_t k = 0; k < chosen.size(); ++k) {
    ctx.host().check_cancelled();
    ctx.host().progress(k, chosen.size(), "rendering");
    const int64_t row = chosen[k];
    const size_t u = static_cast<size_t>(row);
    const std::string stem = stem_of(row, s.ids[u]);
    const cv::Mat face = face_canvas(im.at(row), im.h, im.w, im.c, size_);
    Json layout = Json::object();
    const cv::Mat img = render_heatmap(face, map_of(maps, md, row), scales[k], cmap_, alpha_, caption_of(pred[u], s.truth[u]), &layout);
    write_png(cm.dir + "/" + stem + "_heatmap.png", img);
    Json j = sample_fields(s, row, pred[u], p ? &*p : nullptr);
    Json files = {{"explanation", stem + "_heatmap.png"}, {"text", stem + ".txt"}, {"json", stem + ".json"}};
    Json bars;
    const cv::Mat chart = chart_of(s, row, pred[u], p ? &*p : nullptr, 360, &bars);
    if (!chart.empty()) {
      write_png(cm.dir + "/" + stem + "_probabilities.png", chart);
      files["probabilities"] = stem + "_probabilities.png";
      layout["probability_bars"] = bars;
    }
    const std::string text = pred[u].empty() ? "No prediction is known for this sample.\n"
                                              : text_explanation(pred[u], s.truth[u], {}, 0);
    write_file(cm.dir + "/" + stem + ".txt", text);
    j["text"] = text;
    j["map_range"] = {{"min", ranges[k].first}, {"max", ranges[k].second}};
    j["scale"] = {{"lo", scales[k].lo}, {"hi", scales[k].hi}, {"lo_label", format_value(scales[k].lo)},
                  {"hi_label", format_value(scales[k].hi)}};
    j["layout"] = layout;
    j["files"] = files;
    write_file(cm.dir + "/" + stem + ".json", j.dump(2));
    list.push_back(j);
  }
  out["samples"] = list;
  ctx.set(Ports::kExplanations, out);
  ctx.set_text(Ports::kFiles, cm.rel);
}

// =============================================================== report.sheet
SheetReport::SheetReport(const Setup& s)
    : top_n_(GeometricReport::kTopN.read(s.params())),
      samples_(Ports::kSamples.read(s.params())),
      size_(Ports::kSize.read(s.params())),
      alpha_(HeatmapReport::kAlpha.read(s.params())),
      colours_(GeometricReport::kColours.read(s.params())),
      scale_(Ports::kScale.read(s.params())),
      cmap_(Ports::kColormap.read(s.params())),
      node_(s.node_name()) {
  colormap_code(cmap_);
}

void SheetReport::process(Context& ctx) {
  const std::string who = "report.sheet";
  const Images im = read_images(ctx.tensor(Ports::kImages), who);
  const Samples s = read_samples(ctx.table(Ports::kTable), true, who);
  check_rows(im, s, who);
  const Attributions a = match_attributions(ctx.table(Ports::kAttributions), s, who);
  const TensorView maps = ctx.tensor(Ports::kMaps);
  check_maps(maps, im, who);
  const std::vector<float> md = maps.to_vector<float>();
  std::optional<Predictions> p, mp;
  if (ctx.connected(Ports::kPredictions)) p = match_predictions(ctx.table(Ports::kPredictions), s, who);
  if (ctx.connected(kMapPredictions)) mp = match_predictions(ctx.table(kMapPredictions), s, who);
  std::vector<std::string> pred(static_cast<size_t>(s.n)), mpred(static_cast<size_t>(s.n));
  std::vector<bool> eligible(static_cast<size_t>(s.n));
  for (int64_t i = 0; i < s.n; ++i) {
    const size_t u = static_cast<size_t>(i);
    pred[u] = predicted_of(i, p ? &*p : nullptr, &a);
    mpred[u] = predicted_of(i, mp ? &*mp : nullptr, nullptr);
    eligible[u] = !a.values[u].empty();
  }
  const auto chosen = choose_samples(s, pred, eligible, samples_);
  if (chosen.empty()) throw Error(who + ": no row of the table has an attribution row (matched by id)");
  warn_unknown_predictions(ctx, who, pred, chosen, "predictions", "the eval.predict output of the geometric model");
  warn_unknown_predictions(ctx, who, mpred, chosen, "map_predictions",
                           "the eval.predict output of the model the heat maps explain");
  std::vector<GeoSample> gs;
  std::vector<std::pair<double, double>> granges, mranges;
  for (int64_t row : chosen) {
    gs.push_back(geo_sample(a, row, top_n_));
    granges.emplace_back(gs.back().lo, gs.back().hi);
    mranges.push_back(finite_range(map_of(maps, md, row)));
  }
  const auto gscales = scales_for(granges, scale_), mscales = scales_for(mranges, scale_);
  Common cm(ctx, who, node_);
  Json out = cm.header(scale_, cmap_);
  out["top_n"] = top_n_;
  out["alpha"] = alpha_;
  Json list = Json::array();
  for (size_t k = 0; k < chosen.size(); ++k) {
    ctx.host().check_cancelled();
    ctx.host().progress(k, chosen.size(), "rendering");
    const int64_t row = chosen[k];
    const size_t u = static_cast<size_t>(row);
    const std::string stem = stem_of(row, s.ids[u]);
    const cv::Mat face = face_canvas(im.at(row), im.h, im.w, im.c, size_);
    const auto pts = scaled(s.landmarks[u], static_cast<double>(size_) / im.w, static_cast<double>(size_) / im.h);
    Json gl = Json::object(), ml = Json::object();
    const cv::Mat left = render_geometric(face, pts, gs[k].feats, gscales[k], cmap_, colours_ == "rank", &gl);
    const cv::Mat right = render_heatmap(face, map_of(maps, md, row), mscales[k], cmap_, alpha_, caption_of(mpred[u], s.truth[u]), &ml);
    const int colw = size_ + kBarPanel, head = 30, gap = 16;
    const cv::Mat lc = chart_of(s, row, pred[u], p ? &*p : nullptr, colw, nullptr);
    const cv::Mat rc = chart_of(s, row, mpred[u], mp ? &*mp : nullptr, colw, nullptr);
    const int h = head + std::max(left.rows, right.rows) + (lc.empty() && rc.empty() ? 0 : kChartH);
    cv::Mat sheet(h, 2 * colw + gap, CV_8UC3, cv::Scalar(255, 255, 255));
    put_text(sheet, "Geometric features: " + (pred[u].empty() ? std::string("?") : paper_label(pred[u])), cv::Point(8, 20), 0.5,
             cv::Scalar(0, 0, 0));
    put_text(sheet, "CNN heat map: " + (mpred[u].empty() ? std::string("?") : paper_label(mpred[u])),
             cv::Point(colw + gap + 8, 20), 0.5, cv::Scalar(0, 0, 0));
    paste(sheet, left, 0, head);
    paste(sheet, right, colw + gap, head);
    const int cy = head + std::max(left.rows, right.rows);
    if (!lc.empty()) paste(sheet, lc, 0, cy);
    if (!rc.empty()) paste(sheet, rc, colw + gap, cy);
    write_png(cm.dir + "/" + stem + "_sheet.png", sheet);
    const std::string text = pred[u].empty() ? "No prediction is known for this sample.\n"
                                              : text_explanation(pred[u], s.truth[u], texts_of(gs[k].feats), gs[k].weight);
    write_file(cm.dir + "/" + stem + ".txt", text);
    Json j = sample_fields(s, row, pred[u], p ? &*p : nullptr);
    j["map_predicted"] = mpred[u].empty() ? Json() : Json(mpred[u]);
    j["map_correct"] = mpred[u].empty() || s.truth[u].empty() ? Json() : Json(mpred[u] == s.truth[u]);
    if (mp && !mp->probs[u].empty()) {
      Json probs = Json::object();
      for (size_t c = 0; c < mp->classes.size(); ++c) probs[mp->classes[c]] = mp->probs[u][c];
      j["map_probabilities"] = probs;
    }
    j["text"] = text;
    j["top_features"] = features_json(gs[k].feats);
    j["feature_colours"] = feature_colours(gs[k].feats, gscales[k], cmap_, colours_ == "rank");
    j["weight_percent"] = gs[k].weight;
    j["scale"] = {{"lo", gscales[k].lo}, {"hi", gscales[k].hi}};
    j["map_scale"] = {{"lo", mscales[k].lo}, {"hi", mscales[k].hi}};
    gl["offset"] = Json::array({0, head});
    ml["offset"] = Json::array({colw + gap, head});
    j["layout"] = {{"geometric", gl}, {"heatmap", ml}};
    j["files"] = {{"explanation", stem + "_sheet.png"}, {"text", stem + ".txt"}, {"json", stem + ".json"}};
    write_file(cm.dir + "/" + stem + ".json", j.dump(2));
    list.push_back(j);
  }
  out["samples"] = list;
  ctx.set(Ports::kExplanations, out);
  ctx.set_text(Ports::kFiles, cm.rel);
}

}  // namespace mien::report
