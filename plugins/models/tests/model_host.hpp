// Test helpers for model.mlp: open a model artifact through the component's model
// vtable exactly as the host does (host/src/run/model_ref.cpp), evaluate a "layers"
// description in plain C++ (double), and make small labelled feature tables.
#pragma once

#include <mien/testing.hpp>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace models_test {
// Models are opened as the host does by the SDK's runner.
using HostedModel = mien::testing::HostedModel;

// Logits (before the final softmax) and probabilities of one row, from the "layers"
// description alone, in double: what a DeepLIFT-style explainer computes.
struct LayerOutput {
  std::vector<double> logits, probs;
};
inline LayerOutput eval_layers(const mien::Json& layers, std::vector<double> a) {
  LayerOutput out;
  for (const auto& l : layers) {
    const std::string op = l.at("op");
    if (op == "affine") {
      const auto s = l.at("scale").get<std::vector<double>>(), b = l.at("shift").get<std::vector<double>>();
      for (size_t j = 0; j < a.size(); ++j) a[j] = a[j] * s[j] + b[j];
    } else if (op == "linear") {
      const auto in = l.at("in").get<size_t>(), o = l.at("out").get<size_t>();
      const auto w = l.at("weight").get<std::vector<double>>(), b = l.at("bias").get<std::vector<double>>();
      if (in != a.size() || w.size() != in * o || b.size() != o) throw std::runtime_error("linear layer shape mismatch");
      std::vector<double> t(o);
      for (size_t r = 0; r < o; ++r) {
        double s = b[r];
        for (size_t i = 0; i < in; ++i) s += w[r * in + i] * a[i];
        t[r] = s;
      }
      a.swap(t);
    } else if (op == "relu") {
      for (double& v : a) v = std::max(v, 0.0);
    } else if (op == "dropout") {
      // identity at inference
    } else if (op == "softmax") {
      out.logits = a;
      double m = -1e300, sum = 0;
      for (double v : a) m = std::max(m, v);
      for (double& v : a) sum += (v = std::exp(v - m));
      for (double& v : a) v /= sum;
    } else {
      throw std::runtime_error("unknown op " + op);
    }
  }
  out.probs = a;
  return out;
}

// Deterministic pseudo-random numbers for test data (independent of the library).
class Lcg {
 public:
  explicit Lcg(uint64_t seed) : s_(seed * 6364136223846793005ULL + 1442695040888963407ULL) {}
  double uniform() {  // [0, 1)
    s_ = s_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s_ >> 11) * (1.0 / 9007199254740992.0);
  }
  double between(double lo, double hi) { return lo + (hi - lo) * uniform(); }

 private:
  uint64_t s_;
};

// A linearly separable 3-class problem: class k sits at 3 * e_k in the first three
// features (+- 1 uniform noise); f3 is pure noise. Features live on different scales
// and offsets (f1 * 100 + 50, f2 * 0.01) so standardisation matters.
struct Blobs {
  std::vector<std::string> ids;
  std::vector<int64_t> labels;
  std::vector<std::vector<double>> cols;  // 4 feature columns
  std::vector<std::string> subjects;
};
inline Blobs make_blobs(int64_t per_class, uint64_t seed) {
  Lcg rng(seed);
  Blobs b;
  b.cols.assign(4, {});
  for (int64_t i = 0; i < per_class * 3; ++i) {
    const int64_t k = i % 3;
    b.ids.push_back("s" + std::to_string(seed) + "_" + std::to_string(i));
    b.labels.push_back(k);
    b.subjects.push_back("p" + std::to_string(i % 5));
    for (int64_t j = 0; j < 3; ++j) b.cols[static_cast<size_t>(j)].push_back((j == k ? 3.0 : 0.0) + rng.between(-1, 1));
    b.cols[3].push_back(rng.between(-1, 1));
  }
  for (double& v : b.cols[1]) v = v * 100 + 50;
  for (double& v : b.cols[2]) v = v * 0.01;
  return b;
}
inline const std::vector<std::string>& blob_features() {
  static const std::vector<std::string> names = {"f0", "f1", "f2", "f3"};
  return names;
}
inline mien::Table blob_table(const Blobs& b, const std::vector<std::string>& classes = {"a", "b", "c"}) {
  mien::Table t(static_cast<int64_t>(b.ids.size()));
  t.add_strings("id", MIEN_ROLE_ID, b.ids);
  t.add_codes("label", MIEN_ROLE_LABEL, b.labels, classes);
  t.add_strings("subject", MIEN_ROLE_GROUP, b.subjects);
  for (size_t j = 0; j < 4; ++j) t.add_numbers(blob_features()[j], MIEN_ROLE_FEATURE, b.cols[j]);
  return t;
}
// Row-major float32 features of the blobs.
inline std::vector<float> blob_matrix(const Blobs& b) {
  std::vector<float> x;
  for (size_t i = 0; i < b.ids.size(); ++i)
    for (size_t j = 0; j < 4; ++j) x.push_back(static_cast<float>(b.cols[j][i]));
  return x;
}

}  // namespace models_test
