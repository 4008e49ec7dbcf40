// model.torchscript: checks a TorchScript classifier when the node is created, copies it
// into the artifact folder, and serves predict / input_gradient / layer_gradient.
#include "model_torchscript.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "image_ops.hpp"

namespace mien::cnn {

namespace fs = std::filesystem;

namespace {

constexpr const char* kId = "model.torchscript";
constexpr const char* kJson = "torchscript.json";
constexpr const char* kModule = "module.pt";
constexpr int64_t kInferenceBatch = 64;

enum class CamMode { none, methods, sequential };

struct TsModel {
  torch::jit::Module module;
  int64_t h = 224, w = 224, channels = 3;
  std::vector<double> mean, std;
  std::vector<std::string> classes;
  std::string cam_layer, layout = "nchw";
  CamMode mode = CamMode::none;
  std::vector<std::string> children;  // sequential mode: submodule names in order

  std::vector<int64_t> declared_shape(int64_t n) const {
    return layout == "nchw" ? std::vector<int64_t>{n, channels, h, w} : std::vector<int64_t>{n, h, w, channels};
  }
  // Raw pixels [N, H, W, C] (0..255) -> what forward takes.
  torch::Tensor prepare(const torch::Tensor& nhwc) const {
    torch::Tensor x = to_nchw_resized(nhwc, h, w) / 255.0;
    const torch::Tensor m = torch::tensor(std::vector<float>(mean.begin(), mean.end())).view({1, channels, 1, 1});
    const torch::Tensor s = torch::tensor(std::vector<float>(std.begin(), std.end())).view({1, channels, 1, 1});
    x = (x - m) / s;
    return layout == "nchw" ? x : x.permute({0, 2, 3, 1}).contiguous();
  }
  torch::Tensor logits(const torch::Tensor& x) {
    const c10::IValue out = module.forward({x});
    if (!out.isTensor()) throw Error(std::string(kId) + ": forward returned " + out.tagKind() + ", not a tensor");
    return out.toTensor();
  }
  // Logits, with *act the cam layer's activation (part of the graph).
  torch::Tensor logits_with(const torch::Tensor& x, const std::string& layer, torch::Tensor* act) {
    if (mode == CamMode::methods) {
      *act = module.get_method("forward_features")({x}).toTensor();
      return module.get_method("forward_head")({*act}).toTensor();
    }
    torch::Tensor a = x;
    for (const auto& c : module.named_children()) {
      torch::jit::Module child = c.value;
      a = child.forward({a}).toTensor();
      if (c.name == layer) *act = a;
    }
    return a;
  }
};

std::vector<double> per_channel(const std::vector<double>& v, int64_t channels, const char* name) {
  if (v.size() == 1) return std::vector<double>(static_cast<size_t>(channels), v[0]);
  if (static_cast<int64_t>(v.size()) != channels)
    throw Error(std::string(kId) + ": parameter '" + name + "' has " + std::to_string(v.size()) +
                " values; give one, or one per channel (" + std::to_string(channels) + ")");
  return v;
}

// Settings from the parameters (or the artifact's JSON), checked.
TsModel read_settings(const Json& j) {
  const std::string pre = std::string(kId) + ": parameter ";
  TsModel t;
  const auto size = j.at("input_size").get<std::vector<int64_t>>();
  if (size.size() != 2 || size[0] < 1 || size[1] < 1)
    throw Error(pre + "'input_size' must be [H, W] with positive sizes, got " + Json(size).dump());
  t.h = size[0];
  t.w = size[1];
  t.channels = j.at("channels").get<int64_t>();
  if (t.channels != 1 && t.channels != 3) throw Error(pre + "'channels' must be 1 or 3, got " + std::to_string(t.channels));
  t.mean = per_channel(j.at("mean").get<std::vector<double>>(), t.channels, "mean");
  t.std = per_channel(j.at("std").get<std::vector<double>>(), t.channels, "std");
  for (double s : t.std)
    if (!(s > 0)) throw Error(pre + "'std' values must be > 0, got " + Json(t.std).dump());
  t.classes = j.at("classes").get<std::vector<std::string>>();
  if (t.classes.empty()) throw Error(pre + "'classes' must name the module's outputs, in order");
  for (size_t i = 0; i < t.classes.size(); ++i)
    for (size_t k = 0; k < i; ++k)
      if (t.classes[i] == t.classes[k]) throw Error(pre + "'classes' names '" + t.classes[i] + "' twice");
  t.cam_layer = j.at("cam_layer").get<std::string>();
  t.layout = j.at("input_layout").get<std::string>();
  if (t.layout != "nchw" && t.layout != "nhwc")
    throw Error(pre + "'input_layout' must be nchw or nhwc, got '" + t.layout + "'");
  return t;
}

// Loads the file and checks it against the declared shape and classes; `display` is the
// path as the user wrote it.
void load_and_check(TsModel& t, const std::string& path, const std::string& display, bool full_check) {
  try {
    t.module = torch::jit::load(path);
  } catch (const std::exception& e) {
    throw Error(std::string(kId) + ": not a TorchScript file: " + display + " (" + first_line(e.what()) + ")",
                MIEN_ERR_IO);
  }
  t.module.eval();
  for (const auto& c : t.module.named_children()) t.children.push_back(c.name);
  if (!t.cam_layer.empty())
    t.mode = (t.module.find_method("forward_features") && t.module.find_method("forward_head")) ? CamMode::methods
                                                                                                  : CamMode::sequential;
  if (!full_check) return;
  torch::NoGradGuard g;
  const std::vector<int64_t> shape = t.declared_shape(1);
  torch::Tensor zero = torch::zeros(shape);
  torch::Tensor out;
  try {
    out = t.logits(zero);
  } catch (const std::exception& e) {
    throw Error(std::string(kId) + ": a forward pass of " + display + " on a zero batch of the declared shape " +
                shape_text(shape) + " (float32, " + t.layout + ") failed: " + first_line(e.what()));
  }
  const std::vector<int64_t> got(out.sizes().begin(), out.sizes().end());
  const auto k = static_cast<int64_t>(t.classes.size());
  if (got != std::vector<int64_t>{1, k})
    throw Error(std::string(kId) + ": " + display + " returns shape " + shape_text(got) +
                " for a zero batch of the declared shape " + shape_text(shape) + "; expected [1, " +
                std::to_string(k) + "] (one score per entry of 'classes')");
  if (t.mode == CamMode::none) return;
  if (t.mode == CamMode::sequential &&
      std::find(t.children.begin(), t.children.end(), t.cam_layer) == t.children.end()) {
    std::string names;
    for (const auto& n : t.children) names += (names.empty() ? "" : ", ") + n;
    throw Error(std::string(kId) + ": parameter 'cam_layer': " + display + " has no method forward_features/" +
                "forward_head and no submodule '" + t.cam_layer + "' (its submodules: " +
                (names.empty() ? std::string("none") : names) + ")");
  }
  torch::Tensor act, again;
  try {
    torch::Tensor probe = torch::rand(shape);
    again = t.logits_with(probe, t.cam_layer, &act);
    out = t.logits(probe);
  } catch (const std::exception& e) {
    throw Error(std::string(kId) + ": parameter 'cam_layer': running " + display + " layer by layer failed: " +
                first_line(e.what()));
  }
  if (!act.defined() || !again.sizes().equals(out.sizes()) || !torch::allclose(again, out, 1e-4, 1e-5))
    throw Error(std::string(kId) + ": parameter 'cam_layer': " +
                (t.mode == CamMode::methods ? std::string("forward_head(forward_features(x))")
                                            : std::string("running the submodules of ") + display + " in order") +
                " does not reproduce forward(x); Grad-CAM needs one of the two (see the README)");
}

Json settings_json(const TsModel& t) {
  return {{"input_size", {t.h, t.w}}, {"channels", t.channels},   {"mean", t.mean},
          {"std", t.std},             {"classes", t.classes},     {"cam_layer", t.cam_layer},
          {"input_layout", t.layout}};
}

class TsRunner : public Model {
 public:
  explicit TsRunner(TsModel t) : t_(std::move(t)) {}

  Json info() const override {
    Json cams = Json::array();
    if (t_.mode == CamMode::methods) cams.push_back(t_.cam_layer);
    if (t_.mode == CamMode::sequential)
      for (const auto& c : t_.children) cams.push_back(c);
    Json j = {{"type_id", kId},
              {"input", "image"},
              {"input_shape", {t_.h, t_.w, t_.channels}},
              {"input_dtype", "uint8 or float32 on the 0..255 scale; any H and W (resized inside)"},
              {"classes", t_.classes},
              {"score", "logit"},
              {"settings", settings_json(t_)},
              {"cam_layers", cams}};
    if (!t_.cam_layer.empty()) {
      j["default_cam_layer"] = t_.cam_layer;
      j["cam_layout"] = t_.layout;
    }
    return j;
  }

  Tensor predict(const TensorView& input, const Host& host) override {
    torch::Tensor x = image_batch(input, t_.channels, kId);
    torch::NoGradGuard g;
    std::vector<torch::Tensor> parts;
    for (int64_t s = 0; s < x.size(0); s += kInferenceBatch) {
      host.check_cancelled();
      const int64_t e = std::min(x.size(0), s + kInferenceBatch);
      parts.push_back(torch::softmax(checked(t_.logits(t_.prepare(x.slice(0, s, e))), e - s), 1));
    }
    return to_mien(parts.empty() ? torch::zeros({0, static_cast<int64_t>(t_.classes.size())}) : torch::cat(parts));
  }

  std::pair<Tensor, Tensor> input_gradient(const TensorView& input, const std::vector<int64_t>& classes,
                                           const Host& host) override {
    torch::Tensor x = image_batch(input, t_.channels, kId);
    const torch::Tensor cls = class_tensor(classes, x.size(0));
    std::vector<torch::Tensor> grads, scores;
    for (int64_t s = 0; s < x.size(0); s += kInferenceBatch) {
      host.check_cancelled();
      const int64_t e = std::min(x.size(0), s + kInferenceBatch);
      torch::Tensor xb = x.slice(0, s, e).clone().set_requires_grad(true);
      torch::Tensor score =
          checked(t_.logits(t_.prepare(xb)), e - s).gather(1, cls.slice(0, s, e).unsqueeze(1)).squeeze(1);
      grads.push_back(torch::autograd::grad({score.sum()}, {xb})[0]);
      scores.push_back(score.detach());
    }
    if (grads.empty()) return {to_mien(x), to_mien(torch::zeros({0}))};
    return {to_mien(torch::cat(grads)), to_mien(torch::cat(scores))};
  }

  ModelRef::LayerResult layer_gradient(const std::string& layer, const TensorView& input,
                                       const std::vector<int64_t>& classes, const Host& host) override {
    if (t_.mode == CamMode::none)
      throw Error(std::string(kId) + ": no layer gradients: the node's 'cam_layer' parameter was empty",
                  MIEN_ERR_UNSUPPORTED);
    const std::string name = layer.empty() ? t_.cam_layer : layer;
    if ((t_.mode == CamMode::methods && name != t_.cam_layer) ||
        (t_.mode == CamMode::sequential && std::find(t_.children.begin(), t_.children.end(), name) == t_.children.end()))
      throw Error(std::string(kId) + ": no layer '" + name + "' (see cam_layers in the model's info)");
    torch::Tensor x = image_batch(input, t_.channels, kId);
    const torch::Tensor cls = class_tensor(classes, x.size(0));
    std::vector<torch::Tensor> acts, grads, scores;
    for (int64_t s = 0; s < x.size(0); s += kInferenceBatch) {
      host.check_cancelled();
      const int64_t e = std::min(x.size(0), s + kInferenceBatch);
      torch::Tensor xb = x.slice(0, s, e).clone().set_requires_grad(true);
      torch::Tensor act;
      torch::Tensor score = checked(t_.logits_with(t_.prepare(xb), name, &act), e - s)
                                .gather(1, cls.slice(0, s, e).unsqueeze(1))
                                .squeeze(1);
      grads.push_back(torch::autograd::grad({score.sum()}, {act})[0]);
      acts.push_back(act.detach());
      scores.push_back(score.detach());
    }
    if (acts.empty()) throw Error(std::string(kId) + ": layer_gradient got an empty batch");
    return {to_mien(torch::cat(acts)), to_mien(torch::cat(grads)), to_mien(torch::cat(scores))};
  }

 private:
  torch::Tensor checked(const torch::Tensor& out, int64_t n) const {
    const auto k = static_cast<int64_t>(t_.classes.size());
    if (out.dim() != 2 || out.size(0) != n || out.size(1) != k)
      throw Error(std::string(kId) + ": the module returned shape " +
                  shape_text(std::vector<int64_t>(out.sizes().begin(), out.sizes().end())) + " for " +
                  std::to_string(n) + " images; expected [" + std::to_string(n) + ", " + std::to_string(k) + "]");
    return out.to(torch::kFloat32);
  }
  torch::Tensor class_tensor(const std::vector<int64_t>& classes, int64_t n) const {
    const auto k = static_cast<int64_t>(t_.classes.size());
    if (static_cast<int64_t>(classes.size()) < n)
      throw Error(std::string(kId) + ": one class index per input row is needed", MIEN_ERR_INVALID_ARGUMENT);
    for (int64_t i = 0; i < n; ++i)
      if (classes[static_cast<size_t>(i)] < 0 || classes[static_cast<size_t>(i)] >= k)
        throw Error(std::string(kId) + ": class index " + std::to_string(classes[static_cast<size_t>(i)]) +
                    " of row " + std::to_string(i) + " is outside 0.." + std::to_string(k - 1));
    return torch::tensor(std::vector<int64_t>(classes.begin(), classes.begin() + n), torch::kInt64);
  }
  TsModel t_;
};

}  // namespace

ComponentInfo ModelTorchScript::info() {
  return ComponentInfo(kId, 1, MIEN_KIND_MODEL,
                       "A TorchScript image classifier trained elsewhere (torch.jit.save), checked and served")
      .params(kPath, kInputSize, kChannels, kMean, kStd, kClasses, kCamLayer, kInputLayout, kRandomize, kRandomizeLayers)
      .ports(kModel)
      .model_capabilities(kCapabilities);
}

ModelTorchScript::ModelTorchScript(const Setup& s) {
  const Params& p = s.params();
  display_ = kPath.read(p);
  if (display_.empty()) throw Error(std::string(kId) + ": parameter 'path' is empty (expected a TorchScript file)");
  path_ = s.resolve_path(display_);
  if (!fs::is_regular_file(path_))
    throw Error(std::string(kId) + ": parameter 'path': " + display_ +
                    " does not exist (expected a TorchScript file saved with torch.jit.save)",
                MIEN_ERR_IO);
  settings_ = {{"input_size", kInputSize.read(p)}, {"channels", kChannels.read(p)}, {"mean", kMean.read(p)},
               {"std", kStd.read(p)},               {"classes", kClasses.read(p)},   {"cam_layer", kCamLayer.read(p)},
               {"input_layout", kInputLayout.read(p)}};
  threads_ = s.num_threads();
  randomize_ = kRandomize.read(p);
  randomize_layers_ = kRandomizeLayers.read(p);
  seed_ = s.seed();
  at::set_num_threads(static_cast<int>(threads_));
  TsModel t = read_settings(settings_);
  load_and_check(t, path_, display_, true);
  settings_ = settings_json(t);
}

// Model-parameter randomisation of a TorchScript module. Its parameters are grouped by
// the submodule that owns them (the name before the last '.'), in the module's parameter
// order; the last `top` groups (or all) are re-initialised with PyTorch's defaults, each
// from a generator seeded by (seed, group) alone.
Json randomize_module(torch::jit::Module& m, const std::string& mode, int64_t top, uint64_t seed) {
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::pair<std::string, torch::Tensor>>> params;
  for (const auto& p : m.named_parameters(true)) {
    const auto dot = p.name.rfind('.');
    const std::string owner = dot == std::string::npos ? "" : p.name.substr(0, dot);
    if (params.find(owner) == params.end()) groups.push_back(owner);
    params[owner].emplace_back(p.name.substr(dot == std::string::npos ? 0 : dot + 1), p.value);
  }
  const auto L = static_cast<int64_t>(groups.size());
  if (L == 0) throw Error(std::string(kId) + ": parameter 'randomize': the module has no parameters to randomise");
  if (mode == "cascade" && top > L)
    throw Error(std::string(kId) + ": parameter 'randomize_layers' is " + std::to_string(top) + " but the module has " +
                std::to_string(L) + " parameterised submodules; use 1.." + std::to_string(L) + " (or randomize: all)");
  const int64_t n = mode == "all" ? L : top;
  torch::NoGradGuard g;
  Json names = Json::array();
  for (int64_t i = 0; i < n; ++i) {
    const std::string& owner = groups[static_cast<size_t>(L - 1 - i)];
    at::Generator gen = at::detail::createCPUGenerator(seed ^ (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(i + 1)));
    auto& ps = params[owner];
    // fan_in from the group's first weight of two or more dimensions ([out, in, ...]);
    // a group of 1-D parameters only is a norm layer (weight 1, bias 0).
    int64_t fan_in = 0;
    for (auto& [name, t] : ps)
      if (t.dim() >= 2 && fan_in == 0) fan_in = t.numel() / t.size(0);
    const bool norm = fan_in == 0;
    for (auto& [name, t] : ps) {
      if (t.dim() >= 2) {
        const double bound = 1.0 / std::sqrt(static_cast<double>(t.numel() / t.size(0)));  // kaiming_uniform(a=sqrt(5))
        t.uniform_(-bound, bound, gen);
      } else if (!norm) {
        const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));  // a bias, as nn.Linear / nn.Conv2d
        t.uniform_(-bound, bound, gen);
      } else if (name == "weight") {
        t.fill_(1.0);
      } else {
        t.zero_();
      }
    }
    if (norm) {  // running statistics of a norm layer back to their initial values
      for (const auto& b : m.named_buffers(true)) {
        if (b.name == owner + ".running_mean") b.value.zero_();
        if (b.name == owner + ".running_var") b.value.fill_(1.0);
      }
    }
    names.push_back(owner.empty() ? "(top level)" : owner);
  }
  return Json{{"mode", mode}, {"layers", names}, {"seed", seed},
              {"init", "PyTorch defaults: Kaiming-uniform (a = sqrt(5)) weights, U(+-1/sqrt(fan_in)) biases, norm "
                       "layers 1/0"}};
}

void ModelTorchScript::process(Context& ctx) {
  const std::string dir = ctx.output_dir(kModel);
  Json randomized;
  if (randomize_ == "none") {
    std::error_code ec;
    fs::copy_file(path_, fs::path(dir) / kModule, fs::copy_options::overwrite_existing, ec);
    if (ec) throw Error(std::string(kId) + ": cannot copy " + display_ + " into " + dir + ": " + ec.message(), MIEN_ERR_IO);
  } else {
    torch::jit::Module m = torch::jit::load(path_);
    randomized = randomize_module(m, randomize_, randomize_layers_, seed_);
    try {
      m.save((fs::path(dir) / kModule).string());
    } catch (const std::exception& e) {
      throw Error(std::string(kId) + ": cannot write the randomised module into " + dir + ": " + first_line(e.what()),
                  MIEN_ERR_IO);
    }
    ctx.host().info(std::string(kId) + ": randomised (" + randomize_ + ") " + randomized["layers"].dump());
  }
  Json j = {{"format", "mien.torchscript"}, {"format_version", 1}, {"type_id", kId},
            {"source", path_},              {"module", kModule},    {"settings", settings_},
            {"randomized", randomized}};
  write_text_file(fs::path(dir) / kJson, j.dump(1) + "\n", kId);
  ctx.host().info(std::string(kId) + ": copied " + display_ + " (" + std::to_string(settings_["classes"].size()) +
                  " classes)");
  ctx.set_model(kModel, {{"type_id", kId}, {"source", path_}, {"classes", settings_["classes"]}, {"randomized", randomized}});
}

std::unique_ptr<Model> ModelTorchScript::open(const ModelSetup& setup) {
  at::set_num_threads(static_cast<int>(setup.num_threads()));
  const fs::path jp = fs::path(setup.artifact_dir()) / kJson;
  if (!fs::is_regular_file(jp))
    throw Error(std::string(kId) + ": " + setup.artifact_dir() + " is not a model.torchscript artifact (no " + kJson +
                    ")",
                MIEN_ERR_IO);
  const Json j = read_json_file(jp, kId);
  TsModel t;
  try {
    t = read_settings(j.at("settings"));
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(std::string(kId) + ": " + jp.string() + ": " + e.what(), MIEN_ERR_IO);
  }
  const std::string mp = (fs::path(setup.artifact_dir()) / kModule).string();
  load_and_check(t, mp, mp, false);
  return std::make_unique<TsRunner>(std::move(t));
}

}  // namespace mien::cnn
