// model.mlp: parameters, input checks, the validation hold-out, the artifact folder and
// the model side. The network itself is in mlp_core.cpp (the one LibTorch unit).
#include "model_mlp.hpp"

#include <mien/random.hpp>
#include <mien/text.hpp>
#include <mien_training/training_curve.hpp>
#include <mien_training/validation_groups.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>

namespace mien::models {

namespace fs = std::filesystem;

namespace {

constexpr const char* kId = "model.mlp";
constexpr int64_t kInferenceBatch = 4096;  // rows per forward pass in predict / input_gradient

std::string arch_text(const MlpArch& a) {
  std::string out = std::to_string(a.inputs);
  for (int64_t h : a.hidden) out += "-" + std::to_string(h);
  return out + "-" + std::to_string(a.outputs);
}


// The class names of a LABEL column: its categories, else "0" .. max code.
std::vector<std::string> class_names(const ColumnView& label, int64_t rows) {
  std::vector<std::string> names = label.categories();
  if (!names.empty()) return names;
  int64_t max_code = -1;
  for (int64_t i = 0; i < rows; ++i) max_code = std::max(max_code, label.code(i));
  for (int64_t k = 0; k <= max_code; ++k) names.push_back(std::to_string(k));
  return names;
}

std::string row_name(const TableView& t, int64_t row) {
  const auto ids = t.with_role(MIEN_ROLE_ID);
  std::string s = "row " + std::to_string(row + 1);
  if (!ids.empty()) s += " (id " + ids.front().text(row) + ")";
  return s;
}

// Features (in `names` order) and class codes (mapped onto `classes` by name) of the
// labelled rows of a table. Errors name the table, the column and the row.
struct Rows {
  Matrix x;
  std::vector<int64_t> y;
  std::vector<int64_t> table_rows;  // the table row of each labelled row
  int64_t unlabelled = 0;
};

Rows read_rows(const TableView& t, const std::string& which, const std::vector<std::string>& names,
               const std::vector<std::string>& classes) {
  const auto label = t.label();
  if (!label) throw Error(std::string(kId) + ": the " + which + " table has no LABEL column");
  const int64_t n = t.num_rows();
  const std::vector<std::string> table_classes = class_names(*label, n);
  std::vector<int64_t> code_map(table_classes.size(), -1);
  for (size_t k = 0; k < table_classes.size(); ++k) {
    auto it = std::find(classes.begin(), classes.end(), table_classes[k]);
    if (it != classes.end()) code_map[k] = it - classes.begin();
  }
  std::vector<ColumnView> cols;
  std::vector<std::string> missing;
  for (const auto& name : names) {
    auto c = t.find(name);
    if (!c || c->role() != MIEN_ROLE_FEATURE) missing.push_back(name);
    else cols.push_back(*c);
  }
  if (!missing.empty())
    throw Error(std::string(kId) + ": the " + which + " table lacks feature column(s) of train: " + join(missing, ", ", 12));

  std::vector<int64_t> keep;
  Rows r;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t code = label->code(i);
    if (code < 0) {
      ++r.unlabelled;
      continue;
    }
    if (code >= static_cast<int64_t>(code_map.size()))
      throw Error(std::string(kId) + ": the LABEL of " + which + " " + row_name(t, i) + " has code " +
                  std::to_string(code) + " outside its " + std::to_string(code_map.size()) + " categories");
    if (code_map[static_cast<size_t>(code)] < 0)
      throw Error(std::string(kId) + ": class '" + table_classes[static_cast<size_t>(code)] + "' of " + which +
                  " (" + row_name(t, i) + ") is not among the classes of train (" + join(classes, ", ", 12) + ")");
    keep.push_back(i);
    r.y.push_back(code_map[static_cast<size_t>(code)]);
  }
  r.table_rows = keep;
  const int64_t f = static_cast<int64_t>(cols.size());
  r.x.rows = static_cast<int64_t>(keep.size());
  r.x.cols = f;
  r.x.values.resize(keep.size() * cols.size());
  for (int64_t j = 0; j < f; ++j) {
    const ColumnView& c = cols[static_cast<size_t>(j)];
    for (size_t k = 0; k < keep.size(); ++k) {
      const double v = c.number(keep[k]);
      const float fv = static_cast<float>(v);
      if (!std::isfinite(v) || !std::isfinite(fv))
        throw Error(std::string(kId) + ": feature '" + c.name() + "' of " + which + " is not a finite float32 in " +
                    row_name(t, keep[k]) + " (value " + std::to_string(v) + ")");
      r.x.values[k * static_cast<size_t>(f) + static_cast<size_t>(j)] = fv;
    }
  }
  return r;
}

Rows take(const Rows& src, const std::vector<int64_t>& rows) {
  Rows out;
  out.x.cols = src.x.cols;
  out.x.rows = static_cast<int64_t>(rows.size());
  const auto f = static_cast<size_t>(src.x.cols);
  out.x.values.reserve(rows.size() * f);
  for (int64_t i : rows) {
    const auto b = src.x.values.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(i) * f);
    out.x.values.insert(out.x.values.end(), b, b + static_cast<std::ptrdiff_t>(f));
    out.y.push_back(src.y[static_cast<size_t>(i)]);
    if (!src.table_rows.empty()) out.table_rows.push_back(src.table_rows[static_cast<size_t>(i)]);
  }
  return out;
}

std::vector<int64_t> class_counts(const std::vector<int64_t>& y, size_t classes) {
  std::vector<int64_t> c(classes, 0);
  for (int64_t v : y) ++c[static_cast<size_t>(v)];
  return c;
}

Json read_json_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Error(std::string(kId) + ": cannot read " + p.string(), MIEN_ERR_IO);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return Json::parse(ss.str());
  } catch (const std::exception& e) {
    throw Error(std::string(kId) + ": " + p.string() + " is not valid JSON: " + e.what(), MIEN_ERR_IO);
  }
}

void write_text_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw Error(std::string(kId) + ": cannot write " + p.string(), MIEN_ERR_IO);
}

}  // namespace

// ------------------------------------------------------------------------------------
// The artifact
// ------------------------------------------------------------------------------------
Json MlpArtifact::to_json() const {
  Json j = {{"format", kArtifactFormat},
            {"format_version", kArtifactVersion},
            {"type_id", kId},
            {"inputs", arch.inputs},
            {"hidden", arch.hidden},
            {"dropout", arch.dropout},
            {"outputs", arch.outputs},
            {"activation", "relu"},
            {"feature_names", feature_names},
            {"classes", classes},
            {"standardize", standardize},
            {"weights", kArtifactWeights},
            {"training", training}};
  if (standardize) {
    j["mean"] = mean;
    j["std"] = std;
  }
  return j;
}

MlpArtifact MlpArtifact::from_json(const Json& j, const std::string& where) {
  auto bad = [&](const std::string& what) {
    return Error(std::string(kId) + ": " + where + ": " + what, MIEN_ERR_IO);
  };
  if (!j.is_object() || j.value("format", std::string()) != kArtifactFormat)
    throw bad(std::string("not a model.mlp artifact (no \"format\": \"") + kArtifactFormat + "\")");
  if (j.value("format_version", 0) != kArtifactVersion)
    throw bad("format_version " + j.value("format_version", Json()).dump() + " is not supported (expected " +
              std::to_string(kArtifactVersion) + ")");
  MlpArtifact a;
  try {
    a.arch.inputs = j.at("inputs").get<int64_t>();
    a.arch.hidden = j.at("hidden").get<std::vector<int64_t>>();
    a.arch.dropout = j.at("dropout").get<std::vector<double>>();
    a.arch.outputs = j.at("outputs").get<int64_t>();
    a.feature_names = j.at("feature_names").get<std::vector<std::string>>();
    a.classes = j.at("classes").get<std::vector<std::string>>();
    a.standardize = j.at("standardize").get<bool>();
    if (a.standardize) {
      a.mean = j.at("mean").get<std::vector<double>>();
      a.std = j.at("std").get<std::vector<double>>();
    }
    if (j.contains("training")) a.training = j.at("training");
  } catch (const std::exception& e) {
    throw bad(std::string("a field is missing or of the wrong type: ") + e.what());
  }
  if (a.arch.inputs < 1 || a.arch.outputs < 1) throw bad("'inputs' and 'outputs' must be at least 1");
  for (int64_t h : a.arch.hidden)
    if (h < 1) throw bad("'hidden' must hold positive unit counts");
  if (a.arch.dropout.size() != a.arch.hidden.size()) throw bad("'dropout' needs one rate per hidden layer");
  if (static_cast<int64_t>(a.feature_names.size()) != a.arch.inputs)
    throw bad("'feature_names' has " + std::to_string(a.feature_names.size()) + " names but 'inputs' is " +
              std::to_string(a.arch.inputs));
  if (static_cast<int64_t>(a.classes.size()) != a.arch.outputs)
    throw bad("'classes' has " + std::to_string(a.classes.size()) + " names but 'outputs' is " +
              std::to_string(a.arch.outputs));
  if (a.standardize && (static_cast<int64_t>(a.mean.size()) != a.arch.inputs ||
                        static_cast<int64_t>(a.std.size()) != a.arch.inputs))
    throw bad("'mean' and 'std' need one value per feature");
  return a;
}

MlpArtifact read_artifact_json(const std::string& dir) {
  const fs::path p = fs::path(dir) / kArtifactJson;
  if (!fs::is_regular_file(p))
    throw Error(std::string(kId) + ": " + dir + " is not a model.mlp artifact folder (no " + kArtifactJson + ")",
                MIEN_ERR_IO);
  if (!fs::is_regular_file(fs::path(dir) / kArtifactWeights))
    throw Error(std::string(kId) + ": " + dir + " has no " + kArtifactWeights, MIEN_ERR_IO);
  return MlpArtifact::from_json(read_json_file(p), p.string());
}

LoadedMlp load_artifact(const std::string& dir) {
  LoadedMlp out;
  out.dir = dir;
  out.artifact = read_artifact_json(dir);
  out.net = std::make_unique<MlpNet>(out.artifact.arch, 0);
  if (out.artifact.standardize) out.net->set_standardization(out.artifact.mean, out.artifact.std);
  const std::string weights = (fs::path(dir) / kArtifactWeights).string();
  try {
    out.net->load_weights(weights);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(std::string(kId) + ": " + weights + ": " + e.what(), MIEN_ERR_IO);
  }
  return out;
}

void write_artifact(const std::string& dir, const MlpArtifact& artifact, const MlpNet& net) {
  fs::create_directories(dir);
  try {
    net.save_weights((fs::path(dir) / kArtifactWeights).string());
  } catch (const std::exception& e) {
    throw Error(std::string(kId) + ": cannot write the weights into " + dir + ": " + e.what(), MIEN_ERR_IO);
  }
  write_text_file(fs::path(dir) / kArtifactJson, artifact.to_json().dump(1) + "\n");
}

// ------------------------------------------------------------------------------------
// The model side
// ------------------------------------------------------------------------------------
MlpModel::MlpModel(LoadedMlp loaded) : loaded_(std::move(loaded)) {}

Json MlpModel::layers(const MlpNet& net) {
  const MlpArch& a = net.arch();
  Json layers = Json::array();
  if (net.standardized()) layers.push_back({{"op", "affine"}, {"scale", net.scale()}, {"shift", net.shift()}});
  int64_t in = a.inputs;
  for (size_t k = 0; k <= a.hidden.size(); ++k) {
    const int64_t out = k < a.hidden.size() ? a.hidden[k] : a.outputs;
    layers.push_back(
        {{"op", "linear"}, {"in", in}, {"out", out}, {"weight", net.weight(k)}, {"bias", net.bias(k)}});
    if (k < a.hidden.size()) {
      layers.push_back({{"op", "relu"}});
      if (a.dropout[k] > 0) layers.push_back({{"op", "dropout"}, {"p", a.dropout[k]}});
    }
    in = out;
  }
  layers.push_back({{"op", "softmax"}});
  return layers;
}

Json MlpModel::info() const {
  const MlpArtifact& a = loaded_.artifact;
  return {{"type_id", kId},
          {"input", "features"},
          {"input_shape", {a.arch.inputs}},
          {"feature_names", a.feature_names},
          {"classes", a.classes},
          {"score", "logit"},
          {"architecture", {{"hidden", a.arch.hidden}, {"dropout", a.arch.dropout}, {"activation", "relu"}}},
          {"standardized", a.standardize},
          {"randomized", a.training.value("randomized", Json())},
          {"artifact_dir", loaded_.dir},  // lets a model.mlp node copy it (input `source`)
          {"layers", layers(*loaded_.net)}};
}

std::vector<float> MlpModel::checked_input(const TensorView& input, int64_t& rows) const {
  const int64_t f = loaded_.artifact.arch.inputs;
  if (!input.valid() || input.ndim() != 2 || input.dim(1) != f ||
      (input.dtype() != MIEN_DTYPE_F32 && input.dtype() != MIEN_DTYPE_F64))
    throw Error(std::string(kId) + ": the input must be float32 [N, " + std::to_string(f) + "] (features " +
                join(loaded_.artifact.feature_names, ", ", 4) + "), got " +
                (input.valid() ? std::string(dtype_name(input.dtype())) + " " + shape_text(input.shape())
                               : std::string("no tensor")));
  rows = input.dim(0);
  std::vector<float> x = input.to_vector<float>();
  for (size_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x[i]))
      throw Error(std::string(kId) + ": input row " + std::to_string(i / static_cast<size_t>(f)) + ", feature '" +
                  loaded_.artifact.feature_names[i % static_cast<size_t>(f)] + "' is not finite");
  return x;
}

Tensor MlpModel::predict(const TensorView& input, const Host& host) {
  int64_t rows = 0;
  const std::vector<float> x = checked_input(input, rows);
  const int64_t f = loaded_.artifact.arch.inputs, c = loaded_.artifact.arch.outputs;
  Tensor out = Tensor::zeros<float>({rows, c});
  float* dst = out.data<float>();
  for (int64_t start = 0; start < rows; start += kInferenceBatch) {
    host.check_cancelled();
    const int64_t len = std::min(kInferenceBatch, rows - start);
    const std::vector<float> p = loaded_.net->predict(x.data() + start * f, len);
    std::copy(p.begin(), p.end(), dst + start * c);
  }
  return out;
}

std::pair<Tensor, Tensor> MlpModel::input_gradient(const TensorView& input, const std::vector<int64_t>& classes,
                                                   const Host& host) {
  int64_t rows = 0;
  const std::vector<float> x = checked_input(input, rows);
  const int64_t f = loaded_.artifact.arch.inputs, c = loaded_.artifact.arch.outputs;
  if (static_cast<int64_t>(classes.size()) != rows)
    throw Error(std::string(kId) + ": input_gradient needs one class per row");
  for (size_t i = 0; i < classes.size(); ++i)
    if (classes[i] < 0 || classes[i] >= c)
      throw Error(std::string(kId) + ": input_gradient: class " + std::to_string(classes[i]) + " of row " +
                  std::to_string(i) + " is outside 0.." + std::to_string(c - 1));
  Tensor grad = Tensor::zeros<float>({rows, f});
  Tensor scores = Tensor::zeros<float>({rows});
  std::vector<float> g, s;
  for (int64_t start = 0; start < rows; start += kInferenceBatch) {
    host.check_cancelled();
    const int64_t len = std::min(kInferenceBatch, rows - start);
    loaded_.net->input_gradient(x.data() + start * f, len, classes.data() + start, g, s);
    std::copy(g.begin(), g.end(), grad.data<float>() + start * f);
    std::copy(s.begin(), s.end(), scores.data<float>() + start);
  }
  return {std::move(grad), std::move(scores)};
}

// ------------------------------------------------------------------------------------
// The component
// ------------------------------------------------------------------------------------
ComponentInfo ModelMlp::info() {
  return ComponentInfo(kId, 2, MIEN_KIND_MODEL,
                       "Multilayer perceptron on feature tables (the paper's geometric-feature DNN), with "
                       "standardisation inside the model")
      .params(kHidden, kDropout, kL2, kOptimizer, kLearningRate, kMomentum, kBatchSize, kEpochs, kPatience, kMonitor,
              kRestoreBest, kValidationSplit, kValidationGroup, kClassWeights, kStandardize, kLoad, kRandomize, kRandomizeLayers)
      .ports(kTrain, kValidation, kSource, kModel, kCurve)
      .model_capabilities(kCapabilities);
}

ModelMlp::ModelMlp(const Setup& s) {
  const Params& p = s.params();
  const std::string pre = std::string(kId) + ": parameter ";
  arch_.hidden = kHidden.read(p);
  for (int64_t h : arch_.hidden)
    if (h < 1) throw Error(pre + "'hidden' must list positive unit counts, got " + Json(arch_.hidden).dump());

  arch_.dropout = kDropout.read(p);
  if (arch_.dropout.empty()) arch_.dropout.assign(arch_.hidden.size(), 0.0);
  if (arch_.dropout.size() != arch_.hidden.size())
    throw Error(pre + "'dropout' has " + std::to_string(arch_.dropout.size()) + " rate(s) but 'hidden' has " +
                std::to_string(arch_.hidden.size()) + " layer(s); give one rate per hidden layer (0 = none), e.g. " +
                Json(std::vector<double>(arch_.hidden.size(), 0.0)).dump());
  for (double d : arch_.dropout)
    if (!(d >= 0 && d < 1)) throw Error(pre + "'dropout' rates must be in [0, 1), got " + Json(arch_.dropout).dump());

  const size_t layers = arch_.hidden.size() + 1;
  const Json l2 = kL2.read(p);
  options_.l2.assign(layers, 0.0);
  if (l2.is_number()) {
    const double v = l2.get<double>();
    if (!(v >= 0) || !std::isfinite(v)) throw Error(pre + "'l2' must be a finite number >= 0, got " + l2.dump());
    for (size_t k = 0; k + 1 < layers; ++k) options_.l2[k] = v;
    if (layers == 1) options_.l2[0] = v;  // no hidden layer: the output layer
  } else if (l2.is_array()) {
    if (l2.size() != layers - 1 && l2.size() != layers)
      throw Error(pre + "'l2' has " + std::to_string(l2.size()) + " values; give one number, or one per hidden layer (" +
                  std::to_string(layers - 1) + ") optionally followed by one for the output layer");
    for (size_t k = 0; k < l2.size(); ++k) {
      if (!l2[k].is_number() || !(l2[k].get<double>() >= 0) || !std::isfinite(l2[k].get<double>()))
        throw Error(pre + "'l2' values must be finite numbers >= 0, got " + l2.dump());
      options_.l2[k] = l2[k].get<double>();
    }
  } else {
    throw Error(pre + "'l2' must be a number or a list of numbers, got " + l2.dump());
  }

  options_.optimizer = kOptimizer.read(p);
  options_.learning_rate = kLearningRate.read(p);
  if (!(options_.learning_rate > 0) || !std::isfinite(options_.learning_rate))
    throw Error(pre + "'learning_rate' must be > 0, got " + std::to_string(options_.learning_rate));
  options_.momentum = kMomentum.read(p);
  if (!(options_.momentum >= 0 && options_.momentum < 1))
    throw Error(pre + "'momentum' must be in [0, 1), got " + std::to_string(options_.momentum));
  options_.batch_size = kBatchSize.read(p);
  options_.epochs = kEpochs.read(p);
  options_.patience = kPatience.read(p);
  if (options_.batch_size < 1 || options_.epochs < 1 || options_.patience < 0)
    throw Error(pre + "'batch_size' and 'epochs' must be >= 1 and 'patience' >= 0");
  options_.monitor = kMonitor.read(p);
  options_.restore_best = kRestoreBest.read(p);
  options_.seed = s.seed();
  validation_split_ = kValidationSplit.read(p);
  validation_group_ = kValidationGroup.read(p);
  if (!(validation_split_ >= 0 && validation_split_ <= 0.9))
    throw Error(pre + "'validation_split' must be in [0, 0.9], got " + std::to_string(validation_split_));
  balanced_ = kClassWeights.read(p) == "balanced";
  standardize_ = kStandardize.read(p);
  threads_ = s.num_threads();
  seed_ = s.seed();
  randomize_ = kRandomize.read(p);
  randomize_layers_ = kRandomizeLayers.read(p);
  if (randomize_layers_ < 1) throw Error(pre + "'randomize_layers' must be >= 1, got " + std::to_string(randomize_layers_));

  load_display_ = kLoad.read(p);
  if (!load_display_.empty()) {
    load_ = s.resolve_path(load_display_);
    if (!fs::is_directory(load_))
      throw Error(pre + "'load': " + load_display_ + " is not a folder (expected the artifact folder of a model.mlp "
                  "node, holding mlp.json and weights.pt)",
                  MIEN_ERR_IO);
    (void)read_artifact_json(load_);  // every problem with it shows now, before anything runs
  }
}

void ModelMlp::process_load(Context& ctx) {
  const Host& host = ctx.host();
  if (ctx.connected(kTrain)) host.warn(std::string(kId) + ": 'load' is set, so the connected train table is ignored");
  set_compute_threads(static_cast<int>(threads_));
  LoadedMlp loaded = load_artifact(load_);  // reads the weights too: a broken file fails here
  const std::string dir = ctx.output_dir(kModel);
  if (randomize_ == "none") {
    for (const char* name : {kArtifactJson, kArtifactWeights})
      fs::copy_file(fs::path(load_) / name, fs::path(dir) / name, fs::copy_options::overwrite_existing);
  } else {
    randomize(*loaded.net, loaded.artifact, host);
    write_artifact(dir, loaded.artifact, *loaded.net);
  }
  const MlpArtifact& a = loaded.artifact;
  host.info(std::string(kId) + ": loaded " + arch_text(a.arch) + " from " + load_display_);
  ctx.set(kCurve, training::training_curve_table(a.training.value("history", Json::array())));
  ctx.set_model(kModel, {{"type_id", kId},
                         {"architecture", arch_text(a.arch)},
                         {"feature_names", a.feature_names},
                         {"classes", a.classes},
                         {"loaded_from", load_},
                         {"best_epoch", a.training.value("best_epoch", Json())}});
}

void ModelMlp::randomize(MlpNet& net, MlpArtifact& artifact, const Host& host) const {
  if (randomize_ == "none") return;
  const auto L = static_cast<int64_t>(net.num_linear_layers());
  if (randomize_ == "cascade" && randomize_layers_ > L)
    throw Error(std::string(kId) + ": parameter 'randomize_layers' is " + std::to_string(randomize_layers_) +
                " but the network " + arch_text(net.arch()) + " has " + std::to_string(L) +
                " linear layers; use 1.." + std::to_string(L) + " (or randomize: all)");
  const int64_t n = randomize_ == "all" ? L : randomize_layers_;
  net.reinitialize(static_cast<size_t>(n), seed_);
  Json layers = Json::array();
  for (int64_t k = L - n; k < L; ++k) layers.push_back(k == L - 1 ? "output" : "hidden" + std::to_string(k + 1));
  artifact.training["randomized"] = {{"mode", randomize_}, {"layers", layers}, {"seed", seed_},
                                     {"init", "Glorot-uniform kernels, zero biases"}};
  host.info(std::string(kId) + ": randomised (" + randomize_ + ") linear layer(s) " + layers.dump());
}

void ModelMlp::process_source(Context& ctx) {
  const Host& host = ctx.host();
  if (randomize_ == "none")
    throw Error(std::string(kId) + ": input 'source' is connected but parameter 'randomize' is none; set randomize: "
                "all or cascade (a plain copy of a model needs no node)");
  if (ctx.connected(kTrain) || !load_.empty())
    host.warn(std::string(kId) + ": input 'source' is connected, so 'train' and 'load' are ignored");
  const Json info = ctx.model(kSource).info();
  if (info.value("type_id", std::string()) != kId || !info.contains("artifact_dir"))
    throw Error(std::string(kId) + ": input 'source' must be the model of a model.mlp node, got " +
                info.value("type_id", std::string("a model without type_id")) +
                "; randomise other models with their own component's randomize parameter");
  set_compute_threads(static_cast<int>(threads_));
  LoadedMlp loaded = load_artifact(info.at("artifact_dir").get<std::string>());
  randomize(*loaded.net, loaded.artifact, host);
  write_artifact(ctx.output_dir(kModel), loaded.artifact, *loaded.net);
  const MlpArtifact& a = loaded.artifact;
  ctx.set(kCurve, training::training_curve_table(a.training.value("history", Json::array())));
  ctx.set_model(kModel, {{"type_id", kId},
                         {"architecture", arch_text(a.arch)},
                         {"feature_names", a.feature_names},
                         {"classes", a.classes},
                         {"randomized", a.training["randomized"]}});
}

void ModelMlp::process(Context& ctx) {
  if (ctx.connected(kSource)) return process_source(ctx);
  if (!load_.empty()) return process_load(ctx);
  const Host& host = ctx.host();
  if (!ctx.connected(kTrain))
    throw Error(std::string(kId) + ": input 'train' is not connected and 'load' is empty: connect a training table "
                "or set 'load' to the artifact folder of a trained model");

  // ---- the training table ----
  const TableView train = ctx.table(kTrain);
  const std::vector<std::string> features = train.feature_names();
  if (features.empty()) throw Error(std::string(kId) + ": the train table has no FEATURE columns");
  const auto label = train.label();
  if (!label) throw Error(std::string(kId) + ": the train table has no LABEL column");
  const std::vector<std::string> classes = class_names(*label, train.num_rows());
  if (classes.empty()) throw Error(std::string(kId) + ": the train table has no labelled rows");
  Rows all = read_rows(train, "train", features, classes);
  if (all.unlabelled > 0)
    host.warn(std::string(kId) + ": " + std::to_string(all.unlabelled) + " train row(s) without a label are skipped");
  const size_t C = classes.size();
  if (all.x.rows < static_cast<int64_t>(C))
    throw Error(std::string(kId) + ": train has " + std::to_string(all.x.rows) + " labelled row(s) but " +
                std::to_string(C) + " classes (" + join(classes, ", ", 12) + "); every class needs at least one row");
  const std::vector<int64_t> all_counts = class_counts(all.y, C);
  std::vector<std::string> empty_classes;
  for (size_t k = 0; k < C; ++k)
    if (all_counts[k] == 0) empty_classes.push_back(classes[k]);

  // ---- validation: the connected table, whole people (validation_group) or a stratified hold-out ----
  Rows fit, val;
  bool have_val = false;
  std::string group_column;                  // "" = rows
  std::vector<std::string> validation_people;
  if (ctx.connected(kValidation)) {
    fit = std::move(all);
    val = read_rows(ctx.table(kValidation), "validation", features, classes);
    if (val.unlabelled > 0)
      host.warn(std::string(kId) + ": " + std::to_string(val.unlabelled) +
                " validation row(s) without a label are skipped");
    const auto vc = class_counts(val.y, C);
    for (size_t k = 0; k < C; ++k)
      if (vc[k] > 0 && all_counts[k] == 0)
        throw Error(std::string(kId) + ": class '" + classes[k] + "' appears in validation but has no rows in train");
    have_val = val.x.rows > 0;
    if (!have_val) host.warn(std::string(kId) + ": the validation table has no labelled rows; no early stopping");
  } else if (validation_split_ > 0 && !(group_column = training::validation_group_column(train, validation_group_, kId)).empty()) {
    // Whole people to validation (validation_group), so early stopping and the best epoch
    // are judged on faces the training never saw.
    const ColumnView gcol = *train.find(group_column);
    std::vector<std::string> group_of;
    for (int64_t r : all.table_rows) group_of.push_back(gcol.text(r));
    const training::GroupHoldOut h = training::hold_out_groups(group_of, validation_split_, options_.seed);
    have_val = !h.val.empty();
    if (have_val) {
      host.info(std::string(kId) + ": " + training::describe_hold_out(h, group_column));
      validation_people = h.val_groups;
    } else {
      host.warn(std::string(kId) + ": train has " + std::to_string(h.groups) + " person (" + group_column +
                "); validation by person needs two or more, so there is no early stopping");
    }
    fit = take(all, h.fit);
    val = take(all, h.val);
  } else if (validation_split_ > 0) {
    Rng rng(options_.seed ^ 0x9e3779b97f4a7c15ULL);
    std::vector<std::vector<int64_t>> by_class(C);
    for (int64_t i = 0; i < all.x.rows; ++i) by_class[static_cast<size_t>(all.y[static_cast<size_t>(i)])].push_back(i);
    std::vector<int64_t> fit_rows, val_rows;
    for (auto& rows : by_class) {
      rng.shuffle(rows);
      // At least one row of every class stays in train.
      auto take_n = static_cast<size_t>(std::llround(validation_split_ * static_cast<double>(rows.size())));
      if (!rows.empty()) take_n = std::min(take_n, rows.size() - 1);
      val_rows.insert(val_rows.end(), rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(take_n));
      fit_rows.insert(fit_rows.end(), rows.begin() + static_cast<std::ptrdiff_t>(take_n), rows.end());
    }
    std::sort(fit_rows.begin(), fit_rows.end());
    std::sort(val_rows.begin(), val_rows.end());
    have_val = !val_rows.empty();
    if (!have_val) host.warn(std::string(kId) + ": train is too small to hold out validation rows; no early stopping");
    fit = take(all, fit_rows);
    val = take(all, val_rows);
  } else {
    fit = std::move(all);
  }
  if (!empty_classes.empty())
    host.warn(std::string(kId) + ": class(es) " + join(empty_classes, ", ", 12) +
              " of the label have no train rows; the model can never learn them");
  if (!have_val && options_.patience > 0)
    host.info(std::string(kId) + ": no validation rows, so every epoch runs (patience is not used)");

  // ---- standardisation, class weights ----
  arch_.inputs = static_cast<int64_t>(features.size());
  arch_.outputs = static_cast<int64_t>(C);
  MlpArtifact artifact;
  artifact.arch = arch_;
  artifact.feature_names = features;
  artifact.classes = classes;
  artifact.standardize = standardize_;
  std::vector<std::string> constant;
  if (standardize_) {
    const auto f = static_cast<size_t>(fit.x.cols);
    artifact.mean.assign(f, 0.0);
    artifact.std.assign(f, 0.0);
    const auto n = static_cast<double>(fit.x.rows);
    for (size_t i = 0; i < static_cast<size_t>(fit.x.rows); ++i)
      for (size_t j = 0; j < f; ++j) artifact.mean[j] += fit.x.values[i * f + j];
    for (double& m : artifact.mean) m /= n;
    for (size_t i = 0; i < static_cast<size_t>(fit.x.rows); ++i)
      for (size_t j = 0; j < f; ++j) {
        const double d = fit.x.values[i * f + j] - artifact.mean[j];
        artifact.std[j] += d * d;
      }
    for (size_t j = 0; j < f; ++j) {
      artifact.std[j] = std::sqrt(artifact.std[j] / n);
      if (!(artifact.std[j] > 0)) {
        artifact.std[j] = 1.0;
        constant.push_back(features[j]);
      }
    }
    if (!constant.empty())
      host.warn(std::string(kId) + ": feature(s) " + join(constant, ", ", 12) + " are constant in train; their std is set to 1");
  }
  TrainOptions options = options_;
  const auto fit_counts = class_counts(fit.y, C);
  if (balanced_) {
    size_t present = 0;
    for (int64_t c : fit_counts) present += c > 0 ? 1 : 0;
    options.class_weights.assign(C, 0.0);
    for (size_t k = 0; k < C; ++k)
      if (fit_counts[k] > 0)
        options.class_weights[k] =
            static_cast<double>(fit.x.rows) / (static_cast<double>(present) * static_cast<double>(fit_counts[k]));
  }

  // ---- training ----
  set_compute_threads(static_cast<int>(threads_));
  MlpNet net(arch_, options.seed);
  if (standardize_) net.set_standardization(artifact.mean, artifact.std);
  host.info(std::string(kId) + ": training " + arch_text(arch_) + " on " + std::to_string(fit.x.rows) + " rows (" +
            std::to_string(have_val ? val.x.rows : 0) + " validation), " + options.optimizer + " lr " +
            Json(options.learning_rate).dump() + ", batch " + std::to_string(options.batch_size) + ", up to " +
            std::to_string(options.epochs) + " epochs, " + std::to_string(threads_) + " thread(s)");
  TrainHooks hooks;
  hooks.between_batches = [&] { host.check_cancelled(); };
  hooks.on_epoch = [&](const EpochRecord& r) {
    std::ostringstream note;
    note.precision(4);
    note << "epoch " << r.epoch << " loss " << r.train_loss;
    if (have_val) note << " val_loss " << r.val_loss << " val_acc " << r.val_accuracy;
    const std::string text = note.str();
    host.progress(static_cast<uint64_t>(r.epoch), static_cast<uint64_t>(options.epochs), text.c_str());
    if (r.epoch == 1 || r.epoch % 10 == 0) host.info(std::string(kId) + ": " + text);
    else host.debug(std::string(kId) + ": " + text);
  };
  const TrainReport report =
      net.train(fit.x, fit.y, have_val ? &val.x : nullptr, have_val ? &val.y : nullptr, options, hooks);

  const EpochRecord& last = report.history.back();
  const EpochRecord& best = report.history[static_cast<size_t>(report.best_epoch - 1)];
  {
    std::ostringstream msg;
    msg.precision(4);
    msg << kId << ": " << report.history.size() << " epoch(s)" << (report.stopped_early ? " (early stop)" : "")
        << ", final train loss " << last.train_loss;
    if (have_val) msg << ", keeping epoch " << report.best_epoch << ": val_loss " << best.val_loss << ", val_accuracy "
                      << best.val_accuracy;
    host.info(msg.str());
  }

  Json history = Json::array();
  for (const auto& r : report.history)
    history.push_back({{"epoch", r.epoch},
                       {"train_loss", training::number_or_null(r.train_loss)},
                       {"train_accuracy", training::number_or_null(r.train_accuracy)},
                       {"val_loss", training::number_or_null(r.val_loss)},
                       {"val_accuracy", training::number_or_null(r.val_accuracy)}});
  artifact.training = {{"optimizer", options.optimizer},
                       {"learning_rate", options.learning_rate},
                       {"momentum", options.momentum},
                       {"batch_size", options.batch_size},
                       {"epochs", options.epochs},
                       {"patience", options.patience},
                       {"monitor", options.monitor},
                       {"restore_best", options.restore_best},
                       {"l2", options.l2},
                       {"class_weights", options.class_weights},
                       {"seed", options.seed},
                       {"threads", threads_},
                       {"train_rows", fit.x.rows},
                       {"train_class_counts", fit_counts},
                       {"validation_rows", have_val ? val.x.rows : 0},
                       {"validation", ctx.connected(kValidation) ? "table" : have_val ? "split" : "none"},
                       {"validation_group", ctx.connected(kValidation) ? Json() : group_column.empty() ? Json("rows") : Json(group_column)},
                       {"validation_people", validation_people},
                       {"constant_features", constant},
                       {"epochs_run", report.history.size()},
                       {"stopped_early", report.stopped_early},
                       {"best_epoch", report.best_epoch},
                       {"history", history}};
  randomize(net, artifact, host);

  const std::string dir = ctx.output_dir(kModel);
  write_artifact(dir, artifact, net);
  ctx.set(kCurve, training::training_curve_table(history));
  ctx.set_model(kModel, {{"type_id", kId},
                         {"architecture", arch_text(arch_)},
                         {"feature_names", features},
                         {"classes", classes},
                         {"train_rows", fit.x.rows},
                         {"validation_rows", have_val ? val.x.rows : 0},
                         {"epochs_run", report.history.size()},
                         {"best_epoch", report.best_epoch},
                         {"val_accuracy", have_val ? training::number_or_null(best.val_accuracy) : Json()}});
}

std::unique_ptr<Model> ModelMlp::open(const ModelSetup& setup) {
  set_compute_threads(static_cast<int>(setup.num_threads()));
  return std::make_unique<MlpModel>(load_artifact(setup.artifact_dir()));
}

}  // namespace mien::models
