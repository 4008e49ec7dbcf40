// The face-api.js expression network in LibTorch: the one torch translation unit of the
// plugin. See faceapi_net.hpp for the architecture and the preprocessing.
#include "faceapi_net.hpp"

#include <mien/plugin.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace mien::faceapi {

namespace {

constexpr int64_t kChunk = 64;  // images per forward pass
constexpr double kMean[3] = {122.782, 117.001, 104.298};

struct Sep {
  torch::Tensor dw, pw, b;  // [C,1,3,3], [O,C,1,1], [O]
};

struct Block {
  torch::Tensor w0, b0;  // block 0's plain first convolution [32,3,3,3], [32]
  Sep sep[4];            // sep[0] is the first (stride 2) convolution of blocks 1..3
};

uint64_t below(std::mt19937_64& g, uint64_t n) {
  const uint64_t threshold = (0 - n) % n;
  for (;;) {
    const uint64_t r = g();
    if (r >= threshold) return r % n;
  }
}

// TensorFlow 'same' padding of a 3x3 kernel (asymmetric when the total is odd).
torch::Tensor pad_same(const torch::Tensor& x, int64_t stride) {
  auto pads = [&](int64_t in) {
    const int64_t out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>((out - 1) * stride + 3 - in, 0);
    return std::pair<int64_t, int64_t>(total / 2, total - total / 2);
  };
  const auto [h0, h1] = pads(x.size(2));
  const auto [w0, w1] = pads(x.size(3));
  if (h0 == 0 && h1 == 0 && w0 == 0 && w1 == 0) return x;
  return torch::constant_pad_nd(x, {w0, w1, h0, h1}, 0);
}

torch::Tensor sep_conv(const torch::Tensor& x, const Sep& s, int64_t stride) {
  const torch::Tensor none;
  torch::Tensor d = stride == 1
                        ? torch::conv2d(x, s.dw, none, torch::IntArrayRef({1, 1}), torch::IntArrayRef({1, 1}),
                                        torch::IntArrayRef({1, 1}), x.size(1))
                        : torch::conv2d(pad_same(x, stride), s.dw, none, torch::IntArrayRef({stride, stride}),
                                        torch::IntArrayRef({0, 0}), torch::IntArrayRef({1, 1}), x.size(1));
  return torch::conv2d(d, s.pw, s.b);
}

torch::Tensor dense_block(const torch::Tensor& x, const Block& b, bool first) {
  const torch::Tensor o1 = first ? torch::relu(torch::conv2d(pad_same(x, 2), b.w0, b.b0, torch::IntArrayRef({2, 2})))
                                 : torch::relu(sep_conv(x, b.sep[0], 2));
  const torch::Tensor o2 = sep_conv(o1, b.sep[1], 1);
  const torch::Tensor o3 = sep_conv(torch::relu(o1 + o2), b.sep[2], 1);
  const torch::Tensor o4 = sep_conv(torch::relu(o1 + o2 + o3), b.sep[3], 1);
  return torch::relu(o1 + o2 + o3 + o4);
}

// Pads [n,h,w,c] float pixels 0..255 to a square (gray replicated to RGB) and resizes it to
// side x side with `rule`, differentiable; [n, side, side, 3].
torch::Tensor square_resized(const torch::Tensor& images, int64_t side, ResizeRule rule) {
  torch::Tensor t = images;
  const int64_t n = t.size(0), h = t.size(1), w = t.size(2);
  if (t.size(3) == 1) t = t.expand({n, h, w, 3});
  if (h != w) {
    const int64_t diff = std::llabs(h - w);
    const auto after = static_cast<int64_t>(std::floor(static_cast<double>(diff) * 0.5 + 0.5));  // JS Math.round
    const int64_t before = diff - after;
    t = h > w ? torch::constant_pad_nd(t, {0, 0, before, after}, 0)
              : torch::constant_pad_nd(t, {0, 0, 0, 0, before, after}, 0);
  }
  const int64_t s = std::max(h, w);
  if (s == side) return t;
  // Separable bilinear interpolation with the rule's taps, in double.
  ResizeTaps taps = resize_taps(s, side, rule);
  const auto idx = torch::TensorOptions().dtype(torch::kLong);
  const torch::Tensor ilo = torch::from_blob(taps.lo.data(), {side}, idx).clone();
  const torch::Tensor ihi = torch::from_blob(taps.hi.data(), {side}, idx).clone();
  const torch::Tensor f = torch::from_blob(taps.frac.data(), {side}, torch::TensorOptions().dtype(torch::kDouble)).clone();
  const torch::Tensor d = t.to(torch::kDouble);
  const torch::Tensor left = d.index_select(2, ilo), right = d.index_select(2, ihi);
  const torch::Tensor cols = left + (right - left) * f.view({1, 1, side, 1});
  const torch::Tensor top = cols.index_select(1, ilo), bottom = cols.index_select(1, ihi);
  return (top + (bottom - top) * f.view({1, side, 1, 1})).to(torch::kFloat);
}

// [n,h,w,c] float pixels 0..255 -> [n,3,112,112] normalised network input, differentiable.
torch::Tensor preprocess(const torch::Tensor& images, ResizeRule rule) {
  const torch::Tensor t = square_resized(images, kSide, rule);
  const torch::Tensor mean = torch::tensor({static_cast<float>(kMean[0]), static_cast<float>(kMean[1]),
                                            static_cast<float>(kMean[2])});
  return ((t - mean) / 255.0f).permute({0, 3, 1, 2}).contiguous();
}

torch::Tensor batch_tensor(const Batch& b, int64_t start, int64_t len) {
  if (b.c != 1 && b.c != 3) throw Error("faceapi: images need 1 (gray) or 3 (RGB) channels, got " + std::to_string(b.c));
  return torch::from_blob(const_cast<float*>(b.data) + start * b.h * b.w * b.c, {len, b.h, b.w, b.c},
                          torch::TensorOptions().dtype(torch::kFloat));
}

void append(std::vector<float>& out, const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat).contiguous();
  out.insert(out.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace

const char* resize_rule_name(ResizeRule rule) { return rule == ResizeRule::bilinear ? "bilinear" : "tfjs"; }

ResizeRule parse_resize_rule(const std::string& name, const std::string& where) {
  if (name == "tfjs") return ResizeRule::tfjs;
  if (name == "bilinear") return ResizeRule::bilinear;
  throw Error(where + ": resize rule '" + name + "' is not tfjs or bilinear");
}

ResizeTaps resize_taps(int64_t in, int64_t out, ResizeRule rule) {
  ResizeTaps t;
  t.lo.resize(static_cast<size_t>(out));
  t.hi.resize(static_cast<size_t>(out));
  t.frac.resize(static_cast<size_t>(out));
  const double ratio = static_cast<double>(in) / static_cast<double>(out);
  for (int64_t d = 0; d < out; ++d) {
    const auto k = static_cast<size_t>(d);
    if (rule == ResizeRule::tfjs) {
      // TensorFlow's resizeBilinear, align_corners = half_pixel_centers = false.
      const double src = ratio * static_cast<double>(d);
      const double fl = std::max(0.0, std::floor(src));
      t.lo[k] = static_cast<int64_t>(fl);
      t.frac[k] = src - fl;
      t.hi[k] = std::min<int64_t>(in - 1, static_cast<int64_t>(std::ceil(src)));
    } else {
      // OpenCV's INTER_LINEAR: pixel centres aligned, clamped at the edges.
      const double src = (static_cast<double>(d) + 0.5) * ratio - 0.5;
      auto lo = static_cast<int64_t>(std::floor(src));
      double frac = src - static_cast<double>(lo);
      if (lo < 0) lo = 0, frac = 0;
      if (lo >= in - 1) lo = in - 1, frac = 0;
      t.lo[k] = lo;
      t.hi[k] = std::min<int64_t>(in - 1, lo + 1);
      t.frac[k] = frac;
    }
  }
  return t;
}

struct FaceApiNet::Impl {
  Block blocks[kBlocks];
  torch::Tensor fc_w, fc_b;  // [K,256], [K]
  ResizeRule resize = ResizeRule::tfjs;

  std::vector<torch::Tensor*> block_params(int k) {
    std::vector<torch::Tensor*> out;
    Block& b = blocks[k];
    if (k == 0) {
      out.push_back(&b.w0);
      out.push_back(&b.b0);
    }
    for (int s = k == 0 ? 1 : 0; s < 4; ++s) {
      out.push_back(&b.sep[s].dw);
      out.push_back(&b.sep[s].pw);
      out.push_back(&b.sep[s].b);
    }
    return out;
  }
  std::vector<torch::Tensor*> all_params() {
    std::vector<torch::Tensor*> out;
    for (int k = 0; k < kBlocks; ++k)
      for (auto* p : block_params(k)) out.push_back(p);
    out.push_back(&fc_w);
    out.push_back(&fc_b);
    return out;
  }

  // From block `from` (its input x) through the pooled features.
  torch::Tensor features_from(int from, torch::Tensor x, int capture = -1, torch::Tensor* captured = nullptr) const {
    for (int k = from; k < kBlocks; ++k) {
      x = dense_block(x, blocks[k], k == 0);
      if (k == capture && captured) *captured = x;
    }
    return x.mean({2, 3});
  }
  torch::Tensor head(const torch::Tensor& f) const { return torch::addmm(fc_b, f, fc_w.t()); }
  torch::Tensor through(int to, torch::Tensor x) const {  // preprocessed input -> input of block `to`
    for (int k = 0; k < to; ++k) x = dense_block(x, blocks[k], k == 0);
    return x;
  }
};

void set_compute_threads(int threads) {
  if (threads > 0 && torch::get_num_threads() != threads) torch::set_num_threads(threads);
}

std::vector<ManifestTensor> parse_manifest(const std::string& manifest_json, const std::string& bin,
                                           const std::string& where) {
  Json m;
  try {
    m = Json::parse(manifest_json);
  } catch (const std::exception& e) {
    throw Error("faceapi: " + where + ": the weights manifest is not valid JSON: " + e.what(), MIEN_ERR_IO);
  }
  std::vector<ManifestTensor> out;
  size_t offset = 0;
  try {
    if (!m.is_array()) throw std::runtime_error("expected a JSON array of weight groups");
    for (const auto& group : m) {
      for (const auto& w : group.at("weights")) {
        ManifestTensor t;
        t.name = w.at("name").get<std::string>();
        t.shape = w.at("shape").get<std::vector<int64_t>>();
        int64_t count = 1;
        for (int64_t d : t.shape) count *= d;
        t.values.resize(static_cast<size_t>(count));
        const std::string dtype = w.value("dtype", std::string("float32"));
        if (dtype != "float32") throw std::runtime_error("tensor '" + t.name + "' has dtype " + dtype + ", expected float32");
        if (w.contains("quantization")) {
          const auto& q = w.at("quantization");
          if (q.value("dtype", std::string()) != "uint8")
            throw std::runtime_error("tensor '" + t.name + "' is quantised as " + q.value("dtype", std::string("?")) +
                                     ", only uint8 is supported");
          const double scale = q.at("scale").get<double>(), min = q.at("min").get<double>();
          if (offset + static_cast<size_t>(count) > bin.size())
            throw std::runtime_error("the weights file ends inside tensor '" + t.name + "'");
          for (int64_t i = 0; i < count; ++i)
            t.values[static_cast<size_t>(i)] =
                static_cast<float>(static_cast<unsigned char>(bin[offset + static_cast<size_t>(i)]) * scale + min);
          offset += static_cast<size_t>(count);
        } else {
          const size_t bytes = static_cast<size_t>(count) * 4;
          if (offset + bytes > bin.size()) throw std::runtime_error("the weights file ends inside tensor '" + t.name + "'");
          std::memcpy(t.values.data(), bin.data() + offset, bytes);  // little-endian hosts only (x86-64, arm64)
          offset += bytes;
        }
        out.push_back(std::move(t));
      }
    }
  } catch (const std::exception& e) {
    throw Error("faceapi: " + where + ": " + e.what(), MIEN_ERR_IO);
  }
  if (offset != bin.size())
    throw Error("faceapi: " + where + ": the manifest describes " + std::to_string(offset) +
                    " bytes of weights but the weights file has " + std::to_string(bin.size()),
                MIEN_ERR_IO);
  return out;
}

FaceApiNet::FaceApiNet() : impl_(std::make_unique<Impl>()) {}
FaceApiNet::~FaceApiNet() = default;
FaceApiNet::FaceApiNet(FaceApiNet&&) noexcept = default;
FaceApiNet& FaceApiNet::operator=(FaceApiNet&&) noexcept = default;

FaceApiNet FaceApiNet::from_manifest(const std::vector<ManifestTensor>& tensors, const std::vector<int64_t>& head_rows,
                                     const std::string& where) {
  auto find = [&](const std::string& name, std::vector<int64_t> shape) {
    for (const auto& t : tensors)
      if (t.name == name) {
        if (t.shape != shape)
          throw Error("faceapi: " + where + ": tensor '" + name + "' has shape " + Json(t.shape).dump() +
                          ", expected " + Json(shape).dump(),
                      MIEN_ERR_IO);
        return torch::from_blob(const_cast<float*>(t.values.data()), shape, torch::TensorOptions().dtype(torch::kFloat))
            .clone();
      }
    throw Error("faceapi: " + where + ": the manifest has no tensor '" + name + "'", MIEN_ERR_IO);
  };
  FaceApiNet net;
  Impl& m = *net.impl_;
  const int64_t ch[kBlocks] = {32, 64, 128, 256};
  for (int k = 0; k < kBlocks; ++k) {
    const std::string p = "dense" + std::to_string(k) + "/conv";
    const int64_t out = ch[k], in = k == 0 ? 3 : ch[k - 1];
    Block& b = m.blocks[k];
    for (int s = 0; s < 4; ++s) {
      const std::string q = p + std::to_string(s) + "/";
      const int64_t cin = s == 0 ? in : out;
      if (k == 0 && s == 0) {
        b.w0 = find(q + "filters", {3, 3, 3, 32}).permute({3, 2, 0, 1}).contiguous();  // HWIO -> OIHW
        b.b0 = find(q + "bias", {32});
        continue;
      }
      b.sep[s].dw = find(q + "depthwise_filter", {3, 3, cin, 1}).permute({2, 3, 0, 1}).contiguous();
      b.sep[s].pw = find(q + "pointwise_filter", {1, 1, cin, out}).permute({3, 2, 0, 1}).contiguous();
      b.sep[s].b = find(q + "bias", {out});
    }
  }
  const torch::Tensor w = find("fc/weights", {kFeatures, 7}).t().contiguous();  // [7,256]
  const torch::Tensor bias = find("fc/bias", {7});
  std::vector<int64_t> rows = head_rows;
  for (int64_t r : rows)
    if (r < 0 || r >= 7) throw Error("faceapi: head row " + std::to_string(r) + " is outside 0..6", MIEN_ERR_INTERNAL);
  const torch::Tensor idx = torch::tensor(rows, torch::TensorOptions().dtype(torch::kLong));
  m.fc_w = w.index_select(0, idx).contiguous();
  m.fc_b = bias.index_select(0, idx).contiguous();
  return net;
}

void FaceApiNet::save(const std::string& path) const {
  std::vector<torch::Tensor> all;
  for (auto* p : impl_->all_params()) all.push_back(*p);
  torch::save(all, path);
}

FaceApiNet FaceApiNet::load(const std::string& path) {
  std::vector<torch::Tensor> all;
  try {
    torch::load(all, path);
  } catch (const std::exception& e) {
    throw Error("faceapi: cannot read the network weights " + path + ": " + e.what(), MIEN_ERR_IO);
  }
  FaceApiNet net;
  auto params = net.impl_->all_params();
  if (all.size() != params.size())
    throw Error("faceapi: " + path + " holds " + std::to_string(all.size()) + " tensors, expected " +
                    std::to_string(params.size()),
                MIEN_ERR_IO);
  // Expected shapes: those of a reference network.
  const int64_t ch[kBlocks] = {32, 64, 128, 256};
  size_t i = 0;
  auto expect = [&](std::vector<int64_t> shape) {
    const torch::Tensor& t = all[i];
    if (t.scalar_type() != torch::kFloat || t.sizes().vec() != shape)
      throw Error("faceapi: " + path + ": tensor " + std::to_string(i) + " has shape " + Json(t.sizes().vec()).dump() +
                      ", expected float32 " + Json(shape).dump(),
                  MIEN_ERR_IO);
    *params[i] = t.contiguous();
    ++i;
  };
  for (int k = 0; k < kBlocks; ++k) {
    const int64_t out = ch[k], in = k == 0 ? 3 : ch[k - 1];
    if (k == 0) {
      expect({32, 3, 3, 3});
      expect({32});
    }
    for (int s = k == 0 ? 1 : 0; s < 4; ++s) {
      const int64_t cin = s == 0 ? in : out;
      expect({cin, 1, 3, 3});
      expect({out, cin, 1, 1});
      expect({out});
    }
  }
  const int64_t k = all[i].dim() == 2 ? all[i].size(0) : 0;
  if (k < 1) throw Error("faceapi: " + path + ": the dense head is not a [classes, 256] matrix", MIEN_ERR_IO);
  expect({k, kFeatures});
  expect({k});
  return net;
}

int64_t FaceApiNet::classes() const { return impl_->fc_w.size(0); }
void FaceApiNet::set_resize(ResizeRule rule) { impl_->resize = rule; }
ResizeRule FaceApiNet::resize() const { return impl_->resize; }

std::vector<float> pad_and_resize(const Batch& b, int64_t side, ResizeRule rule) {
  if (side < 1) throw Error("faceapi: pad_and_resize needs a side >= 1, got " + std::to_string(side));
  torch::NoGradGuard no_grad;
  std::vector<float> out;
  if (b.n > 0) append(out, square_resized(batch_tensor(b, 0, b.n), side, rule));
  return out;
}

void FaceApiNet::new_head(int64_t k, uint64_t seed) {
  std::mt19937_64 g(seed);
  const double limit = std::sqrt(6.0 / static_cast<double>(kFeatures + k));
  std::vector<float> w(static_cast<size_t>(k * kFeatures));
  for (float& v : w) v = static_cast<float>((2.0 * static_cast<double>(g() >> 11) * 0x1.0p-53 - 1.0) * limit);
  impl_->fc_w = torch::from_blob(w.data(), {k, kFeatures}, torch::TensorOptions().dtype(torch::kFloat)).clone();
  impl_->fc_b = torch::zeros({k}, torch::TensorOptions().dtype(torch::kFloat));
}

std::vector<float> FaceApiNet::features(const Batch& b) const {
  torch::NoGradGuard ng;
  std::vector<float> out;
  for (int64_t s = 0; s < b.n; s += kChunk)
    append(out, impl_->features_from(0, preprocess(batch_tensor(b, s, std::min(kChunk, b.n - s)), impl_->resize)));
  return out;
}

std::vector<float> FaceApiNet::logits(const Batch& b) const {
  torch::NoGradGuard ng;
  std::vector<float> out;
  for (int64_t s = 0; s < b.n; s += kChunk)
    append(out, impl_->head(impl_->features_from(0, preprocess(batch_tensor(b, s, std::min(kChunk, b.n - s)), impl_->resize))));
  return out;
}

std::vector<float> FaceApiNet::probabilities(const Batch& b) const {
  torch::NoGradGuard ng;
  std::vector<float> out;
  for (int64_t s = 0; s < b.n; s += kChunk)
    append(out, torch::softmax(impl_->head(impl_->features_from(
                                   0, preprocess(batch_tensor(b, s, std::min(kChunk, b.n - s)), impl_->resize))),
                               1));
  return out;
}

void FaceApiNet::input_gradient(const Batch& b, const int64_t* classes, std::vector<float>& grad,
                                std::vector<float>& scores) const {
  grad.clear();
  scores.clear();
  for (int64_t s = 0; s < b.n; s += kChunk) {
    const int64_t len = std::min(kChunk, b.n - s);
    torch::Tensor x = batch_tensor(b, s, len).clone().requires_grad_(true);
    const torch::Tensor logits = impl_->head(impl_->features_from(0, preprocess(x, impl_->resize)));
    const torch::Tensor cls = torch::from_blob(const_cast<int64_t*>(classes + s), {len, 1},
                                               torch::TensorOptions().dtype(torch::kLong));
    const torch::Tensor score = logits.gather(1, cls).squeeze(1);
    append(grad, torch::autograd::grad({score.sum()}, {x})[0]);
    append(scores, score.detach());
  }
}

void FaceApiNet::layer_gradient(int block, const Batch& b, const int64_t* classes, std::vector<float>& activations,
                                std::vector<float>& gradients, std::vector<float>& scores,
                                std::vector<int64_t>& shape) const {
  activations.clear();
  gradients.clear();
  scores.clear();
  if (block < 0 || block >= kBlocks) throw Error("faceapi: no layer block" + std::to_string(block), MIEN_ERR_INTERNAL);
  for (int64_t s = 0; s < b.n; s += kChunk) {
    const int64_t len = std::min(kChunk, b.n - s);
    torch::Tensor act;
    {
      torch::NoGradGuard ng;
      act = impl_->through(block + 1, preprocess(batch_tensor(b, s, len), impl_->resize));
    }
    act = act.detach().requires_grad_(true);
    const torch::Tensor logits = impl_->head(impl_->features_from(block + 1, act));
    const torch::Tensor cls = torch::from_blob(const_cast<int64_t*>(classes + s), {len, 1},
                                               torch::TensorOptions().dtype(torch::kLong));
    const torch::Tensor score = logits.gather(1, cls).squeeze(1);
    const torch::Tensor g = torch::autograd::grad({score.sum()}, {act})[0];
    append(activations, act.detach());
    append(gradients, g);
    append(scores, score.detach());
    shape = {b.n, act.size(1), act.size(2), act.size(3)};
  }
}

std::vector<EpochRecord> FaceApiNet::fine_tune(const Batch& train, const std::vector<int64_t>& train_labels,
                                               const Batch& val, const std::vector<int64_t>& val_labels,
                                               const FineTuneOptions& o, const FineTuneHooks& hooks,
                                               int64_t* best_epoch_out) {
  Impl& m = *impl_;
  const int first = kBlocks - o.unfreeze_blocks;  // first trainable block (4 = none)
  // Inputs of the first trainable block (or the pooled features), computed once.
  auto cache = [&](const Batch& b) {
    torch::NoGradGuard ng;
    std::vector<torch::Tensor> parts;
    for (int64_t s = 0; s < b.n; s += kChunk) {
      if (hooks.between_batches) hooks.between_batches();
      torch::Tensor x = preprocess(batch_tensor(b, s, std::min(kChunk, b.n - s)), impl_->resize);
      parts.push_back(first == kBlocks ? m.features_from(0, x) : m.through(first, x).clone());
    }
    return parts.empty() ? torch::Tensor() : torch::cat(parts, 0);
  };
  const torch::Tensor xtr = cache(train);
  const torch::Tensor xva = val.n > 0 ? cache(val) : torch::Tensor();
  const auto lopt = torch::TensorOptions().dtype(torch::kLong);
  const torch::Tensor ytr = torch::tensor(train_labels, lopt);
  const torch::Tensor yva = val.n > 0 ? torch::tensor(val_labels, lopt) : torch::Tensor();

  auto forward = [&](const torch::Tensor& x) {
    return m.head(first == kBlocks ? x : m.features_from(first, x));
  };
  std::vector<torch::Tensor> trainable;
  for (int k = first; k < kBlocks; ++k)
    for (auto* p : m.block_params(k)) {
      p->set_requires_grad(true);
      trainable.push_back(*p);
    }
  m.fc_w.set_requires_grad(true);
  m.fc_b.set_requires_grad(true);
  trainable.push_back(m.fc_w);
  trainable.push_back(m.fc_b);
  torch::optim::Adam adam(trainable, torch::optim::AdamOptions(o.learning_rate));

  std::mt19937_64 rng(o.seed ^ 0x5851f42d4c957f2dULL);
  std::vector<int64_t> order(static_cast<size_t>(train.n));
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  std::vector<EpochRecord> history;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // The best epoch on validation (lowest loss): its trainable parameters are restored at the end.
  double best_loss = std::numeric_limits<double>::infinity();
  int64_t best_epoch = 0;
  std::vector<torch::Tensor> best_state;
  for (int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[static_cast<size_t>(below(rng, i))]);
    double loss_sum = 0;
    int64_t correct = 0;
    for (int64_t s = 0; s < train.n; s += o.batch_size) {
      if (hooks.between_batches) hooks.between_batches();
      const int64_t len = std::min(o.batch_size, train.n - s);
      const torch::Tensor idx =
          torch::from_blob(order.data() + s, {len}, lopt).clone();
      const torch::Tensor logits = forward(xtr.index_select(0, idx));
      const torch::Tensor y = ytr.index_select(0, idx);
      const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y);
      adam.zero_grad();
      loss.backward();
      adam.step();
      loss_sum += loss.item<double>() * static_cast<double>(len);
      correct += logits.argmax(1).eq(y).sum().item<int64_t>();
    }
    EpochRecord r;
    r.epoch = epoch;
    r.train_loss = loss_sum / static_cast<double>(std::max<int64_t>(train.n, 1));
    r.train_accuracy = static_cast<double>(correct) / static_cast<double>(std::max<int64_t>(train.n, 1));
    r.val_loss = r.val_accuracy = nan;
    if (val.n > 0) {
      torch::NoGradGuard ng;
      double vl = 0;
      int64_t vc = 0;
      for (int64_t s = 0; s < val.n; s += kChunk) {
        const int64_t len = std::min(kChunk, val.n - s);
        const torch::Tensor logits = forward(xva.narrow(0, s, len));
        const torch::Tensor y = yva.narrow(0, s, len);
        vl += torch::nn::functional::cross_entropy(logits, y).item<double>() * static_cast<double>(len);
        vc += logits.argmax(1).eq(y).sum().item<int64_t>();
      }
      r.val_loss = vl / static_cast<double>(val.n);
      r.val_accuracy = static_cast<double>(vc) / static_cast<double>(val.n);
    }
    history.push_back(r);
    if (val.n == 0) {
      best_epoch = epoch;
    } else if (r.val_loss < best_loss) {
      best_loss = r.val_loss;
      best_epoch = epoch;
      torch::NoGradGuard ng;
      best_state.clear();
      for (const auto& t : trainable) best_state.push_back(t.detach().clone());
    }
    if (hooks.on_epoch) hooks.on_epoch(r);
  }
  if (!best_state.empty()) {
    torch::NoGradGuard ng;
    for (size_t i = 0; i < trainable.size(); ++i) trainable[i].copy_(best_state[i]);
  }
  if (best_epoch_out) *best_epoch_out = best_epoch;
  for (auto* p : m.all_params()) {
    p->set_requires_grad(false);
    p->mutable_grad() = torch::Tensor();
  }
  return history;
}

std::vector<std::string> FaceApiNet::randomize(int top, uint64_t seed) {
  torch::NoGradGuard ng;
  std::vector<std::string> names;
  // Glorot uniform with Keras's fans (receptive field x input / output channels); a
  // depthwise kernel [C,1,3,3] has fan_in 9C and fan_out 9 as Keras computes them.
  auto glorot = [](torch::Tensor& t, double fan_in, double fan_out, std::mt19937_64& g) {
    const double limit = std::sqrt(6.0 / (fan_in + fan_out));
    std::vector<float> v(static_cast<size_t>(t.numel()));
    for (float& x : v) x = static_cast<float>((2.0 * static_cast<double>(g() >> 11) * 0x1.0p-53 - 1.0) * limit);
    t = torch::from_blob(v.data(), t.sizes(), torch::TensorOptions().dtype(torch::kFloat)).clone();
  };
  const int n = std::min(top, kLayers);
  for (int i = 0; i < n; ++i) {
    std::mt19937_64 g(seed ^ (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(i + 1)));
    if (i == 0) {
      glorot(impl_->fc_w, static_cast<double>(kFeatures), static_cast<double>(impl_->fc_w.size(0)), g);
      impl_->fc_b = torch::zeros_like(impl_->fc_b);
      names.push_back("head");
      continue;
    }
    const int block = kBlocks - 1 - (i - 1) / 4, pos = 3 - (i - 1) % 4;  // sep3 first
    Block& b = impl_->blocks[block];
    if (block == 0 && pos == 0) {
      glorot(b.w0, 9.0 * static_cast<double>(b.w0.size(1)), 9.0 * static_cast<double>(b.w0.size(0)), g);
      b.b0 = torch::zeros_like(b.b0);
      names.push_back("block0.conv0");
      continue;
    }
    Sep& sp = b.sep[pos];
    glorot(sp.dw, 9.0 * static_cast<double>(sp.dw.size(0)), 9.0, g);
    glorot(sp.pw, static_cast<double>(sp.pw.size(1)), static_cast<double>(sp.pw.size(0)), g);
    sp.b = torch::zeros_like(sp.b);
    names.push_back("block" + std::to_string(block) + ".sep" + std::to_string(pos));
  }
  return names;
}

std::vector<float> FaceApiNet::parameters_of(int block) const {
  std::vector<float> out;
  if (block == kBlocks) {
    append(out, impl_->fc_w.detach());
    append(out, impl_->fc_b.detach());
    return out;
  }
  for (auto* p : impl_->block_params(block)) append(out, p->detach());
  return out;
}

}  // namespace mien::faceapi
