// A small model reference in plain C++ for the evaluation tests: softmax(W x + b) over
// the features "a" and "b" and the classes "x", "y", "z", exposed as a mien_model_ref
// the way the host hands models to consumers.
#pragma once

#include <mien/plugin.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace eval_test {

class FakeModel {
 public:
  // logit_k = w[k][0] * a + w[k][1] * b + bias[k]
  static constexpr double kW[3][2] = {{1.0, 0.0}, {0.0, 1.0}, {-1.0, -1.0}};
  static constexpr double kBias[3] = {0.0, 0.0, 0.5};

  explicit FakeModel(uint64_t caps = MIEN_CAP_PREDICT) {
    info_ = mien::Json{{"type_id", "test.fake"},
                       {"input", "features"},
                       {"input_shape", {2}},
                       {"feature_names", {"a", "b"}},
                       {"classes", {"x", "y", "z"}},
                       {"score", "logit"}}
                .dump();
    ref_.struct_size = sizeof(mien_model_ref);
    ref_.capabilities = caps;
    ref_.info_json = info_.c_str();
    ref_.opaque = this;
    ref_.predict = &FakeModel::predict;
  }
  const mien_model_ref* ref() const { return &ref_; }
  int calls() const { return calls_; }
  int64_t largest_batch() const { return largest_; }

  static std::vector<double> probabilities(double a, double b) {
    double z[3], m = -1e300, s = 0;
    for (int k = 0; k < 3; ++k) {
      // Computed in float like a float32 model would not matter here: the test compares
      // against the same formula.
      z[k] = kW[k][0] * a + kW[k][1] * b + kBias[k];
      m = std::max(m, z[k]);
    }
    std::vector<double> p(3);
    for (int k = 0; k < 3; ++k) s += (p[k] = std::exp(z[k] - m));
    for (double& v : p) v /= s;
    return p;
  }

 private:
  static mien_status predict(const mien_model_ref* self, mien_call_ctx*, const mien_tensor* input, mien_tensor** out) {
    auto* m = static_cast<FakeModel*>(self->opaque);
    ++m->calls_;
    if (input->ndim != 2 || input->shape[1] != 2 || input->dtype != MIEN_DTYPE_F32) return MIEN_ERR_INVALID_ARGUMENT;
    const int64_t n = input->shape[0];
    m->largest_ = std::max(m->largest_, n);
    const auto* x = static_cast<const float*>(input->data);
    mien::Tensor t = mien::Tensor::zeros<float>({n, 3});
    for (int64_t i = 0; i < n; ++i) {
      const auto p = probabilities(x[i * 2], x[i * 2 + 1]);
      for (int k = 0; k < 3; ++k) t.data<float>()[i * 3 + k] = static_cast<float>(p[static_cast<size_t>(k)]);
    }
    *out = t.release();
    return MIEN_OK;
  }

  std::string info_;
  mien_model_ref ref_{};
  int calls_ = 0;
  int64_t largest_ = 0;
};

// An image model in plain C++: images [N, 2, 2, 1] (float32 pixel values 0..255), classes
// "dark" and "light" with p(light) = mean pixel / 255, so a test knows every probability.
class FakeImageModel {
 public:
  explicit FakeImageModel(bool any_size = false) {
    info_ = mien::Json{{"type_id", "test.fake_image"},
                       {"input", "image"},
                       {"input_shape", {2, 2, 1}},
                       {"accepts_any_size", any_size},
                       {"classes", {"dark", "light"}},
                       {"mode", "as_shipped"}}
                .dump();
    ref_.struct_size = sizeof(mien_model_ref);
    ref_.capabilities = MIEN_CAP_PREDICT;
    ref_.info_json = info_.c_str();
    ref_.opaque = this;
    ref_.predict = &FakeImageModel::predict;
  }
  const mien_model_ref* ref() const { return &ref_; }
  int calls() const { return calls_; }

 private:
  static mien_status predict(const mien_model_ref* self, mien_call_ctx*, const mien_tensor* input, mien_tensor** out) {
    auto* m = static_cast<FakeImageModel*>(self->opaque);
    ++m->calls_;
    if (input->ndim != 4 || input->dtype != MIEN_DTYPE_F32) return MIEN_ERR_INVALID_ARGUMENT;
    const int64_t n = input->shape[0], px = input->shape[1] * input->shape[2] * input->shape[3];
    const auto* x = static_cast<const float*>(input->data);
    mien::Tensor t = mien::Tensor::zeros<float>({n, 2});
    for (int64_t i = 0; i < n; ++i) {
      double sum = 0;
      for (int64_t k = 0; k < px; ++k) sum += x[i * px + k];
      const double light = sum / static_cast<double>(px) / 255.0;
      t.data<float>()[i * 2] = static_cast<float>(1 - light);
      t.data<float>()[i * 2 + 1] = static_cast<float>(light);
    }
    *out = t.release();
    return MIEN_OK;
  }

  std::string info_;
  mien_model_ref ref_{};
  int calls_ = 0;
};

}  // namespace eval_test
