// transform.standardize: z-scores with statistics fitted on the training table.
#include <cmath>
#include <map>

#include "components.hpp"
#include "table_access.hpp"

namespace mien::tabular {

namespace {

struct Stats {
  std::vector<std::string> names;
  std::vector<double> mean, std;
  std::vector<std::string> constant;
};

// Every column of `src`, FEATURE columns known to `stats` mapped to (x - mean) / std.
Table transform(const TableView& src, const Stats& stats, const std::string& which, const Host& host) {
  std::map<std::string, size_t> index;
  for (size_t k = 0; k < stats.names.size(); ++k) index[stats.names[k]] = k;
  Table out(src.num_rows());
  for (uint32_t i = 0; i < src.num_columns(); ++i) {
    host.check_cancelled();
    const ColumnView c = src.column(i);
    auto it = index.find(c.name());
    if (c.role() != MIEN_ROLE_FEATURE || it == index.end()) {
      if (c.role() == MIEN_ROLE_FEATURE)
        host.warn("transform.standardize: feature '" + std::string(c.name()) + "' of " + which +
                  " is not in train; copied unchanged");
      out.add_copy(c);
      continue;
    }
    std::vector<double> v = c.numbers();
    const double m = stats.mean[it->second], s = stats.std[it->second];
    for (double& x : v) x = (x - m) / s;
    out.add_numbers(c.name(), MIEN_ROLE_FEATURE, std::move(v));
  }
  if (src.raw()->meta_json != nullptr && *src.raw()->meta_json != 0) out.meta(src.meta());
  return out;
}

}  // namespace

ComponentInfo Standardize::info() {
  return ComponentInfo("transform.standardize", 1, MIEN_KIND_TRANSFORM,
                       "Scales feature columns to mean 0 and std 1 using the training table's statistics")
      .ports(kTrainIn, kApplyIn, kTrainOut, kApplyOut, kScaler);
}

Standardize::Standardize(const Setup&) {}

void Standardize::process(Context& ctx) {
  const Host& host = ctx.host();
  const TableView train = ctx.table(kTrainIn);
  const auto features = train.with_role(MIEN_ROLE_FEATURE);
  if (features.empty()) throw Error("transform.standardize: the train table has no FEATURE columns");
  const int64_t n = train.num_rows();
  if (n == 0) throw Error("transform.standardize: the train table has no rows");

  Stats stats;
  for (size_t k = 0; k < features.size(); ++k) {
    host.check_cancelled();
    host.progress(k, features.size(), "fitting");
    const ColumnView& c = features[k];
    const std::vector<double> v = c.numbers();
    double sum = 0, lo = v[0], hi = v[0];
    for (int64_t i = 0; i < n; ++i) {
      const double x = v[static_cast<size_t>(i)];
      if (!std::isfinite(x))
        throw Error("transform.standardize: feature '" + std::string(c.name()) + "' of train is not finite in row " +
                    std::to_string(i + 1));
      sum += x;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    const double mean = sum / static_cast<double>(n);
    double sq = 0;
    for (double x : v) sq += (x - mean) * (x - mean);
    double sd = std::sqrt(sq / static_cast<double>(n));  // population std (ddof = 0)
    if (lo == hi || !(sd > 0)) {
      host.warn("transform.standardize: feature '" + std::string(c.name()) +
                "' has zero variance in train; its std is set to 1");
      stats.constant.emplace_back(c.name());
      sd = 1.0;
    }
    stats.names.emplace_back(c.name());
    stats.mean.push_back(mean);
    stats.std.push_back(sd);
  }
  host.progress(features.size(), features.size(), "fitting");

  Table train_out = transform(train, stats, "train", host);
  Table apply_out(0);
  if (ctx.connected(kApplyIn)) {
    const TableView apply = ctx.table(kApplyIn);
    const auto apply_features = apply.feature_names();
    for (const auto& name : stats.names) {
      if (std::find(apply_features.begin(), apply_features.end(), name) == apply_features.end())
        throw Error("transform.standardize: the apply table lacks feature column '" + name + "' of train" +
                    did_you_mean(name, apply_features));
    }
    apply_out = transform(apply, stats, "apply", host);
  } else {
    apply_out = subset(train, {});  // same columns, no rows
  }

  Json scaler = {{"features", stats.names},
                 {"means", stats.mean},
                 {"stds", stats.std},
                 {"zero_variance", stats.constant},
                 {"rows", n}};
  host.info("transform.standardize: fitted " + std::to_string(stats.names.size()) + " features on " +
            std::to_string(n) + " rows");
  ctx.set(kTrainOut, std::move(train_out));
  ctx.set(kApplyOut, std::move(apply_out));
  ctx.set(kScaler, scaler);
}

}  // namespace mien::tabular
