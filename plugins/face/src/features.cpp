// features.geometric and features.landmarks.
#include <cmath>
#include <map>

#include <mien/suggest.hpp>

#include "image_and_table_io.hpp"
#include "components.hpp"
#include "mien_face_geometry/alignment.hpp"
#include "mien_face_geometry/geometric.hpp"

namespace mien::face {

namespace {

std::vector<std::string> feature_names() {
  std::vector<std::string> names;
  for (const auto& f : geometric_features()) names.push_back(f.name);
  return names;
}

}  // namespace

// ---------------------------------------------------------------------------------
// features.geometric
// ---------------------------------------------------------------------------------
ComponentInfo FeaturesGeometric::info() {
  return ComponentInfo("features.geometric", 1, MIEN_KIND_FEATURES,
                       "The 40 geometric expression features of ter Burg & Kaya (2022) from 68 landmarks")
      .params(kSubset, kFeatures)
      .ports(kTable, kOut, kInfo);
}

FeaturesGeometric::FeaturesGeometric(const Setup& s) {
  const auto names = kFeatures.read(s.params());
  if (names.empty()) {
    for (const auto& name : feature_subset(kSubset.read(s.params())))
      selected_.push_back(geometric_feature_index(name));
  } else {
    std::map<std::string, int> seen;
    for (const auto& name : names) {
      const int k = geometric_feature_index(name);
      if (k < 0)
        throw Error("parameter 'features': unknown geometric feature '" + name + "'" +
                    did_you_mean(name, feature_names()) + " (the 40 names are listed in plugins/face/README.md)");
      if (seen[name]++) throw Error("parameter 'features': '" + name + "' is listed twice");
      selected_.push_back(k);
    }
  }
}

void FeaturesGeometric::process(Context& ctx) {
  const Host& host = ctx.host();
  const std::string me = "features.geometric";
  const TableView table = ctx.table(kTable);
  const int64_t n = table.num_rows();
  const std::vector<double> xy = read_landmarks(table, me);
  const std::vector<std::string> ids = row_ids(table);
  const auto& all = geometric_features();

  std::vector<std::vector<double>> cols(selected_.size(), std::vector<double>(static_cast<size_t>(n)));
  int64_t degenerate_rows = 0;
  size_t warned = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (i % 256 == 0) {
      host.check_cancelled();
      host.progress(static_cast<uint64_t>(i), static_cast<uint64_t>(n), "geometric features");
    }
    std::vector<std::string> warnings;
    const std::vector<double> g = compute_geometric_features(xy.data() + static_cast<size_t>(i) * 136, &warnings);
    for (size_t j = 0; j < selected_.size(); ++j) cols[j][static_cast<size_t>(i)] = g[static_cast<size_t>(selected_[j])];
    // Only warnings about the selected features matter.
    bool any = false;
    for (const auto& w : warnings) {
      bool relevant = w.rfind("all features", 0) == 0;
      for (int k : selected_) relevant = relevant || w.rfind(all[static_cast<size_t>(k)].name + ":", 0) == 0;
      if (!relevant) continue;
      any = true;
      if (warned < 20) {
        host.warn(me + ": row '" + ids[static_cast<size_t>(i)] + "': " + w);
        ++warned;
      }
    }
    if (any) ++degenerate_rows;
  }
  if (degenerate_rows > 0)
    host.warn(me + ": " + std::to_string(degenerate_rows) + " of " + std::to_string(n) +
              " rows had degenerate landmarks; those features were set to defined values (see the warnings)");

  Table out(n);
  std::vector<int64_t> rows(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) rows[static_cast<size_t>(i)] = i;
  copy_columns(table, rows, out, [](const ColumnView& c) { return is_passthrough_role(c); });
  Json info_features = Json::array();
  for (size_t j = 0; j < selected_.size(); ++j) {
    const GeometricFeature& f = all[static_cast<size_t>(selected_[j])];
    out.add_numbers(f.name, MIEN_ROLE_FEATURE, std::move(cols[j]));
    info_features.push_back(
        {{"name", f.name}, {"description", f.description}, {"kind", f.kind}, {"landmarks", f.landmarks}});
  }
  Json meta = table.raw()->meta_json && *table.raw()->meta_json ? table.meta() : Json::object();
  meta["feature_source"] = "features.geometric";
  out.meta(meta);
  ctx.set(kOut, std::move(out));
  ctx.set(kInfo, Json{{"landmark_scheme", "ibug68"},
                      {"units", {{"angle_horizontal", "degrees"},
                                 {"angle_vertical", "degrees"},
                                 {"curvature", "Menger curvature x 1000, 1/pixels of the aligned face"},
                                 {"distance", "divided by a face-size reference"},
                                 {"ratio", "dimensionless"},
                                 {"opening", "dimensionless (mouth opening / mouth width)"}}},
                      {"features", info_features}});
}

// ---------------------------------------------------------------------------------
// features.landmarks
// ---------------------------------------------------------------------------------
ComponentInfo FeaturesLandmarks::info() {
  return ComponentInfo("features.landmarks", 1, MIEN_KIND_FEATURES,
                       "The 68 landmark coordinates as 136 features, optionally centred and scaled")
      .params(kNormalize)
      .ports(kTable, kOut);
}

FeaturesLandmarks::FeaturesLandmarks(const Setup& s) : normalize_(kNormalize.read(s.params())) {}

void FeaturesLandmarks::process(Context& ctx) {
  const Host& host = ctx.host();
  const std::string me = "features.landmarks";
  const TableView table = ctx.table(kTable);
  const int64_t n = table.num_rows();
  std::vector<double> xy = read_landmarks(table, me);
  const std::vector<std::string> ids = row_ids(table);
  if (normalize_) {
    size_t warned = 0;
    for (int64_t i = 0; i < n; ++i) {
      double* p = xy.data() + static_cast<size_t>(i) * 136;
      double cx = 0, cy = 0;
      for (int k = 0; k < 68; ++k) {
        cx += p[2 * k] / 68;
        cy += p[2 * k + 1] / 68;
      }
      double l[2], r[2];
      eye_centres(p, l, r);
      const double iod = std::hypot(r[0] - l[0], r[1] - l[1]);
      const bool ok = std::isfinite(iod) && iod > 0;
      if (!ok && warned++ < 20)
        host.warn(me + ": row '" + ids[static_cast<size_t>(i)] +
                  "': the eye centres coincide; coordinates centred but not scaled");
      for (int k = 0; k < 68; ++k) {
        p[2 * k] = (p[2 * k] - cx) / (ok ? iod : 1.0);
        p[2 * k + 1] = (p[2 * k + 1] - cy) / (ok ? iod : 1.0);
      }
    }
  }
  Table out(n);
  std::vector<int64_t> rows(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) rows[static_cast<size_t>(i)] = i;
  copy_columns(table, rows, out, [](const ColumnView& c) { return is_passthrough_role(c); });
  add_landmark_columns(out, xy, n, MIEN_ROLE_FEATURE);
  if (table.raw()->meta_json && *table.raw()->meta_json) out.meta(table.meta());
  ctx.set(kOut, std::move(out));
}

}  // namespace mien::face
