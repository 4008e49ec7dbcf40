#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <thread>

namespace mien::explain {


// ------------------------------------------------------------------------------------
std::vector<double> Background::mean() const {
  const size_t m = rows ? x.size() / static_cast<size_t>(rows) : 0;
  std::vector<double> mu(m, 0.0);
  for (int64_t b = 0; b < rows; ++b)
    for (size_t j = 0; j < m; ++j) mu[j] += w[b] * x[static_cast<size_t>(b) * m + j];
  return mu;
}

std::vector<double> Background::stddev() const {
  const size_t m = rows ? x.size() / static_cast<size_t>(rows) : 0;
  const auto mu = mean();
  std::vector<double> sd(m, 0.0);
  for (int64_t b = 0; b < rows; ++b)
    for (size_t j = 0; j < m; ++j) {
      const double d = x[static_cast<size_t>(b) * m + j] - mu[j];
      sd[j] += w[b] * d * d;
    }
  for (auto& v : sd) v = std::sqrt(v);
  return sd;
}

Background reduce_background(const std::vector<float>& x, int64_t n, int64_t m, const std::string& how, int size,
                             uint64_t seed, const Host& host) {
  Background bg;
  if (n == 0) throw Error("the background table has no rows");
  if (how == "mean") {
    Background all;
    all.rows = n;
    all.x = x;
    all.w.assign(static_cast<size_t>(n), 1.0 / static_cast<double>(n));
    const auto mu = all.mean();
    bg.rows = 1;
    bg.x.assign(mu.begin(), mu.end());
    bg.w = {1.0};
    bg.how = "mean of " + std::to_string(n) + " rows";
    return bg;
  }
  if (size == 0 || n <= size) {
    bg.rows = n;
    bg.x = x;
    bg.w.assign(static_cast<size_t>(n), 1.0 / static_cast<double>(n));
    bg.how = "all " + std::to_string(n) + " rows";
    return bg;
  }
  Rng rng(derive_seed(seed, 0xB6ULL));
  if (how == "sample") {
    std::vector<int64_t> idx(static_cast<size_t>(n));
    std::iota(idx.begin(), idx.end(), 0);
    for (int i = 0; i < size; ++i) std::swap(idx[i], idx[i + rng.below(static_cast<uint64_t>(n - i))]);
    idx.resize(static_cast<size_t>(size));
    std::sort(idx.begin(), idx.end());
    bg.rows = size;
    for (int64_t r : idx) bg.x.insert(bg.x.end(), x.begin() + r * m, x.begin() + (r + 1) * m);
    bg.w.assign(static_cast<size_t>(size), 1.0 / size);
    bg.how = "seeded random sample of " + std::to_string(size) + " of " + std::to_string(n) + " rows";
    return bg;
  }
  // kmeans: k-means++ initialisation, Lloyd iterations, weights = cluster sizes.
  const int k = size;
  std::vector<double> cent(static_cast<size_t>(k * m));
  std::vector<double> d2(static_cast<size_t>(n), std::numeric_limits<double>::infinity());
  auto dist = [&](int64_t r, const double* c) {
    double s = 0;
    for (int64_t j = 0; j < m; ++j) {
      const double d = x[r * m + j] - c[j];
      s += d * d;
    }
    return s;
  };
  int64_t first = static_cast<int64_t>(rng.below(static_cast<uint64_t>(n)));
  for (int64_t j = 0; j < m; ++j) cent[j] = x[first * m + j];
  for (int c = 1; c < k; ++c) {
    double total = 0;
    for (int64_t r = 0; r < n; ++r) {
      d2[r] = std::min(d2[r], dist(r, &cent[(c - 1) * m]));
      total += d2[r];
    }
    int64_t pick = n - 1;
    if (total > 0) {
      double u = rng.uniform() * total;
      for (int64_t r = 0; r < n; ++r) {
        u -= d2[r];
        if (u < 0) {
          pick = r;
          break;
        }
      }
    } else {
      pick = static_cast<int64_t>(rng.below(static_cast<uint64_t>(n)));
    }
    for (int64_t j = 0; j < m; ++j) cent[c * m + j] = x[pick * m + j];
  }
  std::vector<int> assign(static_cast<size_t>(n), -1);
  std::vector<double> count(static_cast<size_t>(k));
  for (int it = 0; it < 100; ++it) {
    host.check_cancelled();
    bool changed = false;
    for (int64_t r = 0; r < n; ++r) {
      int best = 0;
      double bd = std::numeric_limits<double>::infinity();
      for (int c = 0; c < k; ++c) {
        const double d = dist(r, &cent[c * m]);
        if (d < bd) {
          bd = d;
          best = c;
        }
      }
      if (assign[r] != best) changed = true;
      assign[r] = best;
    }
    if (!changed && it > 0) break;
    std::vector<double> sum(static_cast<size_t>(k * m), 0.0);
    std::fill(count.begin(), count.end(), 0.0);
    for (int64_t r = 0; r < n; ++r) {
      count[assign[r]] += 1;
      for (int64_t j = 0; j < m; ++j) sum[assign[r] * m + j] += x[r * m + j];
    }
    for (int c = 0; c < k; ++c)
      if (count[c] > 0)
        for (int64_t j = 0; j < m; ++j) cent[c * m + j] = sum[c * m + j] / count[c];
  }
  std::fill(count.begin(), count.end(), 0.0);
  for (int64_t r = 0; r < n; ++r) count[assign[r]] += 1;
  for (int c = 0; c < k; ++c) {
    if (count[c] == 0) continue;
    for (int64_t j = 0; j < m; ++j) bg.x.push_back(static_cast<float>(cent[c * m + j]));
    bg.w.push_back(count[c] / static_cast<double>(n));
    ++bg.rows;
  }
  bg.how = "k-means, " + std::to_string(bg.rows) + " weighted centroids of " + std::to_string(n) + " rows";
  return bg;
}

// ------------------------------------------------------------------------------------
Players make_players(const Json& groups, const std::vector<std::string>& features, const std::string& who) {
  Players p;
  std::map<std::string, int> index;
  for (size_t j = 0; j < features.size(); ++j) index[features[j]] = static_cast<int>(j);
  std::vector<int> owner(features.size(), -1);
  if (!groups.is_object()) throw Error(who + ": parameter 'groups' must be an object {group: [feature, ...]}");
  for (auto it = groups.begin(); it != groups.end(); ++it) {
    if (!it.value().is_array() || it.value().empty())
      throw Error(who + ": parameter 'groups': group '" + it.key() + "' must be a non-empty list of feature names");
    std::vector<int> f;
    for (const auto& name : it.value()) {
      if (!name.is_string()) throw Error(who + ": parameter 'groups': group '" + it.key() + "' holds a non-string");
      const std::string s = name.get<std::string>();
      auto k = index.find(s);
      if (k == index.end())
        throw Error(who + ": parameter 'groups': group '" + it.key() + "' names '" + s +
                    "', which is not a model feature (features: " + join(features, ", ", 12) + ")");
      if (owner[k->second] >= 0)
        throw Error(who + ": parameter 'groups': feature '" + s + "' is in both '" + p.names[owner[k->second]] +
                    "' and '" + it.key() + "'; a feature may belong to one group only");
      owner[k->second] = static_cast<int>(p.names.size());
      f.push_back(k->second);
    }
    if (index.count(it.key()) && !(f.size() == 1 && features[f[0]] == it.key()))
      throw Error(who + ": parameter 'groups': group name '" + it.key() + "' is also a feature name; rename the group");
    p.names.push_back(it.key());
    p.features.push_back(f);
  }
  p.grouped = !p.names.empty();
  p.groups_json = groups;
  for (size_t j = 0; j < features.size(); ++j) {
    if (owner[j] >= 0) continue;
    p.names.push_back(features[j]);
    p.features.push_back({static_cast<int>(j)});
  }
  return p;
}

// ------------------------------------------------------------------------------------
CommonSettings::CommonSettings(std::string type_id, const Setup& s) : who(std::move(type_id)) {
  const Params& p = s.params();
  target = CommonParams::kTarget.read(p);
  class_name = CommonParams::kClass.read(p);
  background = CommonParams::kBackground.read(p);
  background_size = CommonParams::kBackgroundSize.read(p);
  batch_size = CommonParams::kBatchSize.read(p);
  groups = CommonParams::kGroups.read(p);
  seed = s.seed();
  threads = s.num_threads();
  if (target == "class" && class_name.empty())
    throw Error(who + ": target is 'class' but parameter 'class' is empty; name one of the model's classes");
  if (target != "class" && !class_name.empty())
    throw Error(who + ": parameter 'class' is set to '" + class_name + "' but target is '" + target +
                "'; set target: class to explain that class");
  if (!groups.is_object()) throw Error(who + ": parameter 'groups' must be an object {group: [feature, ...]}");
  for (auto it = groups.begin(); it != groups.end(); ++it)
    if (!it.value().is_array() || it.value().empty())
      throw Error(who + ": parameter 'groups': group '" + it.key() + "' must be a non-empty list of feature names");
}

Prepared prepare(Context& ctx, const CommonSettings& cs, const Input& model_in, const Input& samples_in,
                 const Input& background_in, const PrepareOptions& opt) {
  const Host& host = ctx.host();
  Prepared d;
  const ModelRef model = ctx.model(model_in);
  d.samples = ctx.table(samples_in);
  d.model = read_model_info(model, cs.who, d.samples, host);
  d.M = static_cast<int64_t>(d.model.features.size());
  d.n = d.samples.num_rows();
  d.x = feature_rows(d.samples, d.model.features, cs.who, "samples", &host);
  d.players = make_players(cs.groups, d.model.features, cs.who);
  if (d.n == 0) throw Error(cs.who + ": the samples table has no rows");

  // Classes: from info, else probed.
  int64_t C = static_cast<int64_t>(d.model.classes.size());
  if (C == 0) {
    if (d.n == 0) throw Error(cs.who + ": the model names no classes and there are no samples to probe it with");
    Tensor t = Tensor::zeros<float>({1, d.M});
    std::memcpy(t.data<float>(), d.x.data(), static_cast<size_t>(d.M) * sizeof(float));
    const Tensor p = model.predict(t);
    C = p.view().ndim() == 2 ? p.view().dim(1) : 0;
    for (int64_t c = 0; c < C; ++c) d.model.classes.push_back(std::to_string(c));
    host.warn(cs.who + ": the model names no classes; calling them 0.." + std::to_string(C - 1));
  }
  d.C = C;
  d.predictor = std::make_unique<Predictor>(model, d.M, C, cs.batch_size, host);

  // Background.
  if (ctx.connected(background_in)) {
    const TableView bt = ctx.table(background_in);
    std::vector<float> bx = feature_rows(bt, d.model.features, cs.who, "background", &host);
    if (opt.reduce) {
      d.bg = reduce_background(bx, bt.num_rows(), d.M, cs.background, cs.background_size, cs.seed, host);
    } else {
      d.bg.rows = bt.num_rows();
      d.bg.x = std::move(bx);
      d.bg.w.assign(static_cast<size_t>(d.bg.rows), d.bg.rows ? 1.0 / d.bg.rows : 0.0);
      d.bg.how = "all " + std::to_string(d.bg.rows) + " rows";
    }
    if (d.bg.rows == 0) throw Error(cs.who + ": the background table has no rows");
    d.has_background = true;
  } else if (opt.need_background) {
    throw Error(cs.who + ": input 'background' is not connected; connect a table with the model's features (e.g. "
                         "the training set)");
  }

  if (opt.before_model) opt.before_model(d);

  // The model's own predictions for the samples.
  d.probs = d.predictor->predict(d.x.data(), d.n);
  d.predicted.resize(static_cast<size_t>(d.n));
  for (int64_t i = 0; i < d.n; ++i) {
    const double* p = &d.probs[i * C];
    d.predicted[i] = std::max_element(p, p + C) - p;
  }

  // Targets.
  d.target_mode = cs.target;
  if (cs.target == "predicted") {
    for (int64_t i = 0; i < d.n; ++i) d.targets.push_back({i, d.predicted[i]});
  } else if (cs.target == "all") {
    for (int64_t i = 0; i < d.n; ++i)
      for (int64_t c = 0; c < C; ++c) d.targets.push_back({i, c});
  } else if (cs.target == "class") {
    auto it = std::find(d.model.classes.begin(), d.model.classes.end(), cs.class_name);
    if (it == d.model.classes.end())
      throw Error(cs.who + ": parameter 'class' is '" + cs.class_name + "', not one of the model's classes: " +
                  join(d.model.classes, ", ", 50));
    for (int64_t i = 0; i < d.n; ++i) d.targets.push_back({i, it - d.model.classes.begin()});
  } else {  // true
    auto label = d.samples.label();
    if (!label)
      throw Error(cs.who + ": target is 'true' but the samples table has no LABEL column; use target: predicted");
    const auto cats = label->categories();
    for (int64_t i = 0; i < d.n; ++i) {
      const int64_t code = label->code(i);
      if (code < 0 || code >= static_cast<int64_t>(cats.size()))
        throw Error(cs.who + ": target is 'true' but sample row " + std::to_string(i + 1) +
                    " has no label; use target: predicted, or drop unlabelled rows");
      auto it = std::find(d.model.classes.begin(), d.model.classes.end(), cats[code]);
      if (it == d.model.classes.end())
        throw Error(cs.who + ": label '" + cats[code] + "' of sample row " + std::to_string(i + 1) +
                    " is not one of the model's classes: " + join(d.model.classes, ", ", 50));
      d.targets.push_back({i, it - d.model.classes.begin()});
    }
  }
  return d;
}

// ------------------------------------------------------------------------------------
CoalitionEvaluator::CoalitionEvaluator(Predictor& p, const Background& bg, const Players& players)
    : p_(p), bg_(bg), players_(players), m_(p.num_features()), c_(p.num_classes()) {
  buf_.resize(static_cast<size_t>(p.batch_size() * m_));
  row_job_.resize(static_cast<size_t>(p.batch_size()));
  row_w_.resize(static_cast<size_t>(p.batch_size()));
  probs_.resize(static_cast<size_t>(p.batch_size() * c_));
  fmask_.resize(static_cast<size_t>(m_));
}

void CoalitionEvaluator::push_row(const float* row, uint32_t job, double w) {
  std::memcpy(&buf_[filled_ * m_], row, static_cast<size_t>(m_) * sizeof(float));
  row_job_[filled_] = job;
  row_w_[filled_] = w;
  if (++filled_ == p_.batch_size()) flush();
}

size_t CoalitionEvaluator::add(const float* x, const uint8_t* mask) {
  const size_t job = jobs();
  values_.resize(values_.size() + static_cast<size_t>(c_), 0.0);
  std::fill(fmask_.begin(), fmask_.end(), uint8_t{0});
  for (size_t p = 0; p < players_.size(); ++p)
    if (mask[p])
      for (int j : players_.features[p]) fmask_[j] = 1;
  for (int64_t b = 0; b < bg_.rows; ++b) {
    float* row = &buf_[filled_ * m_];
    const float* br = &bg_.x[b * m_];
    for (int64_t j = 0; j < m_; ++j) row[j] = fmask_[j] ? x[j] : br[j];
    row_job_[filled_] = static_cast<uint32_t>(job);
    row_w_[filled_] = bg_.w[b];
    if (++filled_ == p_.batch_size()) flush();
  }
  return job;
}

size_t CoalitionEvaluator::add_row(const float* row) {
  const size_t job = jobs();
  values_.resize(values_.size() + static_cast<size_t>(c_), 0.0);
  push_row(row, static_cast<uint32_t>(job), 1.0);
  return job;
}

void CoalitionEvaluator::flush() {
  if (filled_ == 0) return;
  p_.host().check_cancelled();
  p_.predict_into(buf_.data(), filled_, probs_.data());
  for (int64_t r = 0; r < filled_; ++r) {
    double* v = &values_[static_cast<size_t>(row_job_[r]) * c_];
    const double w = row_w_[r];
    const double* pr = &probs_[r * c_];
    for (int64_t c = 0; c < c_; ++c) v[c] += w * pr[c];
  }
  filled_ = 0;
}

std::vector<double> background_expectation(Predictor& p, const Background& bg) {
  const auto probs = p.predict(bg.x.data(), bg.rows);
  const int64_t C = p.num_classes();
  std::vector<double> e(static_cast<size_t>(C), 0.0);
  for (int64_t b = 0; b < bg.rows; ++b)
    for (int64_t c = 0; c < C; ++c) e[c] += bg.w[b] * probs[b * C + c];
  return e;
}

// ------------------------------------------------------------------------------------
Table attribution_table(const Prepared& d, const std::vector<double>& values, const std::vector<double>& base,
                        const std::vector<double>& output, const std::vector<ExtraColumn>& extra, const Json& meta) {
  const int64_t T = static_cast<int64_t>(d.targets.size());
  const size_t P = d.players.size();
  std::vector<int64_t> rows(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) rows[t] = d.targets[t].sample;
  Table out(T);
  // id
  std::vector<std::string> ids(static_cast<size_t>(T));
  auto idcols = d.samples.with_role(MIEN_ROLE_ID);
  std::vector<std::string> sample_ids(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) {
    const int64_t s = d.targets[t].sample;
    char buf[32];
    std::snprintf(buf, sizeof buf, "row%05lld", static_cast<long long>(s + 1));
    sample_ids[t] = idcols.empty() ? std::string(buf) : idcols.front().text(s);
    ids[t] = d.target_mode == "all" ? sample_ids[t] + "/" + d.model.classes[d.targets[t].cls] : sample_ids[t];
  }
  out.add_strings(idcols.empty() ? "id" : idcols.front().name(), MIEN_ROLE_ID, ids);
  if (auto label = d.samples.label()) out.add_copy(*label, &rows);
  for (const auto& g : d.samples.with_role(MIEN_ROLE_GROUP)) out.add_copy(g, &rows);
  if (d.target_mode == "all") out.add_strings("sample_id", MIEN_ROLE_GROUP, sample_ids);
  std::vector<std::string> expl(static_cast<size_t>(T)), pred(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) {
    expl[t] = d.model.classes[d.targets[t].cls];
    pred[t] = d.model.classes[d.predicted[d.targets[t].sample]];
  }
  out.add_strings("explained_class", MIEN_ROLE_VALUE, expl);
  out.add_strings("predicted_class", MIEN_ROLE_VALUE, pred);
  out.add_numbers("base_value", MIEN_ROLE_VALUE, base);
  out.add_numbers("output", MIEN_ROLE_VALUE, output);
  for (const auto& e : extra) out.add_numbers(e.name, MIEN_ROLE_VALUE, e.values);
  for (size_t p = 0; p < P; ++p) {
    std::vector<double> v(static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t) v[t] = values[t * P + p];
    out.add_numbers(d.players.names[p], MIEN_ROLE_FEATURE, std::move(v));
  }
  Json m = meta;
  // Timing for comparison tables (CONVENTIONS.md): wall time from prepare() to here, and
  // every row sent to the model (predict and gradients).
  m["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - d.started).count();
  m["model_rows"] = d.model_rows();
  m["classes"] = d.model.classes;
  m["target"] = d.target_mode;
  if (d.players.grouped) m["groups"] = d.players.groups_json;
  if (d.has_background) {
    m["background"] = d.bg.how;
    m["background_rows"] = d.bg.rows;
  }
  out.meta(m);
  return out;
}

// ------------------------------------------------------------------------------------
void parallel_for(int64_t n, uint32_t threads, const std::function<void(int64_t, int64_t)>& f, int64_t grain) {
  if (n <= 0) return;
  const int64_t T = std::max<int64_t>(1, std::min<int64_t>(threads, (n + grain - 1) / grain));
  if (T == 1) {
    f(0, n);
    return;
  }
  // Contiguous ranges, multiples of `grain`.
  const int64_t units = (n + grain - 1) / grain;
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) {
    const int64_t b = std::min(n, (units * t / T) * grain), e = std::min(n, (units * (t + 1) / T) * grain);
    pool.emplace_back([&, t, b, e] {
      try {
        f(b, e);
      } catch (...) {
        errors[t] = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

bool solve_spd(std::vector<double> A, int n, std::vector<double>& B, int k) {
  double maxdiag = 0;
  for (int i = 0; i < n; ++i) maxdiag = std::max(maxdiag, std::fabs(A[i * n + i]));
  if (maxdiag == 0) maxdiag = 1;
  const std::vector<double> A0 = A;
  double ridge = 0;
  for (int attempt = 0; attempt < 8; ++attempt) {
    A = A0;
    for (int i = 0; i < n; ++i) A[i * n + i] += ridge;
    bool ok = true;
    for (int j = 0; j < n && ok; ++j) {
      double s = A[j * n + j];
      for (int p = 0; p < j; ++p) s -= A[j * n + p] * A[j * n + p];
      if (!(s > 1e-13 * maxdiag)) {
        ok = false;
        break;
      }
      const double l = std::sqrt(s);
      A[j * n + j] = l;
      for (int i = j + 1; i < n; ++i) {
        double t = A[i * n + j];
        for (int p = 0; p < j; ++p) t -= A[i * n + p] * A[j * n + p];
        A[i * n + j] = t / l;
      }
    }
    if (!ok) {
      ridge = ridge == 0 ? 1e-10 * maxdiag : ridge * 100;
      continue;
    }
    for (int c = 0; c < k; ++c) {
      for (int i = 0; i < n; ++i) {
        double t = B[i * k + c];
        for (int p = 0; p < i; ++p) t -= A[i * n + p] * B[p * k + c];
        B[i * k + c] = t / A[i * n + i];
      }
      for (int i = n - 1; i >= 0; --i) {
        double t = B[i * k + c];
        for (int p = i + 1; p < n; ++p) t -= A[p * n + i] * B[p * k + c];
        B[i * k + c] = t / A[i * n + i];
      }
    }
    return ridge == 0;
  }
  throw Error("a linear system could not be solved (the design is degenerate)", MIEN_ERR_INTERNAL);
}

}  // namespace mien::explain
