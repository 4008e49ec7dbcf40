// example.cpp_occlusion: an explainer written with the C++ SDK. It knows nothing about the
// model it explains: it reads the model's description (info_json) and calls predict()
// through the model reference the host hands it, and it outputs the attribution table the
// bundled metrics read (built by <mien/attributions.hpp>).
//
// Example config (plugin_api/examples/explainer_experiment.yaml):
//   occlusion:
//     use: example.cpp_occlusion
//     with: {batch_size: 4096}
//     in: {model: mlp.model, samples: split.test, reference: split.train}
//   fidelity:
//     use: metric.fidelity
//     in: {model: mlp.model, samples: split.test, attributions: occlusion.attributions, reference: split.train}
//
// Occlusion to the reference mean: for each sample x and its predicted class c,
//   phi_j = f_c(x) - f_c(x with feature j set to the reference mean of feature j),
// base_value = f_c(reference mean), output = f_c(x), f_c the predicted probability of c.
// Every perturbed row of a chunk of samples goes to the model in one predict() call.
#include <mien/attributions.hpp>
#include <mien/plugin.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace {

class Occlusion {
 public:
  static inline const mien::Param<int> kBatchSize =
      mien::Param<int>("batch_size", 4096, "Rows per predict() call").min(1);
  // requires_caps (the 5th argument): the host checks, while validating the graph, that
  // the connected model offers predictions, before any plugin code runs.
  static inline const mien::Input kModel{"model", MIEN_VALUE_MODEL, "a trained feature model (e.g. model.mlp)", 0,
                                         MIEN_CAP_PREDICT};
  static inline const mien::Input kSamples{"samples", MIEN_VALUE_TABLE,
                                           "the samples to explain: a table holding the model's features by name"};
  static inline const mien::Input kReference{"reference", MIEN_VALUE_TABLE,
                                             "the training set: its feature means replace an occluded feature"};
  static inline const mien::Output kAttributions{"attributions", MIEN_VALUE_TABLE,
                                                 "one row per sample, explaining its predicted class"};

  static mien::ComponentInfo info() {
    return mien::ComponentInfo("example.cpp_occlusion", 1, MIEN_KIND_EXPLAINER,
                               "Occlusion to the reference mean, through the model reference (SDK example)")
        .params(kBatchSize)
        .ports(kModel, kSamples, kReference, kAttributions);
  }

  explicit Occlusion(const mien::Setup& s) : batch_size_(kBatchSize.read(s.params())) {}

  void process(mien::Context& ctx) {
    const auto started = std::chrono::steady_clock::now();
    const mien::ModelRef model = ctx.model(kModel);
    const mien::Json info = model.info();
    if (info.value("input", "") != "features" || !info.contains("feature_names") || !info.contains("classes"))
      throw mien::Error("example.cpp_occlusion: the model must take features and name them and its classes "
                        "(info_json input \"features\", feature_names, classes)");
    const auto features = info["feature_names"].get<std::vector<std::string>>();
    const auto classes = info["classes"].get<std::vector<std::string>>();
    const int64_t M = static_cast<int64_t>(features.size()), C = static_cast<int64_t>(classes.size());

    const mien::TableView samples = ctx.table(kSamples);
    const std::vector<float> x = rows_of(samples, features, "samples");
    const std::vector<float> ref = rows_of(ctx.table(kReference), features, "reference");
    const int64_t N = samples.num_rows(), R = ctx.table(kReference).num_rows();
    if (N == 0 || R == 0) throw mien::Error("example.cpp_occlusion: the samples and reference tables need rows");
    std::vector<float> mean(static_cast<size_t>(M), 0.f);
    for (int64_t r = 0; r < R; ++r)
      for (int64_t j = 0; j < M; ++j) mean[j] += ref[r * M + j] / static_cast<float>(R);

    // predict() takes float32 [rows, features] (raw features: a model standardises inside)
    // and returns float32 [rows, classes] probabilities.
    int64_t model_rows = 0;
    auto predict = [&](const std::vector<float>& rows, int64_t n) {
      model_rows += n;
      const mien::Tensor probs = model.predict(mien::Tensor::from<float>({n, M}, rows));
      if (probs.view().ndim() != 2 || probs.view().dim(0) != n || probs.view().dim(1) != C)
        throw mien::Error("example.cpp_occlusion: the model returned probabilities of an unexpected shape");
      return probs.view().to_vector<double>();
    };
    const std::vector<double> p_mean = predict(mean, 1);

    mien::AttributionTable table(samples, features, classes);
    table.explainer("example.cpp_occlusion").explains("probability");
    // Rows per sample: the sample itself, then one copy per occluded feature.
    const int64_t per_sample = M + 1;
    const int64_t chunk = std::max<int64_t>(1, batch_size_ / per_sample);
    std::vector<double> phi(static_cast<size_t>(M));
    for (int64_t s0 = 0; s0 < N; s0 += chunk) {
      ctx.host().check_cancelled();
      ctx.host().progress(static_cast<uint64_t>(s0), static_cast<uint64_t>(N), "occluding");
      const int64_t s1 = std::min(N, s0 + chunk);
      std::vector<float> rows;
      rows.reserve(static_cast<size_t>((s1 - s0) * per_sample * M));
      for (int64_t i = s0; i < s1; ++i)
        for (int64_t k = 0; k < per_sample; ++k)
          for (int64_t j = 0; j < M; ++j) rows.push_back(j == k - 1 ? mean[j] : x[i * M + j]);
      const std::vector<double> p = predict(rows, (s1 - s0) * per_sample);
      for (int64_t i = s0; i < s1; ++i) {
        const double* own = &p[((i - s0) * per_sample) * C];
        const int64_t c = std::max_element(own, own + C) - own;
        for (int64_t j = 0; j < M; ++j) phi[j] = own[c] - p[((i - s0) * per_sample + 1 + j) * C + c];
        table.add(i, /*explained=*/c, /*predicted=*/c, /*base_value=*/p_mean[c], /*output=*/own[c], phi);
      }
    }
    table.cost(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), model_rows);
    ctx.set(kAttributions, table.build());
  }

 private:
  // The model's features from a table, by name, as float32 rows.
  static std::vector<float> rows_of(const mien::TableView& t, const std::vector<std::string>& features,
                                    const char* what) {
    std::vector<mien::ColumnView> cols;
    for (const auto& f : features) {
      auto c = t.find(f);
      if (!c || c->is_string())
        throw mien::Error(std::string("example.cpp_occlusion: the ") + what + " table has no numeric column '" + f +
                          "' (the model's features are matched by name)");
      cols.push_back(*c);
    }
    std::vector<float> out(static_cast<size_t>(t.num_rows()) * features.size());
    for (int64_t i = 0; i < t.num_rows(); ++i)
      for (size_t j = 0; j < cols.size(); ++j) out[i * features.size() + j] = static_cast<float>(cols[j].number(i));
    return out;
  }

  int batch_size_;
};

}  // namespace

MIEN_PLUGIN("example-explainer", "1.0.0", "MIT", Occlusion)
