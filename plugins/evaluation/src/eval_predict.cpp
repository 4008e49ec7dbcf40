// eval.predict: a model's class probabilities for every row of a feature table, or for every
// image of an image tensor (image models: model.cnn, model.faceapi_expression, model.torchscript).
#include <algorithm>
#include <cstdio>
#include <cmath>
#include <set>

#include <mien/text.hpp>

#include "components.hpp"

namespace mien::evaluation {

namespace {

constexpr const char* kId = "eval.predict";

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
  return ComponentInfo(kId, 2, MIEN_KIND_TRANSFORM,
                       "Class probabilities and the predicted class of a model for every row of a feature table "
                       "(feature models) or every image (image models: model.cnn, model.faceapi_expression, "
                       "model.torchscript)")
      .params(kBatchSize)
      .ports(kModel, kTable, kImages, kPredictions);
}

EvalPredict::EvalPredict(const Setup& s) : batch_size_(kBatchSize.read(s.params())) {
  if (batch_size_ < 1) throw Error(std::string(kId) + ": parameter 'batch_size' must be >= 1");
}

namespace {

void check_output(const TensorView& v, int64_t len, int64_t c) {
  if (!v.valid() || v.ndim() != 2 || v.dim(0) != len || v.dim(1) != c)
    throw Error(std::string(kId) + ": the model's predict returned shape " +
                    (v.valid() ? Json(v.shape()).dump() : std::string("none")) + ", expected [" + std::to_string(len) +
                    ", " + std::to_string(c) + "]",
                MIEN_ERR_INTERNAL);
}

// Feature models: the model's named feature columns of `table`, raw, batch_size rows a call.
std::vector<double> predict_features(const Host& host, const ModelRef& model, const Json& info, const TableView& table,
                                     int64_t c, int64_t batch_size, int64_t* features_used) {
  const std::string type_id = info.value("type_id", std::string("model"));
  const std::vector<std::string> features = string_list(info, "feature_names");
  if (features.empty()) throw Error(std::string(kId) + ": the model names no features");
  std::vector<ColumnView> cols;
  std::vector<std::string> missing;
  for (const auto& name : features) {
    auto col = table.find(name);
    if (!col || col->is_string()) missing.push_back(name);
    else cols.push_back(*col);
  }
  if (!missing.empty())
    throw Error(std::string(kId) + ": the table lacks " + std::to_string(missing.size()) + " of the " +
                std::to_string(features.size()) + " features " + type_id + " needs: " + join(missing));
  const int64_t n = table.num_rows();
  const auto f = static_cast<int64_t>(features.size());
  *features_used = f;
  std::vector<double> probs(static_cast<size_t>(n * c));
  for (int64_t start = 0; start < n; start += batch_size) {
    host.check_cancelled();
    host.progress(static_cast<uint64_t>(start), static_cast<uint64_t>(n), "predicting");
    const int64_t len = std::min(batch_size, n - start);
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
    check_output(v, len, c);
    for (int64_t k = 0; k < len * c; ++k) probs[static_cast<size_t>(start * c + k)] = v.at(k);
  }
  return probs;
}

// Image models: the [N, H, W, C] images as float32 pixel values (0..255, what every image
// model of mien takes; each model normalises itself), batch_size images a call.
std::vector<double> predict_images(const Host& host, const ModelRef& model, const Json& info, const TensorView& images,
                                   int64_t c, int64_t batch_size) {
  const std::string type_id = info.value("type_id", std::string("model"));
  if (!images.valid() || images.ndim() != 4 || images.dim(1) < 1 || images.dim(2) < 1 ||
      (images.dim(3) != 1 && images.dim(3) != 3))
    throw Error(std::string(kId) + ": input 'images' must be images [N, H, W, C] with C = 1 or 3 (got " +
                (images.valid() ? Json(images.shape()).dump() : std::string("none")) + ")");
  const int64_t n = images.dim(0), h = images.dim(1), w = images.dim(2), ch = images.dim(3);
  if (!info.value("accepts_any_size", false) && info.contains("input_shape") && info.at("input_shape").is_array()) {
    const auto s = info.at("input_shape").get<std::vector<int64_t>>();
    if (s.size() == 3 && (s[0] != h || s[1] != w || s[2] != ch))
      throw Error(std::string(kId) + ": the images are [" + std::to_string(h) + ", " + std::to_string(w) + ", " +
                  std::to_string(ch) + "] but " + type_id + " expects input_shape " + info.at("input_shape").dump() +
                  ": resize them upstream (e.g. align.eyes with size: " + std::to_string(s[0]) + ")");
  }
  const int64_t px = h * w * ch;
  const uint8_t* u8 = images.data_if<uint8_t>();
  std::vector<double> probs(static_cast<size_t>(n * c));
  for (int64_t start = 0; start < n; start += batch_size) {
    host.check_cancelled();
    host.progress(static_cast<uint64_t>(start), static_cast<uint64_t>(n), "predicting");
    const int64_t len = std::min(batch_size, n - start);
    Tensor batch = Tensor::zeros<float>({len, h, w, ch});
    float* x = batch.data<float>();
    for (int64_t k = 0; k < len * px; ++k)
      x[k] = u8 ? static_cast<float>(u8[start * px + k]) : static_cast<float>(images.at(start * px + k));
    const Tensor out = model.predict(batch);
    const TensorView v = out.view();
    check_output(v, len, c);
    for (int64_t k = 0; k < len * c; ++k) probs[static_cast<size_t>(start * c + k)] = v.at(k);
  }
  return probs;
}

}  // namespace

void EvalPredict::process(Context& ctx) {
  const Host& host = ctx.host();
  const ModelRef model = ctx.model(kModel);
  if (!model.can(MIEN_CAP_PREDICT)) throw Error(std::string(kId) + ": the model offers no predict");
  const Json info = model.info();
  const std::string type_id = info.value("type_id", std::string("model"));
  const std::string input = info.value("input", std::string("features"));
  const std::vector<std::string> classes = string_list(info, "classes");
  if (classes.empty()) throw Error(std::string(kId) + ": the model names no classes");
  const auto c = static_cast<int64_t>(classes.size());

  const TableView table = ctx.table(kTable);
  const int64_t n = table.num_rows();
  std::vector<double> probs;
  int64_t features_used = 0;
  if (input == "image") {
    if (!ctx.connected(kImages))
      throw Error(std::string(kId) + ": " + type_id +
                  " takes images: connect them to 'images' (e.g. images: test_faces.images) beside the "
                  "row-aligned sample table on 'table' (test_faces.table)");
    const TensorView images = ctx.tensor(kImages);
    if (images.valid() && images.ndim() >= 1 && images.dim(0) != n)
      throw Error(std::string(kId) + ": 'images' holds " + std::to_string(images.dim(0)) + " images but 'table' has " +
                  std::to_string(n) + " rows; connect the table that travels with the images (the same node's table)");
    probs = predict_images(host, model, info, images, c, batch_size_);
  } else if (input == "features") {
    if (ctx.connected(kImages))
      throw Error(std::string(kId) + ": " + type_id +
                  " takes features from 'table'; 'images' is for image models (model.cnn, model.faceapi_expression, "
                  "model.torchscript): disconnect it");
    probs = predict_features(host, model, info, table, c, batch_size_, &features_used);
  } else {
    throw Error(std::string(kId) + ": " + type_id + " takes \"" + input +
                "\" input; eval.predict runs models taking \"features\" or \"image\" (plugins/CONVENTIONS.md)");
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
  Json meta{{"classes", classes}, {"model", type_id}, {"input", input}};
  if (input == "features") meta["features"] = features_used;
  // face-api's as_shipped / fine_tune, and the epoch a trained model kept, for comparisons
  for (const char* key : {"mode", "best_epoch", "epochs_run"})
    if (info.contains(key)) meta[key] = info[key];
  out.meta(std::move(meta));

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
