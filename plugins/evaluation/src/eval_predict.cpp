// eval.predict: a model's class probabilities for every row of a feature table.
#include <algorithm>
#include <cstdio>
#include <cmath>
#include <set>

#include "components.hpp"

namespace mien::evaluation {

namespace {

constexpr const char* kId = "eval.predict";

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out;
}

std::vector<std::string> string_list(const Json& info, const char* key) {
  if (!info.contains(key) || !info.at(key).is_array())
    throw Error(std::string(kId) + ": the model's info has no \"" + key + "\" list");
  std::vector<std::string> out;
  for (const auto& v : info.at(key)) {
    if (!v.is_string()) throw Error(std::string(kId) + ": the model's \"" + key + "\" must be strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

ComponentInfo EvalPredict::info() {
  return ComponentInfo(kId, 1, MIEN_KIND_TRANSFORM,
                       "Class probabilities and the predicted class of a model for every row of a feature table")
      .params(kBatchSize)
      .ports(kModel, kTable, kPredictions);
}

EvalPredict::EvalPredict(const Setup& s) : batch_size_(kBatchSize.read(s.params())) {
  if (batch_size_ < 1) throw Error(std::string(kId) + ": parameter 'batch_size' must be >= 1");
}

void EvalPredict::process(Context& ctx) {
  const Host& host = ctx.host();
  const ModelRef model = ctx.model(kModel);
  if (!model.can(MIEN_CAP_PREDICT)) throw Error(std::string(kId) + ": the model offers no predict");
  const Json info = model.info();
  const std::string type_id = info.value("type_id", std::string("model"));
  if (info.value("input", std::string("features")) != "features")
    throw Error(std::string(kId) + ": " + type_id + " takes " + info.value("input", std::string()) +
                " input; eval.predict feeds feature tables");
  const std::vector<std::string> features = string_list(info, "feature_names");
  const std::vector<std::string> classes = string_list(info, "classes");
  if (features.empty() || classes.empty())
    throw Error(std::string(kId) + ": the model names no features or no classes");

  const TableView table = ctx.table(kTable);
  std::vector<ColumnView> cols;
  std::vector<std::string> missing;
  for (const auto& name : features) {
    auto c = table.find(name);
    if (!c || c->is_string()) missing.push_back(name);
    else cols.push_back(*c);
  }
  if (!missing.empty())
    throw Error(std::string(kId) + ": the table lacks " + std::to_string(missing.size()) + " of the " +
                std::to_string(features.size()) + " features " + type_id + " needs: " + join(missing));

  const int64_t n = table.num_rows();
  const auto f = static_cast<int64_t>(features.size());
  const auto c = static_cast<int64_t>(classes.size());
  std::vector<double> probs(static_cast<size_t>(n * c));
  for (int64_t start = 0; start < n; start += batch_size_) {
    host.check_cancelled();
    host.progress(static_cast<uint64_t>(start), static_cast<uint64_t>(n), "predicting");
    const int64_t len = std::min(batch_size_, n - start);
    Tensor batch = Tensor::zeros<float>({len, f});
    float* x = batch.data<float>();
    for (int64_t j = 0; j < f; ++j) {
      const ColumnView& col = cols[static_cast<size_t>(j)];
      for (int64_t i = 0; i < len; ++i) {
        const double v = col.number(start + i);
        if (!std::isfinite(v))
          throw Error(std::string(kId) + ": feature '" + features[static_cast<size_t>(j)] + "' is not finite in row " +
                      std::to_string(start + i + 1));
        x[i * f + j] = static_cast<float>(v);
      }
    }
    const Tensor out = model.predict(batch);
    const TensorView v = out.view();
    if (!v.valid() || v.ndim() != 2 || v.dim(0) != len || v.dim(1) != c)
      throw Error(std::string(kId) + ": the model's predict returned shape " +
                      (v.valid() ? Json(v.shape()).dump() : std::string("none")) + ", expected [" +
                      std::to_string(len) + ", " + std::to_string(c) + "]",
                  MIEN_ERR_INTERNAL);
    for (int64_t k = 0; k < len * c; ++k) probs[static_cast<size_t>(start * c + k)] = v.at(k);
  }
  host.progress(static_cast<uint64_t>(n), static_cast<uint64_t>(n), "predicting");

  // ---- the output table ----
  Table out(n);
  std::set<std::string> used;
  auto add_name = [&](const std::string& name) {
    if (!used.insert(name).second)
      throw Error(std::string(kId) + ": the output would have two columns named '" + name + "'");
  };
  const auto ids = table.with_role(MIEN_ROLE_ID);
  if (!ids.empty()) {
    add_name(ids.front().name());
    out.add_copy(ids.front());
  } else {
    std::vector<std::string> gen(static_cast<size_t>(n));
    const int digits = std::max<int>(4, static_cast<int>(std::to_string(n).size()));
    for (int64_t i = 0; i < n; ++i) {
      std::string s = std::to_string(i + 1);
      gen[static_cast<size_t>(i)] = "row" + std::string(static_cast<size_t>(std::max(0, digits - static_cast<int>(s.size()))), '0') + s;
    }
    add_name("id");
    out.add_strings("id", MIEN_ROLE_ID, std::move(gen));
  }
  const auto label = table.label();
  if (label) {
    add_name(label->name());
    out.add_copy(*label);
  }
  for (const auto& g : table.with_role(MIEN_ROLE_GROUP)) {
    add_name(g.name());
    out.add_copy(g);
  }
  std::vector<std::string> predicted(static_cast<size_t>(n));
  int64_t labelled = 0, correct = 0;
  const std::vector<std::string> label_names = label ? label->categories() : std::vector<std::string>();
  for (int64_t i = 0; i < n; ++i) {
    const double* row = &probs[static_cast<size_t>(i * c)];
    const auto best = static_cast<size_t>(std::max_element(row, row + c) - row);  // first of equal maxima
    predicted[static_cast<size_t>(i)] = classes[best];
    if (label && label->code(i) >= 0) {
      ++labelled;
      if (label->text(i) == classes[best]) ++correct;
    }
  }
  add_name("predicted");
  out.add_strings("predicted", MIEN_ROLE_VALUE, std::move(predicted));
  for (int64_t k = 0; k < c; ++k) {
    std::vector<double> p(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) p[static_cast<size_t>(i)] = probs[static_cast<size_t>(i * c + k)];
    const std::string name = "p_" + classes[static_cast<size_t>(k)];
    add_name(name);
    out.add_numbers(name, MIEN_ROLE_VALUE, std::move(p));
  }
  out.meta(Json{{"classes", classes}, {"model", type_id}, {"features", features.size()}});

  std::string msg = std::string(kId) + ": " + std::to_string(n) + " rows, " + std::to_string(c) + " classes";
  if (labelled > 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "; accuracy %.4f on %lld labelled rows",
                  static_cast<double>(correct) / static_cast<double>(labelled), static_cast<long long>(labelled));
    msg += buf;
  }
  host.info(msg);
  ctx.set(kPredictions, std::move(out));
}

}  // namespace mien::evaluation
