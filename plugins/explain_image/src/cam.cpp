// Grad-CAM and Grad-CAM++.
#include <algorithm>
#include <cmath>

#include "components.hpp"

namespace mien::ximg {

namespace {

void normalize_map(float* m, int64_t n) {
  const auto [lo, hi] = std::minmax_element(m, m + n);
  const float l = *lo, r = *hi - *lo;
  for (int64_t i = 0; i < n; ++i) m[i] = r > 0 ? (m[i] - l) / r : 0.0f;
}

}  // namespace

static ComponentInfo cam_info(const char* id, const char* summary) {
  return ComponentInfo(id, 1, MIEN_KIND_EXPLAINER, summary)
      .params(GradCam::kLayer, TargetParams::kTarget, TargetParams::kClass, TargetParams::kBatchSize, GradCam::kRelu,
              GradCam::kNormalize)
      .ports(GradCam::kModel, Ports::kImages, Ports::kTable, Ports::kMaps, Ports::kAttributions);
}

ComponentInfo GradCam::info() {
  return cam_info("explain.gradcam", "Grad-CAM class activation maps from a layer's activations and gradients");
}
ComponentInfo GradCamPP::info() {
  return cam_info("explain.gradcam_pp", "Grad-CAM++: Grad-CAM with higher-order positive gradient weights");
}

GradCam::GradCam(const Setup& s, bool plus_plus)
    : tp_(s.params()), layer_(kLayer.read(s.params())), relu_(kRelu.read(s.params())),
      normalize_(kNormalize.read(s.params())), pp_(plus_plus) {}

void GradCam::process(Context& ctx) {
  const auto started = std::chrono::steady_clock::now();
  const Host& host = ctx.host();
  const ModelRef model = ctx.model(kModel);
  const Images im = read_images(ctx.tensor(Ports::kImages), Ports::kImages.name);
  std::optional<TableView> table;
  if (ctx.connected(Ports::kTable)) table = ctx.table(Ports::kTable);
  Table out = sample_table(table, im.n);  // checks the row count

  // Everything that can be wrong with the parameters is checked before the first call.
  const auto classes = class_names(model);
  check_input_shape(model, im);
  const Json info = model.info();
  std::vector<std::string> layers;
  if (info.contains("cam_layers") && info.at("cam_layers").is_array())
    for (const auto& l : info.at("cam_layers")) layers.push_back(l.get<std::string>());
  std::string layer = layer_;
  if (layer.empty()) {
    if (info.contains("default_cam_layer") && info.at("default_cam_layer").is_string())
      layer = info.at("default_cam_layer").get<std::string>();
    else if (!layers.empty())
      layer = layers.back();
    else
      throw Error("parameter 'layer' is empty and the model names no default_cam_layer or cam_layers: give a layer");
  }
  if (!layers.empty() && std::find(layers.begin(), layers.end(), layer) == layers.end()) {
    std::string list;
    for (const auto& l : layers) list += (list.empty() ? "" : ", ") + l;
    throw Error("parameter 'layer' is '" + layer + "', which the model does not offer; its cam_layers are: " + list);
  }
  if (tp_.target == "class") class_index(tp_.cls, classes, "class");
  if (tp_.target == "true") resolve_targets(tp_, classes, table, std::vector<int64_t>(static_cast<size_t>(im.n), 0));

  const int64_t C = static_cast<int64_t>(classes.size());
  int64_t pc = 0;
  const auto probs = predict(model, im.px.data(), im.n, im, tp_.batch_size, host, &pc);
  if (im.n > 0 && pc != C) throw Error("the model's predict returned " + std::to_string(pc) + " classes, its info " + std::to_string(C));
  const auto predicted = argmax_rows(probs, im.n, C);
  const auto target = resolve_targets(tp_, classes, table, predicted);

  Tensor maps = Tensor::zeros<float>({im.n, im.h, im.w});
  float* mp = maps.data<float>();
  std::vector<double> output(static_cast<size_t>(im.n), 0.0);
  int64_t degenerate = 0;  // maps that are all zero (every weighted activation negative)
  for (int64_t b = 0; b < im.n; b += tp_.batch_size) {
    host.check_cancelled();
    host.progress(static_cast<uint64_t>(b), static_cast<uint64_t>(im.n), "layer gradients");
    const int64_t nb = std::min<int64_t>(tp_.batch_size, im.n - b);
    Tensor in = image_tensor(im.image(b), nb, im);
    const std::vector<int64_t> cls(target.begin() + b, target.begin() + b + nb);
    ModelRef::LayerResult r = model.layer_gradient(layer, in, cls);
    const TensorView av = r.activations.view(), gv = r.gradients.view();
    if (!av.valid() || !gv.valid() || av.ndim() != 4 || av.shape() != gv.shape() || av.dim(0) != nb)
      throw Error("the model's layer_gradient for '" + layer +
                  "' did not return activations and gradients of one shape [N, K, h, w]");
    const int64_t K = av.dim(1), h = av.dim(2), w = av.dim(3), hw = h * w;
    const auto A = av.to_vector<float>();
    const auto G = gv.to_vector<float>();
    std::vector<float> scores;
    if (r.scores.raw()) scores = r.scores.view().to_vector<float>();
    std::vector<double> cam(static_cast<size_t>(hw));
    for (int64_t i = 0; i < nb; ++i) {
      std::fill(cam.begin(), cam.end(), 0.0);
      for (int64_t k = 0; k < K; ++k) {
        const float* a = A.data() + (i * K + k) * hw;
        const float* g = G.data() + (i * K + k) * hw;
        double wk = 0;
        if (!pp_) {
          for (int64_t p = 0; p < hw; ++p) wk += g[p];
          wk /= static_cast<double>(hw);
        } else {
          double sum_a = 0;
          for (int64_t p = 0; p < hw; ++p) sum_a += a[p];
          for (int64_t p = 0; p < hw; ++p) {
            const double g1 = g[p];
            if (g1 == 0.0) continue;
            const double g2 = g1 * g1, g3 = g2 * g1;
            const double alpha = g2 / (2.0 * g2 + sum_a * g3 + 1e-7);  // eps as pytorch-grad-cam
            wk += alpha * std::max(g1, 0.0);
          }
        }
        if (wk == 0.0) continue;
        for (int64_t p = 0; p < hw; ++p) cam[static_cast<size_t>(p)] += wk * a[p];
      }
      std::vector<float> low(static_cast<size_t>(hw));
      for (int64_t p = 0; p < hw; ++p) {
        const double v = cam[static_cast<size_t>(p)];
        low[static_cast<size_t>(p)] = static_cast<float>(relu_ ? std::max(v, 0.0) : v);
      }
      const auto up = resize_map(low.data(), h, w, im.h, im.w);
      float* dst = mp + (b + i) * im.h * im.w;
      std::copy(up.begin(), up.end(), dst);
      if (std::all_of(low.begin(), low.end(), [](float v) { return v == 0.0f; })) ++degenerate;
      if (relu_)  // bilinear interpolation of non-negative values stays non-negative; keep exact zeros
        for (int64_t p = 0; p < im.h * im.w; ++p) dst[p] = std::max(dst[p], 0.0f);
      if (normalize_) normalize_map(dst, im.h * im.w);
      const size_t gi = static_cast<size_t>(b + i);
      output[gi] = scores.size() == static_cast<size_t>(nb) ? scores[static_cast<size_t>(i)]
                                                            : probs[gi * C + target[gi]];
    }
  }
  host.progress(static_cast<uint64_t>(im.n), static_cast<uint64_t>(im.n), "layer gradients");
  if (degenerate > 0)
    host.warn(std::to_string(degenerate) + " of " + std::to_string(im.n) + " Grad-CAM maps of layer '" + layer +
              "' are all zero" + (relu_ ? " after the ReLU (the class score falls where the layer fires): try "
                                          "relu: false to see the negative evidence, or an earlier layer"
                                        : ": the gradients vanish at this layer"));

  std::vector<std::string> ex, pr;
  for (int64_t i = 0; i < im.n; ++i) {
    ex.push_back(classes[static_cast<size_t>(target[static_cast<size_t>(i)])]);
    pr.push_back(classes[static_cast<size_t>(predicted[static_cast<size_t>(i)])]);
  }
  out.add_strings("explained_class", MIEN_ROLE_VALUE, ex)
      .add_strings("predicted_class", MIEN_ROLE_VALUE, pr)
      .add_numbers("output", MIEN_ROLE_VALUE, output)
      .meta(with_timing(Json{{"explainer", pp_ ? "gradcam_pp" : "gradcam"}, {"layer", layer}, {"score", info.value("score", "")}},
                        started, 2 * im.n));  // predict + layer_gradient per image
  ctx.set(Ports::kMaps, std::move(maps));
  ctx.set(Ports::kAttributions, std::move(out));
}

}  // namespace mien::ximg
