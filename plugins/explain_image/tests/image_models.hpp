// Image classifiers written in plain C++ behind a mien_model_ref, as the host would hand
// them to an explainer. Shared by the tests and bench_explain_image.
//
//  * QuadCnn: a tiny CNN. Layer "conv" = 4 quadrant detectors at half resolution
//    (A_k(u,v) = mean of the 2x2 block / 255 when the block lies in quadrant k, else 0),
//    global average pooling, a linear layer: logit(c) = sum_k W[c][k] gap_k + b[c]. Its
//    layer gradients are analytic: d logit(c) / d A_k(u,v) = W[c][k] / (h w).
//  * StubCam: returns fixed activations and gradients (hand computations).
//  * RegionModel: p(c1) = sigmoid(s (mean of a pixel rectangle / 255 - 0.5)); predict only.
#pragma once

#include <mien/plugin.hpp>

#include <atomic>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace ximg_test {

class ImageModel {
 public:
  virtual ~ImageModel() = default;
  ImageModel(const ImageModel&) = delete;
  ImageModel& operator=(const ImageModel&) = delete;
  int64_t H, W, C, classes;

  virtual void predict(const float* x, int64_t n, float* probs) const = 0;
  // For layer `layer`: activations and gradients [n, K, h, w], scores [n]. False = unknown layer.
  virtual bool layer(const std::string&, const float*, int64_t, const int64_t*, std::vector<int64_t>&,
                     std::vector<float>&, std::vector<float>&, std::vector<float>&) const {
    return false;
  }
  virtual std::vector<std::string> cam_layers() const { return {}; }

  mien::Json info() const {
    std::vector<std::string> cls;
    for (int64_t k = 0; k < classes; ++k) cls.push_back("c" + std::to_string(k));
    mien::Json j = {{"type_id", "test.image"}, {"input", "image"}, {"input_shape", {H, W, C}},
                    {"classes", cls},         {"score", "logit"}};
    const auto l = cam_layers();
    if (!l.empty()) {
      j["cam_layers"] = l;
      j["default_cam_layer"] = l.back();
    }
    return j;
  }
  const mien_model_ref* ref(uint64_t caps = MIEN_CAP_PREDICT | MIEN_CAP_LAYER_GRADIENT) {
    info_text_ = info().dump();
    ref_ = mien_model_ref{};
    ref_.struct_size = sizeof(mien_model_ref);
    ref_.capabilities = caps;
    ref_.info_json = info_text_.c_str();
    ref_.opaque = this;
    ref_.predict = &s_predict;
    ref_.layer_gradient = (caps & MIEN_CAP_LAYER_GRADIENT) ? &s_layer : nullptr;
    return &ref_;
  }
  mutable std::atomic<int64_t> rows{0}, calls{0}, max_batch{0};

 protected:
  ImageModel(int64_t h, int64_t w, int64_t c, int64_t k) : H(h), W(w), C(c), classes(k) {}

 private:
  static mien_status s_predict(const mien_model_ref* self, mien_call_ctx*, const mien_tensor* input,
                               mien_tensor** out) {
    auto* m = static_cast<const ImageModel*>(self->opaque);
    mien::TensorView v(input);
    const int64_t n = v.dim(0);
    const auto x = v.to_vector<float>();
    mien::Tensor t = mien::Tensor::zeros<float>({n, m->classes});
    m->predict(x.data(), n, t.data<float>());
    m->rows += n;
    ++m->calls;
    int64_t prev = m->max_batch.load();
    while (n > prev && !m->max_batch.compare_exchange_weak(prev, n)) {
    }
    *out = t.release();
    return MIEN_OK;
  }
  static mien_status s_layer(const mien_model_ref* self, mien_call_ctx*, const char* layer, const mien_tensor* input,
                             const int64_t* cls, mien_tensor** a, mien_tensor** g, mien_tensor** s) {
    auto* m = static_cast<const ImageModel*>(self->opaque);
    mien::TensorView v(input);
    const int64_t n = v.dim(0);
    const auto x = v.to_vector<float>();
    std::vector<int64_t> shape;
    std::vector<float> av, gv, sv;
    if (!m->layer(layer, x.data(), n, cls, shape, av, gv, sv)) return MIEN_ERR_INVALID_ARGUMENT;
    *a = mien::Tensor::from<float>(shape, av).release();
    *g = mien::Tensor::from<float>(shape, gv).release();
    if (s) *s = mien::Tensor::from<float>({n}, sv).release();
    m->rows += n;
    ++m->calls;
    return MIEN_OK;
  }
  std::string info_text_;
  mien_model_ref ref_{};
};

inline void softmax2(double z0, double z1, float* out) {
  const double m = std::max(z0, z1), e0 = std::exp(z0 - m), e1 = std::exp(z1 - m);
  out[0] = static_cast<float>(e0 / (e0 + e1));
  out[1] = static_cast<float>(e1 / (e0 + e1));
}

// H x W x 1 images, H and W even; class c1 reads quadrant `quad` (0 TL, 1 TR, 2 BL, 3 BR).
class QuadCnn : public ImageModel {
 public:
  QuadCnn(int64_t h, int64_t w, int quad, double weight = 20.0) : ImageModel(h, w, 1, 2), quad_(quad) {
    W_[1][quad] = weight;
    b_[1] = -weight * 0.1;
  }
  int64_t lh() const { return H / 2; }
  int64_t lw() const { return W / 2; }
  int quadrant(int64_t u, int64_t v) const { return (u >= lh() / 2 ? 2 : 0) + (v >= lw() / 2 ? 1 : 0); }
  // conv activations of one image [4, lh, lw].
  std::vector<float> conv(const float* x) const {
    std::vector<float> a(static_cast<size_t>(4 * lh() * lw()), 0.0f);
    for (int64_t u = 0; u < lh(); ++u)
      for (int64_t v = 0; v < lw(); ++v) {
        const float m = (x[(2 * u) * W + 2 * v] + x[(2 * u) * W + 2 * v + 1] + x[(2 * u + 1) * W + 2 * v] +
                         x[(2 * u + 1) * W + 2 * v + 1]) / (4.0f * 255.0f);
        a[static_cast<size_t>((quadrant(u, v) * lh() + u) * lw() + v)] = m;
      }
    return a;
  }
  void logits(const float* x, double* z) const {
    const auto a = conv(x);
    const int64_t hw = lh() * lw();
    double gap[4] = {0, 0, 0, 0};
    for (int k = 0; k < 4; ++k)
      for (int64_t p = 0; p < hw; ++p) gap[k] += a[static_cast<size_t>(k * hw + p)];
    for (int c = 0; c < 2; ++c) {
      z[c] = b_[c];
      for (int k = 0; k < 4; ++k) z[c] += W_[c][k] * gap[k] / hw;
    }
  }
  void predict(const float* x, int64_t n, float* probs) const override {
    for (int64_t i = 0; i < n; ++i) {
      double z[2];
      logits(x + i * H * W, z);
      softmax2(z[0], z[1], probs + 2 * i);
    }
  }
  std::vector<std::string> cam_layers() const override { return {"stem", "conv"}; }
  bool layer(const std::string& name, const float* x, int64_t n, const int64_t* cls, std::vector<int64_t>& shape,
             std::vector<float>& a, std::vector<float>& g, std::vector<float>& s) const override {
    if (name != "conv") return false;  // "stem" is listed but not implemented: never asked in the tests
    const int64_t hw = lh() * lw();
    shape = {n, 4, lh(), lw()};
    for (int64_t i = 0; i < n; ++i) {
      const auto ai = conv(x + i * H * W);
      a.insert(a.end(), ai.begin(), ai.end());
      for (int k = 0; k < 4; ++k)
        for (int64_t p = 0; p < hw; ++p) g.push_back(static_cast<float>(W_[cls[i]][k] / hw));
      double z[2];
      logits(x + i * H * W, z);
      s.push_back(static_cast<float>(z[cls[i]]));
    }
    return true;
  }

 private:
  int quad_;
  double W_[2][4] = {{0, 0, 0, 0}, {0, 0, 0, 0}};
  double b_[2] = {0, 0};
};

// Fixed activations / gradients [K, h, w] for every image of size H x W x 1.
class StubCam : public ImageModel {
 public:
  StubCam(int64_t H_, int64_t W_, int64_t K, int64_t h, int64_t w, std::vector<float> A, std::vector<float> G)
      : ImageModel(H_, W_, 1, 2), K_(K), h_(h), w_(w), A_(std::move(A)), G_(std::move(G)) {}
  void predict(const float*, int64_t n, float* probs) const override {
    for (int64_t i = 0; i < n; ++i) softmax2(0.0, 1.0, probs + 2 * i);
  }
  std::vector<std::string> cam_layers() const override { return {"only"}; }
  bool layer(const std::string& name, const float*, int64_t n, const int64_t*, std::vector<int64_t>& shape,
             std::vector<float>& a, std::vector<float>& g, std::vector<float>& s) const override {
    if (name != "only") return false;
    shape = {n, K_, h_, w_};
    for (int64_t i = 0; i < n; ++i) {
      a.insert(a.end(), A_.begin(), A_.end());
      g.insert(g.end(), G_.begin(), G_.end());
      s.push_back(1.0f);
    }
    return true;
  }

 private:
  int64_t K_, h_, w_;
  std::vector<float> A_, G_;
};

// p(c1) = sigmoid(scale (mean over rows [r0, r1) x cols [c0, c1), all channels, / 255 - 0.5)).
class RegionModel : public ImageModel {
 public:
  RegionModel(int64_t h, int64_t w, int64_t c, int64_t r0, int64_t r1, int64_t c0, int64_t c1, double scale = 8.0)
      : ImageModel(h, w, c, 2), r0_(r0), r1_(r1), c0_(c0), c1_(c1), scale_(scale) {}
  void predict(const float* x, int64_t n, float* probs) const override {
    for (int64_t i = 0; i < n; ++i) {
      const float* img = x + i * H * W * C;
      double s = 0;
      for (int64_t y = r0_; y < r1_; ++y)
        for (int64_t xx = c0_; xx < c1_; ++xx)
          for (int64_t k = 0; k < C; ++k) s += img[(y * W + xx) * C + k];
      s /= static_cast<double>((r1_ - r0_) * (c1_ - c0_) * C) * 255.0;
      softmax2(0.0, scale_ * (s - 0.5), probs + 2 * i);
    }
  }
  bool inside(int64_t y, int64_t x) const { return y >= r0_ && y < r1_ && x >= c0_ && x < c1_; }

 private:
  int64_t r0_, r1_, c0_, c1_;
  double scale_;
};

// n images H x W x C: uniform noise in [lo, hi], seeded.
inline mien::Tensor noise_images(int64_t n, int64_t H, int64_t W, int64_t C, int lo, int hi, uint64_t seed) {
  mien::Tensor t = mien::Tensor::zeros<uint8_t>({n, H, W, C});
  std::mt19937_64 g(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  uint8_t* p = t.data<uint8_t>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<uint8_t>(d(g));
  return t;
}

// Sets rows [r0, r1) x cols [c0, c1) of every image to `value`.
inline mien::Tensor with_region(mien::Tensor t, int64_t r0, int64_t r1, int64_t c0, int64_t c1, uint8_t value = 250) {
  const auto s = t.shape();
  uint8_t* p = t.data<uint8_t>();
  for (int64_t i = 0; i < s[0]; ++i)
    for (int64_t y = r0; y < r1; ++y)
      for (int64_t x = c0; x < c1; ++x)
        for (int64_t k = 0; k < s[3]; ++k) p[((i * s[1] + y) * s[2] + x) * s[3] + k] = value;
  return t;
}

}  // namespace ximg_test
