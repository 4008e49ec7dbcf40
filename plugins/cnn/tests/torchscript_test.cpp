// model.torchscript: a TorchScript classifier built here in C++ (register_parameter +
// define), saved, and served through the component: predictions equal the module's
// own forward, gradients match finite differences, both Grad-CAM styles work, and the
// checks made when the node is created give their exact messages.
#include <gtest/gtest.h>
#include <mien/testing.hpp>
#include <torch/script.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "cnn_host.hpp"
#include "model_torchscript.hpp"

namespace {

namespace fs = std::filesystem;
using cnn_test::HostedModel;
using cnn_test::TempDir;
using mien::Json;
using mien::cnn::ModelTorchScript;
using Runner = mien::testing::ComponentRunner<ModelTorchScript>;

const mien_component_desc* descriptor() { return mien::detail::Adapter<ModelTorchScript>::descriptor(); }

// conv3x3(1 -> 4) + ReLU, then a linear head over the flattened 4 x 8 x 8 map -> 3 logits.
torch::jit::Module conv_part() {
  torch::jit::Module f("Features");
  f.register_parameter("w", torch::randn({4, 1, 3, 3}) * 0.5, false);
  f.register_parameter("b", torch::randn({4}) * 0.1, false);
  f.define(R"(
def forward(self, x):
    return torch.relu(torch.conv2d(x, self.w, self.b, [1, 1], [1, 1]))
)");
  return f;
}
torch::jit::Module head_part() {
  torch::jit::Module h("Head");
  h.register_parameter("w", torch::randn({4 * 8 * 8, 3}) * 0.05, false);
  h.register_parameter("b", torch::randn({3}) * 0.1, false);
  h.define(R"(
def forward(self, x):
    return torch.matmul(torch.flatten(x, 1), self.w) + self.b
)");
  return h;
}

// kind: "sequential" (forward runs the submodules in order), "methods"
// (forward_features / forward_head), "twisted" (forward is not the submodules in order).
std::string save_module(const TempDir& dir, const std::string& kind) {
  torch::manual_seed(3);
  torch::jit::Module m("TinyNet");
  m.register_module("features", conv_part());
  m.register_module("head", head_part());
  if (kind == "sequential") {
    m.define("def forward(self, x):\n    return self.head.forward(self.features.forward(x))\n");
  } else if (kind == "methods") {
    m.define(R"(
def forward_features(self, x):
    return self.features.forward(x)

def forward_head(self, a):
    return self.head.forward(a)

def forward(self, x):
    return self.forward_head(self.forward_features(x))
)");
  } else if (kind == "nhwc") {
    m.define(R"(
def forward(self, x):
    return self.head.forward(self.features.forward(x.permute([0, 3, 1, 2])))
)");
  } else {
    m.define("def forward(self, x):\n    return self.head.forward(self.features.forward(x)) * 2.0\n");
  }
  const std::string path = (fs::path(dir.path()) / (kind + ".pt")).string();
  m.save(path);
  return path;
}

Json params(const std::string& path, Json extra = Json::object()) {
  Json p = {{"path", path},          {"input_size", {8, 8}}, {"channels", 1},
            {"mean", {0.5}},         {"std", {0.25}},        {"classes", {"a", "b", "c"}}};
  p.update(extra);
  return p;
}

std::vector<float> images(int64_t n, int64_t size, uint64_t seed) {
  torch::manual_seed(seed);
  torch::Tensor t = torch::randint(0, 256, {n, size, size, 1}).to(torch::kFloat32).contiguous();
  return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
}

std::string error_of(const Json& p) {
  Runner r(p, 1);
  EXPECT_NE(r.run(), MIEN_OK);
  return r.error();
}

TEST(ModelTorchScript, PredictEqualsTheModulesOwnForward) {
  TempDir dir;
  const std::string path = save_module(dir, "sequential");
  Runner r(params(path), 1);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  EXPECT_TRUE(fs::is_regular_file(fs::path(r.output_dir("model")) / "module.pt"));
  HostedModel m(descriptor(), r.output_dir("model"));
  ASSERT_EQ(m.status(), MIEN_OK) << m.error();
  EXPECT_EQ(m.info()["classes"], Json({"a", "b", "c"}));
  const std::vector<float> x = images(5, 8, 1);
  const std::vector<float> p = m.model().predict(mien::Tensor::from<float>({5, 8, 8, 1}, x)).view().to_vector<float>();

  torch::jit::Module own = torch::jit::load(path);
  torch::NoGradGuard g;
  torch::Tensor in = torch::from_blob(const_cast<float*>(x.data()), {5, 8, 8, 1}).permute({0, 3, 1, 2});
  torch::Tensor expect = torch::softmax(own.forward({(in / 255.0 - 0.5) / 0.25}).toTensor(), 1).contiguous();
  ASSERT_EQ(p.size(), 15u);
  for (size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(p[i], expect.data_ptr<float>()[i], 1e-6);
}

TEST(ModelTorchScript, NhwcModulesGetChannelsLastInput) {
  TempDir dir;
  const std::string nchw = save_module(dir, "sequential"), nhwc = save_module(dir, "nhwc");
  Runner a(params(nchw), 1), b(params(nhwc, {{"input_layout", "nhwc"}}), 1);
  ASSERT_EQ(a.run(), MIEN_OK) << a.error();
  ASSERT_EQ(b.run(), MIEN_OK) << b.error();
  HostedModel ma(descriptor(), a.output_dir("model")), mb(descriptor(), b.output_dir("model"));
  ASSERT_EQ(mb.status(), MIEN_OK) << mb.error();
  const std::vector<float> x = images(4, 8, 7);
  // Same weights (same seed), so the same probabilities whichever layout the module takes.
  const auto pa = ma.model().predict(mien::Tensor::from<float>({4, 8, 8, 1}, x)).view().to_vector<float>();
  const auto pb = mb.model().predict(mien::Tensor::from<float>({4, 8, 8, 1}, x)).view().to_vector<float>();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_NEAR(pa[i], pb[i], 1e-6);
}

TEST(ModelTorchScript, InputGradientMatchesFiniteDifferences) {
  TempDir dir;
  Runner r(params(save_module(dir, "sequential")), 1);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  HostedModel m(descriptor(), r.output_dir("model"));
  ASSERT_EQ(m.status(), MIEN_OK) << m.error();
  for (int64_t size : {8, 12}) {  // 12: resized to the declared 8 x 8 inside
    std::vector<float> x = images(2, size, 2);
    const std::vector<int64_t> cls = {0, 2};
    auto run = [&](const std::vector<float>& v) {
      return m.model().input_gradient(mien::Tensor::from<float>({2, size, size, 1}, v), cls);
    };
    const auto base = run(x);
    const std::vector<float> g = base.first.view().to_vector<float>();
    ASSERT_EQ(base.first.shape(), (std::vector<int64_t>{2, size, size, 1}));
    float gmax = 0;
    for (float v : g) gmax = std::max(gmax, std::abs(v));
    ASSERT_GT(gmax, 0.0f);
    for (size_t i : {size_t{3}, size_t{20}, static_cast<size_t>(size * size + 9), static_cast<size_t>(2 * size * size - 1)}) {
      std::vector<float> up = x, down = x;
      up[i] += 0.5f;
      down[i] -= 0.5f;
      const auto row = static_cast<int64_t>(i / static_cast<size_t>(size * size));
      const double fd = (run(up).second.view().at(row) - run(down).second.view().at(row)) / 1.0;
      EXPECT_NEAR(fd, g[i], 0.02 * gmax + 1e-5) << "pixel " << i << " size " << size;
    }
  }
}

TEST(ModelTorchScript, SequentialSubmodulesGiveLayerGradients) {
  TempDir dir;
  const std::string path = save_module(dir, "sequential");
  Runner r(params(path, {{"cam_layer", "features"}}), 1);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  HostedModel m(descriptor(), r.output_dir("model"));
  ASSERT_EQ(m.status(), MIEN_OK) << m.error();
  EXPECT_EQ(m.info()["cam_layers"], Json({"features", "head"}));
  EXPECT_EQ(m.info()["default_cam_layer"], "features");
  const std::vector<float> x = images(3, 8, 4);
  const std::vector<int64_t> cls = {0, 1, 2};
  const auto l = m.model().layer_gradient("features", mien::Tensor::from<float>({3, 8, 8, 1}, x), cls);
  ASSERT_EQ(l.activations.shape(), (std::vector<int64_t>{3, 4, 8, 8}));
  ASSERT_EQ(l.gradients.shape(), (std::vector<int64_t>{3, 4, 8, 8}));
  // The head is linear: d logit_k / d activation = column k of its weight.
  torch::jit::Module own = torch::jit::load(path);
  torch::Tensor w = own.attr("head").toModule().attr("w").toTensor();
  const std::vector<float> g = l.gradients.view().to_vector<float>();
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 256; j += 17)
      EXPECT_NEAR(g[static_cast<size_t>(i * 256 + j)], w[j][cls[static_cast<size_t>(i)]].item<float>(), 1e-6);
}

TEST(ModelTorchScript, ForwardFeaturesAndForwardHeadGiveLayerGradients) {
  TempDir dir;
  Runner r(params(save_module(dir, "methods"), {{"cam_layer", "conv"}}), 1);
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
  HostedModel m(descriptor(), r.output_dir("model"));
  ASSERT_EQ(m.status(), MIEN_OK) << m.error();
  EXPECT_EQ(m.info()["cam_layers"], Json({"conv"}));
  const std::vector<float> x = images(2, 8, 5);
  const auto l = m.model().layer_gradient("conv", mien::Tensor::from<float>({2, 8, 8, 1}, x), {1, 1});
  EXPECT_EQ(l.activations.shape(), (std::vector<int64_t>{2, 4, 8, 8}));
  const auto ig = m.model().input_gradient(mien::Tensor::from<float>({2, 8, 8, 1}, x), {1, 1});
  for (int64_t i = 0; i < 2; ++i) EXPECT_NEAR(l.scores.view().at(i), ig.second.view().at(i), 1e-5);
}

TEST(ModelTorchScript, MissingFileIsAnError) {
  EXPECT_EQ(error_of(params("/nonexistent/net.pt")),
            "model.torchscript: parameter 'path': /nonexistent/net.pt does not exist (expected a TorchScript file "
            "saved with torch.jit.save)");
}

TEST(ModelTorchScript, CorruptFileIsNotATorchScriptFile) {
  TempDir dir;
  const std::string path = (fs::path(dir.path()) / "junk.pt").string();
  {
    std::ofstream out(path, std::ios::binary);
    std::mt19937_64 gen(1);
    for (int i = 0; i < 4096; ++i) out.put(static_cast<char>(gen() & 0xff));
  }
  const std::string e = error_of(params(path));
  const std::string prefix = "model.torchscript: not a TorchScript file: " + path + " (";
  EXPECT_EQ(e.substr(0, prefix.size()), prefix) << e;
}

TEST(ModelTorchScript, WrongDeclaredShapeOrClassCountIsAnError) {
  TempDir dir;
  const std::string path = save_module(dir, "sequential");
  const std::string e = error_of(params(path, {{"input_size", {10, 10}}}));
  const std::string prefix = "model.torchscript: a forward pass of " + path +
                             " on a zero batch of the declared shape [1, 1, 10, 10] (float32, nchw) failed: ";
  EXPECT_EQ(e.substr(0, prefix.size()), prefix) << e;
  EXPECT_EQ(error_of(params(path, {{"classes", {"a", "b", "c", "d"}}})),
            "model.torchscript: " + path +
                " returns shape [1, 3] for a zero batch of the declared shape [1, 1, 8, 8]; expected [1, 4] (one score "
                "per entry of 'classes')");
}

TEST(ModelTorchScript, CamLayerMustBeUsable) {
  TempDir dir;
  const std::string seq = save_module(dir, "sequential"), twisted = save_module(dir, "twisted");
  EXPECT_EQ(error_of(params(seq, {{"cam_layer", "nope"}})),
            "model.torchscript: parameter 'cam_layer': " + seq +
                " has no method forward_features/forward_head and no submodule 'nope' (its submodules: features, head)");
  EXPECT_EQ(error_of(params(twisted, {{"cam_layer", "features"}})),
            "model.torchscript: parameter 'cam_layer': running the submodules of " + twisted +
                " in order does not reproduce forward(x); Grad-CAM needs one of the two (see the README)");
}

TEST(ModelTorchScript, RelativePathsAreResolvedAgainstTheExperimentFolder) {
  TempDir dir;
  save_module(dir, "sequential");
  Runner r(params("sequential.pt"), 1);
  r.set_base_dir(dir.path());
  ASSERT_EQ(r.run(), MIEN_OK) << r.error();
}

}  // namespace

TEST(ModelTorchScript, RandomizeReinitialisesTheTopSubmodulesAndSavesAValidModule) {
  TempDir dir;
  const std::string path = save_module(dir, "sequential");
  auto params_of = [](const std::string& file) {
    std::map<std::string, torch::Tensor> out;
    for (const auto& p : torch::jit::load(file).named_parameters(true)) out[p.name] = p.value.clone();
    return out;
  };
  const auto original = params_of(path);
  Runner top(params(path, {{"cam_layer", "features"}, {"randomize", "cascade"}, {"randomize_layers", 1}}), 5);
  Runner all(params(path, {{"cam_layer", "features"}, {"randomize", "all"}}), 5);
  ASSERT_EQ(top.run(), MIEN_OK) << top.error();
  ASSERT_EQ(all.run(), MIEN_OK) << all.error();
  const auto p_top = params_of((fs::path(top.output_dir("model")) / "module.pt").string());
  const auto p_all = params_of((fs::path(all.output_dir("model")) / "module.pt").string());
  // cascade 1: only the head (the last parameterised submodule) changes.
  EXPECT_TRUE(torch::equal(p_top.at("features.w"), original.at("features.w")));
  EXPECT_TRUE(torch::equal(p_top.at("features.b"), original.at("features.b")));
  EXPECT_FALSE(torch::equal(p_top.at("head.w"), original.at("head.w")));
  EXPECT_FALSE(torch::equal(p_all.at("features.w"), original.at("features.w")));
  // Same seed: the head draws the same whatever the depth; PyTorch's default bounds.
  EXPECT_TRUE(torch::equal(p_all.at("head.w"), p_top.at("head.w")));
  EXPECT_LE(p_all.at("features.w").abs().max().item<double>(), 1.0 / 3.0 + 1e-6);  // 1/sqrt(1*3*3)
  EXPECT_LE(p_all.at("features.b").abs().max().item<double>(), 1.0 / 3.0 + 1e-6);
  // Still a model: probabilities, layer gradients; the artifact says what was reset.
  HostedModel m(descriptor(), all.output_dir("model"));
  ASSERT_EQ(m.status(), MIEN_OK) << m.error();
  const std::vector<float> x = images(3, 8, 2);
  const auto p = m.model().predict(mien::Tensor::from<float>({3, 8, 8, 1}, x)).view().to_vector<float>();
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(p[i * 3] + p[i * 3 + 1] + p[i * 3 + 2], 1.0, 1e-5);
  const auto l = m.model().layer_gradient("features", mien::Tensor::from<float>({3, 8, 8, 1}, x), {0, 1, 2});
  EXPECT_EQ(l.activations.shape(), (std::vector<int64_t>{3, 4, 8, 8}));
  EXPECT_EQ(all.json("model")["randomized"]["layers"], Json({"head", "features"}));
  EXPECT_NE(error_of(params(path, {{"randomize", "cascade"}, {"randomize_layers", 3}})).find("1..2"), std::string::npos);
}
