// explain.deep_shap: DeepLIFT (rescale rule) averaged over background references, from the
// model's layer description alone, in float64.
//
// For input x and reference b, every layer's multipliers m (d output / d unit, DeepLIFT's
// "multipliers") are propagated backwards: a linear layer maps m to W^T m, an affine layer
// multiplies by its scale, dropout is the identity, and a ReLU multiplies by its rescale
// ratio (relu(z_x) - relu(z_b)) / (z_x - z_b) (the gradient when z_x == z_b, where the
// choice does not matter). The softmax at the end (output: probability) gets multipliers
// w.r.t. the logits whose dot product with the logit difference is exactly
// p_c(z_x) - p_c(z_b): the path-averaged softmax gradient (8-point Gauss-Legendre) plus
// the smallest correction along the logit difference that makes the sum exact. So for
// every reference sum_i (x_i - b_i) m_i = f(x) - f(b), and the weighted average over the
// references sums to f(x) - E f(background): efficiency up to float64 rounding.
//
// Cost: one backward pass per (explained sample, class, reference), batched as a GEMM over
// batch_size (sample, reference) rows, multi-threaded over rows (each row's arithmetic is
// fixed, so results do not depend on the thread count).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "components.hpp"

namespace mien::explain {

ComponentInfo& with_common(ComponentInfo& ci);

namespace {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define MIEN_EXPLAIN_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define MIEN_EXPLAIN_CLONES
#endif

// C[R x N] = A[R x K] * B[K x N], row-major. Every element is a sum over k in order, so a
// row's result does not depend on which rows are computed with it. One body for float64 and
// float32 (`precision: float32`), inlined into each cloned entry point below so every clone
// compiles it for its own ISA: 64-byte vectors (8 doubles or 16 floats) in a 4 x 2-vector
// register block (GCC vector extensions), mapped onto AVX-512, AVX2 or SSE2 registers.
template <typename T>
inline __attribute__((always_inline)) void gemm_body(const T* A, const T* B, T* C, int64_t R, int64_t K, int64_t N) {
  typedef T vec __attribute__((vector_size(64)));
  constexpr int W = static_cast<int>(64 / sizeof(T));  // lanes per vector
  constexpr int RB = 4, NB = 2 * W;
  constexpr int64_t IB = 64;
  for (int64_t ib = 0; ib < R; ib += IB) {
    const int64_t ie = std::min(R, ib + IB);
    for (int64_t n0 = 0; n0 < N; n0 += NB) {
      const int64_t nb = std::min<int64_t>(NB, N - n0);
      int64_t i0 = ib;
      if (nb == NB) {
        for (; i0 + RB <= ie; i0 += RB) {
          vec c00 = {}, c01 = {}, c10 = {}, c11 = {}, c20 = {}, c21 = {}, c30 = {}, c31 = {};
          const T* a0 = A + i0 * K;
          const T* a1 = a0 + K;
          const T* a2 = a1 + K;
          const T* a3 = a2 + K;
          for (int64_t k = 0; k < K; ++k) {
            vec b0, b1;
            std::memcpy(&b0, B + k * N + n0, sizeof b0);
            std::memcpy(&b1, B + k * N + n0 + W, sizeof b1);
            const T x0 = a0[k], x1 = a1[k], x2 = a2[k], x3 = a3[k];
            c00 += x0 * b0;
            c01 += x0 * b1;
            c10 += x1 * b0;
            c11 += x1 * b1;
            c20 += x2 * b0;
            c21 += x2 * b1;
            c30 += x3 * b0;
            c31 += x3 * b1;
          }
          T* o = C + i0 * N + n0;
          std::memcpy(o, &c00, sizeof c00);
          std::memcpy(o + W, &c01, sizeof c01);
          std::memcpy(o + N, &c10, sizeof c10);
          std::memcpy(o + N + W, &c11, sizeof c11);
          std::memcpy(o + 2 * N, &c20, sizeof c20);
          std::memcpy(o + 2 * N + W, &c21, sizeof c21);
          std::memcpy(o + 3 * N, &c30, sizeof c30);
          std::memcpy(o + 3 * N + W, &c31, sizeof c31);
        }
      }
      for (; i0 < ie; ++i0) {
        T acc[NB] = {};
        for (int64_t k = 0; k < K; ++k) {
          const T a = A[i0 * K + k];
          const T* b = B + k * N + n0;
          for (int64_t j = 0; j < nb; ++j) acc[j] += a * b[j];
        }
        for (int64_t j = 0; j < nb; ++j) C[i0 * N + n0 + j] = acc[j];
      }
    }
  }
}

MIEN_EXPLAIN_CLONES
void gemm(const double* A, const double* B, double* C, int64_t R, int64_t K, int64_t N) {
  gemm_body(A, B, C, R, K, N);
}

MIEN_EXPLAIN_CLONES
void gemm_f(const float* A, const float* B, float* C, int64_t R, int64_t K, int64_t N) {
  gemm_body(A, B, C, R, K, N);
}

// DeepLIFT's rescale rule for one ReLU layer and one (sample, reference) row: m *=
// (relu(zx) - relu(zb)) / (zx - zb), the gradient where zx == zb. Branch-free so it
// vectorises (with the clones, 8 divisions per instruction): a scalar loop with a division
// per unit cost as much as all the matrix products. Same arithmetic, same bits.
MIEN_EXPLAIN_CLONES
void rescale(const double* zx, const double* zb, double* m, int64_t width) {
  for (int64_t j = 0; j < width; ++j) {
    const double x = zx[j], b = zb[j];
    const double dz = x - b;
    const double rx = x > 0 ? x : 0.0, rb = b > 0 ? b : 0.0;
    const bool same = dz == 0.0;
    const double q = (rx - rb) / (same ? 1.0 : dz);
    m[j] *= same ? (x > 0 ? 1.0 : 0.0) : q;
  }
}

struct Layer {
  enum Op { Affine, Linear, Relu, Dropout } op;
  int64_t in = 0, out = 0;   // linear
  std::vector<double> w, b;  // linear: weight [out x in], bias; affine: scale, shift
  std::vector<float> wf;     // linear: the weight as float32 (precision: float32)
  int64_t relu_offset = 0;   // relu: offset of its units in the concatenated pre-activations
  int64_t width = 0;         // units at this layer's input (relu/affine/dropout)
};

struct Net {
  std::vector<Layer> layers;
  bool softmax = false;
  int64_t M = 0, C = 0, relu_units = 0, max_width = 0;
};

std::vector<double> numbers(const Json& j, const std::string& what, size_t expect, const std::string& where) {
  if (!j.is_array() || j.size() != expect)
    throw Error("explain.deep_shap: " + where + ": '" + what + "' must be an array of " + std::to_string(expect) +
                " numbers" + (j.is_array() ? " (it has " + std::to_string(j.size()) + ")" : ""));
  std::vector<double> v(expect);
  for (size_t i = 0; i < expect; ++i) v[i] = j[i].get<double>();
  return v;
}

Net parse_net(const Json& info, int64_t M, int64_t C) {
  const std::string who = "explain.deep_shap";
  if (!info.contains("layers") || !info["layers"].is_array() || info["layers"].empty())
    throw Error(who + ": the model's info has no \"layers\" description although it declares "
                      "MIEN_CAP_LAYER_STRUCTURE; use explain.kernel_shap or explain.permutation_shap");
  Net net;
  net.M = M;
  net.C = C;
  int64_t width = M;
  net.max_width = M;
  const Json& L = info["layers"];
  for (size_t i = 0; i < L.size(); ++i) {
    const std::string where = "layer " + std::to_string(i);
    const std::string op = L[i].value("op", "");
    if (net.softmax)
      throw Error(who + ": " + where + " follows the softmax; softmax must be the last layer");
    Layer l{};
    l.width = width;
    if (op == "affine") {
      l.op = Layer::Affine;
      l.w = numbers(L[i].value("scale", Json()), "scale", static_cast<size_t>(width), where);
      l.b = numbers(L[i].value("shift", Json()), "shift", static_cast<size_t>(width), where);
    } else if (op == "linear") {
      l.op = Layer::Linear;
      l.in = L[i].value("in", int64_t{-1});
      l.out = L[i].value("out", int64_t{-1});
      if (l.in != width || l.out <= 0)
        throw Error(who + ": " + where + " (linear) has in = " + std::to_string(l.in) + ", out = " +
                    std::to_string(l.out) + " but the previous layer has " + std::to_string(width) + " units");
      l.w = numbers(L[i].value("weight", Json()), "weight", static_cast<size_t>(l.in * l.out), where);
      l.wf.assign(l.w.begin(), l.w.end());
      l.b = numbers(L[i].value("bias", Json()), "bias", static_cast<size_t>(l.out), where);
      width = l.out;
      net.max_width = std::max(net.max_width, width);
    } else if (op == "relu") {
      l.op = Layer::Relu;
      l.relu_offset = net.relu_units;
      net.relu_units += width;
    } else if (op == "dropout") {
      l.op = Layer::Dropout;
    } else if (op == "softmax") {
      net.softmax = true;
      continue;
    } else {
      throw Error(who + ": " + where + " has op '" + op +
                  "', which DeepLIFT here does not support (supported: affine, linear, relu, dropout, softmax); use "
                  "explain.kernel_shap or explain.permutation_shap for this model");
    }
    net.layers.push_back(std::move(l));
  }
  if (width != C)
    throw Error(who + ": the layers end with " + std::to_string(width) + " units but the model has " +
                std::to_string(C) + " classes");
  return net;
}

// Forward pass of one row: pre-activations of every ReLU (concatenated) and the logits.
void forward(const Net& net, const double* x, double* pre, double* logits) {
  std::vector<double> a(x, x + net.M), t;
  for (const Layer& l : net.layers) {
    switch (l.op) {
      case Layer::Affine:
        for (int64_t j = 0; j < l.width; ++j) a[j] = a[j] * l.w[j] + l.b[j];
        break;
      case Layer::Linear:
        t.assign(static_cast<size_t>(l.out), 0.0);
        for (int64_t o = 0; o < l.out; ++o) {
          double s = l.b[o];
          const double* w = &l.w[o * l.in];
          for (int64_t i = 0; i < l.in; ++i) s += w[i] * a[i];
          t[o] = s;
        }
        a.swap(t);
        break;
      case Layer::Relu:
        for (int64_t j = 0; j < l.width; ++j) {
          pre[l.relu_offset + j] = a[j];
          a[j] = a[j] > 0 ? a[j] : 0.0;
        }
        break;
      case Layer::Dropout:
        break;
    }
  }
  std::copy(a.begin(), a.end(), logits);
}

void softmax(const double* z, double* p, int64_t C) {
  double mx = z[0];
  for (int64_t c = 1; c < C; ++c) mx = std::max(mx, z[c]);
  double s = 0;
  for (int64_t c = 0; c < C; ++c) s += (p[c] = std::exp(z[c] - mx));
  for (int64_t c = 0; c < C; ++c) p[c] /= s;
}

// 8-point Gauss-Legendre on [0, 1].
constexpr double kGLx[8] = {0.019855071751231856, 0.10166676129318664, 0.2372337950418355, 0.4082826787521751,
                            0.5917173212478249,   0.7627662049581645,  0.8983332387068134, 0.9801449282487681};
constexpr double kGLw[8] = {0.05061426814518813, 0.11119051722668724, 0.15685332293894363, 0.18134189168918100,
                            0.18134189168918100, 0.15685332293894363, 0.11119051722668724, 0.05061426814518813};

// Multipliers of p_c w.r.t. the logits such that m . (zx - zb) == p_c(zx) - p_c(zb).
void softmax_multipliers(const double* zx, const double* zb, int64_t C, int64_t c, double* m) {
  std::vector<double> z(static_cast<size_t>(C)), p(static_cast<size_t>(C)), px(static_cast<size_t>(C)),
      pb(static_cast<size_t>(C));
  std::fill(m, m + C, 0.0);
  for (int q = 0; q < 8; ++q) {
    for (int64_t k = 0; k < C; ++k) z[k] = zb[k] + kGLx[q] * (zx[k] - zb[k]);
    softmax(z.data(), p.data(), C);
    for (int64_t k = 0; k < C; ++k) m[k] += kGLw[q] * p[c] * ((k == c ? 1.0 : 0.0) - p[k]);
  }
  softmax(zx, px.data(), C);
  softmax(zb, pb.data(), C);
  double dot = 0, nn = 0;
  for (int64_t k = 0; k < C; ++k) {
    const double dz = zx[k] - zb[k];
    dot += m[k] * dz;
    nn += dz * dz;
  }
  if (nn > 0) {
    const double err = (px[c] - pb[c]) - dot;
    for (int64_t k = 0; k < C; ++k) m[k] += err * (zx[k] - zb[k]) / nn;
  }
}

}  // namespace

ComponentInfo DeepShap::info() {
  ComponentInfo ci("explain.deep_shap", 1, MIEN_KIND_EXPLAINER,
                   "DeepLIFT rescale multipliers averaged over background references (Deep SHAP), exact efficiency");
  with_common(ci).params(kOutput, kPrecision).ports(kModel, Ports::kSamples, Ports::kBackground, Ports::kAttributions);
  return ci;
}

DeepShap::DeepShap(const Setup& s)
    : cs_("explain.deep_shap", s), output_(kOutput.read(s.params())), precision_(kPrecision.read(s.params())) {}

void DeepShap::process(Context& ctx) {
  const Host& host = ctx.host();
  Net net;
  PrepareOptions opt;
  opt.before_model = [&](const Prepared& d) { net = parse_net(d.model.info, d.M, d.C); };
  Prepared d = prepare(ctx, cs_, kModel, Ports::kSamples, Ports::kBackground, opt);
  const int64_t M = d.M, C = d.C, N = d.bg.rows, n = d.n, U = net.relu_units;
  const bool prob = output_ == "probability" && net.softmax;

  // Forward passes of the references and the samples (float64).
  std::vector<double> bx(d.bg.x.begin(), d.bg.x.end()), sx(d.x.begin(), d.x.end());
  std::vector<double> bpre(static_cast<size_t>(N * U)), blog(static_cast<size_t>(N * C)), bout(static_cast<size_t>(N * C));
  std::vector<double> spre(static_cast<size_t>(n * U)), slog(static_cast<size_t>(n * C)), sout(static_cast<size_t>(n * C));
  parallel_for(N, cs_.threads, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) forward(net, &bx[b * M], bpre.data() + (b * U), &blog[b * C]);
  });
  parallel_for(n, cs_.threads, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s) forward(net, &sx[s * M], spre.data() + (s * U), &slog[s * C]);
  });
  auto outputs = [&](const std::vector<double>& logits, std::vector<double>& out, int64_t rows) {
    for (int64_t r = 0; r < rows; ++r) {
      if (prob) softmax(&logits[r * C], &out[r * C], C);
      else std::copy(&logits[r * C], &logits[r * C] + C, &out[r * C]);
    }
  };
  outputs(blog, bout, N);
  outputs(slog, sout, n);
  // The description must reproduce the model's predictions.
  {
    double worst = 0;
    std::vector<double> p(static_cast<size_t>(C));
    for (int64_t s = 0; s < n; ++s) {
      if (net.softmax) softmax(&slog[s * C], p.data(), C);
      else std::copy(&slog[s * C], &slog[s * C] + C, p.data());
      for (int64_t c = 0; c < C; ++c) worst = std::max(worst, std::fabs(p[c] - d.probs[s * C + c]));
    }
    if (worst > 1e-3)
      throw Error("explain.deep_shap: the model's layer description does not reproduce its predictions (largest "
                  "difference " + std::to_string(worst) +
                  "); the attributions would explain another function. Use explain.kernel_shap or "
                  "explain.permutation_shap, or fix the model's \"layers\"");
  }
  std::vector<double> base_c(static_cast<size_t>(C), 0.0);
  for (int64_t b = 0; b < N; ++b)
    for (int64_t c = 0; c < C; ++c) base_c[c] += d.bg.w[b] * bout[b * C + c];

  const size_t T = d.targets.size();
  const int64_t total_rows = static_cast<int64_t>(T) * N;
  const int64_t R = std::max<int64_t>(16, cs_.batch_size);
  const int64_t W = net.max_width;
  std::vector<double> g0(static_cast<size_t>(R * W)), g1(static_cast<size_t>(R * W)),
      contrib_all(static_cast<size_t>(R * M));
  std::vector<double> phi_feat(T * static_cast<size_t>(M), 0.0);
  const int64_t nl = static_cast<int64_t>(net.layers.size());
  const bool f32 = precision_ == "float32";
  for (int64_t r0 = 0; r0 < total_rows; r0 += R) {
    step(host, static_cast<uint64_t>(r0), static_cast<uint64_t>(total_rows), "references");
    const int64_t rows = std::min(R, total_rows - r0);
    parallel_for(
        rows, cs_.threads,
        [&](int64_t a, int64_t e) {
          const int64_t cnt = e - a;
          double* cur = &g0[a * W];
          double* nxt = &g1[a * W];
          // precision: float32 runs the backward GEMMs in float32 (the rest stays float64).
          std::vector<float> fa, fc;
          if (f32) {
            fa.resize(static_cast<size_t>(cnt * W));
            fc.resize(static_cast<size_t>(cnt * W));
          }
          // Top multipliers (width C).
          for (int64_t i = 0; i < cnt; ++i) {
            const int64_t row = r0 + a + i, t = row / N, b = row % N;
            const int64_t s = d.targets[t].sample, c = d.targets[t].cls;
            double* m = cur + i * C;
            if (prob) softmax_multipliers(&slog[s * C], &blog[b * C], C, c, m);
            else {
              std::fill(m, m + C, 0.0);
              m[c] = 1.0;
            }
          }
          int64_t width = C;
          for (int64_t li = nl - 1; li >= 0; --li) {
            const Layer& l = net.layers[li];
            switch (l.op) {
              case Layer::Linear:
                if (f32) {
                  std::copy(cur, cur + cnt * l.out, fa.begin());
                  gemm_f(fa.data(), l.wf.data(), fc.data(), cnt, l.out, l.in);
                  std::copy(fc.begin(), fc.begin() + cnt * l.in, nxt);
                } else {
                  gemm(cur, l.w.data(), nxt, cnt, l.out, l.in);
                }
                std::swap(cur, nxt);
                width = l.in;
                break;
              case Layer::Relu:
                for (int64_t i = 0; i < cnt; ++i) {
                  const int64_t row = r0 + a + i, t = row / N, b = row % N;
                  const double* zx = spre.data() + (d.targets[t].sample * U + l.relu_offset);
                  const double* zb = bpre.data() + (b * U + l.relu_offset);
                  rescale(zx, zb, cur + i * width, width);
                }
                break;
              case Layer::Affine:
                for (int64_t i = 0; i < cnt; ++i)
                  for (int64_t j = 0; j < width; ++j) cur[i * width + j] *= l.w[j];
                break;
              case Layer::Dropout:
                break;
            }
          }
          // Input multipliers -> contributions (x - b) * m, written back into cur.
          for (int64_t i = 0; i < cnt; ++i) {
            const int64_t row = r0 + a + i, t = row / N, b = row % N;
            const double* x = &sx[d.targets[t].sample * M];
            const double* br = &bx[b * M];
            double* m = cur + i * M;
            for (int64_t j = 0; j < M; ++j) m[j] *= (x[j] - br[j]);
          }
          std::copy(cur, cur + cnt * M, &contrib_all[a * M]);
        },
        16);
    // Weighted sum over references, in row order (deterministic).
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t row = r0 + i, t = row / N, b = row % N;
      const double w = d.bg.w[b];
      const double* contrib = &contrib_all[i * M];
      double* phi = &phi_feat[t * M];
      for (int64_t j = 0; j < M; ++j) phi[j] += w * contrib[j];
    }
  }
  // Sum features into players; efficiency check.
  const size_t P = d.players.size();
  std::vector<double> values(T * P, 0.0), base(T), output(T);
  double worst = 0;
  for (size_t t = 0; t < T; ++t) {
    const int64_t s = d.targets[t].sample, c = d.targets[t].cls;
    double sum = 0;
    for (size_t p = 0; p < P; ++p) {
      double v = 0;
      for (int j : d.players.features[p]) v += phi_feat[t * M + j];
      values[t * P + p] = v;
      sum += v;
    }
    base[t] = base_c[c];
    output[t] = sout[s * C + c];
    worst = std::max(worst, std::fabs(sum - (output[t] - base[t])));
  }
  Json meta{{"explainer", "explain.deep_shap"},
            {"threads", cs_.threads},
            {"output", !net.softmax ? "output of the last layer" : prob ? "probability" : "logit"},
            {"value_function", "DeepLIFT rescale rule averaged over the background rows as references"},
            {"players", d.players.names},
            {"max_efficiency_error", worst},
            {"precision", precision_},
            {"references", N}};
  ctx.set(Ports::kAttributions, attribution_table(d, values, base, output, {}, meta));
}

}  // namespace mien::explain
