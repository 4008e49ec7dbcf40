// Models written in plain C++ behind a mien_model_ref, as the host would hand them to an
// explainer: a linear "probability" model and a ReLU MLP that describes its layers.
// Shared by the explain and quality tests and by bench_explain (target mien::explain_core_test_models).
#pragma once

#include <mien/plugin.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace explain_test {

class TestModel {
 public:
  virtual ~TestModel() = default;
  TestModel(const TestModel&) = delete;
  TestModel& operator=(const TestModel&) = delete;

  virtual int64_t num_features() const = 0;
  virtual int64_t num_classes() const = 0;
  // x [n x M] -> probabilities [n x C]
  virtual void predict(const float* x, int64_t n, float* out) const = 0;
  // d score(cls[i]) / d x_i and the scores.
  virtual void gradient(const float* x, int64_t n, const int64_t* cls, float* grad, float* score) const = 0;
  virtual mien::Json info() const = 0;

  std::vector<std::string> feature_names() const {
    std::vector<std::string> f;
    for (int64_t j = 0; j < num_features(); ++j) f.push_back("f" + std::to_string(j));
    return f;
  }
  std::vector<std::string> class_names() const {
    std::vector<std::string> c;
    for (int64_t k = 0; k < num_classes(); ++k) c.push_back("c" + std::to_string(k));
    return c;
  }

  // The reference an explainer receives. caps: which MIEN_CAP_* to offer.
  const mien_model_ref* ref(uint64_t caps = MIEN_CAP_PREDICT | MIEN_CAP_INPUT_GRADIENT | MIEN_CAP_LAYER_STRUCTURE) {
    info_text_ = info().dump();
    ref_ = mien_model_ref{};
    ref_.struct_size = sizeof(mien_model_ref);
    ref_.capabilities = caps;
    ref_.info_json = info_text_.c_str();
    ref_.opaque = this;
    ref_.predict = &s_predict;
    ref_.input_gradient = (caps & MIEN_CAP_INPUT_GRADIENT) ? &s_gradient : nullptr;
    ref_.layer_gradient = nullptr;
    return &ref_;
  }
  mutable std::atomic<int64_t> rows{0}, calls{0};
  mutable std::atomic<int64_t> max_batch{0};

 protected:
  TestModel() = default;

 private:
  static mien_status s_predict(const mien_model_ref* self, mien_call_ctx*, const mien_tensor* input,
                               mien_tensor** out) {
    auto* m = static_cast<const TestModel*>(self->opaque);
    mien::TensorView v(input);
    const int64_t n = v.dim(0);
    const float* x = v.data_if<float>();
    std::vector<float> copy;
    if (!x) {
      copy = v.to_vector<float>();
      x = copy.data();
    }
    mien::Tensor t = mien::Tensor::zeros<float>({n, m->num_classes()});
    m->predict(x, n, t.data<float>());
    m->rows += n;
    ++m->calls;
    int64_t prev = m->max_batch.load();
    while (n > prev && !m->max_batch.compare_exchange_weak(prev, n)) {
    }
    *out = t.release();
    return MIEN_OK;
  }
  static mien_status s_gradient(const mien_model_ref* self, mien_call_ctx*, const mien_tensor* input,
                                const int64_t* classes, mien_tensor** out_grad, mien_tensor** out_scores) {
    auto* m = static_cast<const TestModel*>(self->opaque);
    mien::TensorView v(input);
    const int64_t n = v.dim(0);
    const std::vector<float> x = v.to_vector<float>();
    mien::Tensor g = mien::Tensor::zeros<float>({n, m->num_features()});
    mien::Tensor s = mien::Tensor::zeros<float>({n});
    m->gradient(x.data(), n, classes, g.data<float>(), s.data<float>());
    m->rows += n;
    ++m->calls;
    *out_grad = g.release();
    if (out_scores) *out_scores = s.release();
    return MIEN_OK;
  }
  std::string info_text_;
  mien_model_ref ref_{};
};

// Two classes; p(c1) = w.x + b (kept inside (0, 1) by the test's data), p(c0) = 1 - p(c1).
// Its layer description is one linear layer without softmax, so every explainer sees the
// same linear function.
class LinearModel : public TestModel {
 public:
  LinearModel(std::vector<double> w, double b) : w_(std::move(w)), b_(b) {}
  int64_t num_features() const override { return static_cast<int64_t>(w_.size()); }
  int64_t num_classes() const override { return 2; }
  double p1(const float* x) const {
    double s = b_;
    for (size_t j = 0; j < w_.size(); ++j) s += w_[j] * x[j];
    return s;
  }
  void predict(const float* x, int64_t n, float* out) const override {
    for (int64_t i = 0; i < n; ++i) {
      const double p = p1(x + i * num_features());
      out[2 * i] = static_cast<float>(1.0 - p);
      out[2 * i + 1] = static_cast<float>(p);
    }
  }
  void gradient(const float* x, int64_t n, const int64_t* cls, float* grad, float* score) const override {
    const int64_t M = num_features();
    for (int64_t i = 0; i < n; ++i) {
      const double sign = cls[i] == 1 ? 1.0 : -1.0;
      for (int64_t j = 0; j < M; ++j) grad[i * M + j] = static_cast<float>(sign * w_[j]);
      const double p = p1(x + i * M);
      score[i] = static_cast<float>(cls[i] == 1 ? p : 1.0 - p);
    }
  }
  mien::Json info() const override {
    std::vector<double> weight, bias{1.0 - b_, b_};
    for (double v : w_) weight.push_back(-v);
    for (double v : w_) weight.push_back(v);
    return mien::Json{{"type_id", "test.linear"},
                      {"input", "features"},
                      {"feature_names", feature_names()},
                      {"classes", class_names()},
                      {"score", "probability"},
                      {"layers",
                       mien::Json::array({mien::Json{{"op", "linear"},
                                                     {"in", num_features()},
                                                     {"out", 2},
                                                     {"weight", weight},
                                                     {"bias", bias}}})}};
  }
  const std::vector<double>& w() const { return w_; }

 private:
  std::vector<double> w_;
  double b_;
};

// A ReLU MLP: [affine] -> (linear -> relu [-> dropout])* -> linear -> softmax.
// predict runs in float32 (blocked loops, like a real model); gradients and the layer
// description use the same float32 weights, widened.
class Mlp : public TestModel {
 public:
  struct Spec {
    int64_t inputs = 6;
    std::vector<int64_t> hidden{8};
    int64_t classes = 3;
    std::vector<double> dropout;  // per hidden layer, 0 = none
    bool affine = false;          // a standardisation layer first
    uint64_t seed = 1;
    double weight_scale = 1.0;
  };
  explicit Mlp(Spec s) : spec_(std::move(s)) {
    std::mt19937_64 g(spec_.seed);
    std::normal_distribution<double> nd(0.0, 1.0);
    int64_t in = spec_.inputs;
    if (spec_.affine) {
      for (int64_t j = 0; j < in; ++j) {
        scale_.push_back(static_cast<float>(0.5 + 0.1 * (j % 5)));
        shift_.push_back(static_cast<float>(0.1 * ((j % 3) - 1)));
      }
    }
    std::vector<int64_t> widths = spec_.hidden;
    widths.push_back(spec_.classes);
    for (int64_t out : widths) {
      Lin l;
      l.in = in;
      l.out = out;
      const double sd = spec_.weight_scale * std::sqrt(2.0 / static_cast<double>(in));
      for (int64_t k = 0; k < in * out; ++k) l.w.push_back(static_cast<float>(sd * nd(g)));
      for (int64_t k = 0; k < out; ++k) l.b.push_back(static_cast<float>(0.1 * nd(g)));
      layers_.push_back(std::move(l));
      in = out;
    }
    transpose();
  }
  // Weight of (layer, out unit, in unit), for tests that build symmetric or dummy inputs.
  float& weight(size_t layer, int64_t o, int64_t i) { return layers_[layer].w[o * layers_[layer].in + i]; }
  void transpose() {
    for (auto& l : layers_) {
      l.wt.assign(l.w.size(), 0.0f);
      for (int64_t o = 0; o < l.out; ++o)
        for (int64_t i = 0; i < l.in; ++i) l.wt[i * l.out + o] = l.w[o * l.in + i];
    }
  }
  int64_t num_features() const override { return spec_.inputs; }
  int64_t num_classes() const override { return spec_.classes; }

  void predict(const float* x, int64_t n, float* out) const override {
    constexpr int64_t B = 64;
    int64_t maxw = spec_.inputs;
    for (const auto& l : layers_) maxw = std::max(maxw, l.out);
    std::vector<float> a(static_cast<size_t>(B * maxw)), t(static_cast<size_t>(B * maxw));
    for (int64_t r0 = 0; r0 < n; r0 += B) {
      const int64_t rb = std::min(B, n - r0);
      int64_t w = spec_.inputs;
      for (int64_t i = 0; i < rb; ++i)
        for (int64_t j = 0; j < w; ++j) {
          float v = x[(r0 + i) * w + j];
          if (spec_.affine) v = v * scale_[j] + shift_[j];
          a[i * w + j] = v;
        }
      for (size_t li = 0; li < layers_.size(); ++li) {
        const Lin& l = layers_[li];
        for (int64_t i = 0; i < rb; ++i) {
          float* o = &t[i * l.out];
          for (int64_t k = 0; k < l.out; ++k) o[k] = l.b[k];
          const float* ai = &a[i * l.in];
          for (int64_t k = 0; k < l.in; ++k) {
            const float av = ai[k];
            const float* wt = &l.wt[k * l.out];
            for (int64_t q = 0; q < l.out; ++q) o[q] += av * wt[q];
          }
          if (li + 1 < layers_.size())
            for (int64_t q = 0; q < l.out; ++q) o[q] = o[q] > 0 ? o[q] : 0.0f;
        }
        std::swap(a, t);
        w = l.out;
      }
      for (int64_t i = 0; i < rb; ++i) {
        const float* z = &a[i * w];
        float mx = z[0];
        for (int64_t k = 1; k < w; ++k) mx = std::max(mx, z[k]);
        float s = 0;
        float* o = out + (r0 + i) * w;
        for (int64_t k = 0; k < w; ++k) s += (o[k] = std::exp(z[k] - mx));
        for (int64_t k = 0; k < w; ++k) o[k] /= s;
      }
    }
  }

  // float64 forward of one row: logits.
  std::vector<double> logits(const float* x, std::vector<std::vector<double>>* pre = nullptr) const {
    std::vector<double> a(x, x + spec_.inputs);
    if (spec_.affine)
      for (int64_t j = 0; j < spec_.inputs; ++j) a[j] = a[j] * scale_[j] + shift_[j];
    for (size_t li = 0; li < layers_.size(); ++li) {
      const Lin& l = layers_[li];
      std::vector<double> o(static_cast<size_t>(l.out));
      for (int64_t k = 0; k < l.out; ++k) {
        double s = l.b[k];
        for (int64_t i = 0; i < l.in; ++i) s += static_cast<double>(l.w[k * l.in + i]) * a[i];
        o[k] = s;
      }
      if (li + 1 < layers_.size()) {
        if (pre) pre->push_back(o);
        for (auto& v : o) v = v > 0 ? v : 0.0;
      }
      a.swap(o);
    }
    return a;
  }

  // Gradient of the logit (score "logit").
  void gradient(const float* x, int64_t n, const int64_t* cls, float* grad, float* score) const override {
    const int64_t M = spec_.inputs;
    for (int64_t r = 0; r < n; ++r) {
      std::vector<std::vector<double>> pre;
      const auto z = logits(x + r * M, &pre);
      score[r] = static_cast<float>(z[cls[r]]);
      std::vector<double> g(static_cast<size_t>(spec_.classes), 0.0);
      g[cls[r]] = 1.0;
      for (size_t li = layers_.size(); li-- > 0;) {
        const Lin& l = layers_[li];
        std::vector<double> gi(static_cast<size_t>(l.in), 0.0);
        for (int64_t k = 0; k < l.out; ++k)
          for (int64_t i = 0; i < l.in; ++i) gi[i] += g[k] * l.w[k * l.in + i];
        if (li > 0)
          for (int64_t i = 0; i < l.in; ++i) gi[i] *= pre[li - 1][i] > 0 ? 1.0 : 0.0;
        g.swap(gi);
      }
      for (int64_t j = 0; j < M; ++j) grad[r * M + j] = static_cast<float>(g[j] * (spec_.affine ? scale_[j] : 1.0f));
    }
  }

  mien::Json info() const override {
    mien::Json layers = mien::Json::array();
    if (spec_.affine) {
      std::vector<double> sc(scale_.begin(), scale_.end()), sh(shift_.begin(), shift_.end());
      layers.push_back({{"op", "affine"}, {"scale", sc}, {"shift", sh}});
    }
    for (size_t li = 0; li < layers_.size(); ++li) {
      const Lin& l = layers_[li];
      layers.push_back({{"op", "linear"},
                        {"in", l.in},
                        {"out", l.out},
                        {"weight", std::vector<double>(l.w.begin(), l.w.end())},
                        {"bias", std::vector<double>(l.b.begin(), l.b.end())}});
      if (li + 1 < layers_.size()) {
        layers.push_back({{"op", "relu"}});
        if (li < spec_.dropout.size() && spec_.dropout[li] > 0) layers.push_back({{"op", "dropout"}, {"p", spec_.dropout[li]}});
      }
    }
    layers.push_back({{"op", "softmax"}});
    return mien::Json{{"type_id", "test.mlp"},      {"input", "features"}, {"feature_names", feature_names()},
                      {"classes", class_names()},  {"score", "logit"},    {"layers", layers}};
  }

 private:
  struct Lin {
    int64_t in = 0, out = 0;
    std::vector<float> w, b, wt;
  };
  Spec spec_;
  std::vector<float> scale_, shift_;
  std::vector<Lin> layers_;
};

// A samples/background table: id, label (codes into classes), FEATURE columns f0..f{M-1}.
inline mien::Table make_table(const std::vector<float>& x, int64_t M, const std::vector<std::string>& classes,
                              const std::vector<int64_t>& labels = {}, const std::string& id_prefix = "s") {
  const int64_t n = static_cast<int64_t>(x.size()) / M;
  mien::Table t(n);
  std::vector<std::string> ids;
  for (int64_t i = 0; i < n; ++i) ids.push_back(id_prefix + std::to_string(1000 + i));
  t.add_strings("id", MIEN_ROLE_ID, ids);
  if (!labels.empty()) t.add_codes("label", MIEN_ROLE_LABEL, labels, classes);
  for (int64_t j = 0; j < M; ++j) {
    std::vector<double> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[i] = x[i * M + j];
    t.add_numbers("f" + std::to_string(j), MIEN_ROLE_FEATURE, v);
  }
  return t;
}

inline std::vector<float> random_rows(int64_t n, int64_t M, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<float> x(static_cast<size_t>(n * M));
  for (auto& v : x) v = static_cast<float>(u(g));
  return x;
}

// The FEATURE columns of an output table as a [rows x features] matrix (in column order).
inline std::vector<double> features_of(const mien::TableView& t) { return t.feature_matrix<double>(); }

}  // namespace explain_test
