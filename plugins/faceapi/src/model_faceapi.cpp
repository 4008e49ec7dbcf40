// model.faceapi_expression: parameters, images, the artifact folder and the model side.
// The network itself is in faceapi_net.cpp (the one LibTorch unit).
#include "model_faceapi.hpp"

#include <mien/text.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <cstring>
#include <random>
#include <sstream>

#include "sha256.hpp"
#include "weights_blob.hpp"

namespace mien::faceapi {

namespace fs = std::filesystem;

const std::vector<std::string> kFaceApiClasses = {"neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"};
const std::vector<std::string> kCanonicalNames = {"neutral", "happy", "sad", "anger", "fear", "disgust", "surprise"};
const std::vector<std::string> kCanonicalOrder = {"fear", "anger", "disgust", "happy", "neutral", "sad", "surprise"};

namespace {

constexpr const char* kId = "model.faceapi_expression";
const std::vector<std::string> kCamLayers = {"block0", "block1", "block2", "block3"};
const int64_t kLayerSide[kBlocks] = {56, 28, 14, 7};
const int64_t kLayerChannels[kBlocks] = {32, 64, 128, 256};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Error(std::string(kId) + ": cannot read " + p.string(), MIEN_ERR_IO);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.close();
  if (!out) throw Error(std::string(kId) + ": cannot write " + p.string(), MIEN_ERR_IO);
}

// Index of a class name among face-api's outputs (canonical or face-api spelling), or -1.
int64_t shipped_row(const std::string& name) {
  for (size_t k = 0; k < kCanonicalNames.size(); ++k)
    if (name == kCanonicalNames[k] || name == kFaceApiClasses[k]) return static_cast<int64_t>(k);
  return -1;
}

std::string canonical(const std::string& name) {
  const int64_t r = shipped_row(name);
  return r < 0 ? name : kCanonicalNames[static_cast<size_t>(r)];
}

// Images -> float pixels, RGB (or gray), [n,h,w,c]. BGR is swapped to RGB.
struct Pixels {
  std::vector<float> values;
  Batch batch;
};

// Checks an IMAGE / input tensor and returns its [n, h, w, c] shape.
std::vector<int64_t> image_shape(const TensorView& t, const std::string& what) {
  if (!t.valid() || (t.ndim() != 4 && t.ndim() != 3) ||
      (t.dtype() != MIEN_DTYPE_U8 && t.dtype() != MIEN_DTYPE_F32 && t.dtype() != MIEN_DTYPE_F64))
    throw Error(std::string(kId) + ": " + what + " must be uint8 or float32 images [N, H, W, C] (C = 1 or 3), got " +
                (t.valid() ? std::string(dtype_name(t.dtype())) + " " + shape_text(t.shape()) : std::string("nothing")));
  std::vector<int64_t> s = t.shape();
  if (s.size() == 3) s.insert(s.begin(), 1);
  if (s[3] != 1 && s[3] != 3)
    throw Error(std::string(kId) + ": " + what + " must have 1 (gray) or 3 (RGB) channels, got shape " + shape_text(t.shape()));
  if (s[1] < 1 || s[2] < 1) throw Error(std::string(kId) + ": " + what + " has an empty image size " + shape_text(t.shape()));
  return s;
}

// Images `rows` of t (all when empty) as float pixels, RGB (BGR swapped) or gray.
Pixels to_pixels(const TensorView& t, mien_pixel_format format, const std::string& what,
                 const std::vector<int64_t>* rows = nullptr) {
  const std::vector<int64_t> s = image_shape(t, what);
  const int64_t per = s[1] * s[2] * s[3];
  const int64_t n = rows ? static_cast<int64_t>(rows->size()) : s[0];
  Pixels p;
  p.values.resize(static_cast<size_t>(n * per));
  const uint8_t* u8 = t.data_if<uint8_t>();
  const float* f32 = t.data_if<float>();
  for (int64_t k = 0; k < n; ++k) {
    const int64_t src = rows ? (*rows)[static_cast<size_t>(k)] : k;
    float* dst = p.values.data() + k * per;
    if (u8) {
      for (int64_t j = 0; j < per; ++j) dst[j] = u8[src * per + j];
    } else if (f32) {
      std::memcpy(dst, f32 + src * per, static_cast<size_t>(per) * sizeof(float));
    } else {
      for (int64_t j = 0; j < per; ++j) dst[j] = static_cast<float>(t.at(src * per + j));
    }
    if (!u8)
      for (int64_t j = 0; j < per; ++j)
        if (!std::isfinite(dst[j]))
          throw Error(std::string(kId) + ": " + what + ": image " + std::to_string(src) + " has a value that is not "
                      "a finite float32 (element " + std::to_string(j) + ")");
    if (format == MIEN_PIXEL_BGR && s[3] == 3)
      for (int64_t j = 0; j + 2 < per; j += 3) std::swap(dst[j], dst[j + 2]);
  }
  p.batch = Batch{p.values.data(), n, s[1], s[2], s[3]};
  return p;
}

std::vector<int64_t> checked_classes(const std::vector<int64_t>& classes, int64_t n, int64_t k, const char* what) {
  if (static_cast<int64_t>(classes.size()) != n)
    throw Error(std::string(kId) + ": " + what + " needs one class per image");
  for (size_t i = 0; i < classes.size(); ++i)
    if (classes[i] < 0 || classes[i] >= k)
      throw Error(std::string(kId) + ": " + what + ": class " + std::to_string(classes[i]) + " of image " +
                  std::to_string(i) + " is outside 0.." + std::to_string(k - 1));
  return classes;
}

Table curve_table(const std::vector<EpochRecord>& h) {
  std::vector<int64_t> epoch;
  std::vector<double> tl, ta, vl, va;
  for (const auto& r : h) {
    epoch.push_back(r.epoch);
    tl.push_back(r.train_loss);
    ta.push_back(r.train_accuracy);
    vl.push_back(r.val_loss);
    va.push_back(r.val_accuracy);
  }
  Table t(static_cast<int64_t>(h.size()));
  t.add_codes("epoch", MIEN_ROLE_VALUE, epoch);
  t.add_numbers("train_loss", MIEN_ROLE_VALUE, tl);
  t.add_numbers("train_accuracy", MIEN_ROLE_VALUE, ta);
  t.add_numbers("val_loss", MIEN_ROLE_VALUE, vl);
  t.add_numbers("val_accuracy", MIEN_ROLE_VALUE, va);
  return t;
}

}  // namespace

void check_weights_file(const std::string& path, const std::string& bytes, uint64_t size, const std::string& sha256) {
  if (bytes.size() != size)
    throw Error(std::string(kId) + ": weights file " + path + " has " + std::to_string(bytes.size()) +
                    " bytes, expected " + std::to_string(size) + " (the file of @vladmandic/face-api 1.7.15, see "
                    "third_party/face-api/README.md)",
                MIEN_ERR_IO);
  const std::string actual = sha256_hex(bytes);
  if (actual != sha256)
    throw Error(std::string(kId) + ": weights file " + path + " has sha256 " + actual + ", expected " + sha256 +
                    " (the file of @vladmandic/face-api 1.7.15, see third_party/face-api/README.md)",
                MIEN_ERR_IO);
}

FaceApiNet shipped_net(const std::vector<std::string>& classes, const std::string& weights_dir,
                       std::vector<int64_t>* head_rows) {
  std::vector<int64_t> rows;
  for (const auto& c : classes) {
    const int64_t r = shipped_row(c);
    if (r < 0)
      throw Error(std::string(kId) + ": parameter 'classes': '" + c + "' is not one of the shipped network's classes (" +
                  join(kCanonicalOrder, ", ", 12) + ")");
    if (std::find(rows.begin(), rows.end(), r) != rows.end())
      throw Error(std::string(kId) + ": parameter 'classes' names '" + c + "' twice");
    rows.push_back(r);
  }
  std::string manifest, bin, where;
  if (weights_dir.empty()) {
    manifest = embedded_manifest();
    bin = embedded_bin();
    where = "the weights built into the plugin";
    check_weights_file(std::string("(built in) ") + kManifestFile, manifest, kManifestSize, kManifestSha256);
    check_weights_file(std::string("(built in) ") + kBinFile, bin, kBinSize, kBinSha256);
  } else {
    const fs::path m = fs::path(weights_dir) / kManifestFile, b = fs::path(weights_dir) / kBinFile;
    for (const auto& p : {m, b})
      if (!fs::is_regular_file(p))
        throw Error(std::string(kId) + ": weights file " + p.string() + " does not exist (expected the face-api.js "
                    "expression model, see third_party/face-api/README.md)",
                    MIEN_ERR_IO);
    manifest = read_file(m);
    bin = read_file(b);
    check_weights_file(m.string(), manifest, kManifestSize, kManifestSha256);
    check_weights_file(b.string(), bin, kBinSize, kBinSha256);
    where = b.string();
  }
  if (head_rows) *head_rows = rows;
  return FaceApiNet::from_manifest(parse_manifest(manifest, bin, where), rows, where);
}

// ------------------------------------------------------------------------------------
// The model side
// ------------------------------------------------------------------------------------
FaceApiModel::FaceApiModel(FaceApiNet net, Json meta) : net_(std::move(net)), meta_(std::move(meta)) {
  classes_ = meta_.at("classes").get<std::vector<std::string>>();
}

std::unique_ptr<FaceApiModel> FaceApiModel::open_dir(const std::string& dir, int threads) {
  set_compute_threads(threads);
  const fs::path jp = fs::path(dir) / kArtifactJson;
  if (!fs::is_regular_file(jp))
    throw Error(std::string(kId) + ": " + dir + " is not a model.faceapi_expression artifact folder (no " +
                    kArtifactJson + ")",
                MIEN_ERR_IO);
  Json meta;
  try {
    meta = Json::parse(read_file(jp));
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(std::string(kId) + ": " + jp.string() + " is not valid JSON: " + e.what(), MIEN_ERR_IO);
  }
  if (!meta.is_object() || meta.value("format", std::string()) != kArtifactFormat ||
      meta.value("format_version", 0) != kArtifactVersion)
    throw Error(std::string(kId) + ": " + jp.string() + " is not a version " + std::to_string(kArtifactVersion) +
                    " " + kArtifactFormat + " artifact",
                MIEN_ERR_IO);
  std::vector<std::string> classes;
  std::string mode;
  try {
    classes = meta.at("classes").get<std::vector<std::string>>();
    mode = meta.at("mode").get<std::string>();
  } catch (const std::exception& e) {
    throw Error(std::string(kId) + ": " + jp.string() + ": a field is missing or of the wrong type: " + e.what(), MIEN_ERR_IO);
  }
  // Artifacts from before the option have no "resize": face-api.js's rule, the only one then.
  const ResizeRule resize = parse_resize_rule(meta.value("resize", std::string("tfjs")), std::string(kId) + ": " + jp.string());
  if (mode == "as_shipped" && !meta.contains("weights_sha256")) {  // randomised ones carry weights.pt
    FaceApiNet net = shipped_net(classes, dir);
    net.set_resize(resize);
    auto m = std::make_unique<FaceApiModel>(std::move(net), meta);
    m->dir = dir;
    return m;
  }
  if (mode != "fine_tune" && mode != "as_shipped") throw Error(std::string(kId) + ": " + jp.string() + ": unknown mode '" + mode + "'", MIEN_ERR_IO);
  const fs::path wp = fs::path(dir) / kArtifactWeights;
  if (!fs::is_regular_file(wp)) throw Error(std::string(kId) + ": " + dir + " has no " + kArtifactWeights, MIEN_ERR_IO);
  const std::string bytes = read_file(wp);
  const std::string want = meta.value("weights_sha256", std::string());
  const std::string got = sha256_hex(bytes);
  if (got != want)
    throw Error(std::string(kId) + ": weights file " + wp.string() + " has sha256 " + got + ", expected " + want +
                    " (recorded in " + kArtifactJson + " when it was written)",
                MIEN_ERR_IO);
  FaceApiNet net = FaceApiNet::load(wp.string());
  net.set_resize(resize);
  if (net.classes() != static_cast<int64_t>(classes.size()))
    throw Error(std::string(kId) + ": " + wp.string() + " has " + std::to_string(net.classes()) + " outputs but " +
                    kArtifactJson + " lists " + std::to_string(classes.size()) + " classes",
                MIEN_ERR_IO);
  auto m = std::make_unique<FaceApiModel>(std::move(net), meta);
  m->dir = dir;
  return m;
}

Json FaceApiModel::info() const {
  Json shapes = Json::object();
  for (int k = 0; k < kBlocks; ++k) shapes[kCamLayers[static_cast<size_t>(k)]] = {kLayerChannels[k], kLayerSide[k], kLayerSide[k]};
  return {{"type_id", kId},
          {"input", "image"},
          {"input_shape", {kSide, kSide, 3}},
          {"accepts_any_size", true},
          {"input_notes", "any [N,H,W,C] size (C = 1 or 3, RGB), uint8 or float 0..255; padded to a square and "
                          "resized to 112x112 inside the model (rule: see resize)"},
          {"classes", classes_},
          {"score", "logit"},
          {"mode", meta_.value("mode", std::string())},
          {"resize", resize_rule_name(net_.resize())},
          {"randomized", meta_.value("randomized", Json())},
          {"artifact_dir", dir},  // lets a model.faceapi_expression node copy it (input `source`)
          {"cam_layers", kCamLayers},
          {"default_cam_layer", "block3"},
          {"layer_shapes", shapes},
          {"layer_layout", "NCHW"},
          {"source", "face-api.js expression network (npm @vladmandic/face-api 1.7.15, MIT)"}};
}

Tensor FaceApiModel::predict(const TensorView& input, const Host& host) {
  host.check_cancelled();
  const Pixels p = to_pixels(input, MIEN_PIXEL_RGB, "the input");
  const std::vector<float> probs = net_.probabilities(p.batch);
  return Tensor::from<float>({p.batch.n, net_.classes()}, probs);
}

std::pair<Tensor, Tensor> FaceApiModel::input_gradient(const TensorView& input, const std::vector<int64_t>& classes,
                                                       const Host& host) {
  host.check_cancelled();
  const Pixels p = to_pixels(input, MIEN_PIXEL_RGB, "the input");
  const auto cls = checked_classes(classes, p.batch.n, net_.classes(), "input_gradient");
  std::vector<float> g, s;
  net_.input_gradient(p.batch, cls.data(), g, s);
  return {Tensor::from<float>(input.shape(), g), Tensor::from<float>({p.batch.n}, s)};
}

ModelRef::LayerResult FaceApiModel::layer_gradient(const std::string& layer, const TensorView& input,
                                                   const std::vector<int64_t>& classes, const Host& host) {
  host.check_cancelled();
  auto it = std::find(kCamLayers.begin(), kCamLayers.end(), layer);
  if (it == kCamLayers.end())
    throw Error(std::string(kId) + ": no layer '" + layer + "'; the layers are " + join(kCamLayers, ", ", 12));
  const Pixels p = to_pixels(input, MIEN_PIXEL_RGB, "the input");
  const auto cls = checked_classes(classes, p.batch.n, net_.classes(), "layer_gradient");
  std::vector<float> a, g, s;
  std::vector<int64_t> shape;
  net_.layer_gradient(static_cast<int>(it - kCamLayers.begin()), p.batch, cls.data(), a, g, s, shape);
  ModelRef::LayerResult r;
  r.activations = Tensor::from<float>(shape, a);
  r.gradients = Tensor::from<float>(shape, g);
  r.scores = Tensor::from<float>({p.batch.n}, s);
  return r;
}

// ------------------------------------------------------------------------------------
// The component
// ------------------------------------------------------------------------------------
ComponentInfo ModelFaceApiExpression::info() {
  return ComponentInfo(kId, 1, MIEN_KIND_MODEL,
                       "The face-api.js facial-expression CNN (LibTorch port of the pretrained network; "
                       "as shipped or fine-tuned), with input gradients and Grad-CAM layers")
      .params(kMode, kClasses, kUnfreezeBlocks, kEpochs, kLearningRate, kBatchSize, kValidationSplit, kValidationGroup, kResize, kWeights,
              kRandomize, kRandomizeLayers)
      .ports(kImages, kTable, kSource, kModel, kCurve)
      .model_capabilities(kCapabilities);
}

ModelFaceApiExpression::ModelFaceApiExpression(const Setup& s) {
  const Params& p = s.params();
  mode_ = kMode.read(p);
  classes_ = kClasses.read(p);
  options_.unfreeze_blocks = kUnfreezeBlocks.read(p);
  options_.epochs = kEpochs.read(p);
  options_.learning_rate = kLearningRate.read(p);
  if (!(options_.learning_rate > 0) || !std::isfinite(options_.learning_rate))
    throw Error(std::string(kId) + ": parameter 'learning_rate' must be > 0, got " + std::to_string(options_.learning_rate));
  options_.batch_size = kBatchSize.read(p);
  options_.seed = s.seed();
  validation_split_ = kValidationSplit.read(p);
  validation_group_ = kValidationGroup.read(p);
  resize_ = parse_resize_rule(kResize.read(p), std::string(kId) + ": parameter 'resize'");
  const std::string w = kWeights.read(p);
  weights_dir_ = w.empty() ? w : s.resolve_path(w);
  if (!weights_dir_.empty() && !fs::is_directory(weights_dir_))
    throw Error(std::string(kId) + ": parameter 'weights': " + w + " is not a folder (expected one holding " +
                    kManifestFile + " and " + kBinFile + ")",
                MIEN_ERR_IO);
  threads_ = static_cast<int>(s.num_threads());
  randomize_ = kRandomize.read(p);
  randomize_layers_ = kRandomizeLayers.read(p);
  seed_ = s.seed();
  if (randomize_layers_ < 1 || randomize_layers_ > FaceApiNet::kLayers)
    throw Error(std::string(kId) + ": parameter 'randomize_layers' must be in 1..17, got " +
                std::to_string(randomize_layers_));
  for (size_t i = 0; i < classes_.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (classes_[i] == classes_[j]) throw Error(std::string(kId) + ": parameter 'classes' names '" + classes_[i] + "' twice");
  if (mode_ == "as_shipped")
    for (const auto& c : classes_)
      if (shipped_row(c) < 0)
        throw Error(std::string(kId) + ": parameter 'classes': '" + c + "' is not one of the shipped network's classes (" +
                    join(kCanonicalOrder, ", ", 12) + ")");
}

std::unique_ptr<Model> ModelFaceApiExpression::open(const ModelSetup& s) {
  return FaceApiModel::open_dir(s.artifact_dir(), static_cast<int>(s.num_threads()));
}

Json ModelFaceApiExpression::randomize(FaceApiNet& net, const Host& host) const {
  const auto names = net.randomize(randomize_ == "all" ? FaceApiNet::kLayers : randomize_layers_, seed_);
  host.info(std::string(kId) + ": randomised (" + randomize_ + ") " + Json(names).dump());
  return Json{{"mode", randomize_}, {"layers", names}, {"seed", seed_},
              {"init", "Glorot-uniform kernels, zero biases (Keras defaults)"}};
}

std::string ModelFaceApiExpression::save_weights(const FaceApiNet& net, const fs::path& wp) {
  try {
    net.save(wp.string());
  } catch (const std::exception& e) {
    throw Error(std::string(kId) + ": cannot write " + wp.string() + ": " + e.what(), MIEN_ERR_IO);
  }
  return sha256_hex(read_file(wp));
}

void ModelFaceApiExpression::process_source(Context& ctx) {
  const Host& host = ctx.host();
  if (randomize_ == "none")
    throw Error(std::string(kId) + ": input 'source' is connected but parameter 'randomize' is none; set randomize: "
                "all or cascade (a plain copy of a model needs no node)");
  const Json info = ctx.model(kSource).info();
  if (info.value("type_id", std::string()) != kId || !info.contains("artifact_dir"))
    throw Error(std::string(kId) + ": input 'source' must be the model of a model.faceapi_expression node, got " +
                info.value("type_id", std::string("a model without type_id")) +
                "; randomise other models with their own component's randomize parameter");
  if (ctx.connected(kImages) || ctx.connected(kTable))
    host.warn(std::string(kId) + ": input 'source' is connected, so 'mode' and the images are ignored");
  auto src = FaceApiModel::open_dir(info.at("artifact_dir").get<std::string>(), threads_);
  Json meta = src->meta();
  const fs::path dir = ctx.output_dir(kModel);
  meta["randomized"] = randomize(src->mutable_net(), host);
  meta["weights_sha256"] = save_weights(src->net(), dir / kArtifactWeights);
  meta["randomized"]["source"] = info.at("artifact_dir");
  write_file(dir / kArtifactJson, meta.dump(1) + "\n");
  Json hist = meta.contains("training") ? meta["training"].value("history", Json::array()) : Json::array();
  std::vector<EpochRecord> history;
  for (const auto& h : hist) {
    EpochRecord r;
    r.epoch = h.value("epoch", int64_t{0});
    auto num = [](const Json& v) { return v.is_number() ? v.get<double>() : std::nan(""); };
    r.train_loss = num(h.value("train_loss", Json()));
    r.train_accuracy = num(h.value("train_accuracy", Json()));
    r.val_loss = num(h.value("val_loss", Json()));
    r.val_accuracy = num(h.value("val_accuracy", Json()));
    history.push_back(r);
  }
  ctx.set(kCurve, curve_table(history));
  ctx.set_model(kModel, {{"type_id", kId}, {"mode", meta.value("mode", std::string())}, {"classes", meta["classes"]},
                         {"randomized", meta["randomized"]}});
}

void ModelFaceApiExpression::process(Context& ctx) {
  set_compute_threads(threads_);
  if (ctx.connected(kSource)) return process_source(ctx);
  if (mode_ == "fine_tune") return process_fine_tune(ctx);
  return process_shipped(ctx);
}

void ModelFaceApiExpression::process_shipped(Context& ctx) {
  if (ctx.connected(kImages) || ctx.connected(kTable))
    ctx.host().info(std::string(kId) + ": mode as_shipped ignores the connected images and table");
  std::vector<std::string> classes;
  for (const auto& c : classes_.empty() ? kCanonicalOrder : classes_) classes.push_back(canonical(c));
  std::vector<int64_t> rows;
  FaceApiNet net = shipped_net(classes, weights_dir_, &rows);  // checks and parses the weights now
  const fs::path dir = ctx.output_dir(kModel);
  write_file(dir / kManifestFile, weights_dir_.empty() ? embedded_manifest() : read_file(fs::path(weights_dir_) / kManifestFile));
  write_file(dir / kBinFile, weights_dir_.empty() ? embedded_bin() : read_file(fs::path(weights_dir_) / kBinFile));
  std::vector<std::string> shipped_names;
  for (int64_t r : rows) shipped_names.push_back(kFaceApiClasses[static_cast<size_t>(r)]);
  Json meta = {{"format", kArtifactFormat},
                     {"format_version", kArtifactVersion},
                     {"type_id", kId},
                     {"mode", "as_shipped"},
                     {"classes", classes},
                     {"resize", resize_rule_name(resize_)},
                     {"face_api_classes", shipped_names},
                     {"weights", {{"manifest", {{"file", kManifestFile}, {"bytes", kManifestSize}, {"sha256", kManifestSha256}}},
                                  {"bin", {{"file", kBinFile}, {"bytes", kBinSize}, {"sha256", kBinSha256}}}}},
                     {"source", "npm @vladmandic/face-api 1.7.15 (MIT), third_party/face-api"}};
  if (randomize_ != "none") {
    meta["randomized"] = randomize(net, ctx.host());
    meta["weights_sha256"] = save_weights(net, dir / kArtifactWeights);
  }
  write_file(dir / kArtifactJson, meta.dump(1) + "\n");
  ctx.host().info(std::string(kId) + ": the shipped face-api.js network, classes " + join(classes, ", ", 12) + ", resize " +
                  resize_rule_name(resize_));
  ctx.set(kCurve, curve_table({}));
  ctx.set_model(kModel, {{"type_id", kId}, {"mode", "as_shipped"}, {"classes", classes},
                         {"resize", resize_rule_name(resize_)}, {"randomized", meta.value("randomized", Json())}});
}

void ModelFaceApiExpression::process_fine_tune(Context& ctx) {
  const Host& host = ctx.host();
  if (!ctx.connected(kImages) || !ctx.connected(kTable))
    throw Error(std::string(kId) + ": mode fine_tune needs the 'images' input (face crops) and the 'table' input "
                "(one row per image with a LABEL column); connect both");
  const TableView table = ctx.table(kTable);
  const auto label = table.label();
  if (!label) throw Error(std::string(kId) + ": the table has no LABEL column (fine_tune needs one)");
  const mien_value& iv = ctx.value(kImages);
  const TensorView images = ctx.tensor(kImages);
  const std::vector<int64_t> ishape = image_shape(images, "input 'images'");
  if (ishape[0] != table.num_rows())
    throw Error(std::string(kId) + ": input 'images' has " + std::to_string(ishape[0]) + " images but the table has " +
                std::to_string(table.num_rows()) + " rows (row i must describe image i)");
  std::vector<std::string> cats = label->categories();
  if (cats.empty()) {
    int64_t mx = -1;
    for (int64_t i = 0; i < table.num_rows(); ++i) mx = std::max(mx, label->code(i));
    for (int64_t k = 0; k <= mx; ++k) cats.push_back(std::to_string(k));
  }
  std::vector<std::string> classes = classes_.empty() ? cats : classes_;
  for (const auto& c : classes)
    if (std::find(cats.begin(), cats.end(), c) == cats.end())
      throw Error(std::string(kId) + ": parameter 'classes': '" + c + "' is not a class of the label column '" +
                  label->name() + "' (" + join(cats, ", ", 12) + ")");
  if (classes.size() < 2) throw Error(std::string(kId) + ": fine_tune needs at least 2 classes, got " + join(classes, ", ", 12));
  // Labelled rows of the chosen classes.
  std::vector<int64_t> rows, y;
  int64_t skipped = 0;
  for (int64_t i = 0; i < table.num_rows(); ++i) {
    const int64_t code = label->code(i);
    if (code < 0 || code >= static_cast<int64_t>(cats.size())) {
      ++skipped;
      continue;
    }
    auto it = std::find(classes.begin(), classes.end(), cats[static_cast<size_t>(code)]);
    if (it == classes.end()) {
      ++skipped;
      continue;
    }
    rows.push_back(i);
    y.push_back(it - classes.begin());
  }
  if (skipped > 0)
    host.warn(std::string(kId) + ": " + std::to_string(skipped) + " row(s) without a label or of other classes are skipped");
  const size_t C = classes.size();
  std::vector<std::vector<int64_t>> by_class(C);
  for (size_t k = 0; k < rows.size(); ++k) by_class[static_cast<size_t>(y[k])].push_back(static_cast<int64_t>(k));
  for (size_t c = 0; c < C; ++c)
    if (by_class[c].empty()) throw Error(std::string(kId) + ": class '" + classes[c] + "' has no images to train on");
  // Stratified, seeded hold-out.
  std::mt19937_64 rng(options_.seed ^ 0x9e3779b97f4a7c15ULL);
  auto below = [&](uint64_t n) {
    const uint64_t threshold = (0 - n) % n;
    for (;;) {
      const uint64_t r = rng();
      if (r >= threshold) return r % n;
    }
  };
  std::vector<int64_t> fit, val;
  const std::string group_column =
      validation_split_ > 0 ? training::validation_group_column(table, validation_group_, kId) : std::string();
  std::vector<std::string> validation_people;
  if (!group_column.empty()) {
    // Whole people to validation, so the best epoch is judged on people the head never saw.
    const ColumnView gcol = *table.find(group_column);
    std::vector<std::string> group_of;
    for (int64_t r : rows) group_of.push_back(gcol.text(r));
    const training::GroupHoldOut h = training::hold_out_groups(group_of, validation_split_, options_.seed);
    fit = h.fit;
    val = h.val;
    validation_people = h.val_groups;
    if (val.empty())
      host.warn(std::string(kId) + ": the images show " + std::to_string(h.groups) + " person (" + group_column +
                "); validation by person needs two or more, so the last epoch is kept");
    else
      host.info(std::string(kId) + ": " + training::describe_hold_out(h, group_column));
  } else {
    for (auto& idx : by_class) {
      for (size_t i = idx.size(); i > 1; --i) std::swap(idx[i - 1], idx[static_cast<size_t>(below(i))]);
      auto take = static_cast<size_t>(std::llround(validation_split_ * static_cast<double>(idx.size())));
      take = std::min(take, idx.size() - 1);
      val.insert(val.end(), idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(take));
      fit.insert(fit.end(), idx.begin() + static_cast<std::ptrdiff_t>(take), idx.end());
    }
  }
  std::sort(fit.begin(), fit.end());
  std::sort(val.begin(), val.end());
  auto gather = [&](const std::vector<int64_t>& sel, std::vector<int64_t>& labels) {
    std::vector<int64_t> src;
    labels.clear();
    for (int64_t k : sel) {
      src.push_back(rows[static_cast<size_t>(k)]);
      labels.push_back(y[static_cast<size_t>(k)]);
    }
    return to_pixels(images, iv.pixel_format, "input 'images'", &src);
  };
  std::vector<int64_t> fit_y, val_y;
  const Pixels fit_px = gather(fit, fit_y);
  const Pixels val_px = gather(val, val_y);
  const Batch& fit_b = fit_px.batch;
  const Batch& val_b = val_px.batch;
  FaceApiNet net = shipped_net(kFaceApiClasses, weights_dir_);
  net.set_resize(resize_);
  net.new_head(static_cast<int64_t>(C), options_.seed);
  FineTuneHooks hooks;
  hooks.between_batches = [&] { host.check_cancelled(); };
  hooks.on_epoch = [&](const EpochRecord& r) {
    host.progress(static_cast<uint64_t>(r.epoch), static_cast<uint64_t>(options_.epochs), "epochs");
  };
  host.info(std::string(kId) + ": fine-tuning a " + std::to_string(C) + "-class head on " + std::to_string(fit_b.n) +
            " images (" + std::to_string(val_b.n) + " held out), " + std::to_string(options_.unfreeze_blocks) +
            " block(s) unfrozen");
  int64_t best_epoch = 0;
  const std::vector<EpochRecord> history = net.fine_tune(fit_b, fit_y, val_b, val_y, options_, hooks, &best_epoch);
  if (val_b.n > 0)
    host.info(std::string(kId) + ": keeping epoch " + std::to_string(best_epoch) + " of " +
              std::to_string(history.size()) + " (lowest validation loss; val_accuracy " +
              std::to_string(history[static_cast<size_t>(best_epoch - 1)].val_accuracy) + ")");

  const fs::path dir = ctx.output_dir(kModel);
  const fs::path wp = dir / kArtifactWeights;
  const Json randomized = randomize_ != "none" ? randomize(net, host) : Json();
  const std::string sha = save_weights(net, wp);
  Json hist = Json::array();
  for (const auto& r : history)
    hist.push_back({{"epoch", r.epoch},
                    {"train_loss", r.train_loss},
                    {"train_accuracy", r.train_accuracy},
                    {"val_loss", training::number_or_null(r.val_loss)},
                    {"val_accuracy", training::number_or_null(r.val_accuracy)}});
  const Json meta = {{"format", kArtifactFormat},
                     {"format_version", kArtifactVersion},
                     {"type_id", kId},
                     {"mode", "fine_tune"},
                     {"classes", classes},
                     {"resize", resize_rule_name(resize_)},
                     {"weights_sha256", sha},
                     {"randomized", randomized},
                     {"training", {{"unfreeze_blocks", options_.unfreeze_blocks},
                                   {"epochs", options_.epochs},
                                   {"learning_rate", options_.learning_rate},
                                   {"batch_size", options_.batch_size},
                                   {"validation_split", validation_split_},
                                   {"train_images", fit_b.n},
                                   {"validation_images", val_b.n},
                                   {"validation_group", group_column.empty() ? Json("rows") : Json(group_column)},
                                   {"validation_people", validation_people},
                                   {"best_epoch", best_epoch},
                                   {"history", hist}}},
                     {"source", "head and unfrozen blocks fine-tuned from npm @vladmandic/face-api 1.7.15 (MIT)"}};
  write_file(dir / kArtifactJson, meta.dump(1) + "\n");
  ctx.set(kCurve, curve_table(history));
  const EpochRecord& kept = history[static_cast<size_t>(best_epoch - 1)];
  ctx.set_model(kModel, {{"type_id", kId},
                         {"mode", "fine_tune"},
                         {"classes", classes},
                         {"resize", resize_rule_name(resize_)},
                         {"best_epoch", best_epoch},
                         {"epochs_run", history.size()},
                         {"train_accuracy", kept.train_accuracy},
                         {"val_accuracy", training::number_or_null(kept.val_accuracy)}});
}

}  // namespace mien::faceapi
