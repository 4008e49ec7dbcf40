// What every explainer does before explaining: players (features or groups), the common
// parameters, and the inputs read and matched to the model (samples, background, targets).
#include "explainer_kit.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace mien::explain {

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

}  // namespace mien::explain
