// Perturbation explainers for images: occlusion and LIME on superpixels.
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/ximgproc/slic.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "components.hpp"

namespace mien::ximg {

namespace {

// Patch origins along one side: every `stride`, the last aligned to the border.
std::vector<int64_t> origins(int64_t side, int64_t patch, int64_t stride) {
  if (patch >= side) return {0};
  std::vector<int64_t> o;
  for (int64_t y = 0; y + patch <= side; y += stride) o.push_back(y);
  if (o.back() + patch < side) o.push_back(side - patch);
  return o;
}

// Solves the symmetric positive definite system A x = b (n x n, row-major) by Cholesky;
// a tiny ridge keeps a singular system (alpha = 0, a constant column) solvable.
std::vector<double> solve_spd(std::vector<double> A, std::vector<double> b, int64_t n) {
  double tr = 0;
  for (int64_t i = 0; i < n; ++i) tr += A[i * n + i];
  const double jitter = 1e-10 * (tr > 0 ? tr / n : 1.0);
  for (int64_t i = 0; i < n; ++i) A[i * n + i] += jitter;
  for (int64_t j = 0; j < n; ++j) {
    double d = A[j * n + j];
    for (int64_t k = 0; k < j; ++k) d -= A[j * n + k] * A[j * n + k];
    d = std::sqrt(std::max(d, 1e-300));
    A[j * n + j] = d;
    for (int64_t i = j + 1; i < n; ++i) {
      double s = A[i * n + j];
      for (int64_t k = 0; k < j; ++k) s -= A[i * n + k] * A[j * n + k];
      A[i * n + j] = s / d;
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    double s = b[i];
    for (int64_t k = 0; k < i; ++k) s -= A[i * n + k] * b[k];
    b[i] = s / A[i * n + i];
  }
  for (int64_t i = n - 1; i >= 0; --i) {
    double s = b[i];
    for (int64_t k = i + 1; k < n; ++k) s -= A[k * n + i] * b[k];
    b[i] = s / A[i * n + i];
  }
  return b;
}

std::vector<std::string> names_of(const std::vector<int64_t>& idx, const std::vector<std::string>& classes) {
  std::vector<std::string> out;
  for (int64_t k : idx) out.push_back(classes[static_cast<size_t>(k)]);
  return out;
}

// The setup every perturbation explainer shares: inputs, checks, predictions, targets.
struct Prepared {
  Images im;
  std::optional<TableView> table;
  std::vector<std::string> classes;
  std::vector<float> probs;
  std::vector<int64_t> predicted, target;
  int64_t C = 0;
};

Prepared prepare(Context& ctx, const Input& model_port, const TargetParams& tp) {
  Prepared p;
  const ModelRef model = ctx.model(model_port);
  p.im = read_images(ctx.tensor(Ports::kImages), Ports::kImages.name);
  if (ctx.connected(Ports::kTable)) p.table = ctx.table(Ports::kTable);
  sample_table(p.table, p.im.n);  // row-count check
  p.classes = class_names(model);
  p.C = static_cast<int64_t>(p.classes.size());
  check_input_shape(model, p.im);
  if (tp.target == "class") class_index(tp.cls, p.classes, "class");
  if (tp.target == "true") resolve_targets(tp, p.classes, p.table, std::vector<int64_t>(static_cast<size_t>(p.im.n), 0));
  int64_t pc = 0;
  p.probs = predict(model, p.im.px.data(), p.im.n, p.im, tp.batch_size, ctx.host(), &pc);
  if (p.im.n > 0 && pc != p.C)
    throw Error("the model's predict returned " + std::to_string(pc) + " classes, its info " + std::to_string(p.C));
  p.predicted = argmax_rows(p.probs, p.im.n, p.C);
  p.target = resolve_targets(tp, p.classes, p.table, p.predicted);
  return p;
}

}  // namespace

// ---------------------------------------------------------------------------------------
ComponentInfo OcclusionImage::info() {
  return ComponentInfo("explain.occlusion_image", 1, MIEN_KIND_EXPLAINER,
                       "Occlusion maps: the drop of the class probability when a sliding patch is hidden")
      .params(kPatch, kStride, kFill, TargetParams::kTarget, TargetParams::kClass, TargetParams::kBatchSize)
      .ports(kModel, Ports::kImages, Ports::kTable, Ports::kMaps, Ports::kAttributions);
}

OcclusionImage::OcclusionImage(const Setup& s)
    : tp_(s.params()), patch_(kPatch.read(s.params())), stride_(kStride.read(s.params())), fill_(kFill.read(s.params())) {}

void OcclusionImage::process(Context& ctx) {
  const auto started = std::chrono::steady_clock::now();
  const Host& host = ctx.host();
  const ModelRef model = ctx.model(kModel);
  Prepared p = prepare(ctx, kModel, tp_);
  const Images& im = p.im;
  const int64_t H = im.h, W = im.w, Cc = im.c, HW = H * W;
  const auto oy = origins(H, patch_, stride_), ox = origins(W, patch_, stride_);
  const int64_t ph = std::min<int64_t>(patch_, H), pw = std::min<int64_t>(patch_, W);
  const int64_t P = static_cast<int64_t>(oy.size() * ox.size());

  Tensor maps = Tensor::zeros<float>({im.n, H, W});
  float* mp = maps.data<float>();
  std::vector<double> output(static_cast<size_t>(im.n));
  std::vector<float> batch;
  for (int64_t i = 0; i < im.n; ++i) {
    host.progress(static_cast<uint64_t>(i), static_cast<uint64_t>(im.n), "occlusion");
    const float* x = im.image(i);
    const int64_t t = p.target[static_cast<size_t>(i)];
    const double f0 = p.probs[static_cast<size_t>(i * p.C + t)];
    output[static_cast<size_t>(i)] = f0;
    std::vector<float> fill;
    if (fill_ == "blur") fill = blur_image(x, H, W, Cc, std::max(0.5, patch_ / 2.0));
    else {
      const auto mean = fill_ == "mean" ? channel_mean(x, H, W, Cc) : std::vector<float>(static_cast<size_t>(Cc), 0.0f);
      fill.resize(static_cast<size_t>(HW * Cc));
      for (int64_t q = 0; q < HW; ++q)
        for (int64_t k = 0; k < Cc; ++k) fill[static_cast<size_t>(q * Cc + k)] = mean[static_cast<size_t>(k)];
    }
    std::vector<double> sum(static_cast<size_t>(HW), 0.0), cnt(static_cast<size_t>(HW), 0.0);
    for (int64_t b = 0; b < P; b += tp_.batch_size) {
      host.check_cancelled();
      const int64_t nb = std::min<int64_t>(tp_.batch_size, P - b);
      batch.resize(static_cast<size_t>(nb * im.size()));
      for (int64_t j = 0; j < nb; ++j) {
        float* dst = batch.data() + j * im.size();
        std::copy(x, x + im.size(), dst);
        const int64_t y0 = oy[static_cast<size_t>((b + j) / ox.size())], x0 = ox[static_cast<size_t>((b + j) % ox.size())];
        for (int64_t y = y0; y < y0 + ph; ++y)
          for (int64_t xx = x0; xx < x0 + pw; ++xx)
            for (int64_t k = 0; k < Cc; ++k) dst[(y * W + xx) * Cc + k] = fill[static_cast<size_t>((y * W + xx) * Cc + k)];
      }
      const auto pr = predict(model, batch.data(), nb, im, tp_.batch_size, host);
      for (int64_t j = 0; j < nb; ++j) {
        const double d = f0 - pr[static_cast<size_t>(j * p.C + t)];
        const int64_t y0 = oy[static_cast<size_t>((b + j) / ox.size())], x0 = ox[static_cast<size_t>((b + j) % ox.size())];
        for (int64_t y = y0; y < y0 + ph; ++y)
          for (int64_t xx = x0; xx < x0 + pw; ++xx) {
            sum[static_cast<size_t>(y * W + xx)] += d;
            cnt[static_cast<size_t>(y * W + xx)] += 1.0;
          }
      }
    }
    for (int64_t q = 0; q < HW; ++q)
      mp[i * HW + q] = cnt[static_cast<size_t>(q)] > 0 ? static_cast<float>(sum[static_cast<size_t>(q)] / cnt[static_cast<size_t>(q)]) : 0.0f;
  }
  host.progress(static_cast<uint64_t>(im.n), static_cast<uint64_t>(im.n), "occlusion");
  Table out = sample_table(p.table, im.n);
  out.add_strings("explained_class", MIEN_ROLE_VALUE, names_of(p.target, p.classes))
      .add_strings("predicted_class", MIEN_ROLE_VALUE, names_of(p.predicted, p.classes))
      .add_numbers("output", MIEN_ROLE_VALUE, output)
      .meta(with_timing(Json{{"explainer", "occlusion_image"}, {"patch", patch_}, {"stride", stride_}, {"fill", fill_}},
                        started, im.n * (1 + P)));
  ctx.set(Ports::kMaps, std::move(maps));
  ctx.set(Ports::kAttributions, std::move(out));
}

// ---------------------------------------------------------------------------------------
ComponentInfo LimeImage::info() {
  return ComponentInfo("explain.lime_image", 1, MIEN_KIND_EXPLAINER,
                       "LIME for images: a weighted ridge fit of the class probability on superpixels kept or hidden")
      .params(kSegmentation, kRegionSize, kRuler, kCells, kNumSamples, kKernelWidth, kAlpha, kHide,
              TargetParams::kTarget, TargetParams::kClass, TargetParams::kBatchSize)
      .ports(kModel, Ports::kImages, Ports::kTable, Ports::kMaps, Ports::kAttributions);
}

LimeImage::LimeImage(const Setup& s)
    : tp_(s.params()), segmentation_(kSegmentation.read(s.params())), hide_(kHide.read(s.params())),
      region_size_(kRegionSize.read(s.params())), cells_(kCells.read(s.params())),
      num_samples_(kNumSamples.read(s.params())), ruler_(kRuler.read(s.params())),
      kernel_width_(kKernelWidth.read(s.params())), alpha_(kAlpha.read(s.params())), seed_(s.seed()) {}

int LimeImage::segment(const float* img, int64_t h, int64_t w, int64_t c, std::vector<int>& labels) const {
  labels.assign(static_cast<size_t>(h * w), 0);
  std::vector<int> raw(static_cast<size_t>(h * w));
  if (segmentation_ == "grid") {
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        raw[static_cast<size_t>(y * w + x)] = static_cast<int>((y * cells_ / h) * cells_ + x * cells_ / w);
  } else {
    cv::Mat f(static_cast<int>(h), static_cast<int>(w), CV_32FC(static_cast<int>(c)), const_cast<float*>(img));
    cv::Mat u8;
    f.convertTo(u8, CV_8U);
    if (c == 3) cv::cvtColor(u8, u8, cv::COLOR_RGB2Lab);
    auto slic = cv::ximgproc::createSuperpixelSLIC(u8, cv::ximgproc::SLIC, region_size_, static_cast<float>(ruler_));
    slic->iterate(10);
    slic->enforceLabelConnectivity(25);
    cv::Mat lab;
    slic->getLabels(lab);
    for (int y = 0; y < lab.rows; ++y)
      for (int x = 0; x < lab.cols; ++x) raw[static_cast<size_t>(y * w + x)] = lab.at<int>(y, x);
  }
  // Compact labels 0..S-1 in order of first appearance (row-major).
  std::map<int, int> remap;
  for (size_t q = 0; q < raw.size(); ++q) {
    auto it = remap.find(raw[q]);
    if (it == remap.end()) it = remap.emplace(raw[q], static_cast<int>(remap.size())).first;
    labels[q] = it->second;
  }
  return static_cast<int>(remap.size());
}

void LimeImage::process(Context& ctx) {
  const auto started = std::chrono::steady_clock::now();
  const Host& host = ctx.host();
  const ModelRef model = ctx.model(kModel);
  Prepared p = prepare(ctx, kModel, tp_);
  const Images& im = p.im;
  const int64_t H = im.h, W = im.w, Cc = im.c, HW = H * W, Ns = num_samples_;

  Tensor maps = Tensor::zeros<float>({im.n, H, W});
  float* mp = maps.data<float>();
  std::vector<double> output(static_cast<size_t>(im.n)), intercepts(static_cast<size_t>(im.n)),
      r2s(static_cast<size_t>(im.n)), nseg(static_cast<size_t>(im.n));
  std::vector<int> labels;
  std::vector<float> batch;
  for (int64_t i = 0; i < im.n; ++i) {
    host.progress(static_cast<uint64_t>(i), static_cast<uint64_t>(im.n), "lime");
    const float* x = im.image(i);
    const int64_t t = p.target[static_cast<size_t>(i)];
    output[static_cast<size_t>(i)] = p.probs[static_cast<size_t>(i * p.C + t)];
    const int S = segment(x, H, W, Cc, labels);
    nseg[static_cast<size_t>(i)] = S;
    std::vector<float> fill;
    if (hide_ == "blur") fill = blur_image(x, H, W, Cc, std::max(1.0, region_size_ / 2.0));
    else {
      const auto mean = channel_mean(x, H, W, Cc);
      fill.resize(static_cast<size_t>(HW * Cc));
      for (int64_t q = 0; q < HW; ++q)
        for (int64_t k = 0; k < Cc; ++k) fill[static_cast<size_t>(q * Cc + k)] = mean[static_cast<size_t>(k)];
    }
    // Masks: row 0 all on, then independent fair coins, from (seed, i) alone.
    std::mt19937_64 rng(seed_ * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(i) * 0xD1B54A32D192ED03ULL + 1);
    std::vector<uint8_t> Z(static_cast<size_t>(Ns * S), 1);
    for (int64_t s = 1; s < Ns; ++s)
      for (int k = 0; k < S; ++k) Z[static_cast<size_t>(s * S + k)] = static_cast<uint8_t>(rng() >> 63);
    std::vector<double> y(static_cast<size_t>(Ns));
    for (int64_t b = 0; b < Ns; b += tp_.batch_size) {
      host.check_cancelled();
      const int64_t nb = std::min<int64_t>(tp_.batch_size, Ns - b);
      batch.resize(static_cast<size_t>(nb * im.size()));
      for (int64_t j = 0; j < nb; ++j) {
        const uint8_t* z = Z.data() + (b + j) * S;
        float* dst = batch.data() + j * im.size();
        for (int64_t q = 0; q < HW; ++q) {
          const float* src = z[labels[static_cast<size_t>(q)]] ? x : fill.data();
          for (int64_t k = 0; k < Cc; ++k) dst[q * Cc + k] = src[q * Cc + k];
        }
      }
      const auto pr = predict(model, batch.data(), nb, im, tp_.batch_size, host);
      for (int64_t j = 0; j < nb; ++j) y[static_cast<size_t>(b + j)] = pr[static_cast<size_t>(j * p.C + t)];
    }
    // Kernel weights on the cosine distance to the all-on mask.
    std::vector<double> wt(static_cast<size_t>(Ns));
    for (int64_t s = 0; s < Ns; ++s) {
      int on = 0;
      for (int k = 0; k < S; ++k) on += Z[static_cast<size_t>(s * S + k)];
      const double d = on == 0 ? 1.0 : 1.0 - std::sqrt(static_cast<double>(on) / S);
      wt[static_cast<size_t>(s)] = std::sqrt(std::exp(-d * d / (kernel_width_ * kernel_width_)));
    }
    // Weighted ridge with an unpenalised intercept: centre by the weighted means.
    double sw = 0, my = 0;
    std::vector<double> mx(static_cast<size_t>(S), 0.0);
    for (int64_t s = 0; s < Ns; ++s) {
      const double ws = wt[static_cast<size_t>(s)];
      sw += ws;
      my += ws * y[static_cast<size_t>(s)];
      for (int k = 0; k < S; ++k) mx[static_cast<size_t>(k)] += ws * Z[static_cast<size_t>(s * S + k)];
    }
    my /= sw;
    for (double& v : mx) v /= sw;
    std::vector<double> A(static_cast<size_t>(S) * S, 0.0), rhs(static_cast<size_t>(S), 0.0), xc(static_cast<size_t>(S));
    for (int64_t s = 0; s < Ns; ++s) {
      const double ws = wt[static_cast<size_t>(s)], yc = y[static_cast<size_t>(s)] - my;
      for (int k = 0; k < S; ++k) xc[static_cast<size_t>(k)] = Z[static_cast<size_t>(s * S + k)] - mx[static_cast<size_t>(k)];
      for (int k = 0; k < S; ++k) {
        const double a = ws * xc[static_cast<size_t>(k)];
        rhs[static_cast<size_t>(k)] += a * yc;
        for (int l = 0; l <= k; ++l) A[static_cast<size_t>(k) * S + l] += a * xc[static_cast<size_t>(l)];
      }
    }
    for (int k = 0; k < S; ++k) {
      A[static_cast<size_t>(k) * S + k] += alpha_;
      for (int l = 0; l < k; ++l) A[static_cast<size_t>(l) * S + k] = A[static_cast<size_t>(k) * S + l];
    }
    const auto beta = solve_spd(A, rhs, S);
    double icpt = my;
    for (int k = 0; k < S; ++k) icpt -= beta[static_cast<size_t>(k)] * mx[static_cast<size_t>(k)];
    double ss_res = 0, ss_tot = 0;
    for (int64_t s = 0; s < Ns; ++s) {
      double f = icpt;
      for (int k = 0; k < S; ++k) f += beta[static_cast<size_t>(k)] * Z[static_cast<size_t>(s * S + k)];
      const double ws = wt[static_cast<size_t>(s)], ys = y[static_cast<size_t>(s)];
      ss_res += ws * (ys - f) * (ys - f);
      ss_tot += ws * (ys - my) * (ys - my);
    }
    intercepts[static_cast<size_t>(i)] = icpt;
    r2s[static_cast<size_t>(i)] = ss_tot > 0 ? 1.0 - ss_res / ss_tot : 0.0;
    for (int64_t q = 0; q < HW; ++q) mp[i * HW + q] = static_cast<float>(beta[static_cast<size_t>(labels[static_cast<size_t>(q)])]);
  }
  host.progress(static_cast<uint64_t>(im.n), static_cast<uint64_t>(im.n), "lime");
  Table out = sample_table(p.table, im.n);
  out.add_strings("explained_class", MIEN_ROLE_VALUE, names_of(p.target, p.classes))
      .add_strings("predicted_class", MIEN_ROLE_VALUE, names_of(p.predicted, p.classes))
      .add_numbers("output", MIEN_ROLE_VALUE, output)
      .add_numbers("intercept", MIEN_ROLE_VALUE, intercepts)
      .add_numbers("r2", MIEN_ROLE_VALUE, r2s)
      .add_numbers("segments", MIEN_ROLE_VALUE, nseg)
      .meta(with_timing(Json{{"explainer", "lime_image"}, {"segmentation", segmentation_}, {"num_samples", num_samples_}},
                        started, im.n * (1 + Ns)));
  ctx.set(Ports::kMaps, std::move(maps));
  ctx.set(Ports::kAttributions, std::move(out));
}

}  // namespace mien::ximg
