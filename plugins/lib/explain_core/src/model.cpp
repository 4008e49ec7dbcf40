#include <mien_explain_core/model.hpp>

#include <algorithm>
#include <set>

namespace mien::explain {

ModelInfo read_model_info(const ModelRef& m, const std::string& who, const TableView& samples, const Host& host) {
  ModelInfo mi;
  try {
    mi.info = m.info();
  } catch (const std::exception& e) {
    throw Error(who + ": the model's info_json is not valid JSON: " + e.what());
  }
  if (mi.info.contains("feature_names") && mi.info["feature_names"].is_array()) {
    for (const auto& f : mi.info["feature_names"]) mi.features.push_back(f.get<std::string>());
  } else {
    mi.features = samples.feature_names();
    host.warn(who + ": the model names no feature_names; using the samples' " + std::to_string(mi.features.size()) +
              " FEATURE columns in table order");
  }
  if (mi.features.empty()) throw Error(who + ": the model has no input features (info feature_names is empty)");
  if (mi.info.contains("classes") && mi.info["classes"].is_array())
    for (const auto& c : mi.info["classes"]) mi.classes.push_back(c.get<std::string>());
  if (mi.info.contains("score") && mi.info["score"].is_string()) mi.score = mi.info["score"].get<std::string>();
  return mi;
}

std::vector<float> feature_rows(const TableView& t, const std::vector<std::string>& features, const std::string& who,
                                const std::string& what, const Host* host) {
  std::vector<std::string> missing;
  std::vector<ColumnView> cols;
  for (const auto& f : features) {
    auto c = t.find(f);
    if (!c || c->is_string()) {
      missing.push_back(f);
      continue;
    }
    cols.push_back(*c);
  }
  if (!missing.empty())
    throw Error(who + ": the " + what + " table lacks " + std::to_string(missing.size()) + " of the model's " +
                std::to_string(features.size()) + " features: " + join(missing, ", ", 12) +
                " (it must hold the model's feature columns, matched by name)");
  if (host) {
    std::set<std::string> known(features.begin(), features.end());
    std::vector<std::string> extra;
    for (const auto& f : t.feature_names())
      if (!known.count(f)) extra.push_back(f);
    if (!extra.empty())
      host->warn(who + ": the " + what + " table has FEATURE columns the model does not use (ignored): " + join(extra, ", ", 12));
  }
  const int64_t n = t.num_rows();
  const size_t m = features.size();
  std::vector<float> out(static_cast<size_t>(n) * m);
  for (size_t j = 0; j < m; ++j) {
    for (int64_t i = 0; i < n; ++i) {
      const double v = cols[j].number(i);
      if (!std::isfinite(v))
        throw Error(who + ": " + what + " feature '" + features[j] + "' is not finite in row " + std::to_string(i + 1));
      out[static_cast<size_t>(i) * m + j] = static_cast<float>(v);
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------
void Predictor::predict_into(const float* rows, int64_t n, double* out) {
  if (n == 0) return;
  Tensor t = Tensor::zeros<float>({n, m_});
  std::memcpy(t.data<float>(), rows, static_cast<size_t>(n * m_) * sizeof(float));
  Tensor p = model_.predict(t);
  const TensorView v = p.view();
  if (!v.valid() || v.ndim() != 2 || v.dim(0) != n || v.dim(1) != c_)
    throw Error("the model's predict returned a tensor of the wrong shape (expected [" + std::to_string(n) + ", " +
                    std::to_string(c_) + "])",
                MIEN_ERR_INTERNAL);
  if (const float* f = v.data_if<float>()) {
    for (int64_t i = 0; i < n * c_; ++i) out[i] = f[i];
  } else {
    for (int64_t i = 0; i < n * c_; ++i) out[i] = v.at(i);
  }
  rows_ += n;
  ++calls_;
}

std::vector<double> Predictor::predict(const float* rows, int64_t n) {
  std::vector<double> out(static_cast<size_t>(n * c_));
  for (int64_t s = 0; s < n; s += batch_) {
    host_.check_cancelled();
    const int64_t k = std::min(batch_, n - s);
    predict_into(rows + s * m_, k, out.data() + s * c_);
  }
  return out;
}

}  // namespace mien::explain
