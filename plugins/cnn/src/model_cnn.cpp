// model.cnn: parameters, input checks, the validation hold-out, augmentation, training,
// the artifact folder and the model side (predict, input and layer gradients).
#include "model_cnn.hpp"

#include <mien_training/training_curve.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>

#include "image_ops.hpp"

namespace mien::cnn {

namespace fs = std::filesystem;
using training::number_or_null;

namespace {

constexpr const char* kId = "model.cnn";
constexpr const char* kArtifactJson = "cnn.json";
constexpr const char* kArtifactWeights = "weights.pt";
constexpr const char* kFormat = "mien.cnn";
constexpr int kFormatVersion = 1;
constexpr int64_t kInferenceBatch = 64;
constexpr double kPi = 3.14159265358979323846;

struct Arch {
  int64_t in_channels = 1, input_size = 64, classes = 2;
  std::vector<int64_t> channels;
  double dropout = 0.3;
  std::string head = "flatten";   // flatten | gap (global average pool)
  std::vector<double> mean, std;  // per input channel, on the [0, 1] scale
  int64_t spatial() const { return input_size >> channels.size(); }
};

// ---- the network ----
struct CnnNetImpl : torch::nn::Module {
  explicit CnnNetImpl(const Arch& a) : arch(a) {
    int64_t in = a.in_channels;
    for (size_t k = 0; k < a.channels.size(); ++k) {
      const int64_t out = a.channels[k];
      torch::nn::Sequential block(
          torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1).bias(false)),
          torch::nn::BatchNorm2d(out), torch::nn::ReLU(),
          torch::nn::Conv2d(torch::nn::Conv2dOptions(out, out, 3).padding(1).bias(false)),
          torch::nn::BatchNorm2d(out), torch::nn::ReLU(), torch::nn::MaxPool2d(2));
      blocks.push_back(register_module("block" + std::to_string(k + 1), block));
      in = out;
    }
    const int64_t s = a.spatial();
    drop = register_module("dropout", torch::nn::Dropout(a.dropout));
    fc = register_module("fc", torch::nn::Linear(a.head == "gap" ? in : in * s * s, a.classes));
    mean = register_buffer("mean", torch::zeros({1, a.in_channels, 1, 1}));
    std = register_buffer("std", torch::ones({1, a.in_channels, 1, 1}));
    set_normalisation(a.mean, a.std);
  }
  void set_normalisation(const std::vector<double>& m, const std::vector<double>& s) {
    if (m.size() != static_cast<size_t>(arch.in_channels)) return;
    torch::NoGradGuard g;
    for (int64_t c = 0; c < arch.in_channels; ++c) {
      mean[0][c][0][0] = m[static_cast<size_t>(c)];
      std[0][c][0][0] = s[static_cast<size_t>(c)];
    }
  }
  // x01: [N, C, S, S] on the [0, 1] scale. When cam_block >= 0, *act receives that
  // block's output.
  torch::Tensor forward(const torch::Tensor& x01, int cam_block = -1, torch::Tensor* act = nullptr) {
    torch::Tensor x = (x01 - mean) / std;
    for (size_t k = 0; k < blocks.size(); ++k) {
      x = blocks[k]->forward(x);
      if (static_cast<int>(k) == cam_block && act) *act = x;
    }
    return fc(drop(arch.head == "gap" ? x.mean({2, 3}) : x.flatten(1)));
  }
  // Raw pixels [N, H, W, C] on the 0..255 scale -> [N, C, S, S] on [0, 1].
  torch::Tensor prepare(const torch::Tensor& nhwc) const {
    return to_nchw_resized(nhwc, arch.input_size, arch.input_size) / 255.0;
  }
  Arch arch;
  std::vector<torch::nn::Sequential> blocks;
  torch::nn::Dropout drop{nullptr};
  torch::nn::Linear fc{nullptr};
  torch::Tensor mean, std;
};
TORCH_MODULE(CnnNet);

Json arch_json(const Arch& a) {
  return {{"in_channels", a.in_channels}, {"input_size", a.input_size}, {"classes", a.classes},
          {"channels", a.channels},       {"dropout", a.dropout},       {"head", a.head},
          {"mean", a.mean},
          {"std", a.std}};
}

std::string arch_text(const Arch& a) {
  std::string out = std::to_string(a.in_channels) + "x" + std::to_string(a.input_size) + "x" +
                    std::to_string(a.input_size);
  for (int64_t c : a.channels) out += "-c" + std::to_string(c);
  return out + (a.head == "gap" ? "-gap" : "") + "-fc" + std::to_string(a.classes);
}

// ---- labels ----
std::vector<std::string> class_names(const ColumnView& label, int64_t rows) {
  std::vector<std::string> names = label.categories();
  if (!names.empty()) return names;
  int64_t max_code = -1;
  for (int64_t i = 0; i < rows; ++i) max_code = std::max(max_code, label.code(i));
  for (int64_t k = 0; k <= max_code; ++k) names.push_back(std::to_string(k));
  return names;
}

// Class codes of a table mapped onto `classes` by name; -1 = unlabelled.
std::vector<int64_t> read_labels(const TableView& t, const std::string& which, const std::vector<std::string>& classes) {
  const auto label = t.label();
  if (!label) throw Error(std::string(kId) + ": the " + which + " has no LABEL column");
  const int64_t n = t.num_rows();
  const std::vector<std::string> names = class_names(*label, n);
  std::vector<int64_t> out(static_cast<size_t>(n), -1);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t code = label->code(i);
    if (code < 0) continue;
    if (code >= static_cast<int64_t>(names.size()))
      throw Error(std::string(kId) + ": the LABEL of " + which + " row " + std::to_string(i + 1) + " has code " +
                  std::to_string(code) + " outside its " + std::to_string(names.size()) + " categories");
    auto it = std::find(classes.begin(), classes.end(), names[static_cast<size_t>(code)]);
    if (it == classes.end())
      throw Error(std::string(kId) + ": class '" + names[static_cast<size_t>(code)] + "' of the " + which +
                  " (row " + std::to_string(i + 1) + ") is not among the training classes");
    out[static_cast<size_t>(i)] = it - classes.begin();
  }
  return out;
}

// Checked IMAGE input: uint8 [N, H, W, C], C 1 or 3, N rows matching the table.
void check_images(const TensorView& im, const std::string& port, const std::string& table_port, int64_t table_rows) {
  if (!im.valid() || im.dtype() != MIEN_DTYPE_U8 || im.ndim() != 4 || (im.dim(3) != 1 && im.dim(3) != 3))
    throw Error(std::string(kId) + ": input '" + port + "' must be uint8 images [N, H, W, C] with C = 1 or 3, got " +
                (im.valid() ? std::string(dtype_name(im.dtype())) + " " + shape_text(im.shape()) : "nothing"));
  if (im.dim(0) != table_rows)
    throw Error(std::string(kId) + ": input '" + port + "' has " + std::to_string(im.dim(0)) + " images but '" +
                table_port + "' has " + std::to_string(table_rows) + " rows; row i of the table must describe image i");
}

// Rows `rows` of the images, resized to the model's input, on [0, 1]: [n, C, S, S].
torch::Tensor prepared_images(const TensorView& im, const std::vector<int64_t>& rows, int64_t size) {
  const int64_t h = im.dim(1), w = im.dim(2), c = im.dim(3);
  const auto per = static_cast<size_t>(h * w * c);
  torch::Tensor out = torch::empty({static_cast<int64_t>(rows.size()), c, size, size});
  const uint8_t* base = im.data_if<uint8_t>();
  std::vector<uint8_t> copy;
  if (!base) {
    copy = im.to_vector<uint8_t>();
    base = copy.data();
  }
  constexpr size_t kChunk = 256;
  for (size_t s = 0; s < rows.size(); s += kChunk) {
    const size_t e = std::min(rows.size(), s + kChunk);
    torch::Tensor raw = torch::empty({static_cast<int64_t>(e - s), h, w, c}, torch::kUInt8);
    for (size_t i = s; i < e; ++i)
      std::memcpy(raw.data_ptr<uint8_t>() + (i - s) * per, base + static_cast<size_t>(rows[i]) * per, per);
    out.slice(0, static_cast<int64_t>(s), static_cast<int64_t>(e))
        .copy_(to_nchw_resized(raw.to(torch::kFloat32), size, size) / 255.0);
  }
  return out;
}

// One augmented copy of a [n, C, S, S] batch on [0, 1] (bilinear, edges clamped).
torch::Tensor augment_batch(const torch::Tensor& x, const Augment& a, Rng& rng) {
  torch::Tensor src = x.contiguous();
  torch::Tensor out = torch::empty_like(src);
  const int64_t n = src.size(0), c = src.size(1), s = src.size(2);
  const float* in = src.data_ptr<float>();
  float* o = out.data_ptr<float>();
  const double mid = (static_cast<double>(s) - 1) / 2;
  for (int64_t i = 0; i < n; ++i) {
    const bool flip = a.flip && rng.uniform() < 0.5;
    const double angle = a.rotation > 0 ? rng.between(-a.rotation, a.rotation) * kPi / 180 : 0.0;
    const double zoom = a.scale > 0 ? rng.between(1 - a.scale, 1 + a.scale) : 1.0;
    const double bright = a.brightness > 0 ? rng.between(-a.brightness, a.brightness) : 0.0;
    const double contrast = a.contrast > 0 ? rng.between(1 - a.contrast, 1 + a.contrast) : 1.0;
    const double co = std::cos(angle) / zoom, si = std::sin(angle) / zoom;
    for (int64_t ch = 0; ch < c; ++ch) {
      const float* p = in + (i * c + ch) * s * s;
      float* q = o + (i * c + ch) * s * s;
      double mean = 0;
      for (int64_t k = 0; k < s * s; ++k) mean += p[k];
      mean /= static_cast<double>(s * s);
      for (int64_t y = 0; y < s; ++y)
        for (int64_t xx = 0; xx < s; ++xx) {
          const double dx = (flip ? (s - 1 - xx) : xx) - mid, dy = y - mid;
          const double sx = std::clamp(co * dx + si * dy + mid, 0.0, static_cast<double>(s - 1));
          const double sy = std::clamp(-si * dx + co * dy + mid, 0.0, static_cast<double>(s - 1));
          const auto x0 = static_cast<int64_t>(sx), y0 = static_cast<int64_t>(sy);
          const int64_t x1 = std::min(x0 + 1, s - 1), y1 = std::min(y0 + 1, s - 1);
          const double fx = sx - static_cast<double>(x0), fy = sy - static_cast<double>(y0);
          const double v = (1 - fy) * ((1 - fx) * p[y0 * s + x0] + fx * p[y0 * s + x1]) +
                           fy * ((1 - fx) * p[y1 * s + x0] + fx * p[y1 * s + x1]);
          q[y * s + xx] = static_cast<float>(std::clamp((v - mean) * contrast + mean + bright, 0.0, 1.0));
        }
    }
  }
  return out;
}

Augment parse_augment(const Json& j) {
  const std::string pre = std::string(kId) + ": parameter 'augment': ";
  Augment a;
  if (j.is_boolean()) {
    if (!j.get<bool>()) a = Augment{false, 0, 0, 0, 0};
    return a;
  }
  if (!j.is_object()) throw Error(pre + "expected true, false or an object, got " + j.dump());
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const Json& v = it.value();
    if (k == "flip") {
      if (!v.is_boolean()) throw Error(pre + "'flip' must be true or false, got " + v.dump());
      a.flip = v.get<bool>();
      continue;
    }
    if (!v.is_number() || !(v.get<double>() >= 0))
      throw Error(pre + "'" + k + "' must be a number >= 0, got " + v.dump());
    const double d = v.get<double>();
    if (k == "rotation") {
      if (d > 180) throw Error(pre + "'rotation' is in degrees, at most 180, got " + v.dump());
      a.rotation = d;
    } else if (k == "scale") {
      if (d >= 1) throw Error(pre + "'scale' must be < 1, got " + v.dump());
      a.scale = d;
    } else if (k == "brightness") {
      a.brightness = d;
    } else if (k == "contrast") {
      if (d >= 1) throw Error(pre + "'contrast' must be < 1, got " + v.dump());
      a.contrast = d;
    } else {
      throw Error(pre + "unknown key '" + k + "' (expected flip, rotation, scale, brightness, contrast)");
    }
  }
  return a;
}

// Saves / restores every parameter and buffer (the best epoch's state).
std::vector<torch::Tensor> snapshot(const CnnNet& net) {
  std::vector<torch::Tensor> s;
  for (const auto& p : net->parameters()) s.push_back(p.detach().clone());
  for (const auto& b : net->buffers()) s.push_back(b.detach().clone());
  return s;
}
void restore(CnnNet& net, const std::vector<torch::Tensor>& s) {
  torch::NoGradGuard g;
  size_t i = 0;
  for (auto& p : net->parameters()) p.copy_(s[i++]);
  for (auto& b : net->buffers()) b.copy_(s[i++]);
}

// Model-parameter randomisation (Adebayo et al. 2018). Layers from the output down: fc,
// then block K conv2 (+bn2), block K conv1 (+bn1), ..., block 1 conv1 (+bn1). Each layer is
// re-initialised as at construction (reset_parameters: torch's Kaiming-uniform for conv and
// linear, batch norm weight 1 / bias 0 / running statistics 0 and 1) from a generator seeded
// by (seed, layer) alone, so cascading one layer further leaves the layers above identical.
Json randomize_net(CnnNet& net, const std::string& mode, int64_t top, uint64_t seed) {
  const int64_t L = 1 + 2 * static_cast<int64_t>(net->blocks.size());
  if (mode == "cascade" && top > L)
    throw Error(std::string(kId) + ": parameter 'randomize_layers' is " + std::to_string(top) + " but the network has " +
                std::to_string(L) + " layers (fc and two convolutions per block); use 1.." + std::to_string(L) +
                " (or randomize: all)");
  const int64_t n = mode == "all" ? L : top;
  torch::NoGradGuard g;
  Json names = Json::array();
  for (int64_t i = 0; i < n; ++i) {
    torch::manual_seed(seed ^ (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(i + 1)));
    if (i == 0) {
      net->fc->reset_parameters();
      names.push_back("fc");
      continue;
    }
    const int64_t b = static_cast<int64_t>(net->blocks.size()) - 1 - (i - 1) / 2;
    const bool second = (i - 1) % 2 == 0;  // conv2 comes before conv1, from the top
    torch::nn::Sequential& block = net->blocks[static_cast<size_t>(b)];
    block->ptr(second ? 3 : 0)->as<torch::nn::Conv2dImpl>()->reset_parameters();
    block->ptr(second ? 4 : 1)->as<torch::nn::BatchNorm2dImpl>()->reset_parameters();
    names.push_back("block" + std::to_string(b + 1) + (second ? ".conv2" : ".conv1"));
  }
  return Json{{"mode", mode}, {"layers", names}, {"seed", seed},
              {"init", "reset_parameters: Kaiming-uniform conv/linear, batch norm 1/0, running stats 0/1"}};
}

struct Loaded {
  Arch arch;
  std::vector<std::string> classes;
  std::vector<int64_t> image_shape;  // [H, W, C] of the training images
  Json training;
  CnnNet net{nullptr};
  std::string dir;  // the artifact folder
};

Loaded load_artifact(const std::string& dir) {
  const fs::path jp = fs::path(dir) / kArtifactJson, wp = fs::path(dir) / kArtifactWeights;
  if (!fs::is_regular_file(jp))
    throw Error(std::string(kId) + ": " + dir + " is not a model.cnn artifact folder (no " + kArtifactJson + ")",
                MIEN_ERR_IO);
  const Json j = read_json_file(jp, kId);
  auto bad = [&](const std::string& what) { return Error(std::string(kId) + ": " + jp.string() + ": " + what, MIEN_ERR_IO); };
  if (!j.is_object() || j.value("format", std::string()) != kFormat)
    throw bad(std::string("not a model.cnn artifact (no \"format\": \"") + kFormat + "\")");
  if (j.value("format_version", 0) != kFormatVersion)
    throw bad("format_version " + j.value("format_version", Json()).dump() + " is not supported");
  Loaded l;
  l.dir = dir;
  try {
    const Json& a = j.at("architecture");
    l.arch.in_channels = a.at("in_channels").get<int64_t>();
    l.arch.input_size = a.at("input_size").get<int64_t>();
    l.arch.classes = a.at("classes").get<int64_t>();
    l.arch.channels = a.at("channels").get<std::vector<int64_t>>();
    l.arch.dropout = a.at("dropout").get<double>();
    l.arch.head = a.value("head", std::string("flatten"));
    l.arch.mean = a.at("mean").get<std::vector<double>>();
    l.arch.std = a.at("std").get<std::vector<double>>();
    l.classes = j.at("classes").get<std::vector<std::string>>();
    l.image_shape = j.at("image_shape").get<std::vector<int64_t>>();
    l.training = j.value("training", Json::object());
  } catch (const std::exception& e) {
    throw bad(std::string("a field is missing or of the wrong type: ") + e.what());
  }
  if (static_cast<int64_t>(l.classes.size()) != l.arch.classes || l.arch.channels.empty() || l.arch.spatial() < 1 ||
      l.arch.mean.size() != static_cast<size_t>(l.arch.in_channels) || l.arch.std.size() != l.arch.mean.size() ||
      (l.arch.head != "flatten" && l.arch.head != "gap"))
    throw bad("inconsistent architecture (classes, channels, input_size or normalisation)");
  l.net = CnnNet(l.arch);
  if (!fs::is_regular_file(wp)) throw Error(std::string(kId) + ": " + dir + " has no " + kArtifactWeights, MIEN_ERR_IO);
  try {
    torch::serialize::InputArchive ar;
    ar.load_from(wp.string());
    l.net->load(ar);
  } catch (const std::exception& e) {
    throw Error(std::string(kId) + ": cannot load " + wp.string() + ": " + first_line(e.what()), MIEN_ERR_IO);
  }
  l.net->eval();
  return l;
}

// ---- the model side ----
class CnnModel : public Model {
 public:
  explicit CnnModel(Loaded l) : l_(std::move(l)) {}

  Json info() const override {
    Json cams = Json::array();
    for (size_t k = 0; k < l_.arch.channels.size(); ++k) cams.push_back("block" + std::to_string(k + 1));
    return {{"type_id", kId},
            {"input", "image"},
            {"input_shape", l_.image_shape},
            {"accepts_any_size", true},
            {"input_dtype", "uint8 or float32 on the 0..255 scale; any H and W (resized inside)"},
            {"input_size", {l_.arch.input_size, l_.arch.input_size}},
            {"classes", l_.classes},
            {"score", "logit"},
            {"architecture", arch_json(l_.arch)},
            {"cam_layers", cams},
            {"cam_layout", "nchw"},
            {"randomized", l_.training.value("randomized", Json())},
            {"artifact_dir", l_.dir},  // lets a model.cnn node copy it (input `source`)
            {"default_cam_layer", cams.back()}};
  }

  Tensor predict(const TensorView& input, const Host& host) override {
    torch::Tensor x = image_batch(input, l_.arch.in_channels, kId);
    torch::NoGradGuard g;
    std::vector<torch::Tensor> parts;
    for (int64_t s = 0; s < x.size(0); s += kInferenceBatch) {
      host.check_cancelled();
      const int64_t e = std::min(x.size(0), s + kInferenceBatch);
      parts.push_back(torch::softmax(l_.net->forward(l_.net->prepare(x.slice(0, s, e))), 1));
    }
    return to_mien(parts.empty() ? torch::zeros({0, l_.arch.classes}) : torch::cat(parts));
  }

  std::pair<Tensor, Tensor> input_gradient(const TensorView& input, const std::vector<int64_t>& classes,
                                           const Host& host) override {
    torch::Tensor x = image_batch(input, l_.arch.in_channels, kId);
    const torch::Tensor cls = class_tensor(classes, x.size(0));
    std::vector<torch::Tensor> grads, scores;
    for (int64_t s = 0; s < x.size(0); s += kInferenceBatch) {
      host.check_cancelled();
      const int64_t e = std::min(x.size(0), s + kInferenceBatch);
      torch::Tensor xb = x.slice(0, s, e).clone().set_requires_grad(true);
      torch::Tensor score = l_.net->forward(l_.net->prepare(xb)).gather(1, cls.slice(0, s, e).unsqueeze(1)).squeeze(1);
      grads.push_back(torch::autograd::grad({score.sum()}, {xb})[0]);
      scores.push_back(score.detach());
    }
    if (grads.empty()) return {to_mien(x), to_mien(torch::zeros({0}))};
    return {to_mien(torch::cat(grads)), to_mien(torch::cat(scores))};
  }

  ModelRef::LayerResult layer_gradient(const std::string& layer, const TensorView& input,
                                       const std::vector<int64_t>& classes, const Host& host) override {
    int block = -1;
    for (size_t k = 0; k < l_.arch.channels.size(); ++k)
      if (layer == "block" + std::to_string(k + 1)) block = static_cast<int>(k);
    if (block < 0)
      throw Error(std::string(kId) + ": no layer '" + layer + "'; the layers are block1 .. block" +
                  std::to_string(l_.arch.channels.size()));
    torch::Tensor x = image_batch(input, l_.arch.in_channels, kId);
    const torch::Tensor cls = class_tensor(classes, x.size(0));
    std::vector<torch::Tensor> acts, grads, scores;
    for (int64_t s = 0; s < x.size(0); s += kInferenceBatch) {
      host.check_cancelled();
      const int64_t e = std::min(x.size(0), s + kInferenceBatch);
      torch::Tensor act;
      torch::Tensor xb = x.slice(0, s, e);
      torch::Tensor logits;
      {
        torch::AutoGradMode on(true);
        logits = l_.net->forward(l_.net->prepare(xb), block, &act);
      }
      torch::Tensor score = logits.gather(1, cls.slice(0, s, e).unsqueeze(1)).squeeze(1);
      torch::Tensor g = torch::autograd::grad({score.sum()}, {act})[0];
      acts.push_back(act.detach());
      grads.push_back(g);
      scores.push_back(score.detach());
    }
    if (acts.empty()) throw Error(std::string(kId) + ": layer_gradient got an empty batch");
    return {to_mien(torch::cat(acts)), to_mien(torch::cat(grads)), to_mien(torch::cat(scores))};
  }

 private:
  torch::Tensor class_tensor(const std::vector<int64_t>& classes, int64_t n) const {
    if (static_cast<int64_t>(classes.size()) < n)
      throw Error(std::string(kId) + ": one class index per input row is needed", MIEN_ERR_INVALID_ARGUMENT);
    for (int64_t i = 0; i < n; ++i)
      if (classes[static_cast<size_t>(i)] < 0 || classes[static_cast<size_t>(i)] >= l_.arch.classes)
        throw Error(std::string(kId) + ": class index " + std::to_string(classes[static_cast<size_t>(i)]) +
                    " of row " + std::to_string(i) + " is outside 0.." + std::to_string(l_.arch.classes - 1));
    return torch::tensor(std::vector<int64_t>(classes.begin(), classes.begin() + n), torch::kInt64);
  }
  Loaded l_;
};

// Weight of the loss of each class and the evaluation of a prepared set.
struct EvalResult {
  double loss = 0, accuracy = 0;
};
EvalResult evaluate(CnnNet& net, const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& w,
                    const Host& host) {
  net->eval();
  torch::NoGradGuard g;
  double loss = 0, right = 0;
  for (int64_t s = 0; s < x.size(0); s += kInferenceBatch) {
    host.check_cancelled();
    const int64_t e = std::min(x.size(0), s + kInferenceBatch);
    torch::Tensor logits = net->forward(x.slice(0, s, e));
    torch::Tensor yb = y.slice(0, s, e);
    loss += torch::nn::functional::cross_entropy(
                logits, yb, torch::nn::functional::CrossEntropyFuncOptions().weight(w).reduction(torch::kSum))
                .item<double>();
    right += logits.argmax(1).eq(yb).sum().item<double>();
  }
  const double wsum = w.index_select(0, y).sum().item<double>();
  return {loss / wsum, right / static_cast<double>(x.size(0))};
}

}  // namespace

Json Augment::to_json() const {
  return {{"flip", flip}, {"rotation", rotation}, {"scale", scale}, {"brightness", brightness}, {"contrast", contrast}};
}

ComponentInfo ModelCnn::info() {
  return ComponentInfo(kId, 1, MIEN_KIND_MODEL,
                       "A CNN (conv-BN-ReLU blocks) trained from scratch on face images, with Grad-CAM layers")
      .params(kChannels, kHead, kDropout, kInputSize, kEpochs, kBatchSize, kLearningRate, kWeightDecay, kPatience,
              kValidationSplit, kValidationGroup, kAugment, kClassWeights, kRandomize, kRandomizeLayers)
      .ports(kImages, kTable, kValidationImages, kValidationTable, kSource, kModel, kCurve)
      .model_capabilities(kCapabilities);
}

ModelCnn::ModelCnn(const Setup& setup) {
  const Params& p = setup.params();
  const std::string pre = std::string(kId) + ": parameter ";
  s_.channels = kChannels.read(p);
  if (s_.channels.empty()) throw Error(pre + "'channels' must list at least one block, e.g. [32, 64, 128]");
  for (int64_t c : s_.channels)
    if (c < 1 || c > 4096) throw Error(pre + "'channels' must hold counts in 1..4096, got " + Json(s_.channels).dump());
  s_.head = kHead.read(p);
  if (s_.head != "flatten" && s_.head != "gap")
    throw Error(pre + "'head' must be flatten or gap, got '" + s_.head + "'");
  s_.dropout = kDropout.read(p);
  if (!(s_.dropout >= 0 && s_.dropout < 1)) throw Error(pre + "'dropout' must be in [0, 1), got " + Json(s_.dropout).dump());
  s_.input_size = kInputSize.read(p);
  if (s_.input_size < 4 || (s_.input_size >> s_.channels.size()) < 1)
    throw Error(pre + "'input_size' " + std::to_string(s_.input_size) + " is too small for " +
                std::to_string(s_.channels.size()) + " blocks (each halves the size): at least " +
                std::to_string(int64_t{1} << s_.channels.size()) + " is needed");
  s_.epochs = kEpochs.read(p);
  s_.batch_size = kBatchSize.read(p);
  s_.patience = kPatience.read(p);
  if (s_.epochs < 1 || s_.batch_size < 2 || s_.patience < 0)
    throw Error(pre + "'epochs' must be >= 1, 'batch_size' >= 2 and 'patience' >= 0");
  s_.learning_rate = kLearningRate.read(p);
  if (!(s_.learning_rate > 0)) throw Error(pre + "'learning_rate' must be > 0, got " + Json(s_.learning_rate).dump());
  s_.weight_decay = kWeightDecay.read(p);
  if (!(s_.weight_decay >= 0)) throw Error(pre + "'weight_decay' must be >= 0, got " + Json(s_.weight_decay).dump());
  s_.validation_split = kValidationSplit.read(p);
  if (!(s_.validation_split >= 0 && s_.validation_split <= 0.9))
    throw Error(pre + "'validation_split' must be in [0, 0.9], got " + Json(s_.validation_split).dump());
  s_.validation_group = kValidationGroup.read(p);
  s_.augment = parse_augment(kAugment.read(p));
  s_.balanced = kClassWeights.read(p) == "balanced";
  s_.seed = setup.seed();
  s_.threads = setup.num_threads();
  s_.randomize = kRandomize.read(p);
  s_.randomize_layers = kRandomizeLayers.read(p);
  if (s_.randomize_layers < 1) throw Error(pre + "'randomize_layers' must be >= 1");
}

void ModelCnn::process_source(Context& ctx) {
  const Host& host = ctx.host();
  if (s_.randomize == "none")
    throw Error(std::string(kId) + ": input 'source' is connected but parameter 'randomize' is none; set randomize: "
                "all or cascade (a plain copy of a model needs no node)");
  if (ctx.connected(kImages) || ctx.connected(kTable))
    host.warn(std::string(kId) + ": input 'source' is connected, so the training images are ignored");
  const Json info = ctx.model(kSource).info();
  if (info.value("type_id", std::string()) != kId || !info.contains("artifact_dir"))
    throw Error(std::string(kId) + ": input 'source' must be the model of a model.cnn node, got " +
                info.value("type_id", std::string("a model without type_id")) +
                "; randomise other models with their own component's randomize parameter");
  at::set_num_threads(static_cast<int>(s_.threads));
  const std::string src = info.at("artifact_dir").get<std::string>();
  Loaded l = load_artifact(src);
  Json j = read_json_file(fs::path(src) / kArtifactJson, kId);
  j["training"]["randomized"] = randomize_net(l.net, s_.randomize, s_.randomize_layers, s_.seed);
  l.net->eval();
  const std::string dir = ctx.output_dir(kModel);
  try {
    torch::serialize::OutputArchive ar;
    l.net->save(ar);
    ar.save_to((fs::path(dir) / kArtifactWeights).string());
  } catch (const std::exception& e) {
    throw Error(std::string(kId) + ": cannot write the weights into " + dir + ": " + first_line(e.what()), MIEN_ERR_IO);
  }
  write_text_file(fs::path(dir) / kArtifactJson, j.dump(1) + "\n", kId);
  host.info(std::string(kId) + ": randomised (" + s_.randomize + ") " + j["training"]["randomized"]["layers"].dump());
  ctx.set(kCurve, training::training_curve_table(j["training"].value("history", Json::array())));
  ctx.set_model(kModel, {{"type_id", kId},
                         {"architecture", arch_text(l.arch)},
                         {"classes", l.classes},
                         {"randomized", j["training"]["randomized"]}});
}

void ModelCnn::process(Context& ctx) {
  if (ctx.connected(kSource)) return process_source(ctx);
  const Host& host = ctx.host();
  if (!ctx.connected(kImages) || !ctx.connected(kTable))
    throw Error(std::string(kId) + ": connect 'images' and 'table' (the training data), or 'source' (a trained "
                "model.cnn to randomise)");
  const TableView table = ctx.table(kTable);
  const TensorView images = ctx.tensor(kImages);
  check_images(images, kImages.name, kTable.name, table.num_rows());
  const int64_t channels = images.dim(3);
  const auto label = table.label();
  if (!label) throw Error(std::string(kId) + ": input 'table' has no LABEL column");
  const std::vector<std::string> classes = class_names(*label, table.num_rows());
  const std::vector<int64_t> y_all = read_labels(table, "table", classes);
  const size_t C = classes.size();

  std::vector<int64_t> labelled;
  std::vector<int64_t> counts(C, 0);
  for (size_t i = 0; i < y_all.size(); ++i)
    if (y_all[i] >= 0) {
      labelled.push_back(static_cast<int64_t>(i));
      ++counts[static_cast<size_t>(y_all[i])];
    }
  if (labelled.size() < y_all.size())
    host.warn(std::string(kId) + ": " + std::to_string(y_all.size() - labelled.size()) +
              " training row(s) without a label are skipped");
  std::vector<std::string> present;
  for (size_t k = 0; k < C; ++k)
    if (counts[k] > 0) present.push_back(classes[k]);
  if (present.size() < 2)
    throw Error(std::string(kId) + ": the training rows hold " +
                (present.empty() ? std::string("no labelled class") : "only one class ('" + present[0] + "')") +
                "; a classifier needs at least two classes");

  // ---- validation: connected images, whole people (validation_group) or a stratified hold-out ----
  std::vector<int64_t> fit_rows, val_rows;
  std::vector<int64_t> val_y;
  torch::Tensor val_x;
  std::string group_column;  // "" = rows
  std::vector<std::string> validation_people;
  const bool val_connected = ctx.connected(kValidationImages) || ctx.connected(kValidationTable);
  if (val_connected) {
    if (!ctx.connected(kValidationImages) || !ctx.connected(kValidationTable))
      throw Error(std::string(kId) + ": connect both validation_images and validation_table, or neither");
    const TableView vt = ctx.table(kValidationTable);
    const TensorView vi = ctx.tensor(kValidationImages);
    check_images(vi, kValidationImages.name, kValidationTable.name, vt.num_rows());
    if (vi.dim(3) != channels)
      throw Error(std::string(kId) + ": validation_images have " + std::to_string(vi.dim(3)) +
                  " channel(s), the training images " + std::to_string(channels));
    const std::vector<int64_t> vy = read_labels(vt, "validation_table", classes);
    std::vector<int64_t> rows;
    for (size_t i = 0; i < vy.size(); ++i)
      if (vy[i] >= 0) {
        rows.push_back(static_cast<int64_t>(i));
        val_y.push_back(vy[i]);
      }
    fit_rows = labelled;
    if (!rows.empty()) val_x = prepared_images(vi, rows, s_.input_size);
  } else {
    fit_rows = labelled;
    if (s_.validation_split > 0)
      group_column = training::validation_group_column(table, s_.validation_group, kId);
    if (s_.validation_split > 0 && !group_column.empty()) {
      // Whole people to validation, so early stopping and the kept epoch are judged on faces
      // of people the training never saw.
      const ColumnView gcol = *table.find(group_column);
      std::vector<std::string> group_of;
      for (int64_t r : labelled) group_of.push_back(gcol.text(r));
      const training::GroupHoldOut h = training::hold_out_groups(group_of, s_.validation_split, s_.seed);
      fit_rows.clear();
      for (int64_t k : h.fit) fit_rows.push_back(labelled[static_cast<size_t>(k)]);
      for (int64_t k : h.val) val_rows.push_back(labelled[static_cast<size_t>(k)]);
      validation_people = h.val_groups;
      if (val_rows.empty())
        host.warn(std::string(kId) + ": the images show " + std::to_string(h.groups) + " person (" + group_column +
                  "); validation by person needs two or more, so there is no early stopping");
      else
        host.info(std::string(kId) + ": " + training::describe_hold_out(h, group_column));
    } else if (s_.validation_split > 0) {
      host.info(std::string(kId) + ": validation holds out rows (stratified by class), not people: " +
                (s_.validation_group == "rows" ? std::string("validation_group is rows")
                                               : std::string("the table has no GROUP column 'subject'")) +
                ", so faces of training people can be in validation");
      Rng rng(s_.seed ^ 0x9e3779b97f4a7c15ULL);
      std::vector<std::vector<int64_t>> by_class(C);
      for (int64_t i : labelled) by_class[static_cast<size_t>(y_all[static_cast<size_t>(i)])].push_back(i);
      fit_rows.clear();
      for (auto& rows : by_class) {
        rng.shuffle(rows);
        auto take = static_cast<size_t>(std::llround(s_.validation_split * static_cast<double>(rows.size())));
        if (!rows.empty()) take = std::min(take, rows.size() - 1);
        val_rows.insert(val_rows.end(), rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(take));
        fit_rows.insert(fit_rows.end(), rows.begin() + static_cast<std::ptrdiff_t>(take), rows.end());
      }
    }
    std::sort(fit_rows.begin(), fit_rows.end());
    std::sort(val_rows.begin(), val_rows.end());
    for (int64_t i : val_rows) val_y.push_back(y_all[static_cast<size_t>(i)]);
    if (!val_rows.empty()) val_x = prepared_images(images, val_rows, s_.input_size);
  }
  const bool have_val = val_x.defined() && val_x.size(0) > 0;
  if (!have_val && s_.patience > 0)
    host.info(std::string(kId) + ": no validation rows, so every epoch runs (patience is not used)");

  // ---- training data, normalisation, class weights ----
  at::set_num_threads(static_cast<int>(s_.threads));
  host.check_cancelled();
  const torch::Tensor fit_x = prepared_images(images, fit_rows, s_.input_size);
  std::vector<int64_t> fit_y;
  for (int64_t i : fit_rows) fit_y.push_back(y_all[static_cast<size_t>(i)]);
  const torch::Tensor fit_yt = torch::tensor(fit_y, torch::kInt64);
  const torch::Tensor val_yt = torch::tensor(val_y, torch::kInt64);

  Arch arch;
  arch.in_channels = channels;
  arch.input_size = s_.input_size;
  arch.classes = static_cast<int64_t>(C);
  arch.channels = s_.channels;
  arch.dropout = s_.dropout;
  arch.head = s_.head;
  for (int64_t c = 0; c < channels; ++c) {
    torch::Tensor ch = fit_x.select(1, c).to(torch::kFloat64);
    const double m = ch.mean().item<double>();
    double sd = ch.std(/*unbiased=*/false).item<double>();
    if (!(sd > 1e-6)) sd = 1.0;
    arch.mean.push_back(m);
    arch.std.push_back(sd);
  }
  std::vector<int64_t> fit_counts(C, 0);
  for (int64_t v : fit_y) ++fit_counts[static_cast<size_t>(v)];
  std::vector<float> cw(C, 1.0f);
  if (s_.balanced) {
    size_t nonzero = 0;
    for (int64_t c : fit_counts) nonzero += c > 0 ? 1 : 0;
    for (size_t k = 0; k < C; ++k)
      cw[k] = fit_counts[k] > 0 ? static_cast<float>(static_cast<double>(fit_y.size()) /
                                                     (static_cast<double>(nonzero) * static_cast<double>(fit_counts[k])))
                                : 0.0f;
  }
  const torch::Tensor weight = torch::tensor(cw, torch::kFloat32);

  torch::manual_seed(s_.seed);
  CnnNet net(arch);
  torch::optim::Adam opt(net->parameters(),
                         torch::optim::AdamOptions(s_.learning_rate).weight_decay(s_.weight_decay));
  Rng rng(s_.seed ^ 0xa5a5a5a5deadbeefULL);
  host.info(std::string(kId) + ": training " + arch_text(arch) + " on " + std::to_string(fit_rows.size()) +
            " images (" + std::to_string(have_val ? val_x.size(0) : 0) + " validation), up to " +
            std::to_string(s_.epochs) + " epochs, batch " + std::to_string(s_.batch_size) + ", " +
            std::to_string(s_.threads) + " thread(s)");

  Json history = Json::array();
  double best_loss = std::numeric_limits<double>::infinity();
  int64_t best_epoch = 0, since_best = 0;
  bool stopped_early = false;
  std::vector<torch::Tensor> best_state;
  std::vector<int64_t> order(fit_rows.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  const int64_t n = static_cast<int64_t>(order.size());
  for (int64_t epoch = 1; epoch <= s_.epochs; ++epoch) {
    net->train();
    rng.shuffle(order);
    double loss_sum = 0, right = 0, wsum = 0;
    for (int64_t s = 0; s < n; s += s_.batch_size) {
      host.check_cancelled();
      int64_t e = std::min(n, s + s_.batch_size);
      if (e - s < 2) break;  // batch norm needs two images
      const torch::Tensor idx = torch::tensor(std::vector<int64_t>(order.begin() + s, order.begin() + e), torch::kInt64);
      torch::Tensor xb = fit_x.index_select(0, idx);
      if (s_.augment.any()) xb = augment_batch(xb, s_.augment, rng);
      const torch::Tensor yb = fit_yt.index_select(0, idx);
      opt.zero_grad();
      torch::Tensor logits = net->forward(xb);
      torch::Tensor loss = torch::nn::functional::cross_entropy(
          logits, yb, torch::nn::functional::CrossEntropyFuncOptions().weight(weight));
      loss.backward();
      opt.step();
      const double bw = weight.index_select(0, yb).sum().item<double>();
      loss_sum += loss.item<double>() * bw;
      wsum += bw;
      right += logits.argmax(1).eq(yb).sum().item<double>();
    }
    Json rec = {{"epoch", epoch},
                {"train_loss", training::number_or_null(loss_sum / std::max(wsum, 1e-12))},
                {"train_accuracy", training::number_or_null(right / static_cast<double>(std::max<int64_t>(n, 1)))},
                {"val_loss", Json()},
                {"val_accuracy", Json()}};
    std::string note = "epoch " + std::to_string(epoch) + " loss " + Json(loss_sum / std::max(wsum, 1e-12)).dump();
    if (have_val) {
      const EvalResult r = evaluate(net, val_x, val_yt, weight, host);
      rec["val_loss"] = training::number_or_null(r.loss);
      rec["val_accuracy"] = training::number_or_null(r.accuracy);
      note += " val_loss " + Json(r.loss).dump() + " val_acc " + Json(r.accuracy).dump();
      if (r.loss < best_loss) {
        best_loss = r.loss;
        best_epoch = epoch;
        since_best = 0;
        best_state = snapshot(net);
      } else {
        ++since_best;
      }
    } else {
      best_epoch = epoch;
    }
    history.push_back(rec);
    host.progress(static_cast<uint64_t>(epoch), static_cast<uint64_t>(s_.epochs), note.c_str());
    host.debug(std::string(kId) + ": " + note);
    if (have_val && s_.patience > 0 && since_best >= s_.patience) {
      stopped_early = true;
      break;
    }
  }
  if (have_val && !best_state.empty()) restore(net, best_state);
  net->eval();
  const Json best = history[static_cast<size_t>(best_epoch - 1)];
  host.info(std::string(kId) + ": " + std::to_string(history.size()) + " epoch(s)" +
            (stopped_early ? " (early stop)" : "") + ", keeping epoch " + std::to_string(best_epoch) +
            (have_val ? ": val_loss " + best["val_loss"].dump() + ", val_accuracy " + best["val_accuracy"].dump() : ""));

  // ---- the artifact ----
  const std::string dir = ctx.output_dir(kModel);
  Json training = {{"epochs", s_.epochs},
                         {"batch_size", s_.batch_size},
                         {"learning_rate", s_.learning_rate},
                         {"weight_decay", s_.weight_decay},
                         {"patience", s_.patience},
                         {"augment", s_.augment.to_json()},
                         {"class_weights", cw},
                         {"seed", s_.seed},
                         {"threads", s_.threads},
                         {"train_rows", fit_rows.size()},
                         {"train_class_counts", fit_counts},
                         {"validation_rows", have_val ? val_x.size(0) : 0},
                         {"validation", val_connected ? "table" : have_val ? "split" : "none"},
                         {"validation_group", val_connected ? Json() : group_column.empty() ? Json("rows") : Json(group_column)},
                         {"validation_people", validation_people},
                         {"epochs_run", history.size()},
                         {"stopped_early", stopped_early},
                         {"best_epoch", best_epoch},
                         {"history", history}};
  if (s_.randomize != "none") {
    training["randomized"] = randomize_net(net, s_.randomize, s_.randomize_layers, s_.seed);
    net->eval();
    host.info(std::string(kId) + ": randomised (" + s_.randomize + ") " + training["randomized"]["layers"].dump());
  }
  const Json artifact = {{"format", kFormat},
                         {"format_version", kFormatVersion},
                         {"type_id", kId},
                         {"architecture", arch_json(arch)},
                         {"classes", classes},
                         {"image_shape", {images.dim(1), images.dim(2), channels}},
                         {"normalisation", "x / 255, then (x - mean) / std per channel"},
                         {"weights", kArtifactWeights},
                         {"training", training}};
  try {
    torch::serialize::OutputArchive ar;
    net->save(ar);
    ar.save_to((fs::path(dir) / kArtifactWeights).string());
  } catch (const std::exception& e) {
    throw Error(std::string(kId) + ": cannot write the weights into " + dir + ": " + first_line(e.what()), MIEN_ERR_IO);
  }
  write_text_file(fs::path(dir) / kArtifactJson, artifact.dump(1) + "\n", kId);
  ctx.set(kCurve, training::training_curve_table(history));
  ctx.set_model(kModel, {{"type_id", kId},
                         {"architecture", arch_text(arch)},
                         {"classes", classes},
                         {"train_rows", fit_rows.size()},
                         {"validation_rows", have_val ? val_x.size(0) : 0},
                         {"validation_group", val_connected ? Json() : group_column.empty() ? Json("rows") : Json(group_column)},
                         {"validation_people", validation_people},
                         {"epochs_run", history.size()},
                         {"best_epoch", best_epoch},
                         {"val_accuracy", best["val_accuracy"]}});
}

std::unique_ptr<Model> ModelCnn::open(const ModelSetup& setup) {
  at::set_num_threads(static_cast<int>(setup.num_threads()));
  return std::make_unique<CnnModel>(load_artifact(setup.artifact_dir()));
}

}  // namespace mien::cnn
