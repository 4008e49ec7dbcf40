// model.mlp: the paper's geometric-feature classifier (ter Burg & Kaya 2022, section 4),
// trained on a feature table, stored as an artifact folder and reopened by consumers.
// Declared here so the unit tests can run it with mien::testing::ComponentRunner.
#pragma once

#include <mien/plugin.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <mien_training/validation_groups.hpp>

#include "mlp_core.hpp"

namespace mien::models {

// What the artifact folder holds besides the weights (mlp.json).
struct MlpArtifact {
  MlpArch arch;
  std::vector<std::string> feature_names;
  std::vector<std::string> classes;
  bool standardize = true;
  std::vector<double> mean, std;  // per feature, when standardize
  Json training = Json::object();  // settings, history, best epoch (informative)

  Json to_json() const;
  static MlpArtifact from_json(const Json& j, const std::string& where);
};

inline constexpr const char* kArtifactJson = "mlp.json";
inline constexpr const char* kArtifactWeights = "weights.pt";
inline constexpr const char* kArtifactFormat = "mien.mlp";
inline constexpr int kArtifactVersion = 1;

// Reads <dir>/mlp.json and <dir>/weights.pt; errors name the file and what is wrong.
struct LoadedMlp {
  MlpArtifact artifact;
  std::unique_ptr<MlpNet> net;
  std::string dir;  // the artifact folder it came from
};
MlpArtifact read_artifact_json(const std::string& dir);
LoadedMlp load_artifact(const std::string& dir);
void write_artifact(const std::string& dir, const MlpArtifact& artifact, const MlpNet& net);

// The model side: what explainers and metrics reach through a mien_model_ref.
class MlpModel : public Model {
 public:
  explicit MlpModel(LoadedMlp loaded);
  Json info() const override;
  Tensor predict(const TensorView& input, const Host& host) override;
  std::pair<Tensor, Tensor> input_gradient(const TensorView& input, const std::vector<int64_t>& classes,
                                           const Host& host) override;
  const MlpNet& net() const { return *loaded_.net; }
  const MlpArtifact& artifact() const { return loaded_.artifact; }

  // The "layers" description of plugins/CONVENTIONS.md, every parameter inline.
  static Json layers(const MlpNet& net);

 private:
  // A contiguous float32 copy of the input, checked: [N, features], finite.
  std::vector<float> checked_input(const TensorView& input, int64_t& rows) const;
  LoadedMlp loaded_;
};

// Example config:
//
//   mlp_s:
//     use: model.mlp
//     in: {train: split.train}          # validation: optional; else validation_split of train
//     with:
//       hidden: [352, 256]              # the paper's frontal (S) model
//       dropout: [0.3, 0.8]
//       l2: 0.01
//       optimizer: adam
//       learning_rate: 0.001
//       batch_size: 32
//       epochs: 100
//       patience: 10
//   # HL: {hidden: [64], dropout: [0.0], l2: 0.01}   HR: {hidden: [352], dropout: [0.6], l2: 0.001}
//   # Reuse a model trained by another experiment:
//   #   with: {load: runs/exp-20240101-120000/nodes/mlp_s/model}
//
// A multilayer perceptron over the FEATURE columns of `train`: ReLU hidden layers, each
// followed by dropout, a softmax output over the LABEL's classes, cross-entropy with
// L2 penalties on the kernels (as Keras's kernel_regularizer), Adam or SGD,
// Glorot-uniform initialisation, early stopping on the validation set (keeping the best
// epoch's weights). With `standardize`, each feature's mean and std on the training rows
// are stored in the model and applied inside predict, so consumers pass raw features.
// Same seed and thread count give bit-identical weights.
class ModelMlp {
 public:
  static inline const Param<std::vector<int64_t>> kHidden{
      "hidden", {352, 256},
      "Units of each hidden (ReLU) layer, input side first; [] = softmax regression. The paper: S [352, 256], "
      "HL [64], HR [352]"};
  static inline const Param<std::vector<double>> kDropout{
      "dropout", {0.3, 0.8},
      "Dropout rate after each hidden layer, one per entry of `hidden`, each in [0, 1); [] = no dropout. The paper: "
      "S [0.3, 0.8], HL [0], HR [0.6]"};
  static inline const Param<Json> kL2 =
      Param<Json>("l2", Json(0.0),
                  "L2 penalty lambda * sum(w^2) added to the loss for each layer's kernel (not its bias): one number "
                  "for every hidden layer, or a list with one number per hidden layer and optionally one more for "
                  "the output layer (else 0). The paper: S 0.01, HL 0.01, HR 0.001")
          .json_schema(Json{{"type", Json::array({"number", "array"})},
                            {"minimum", 0},
                            {"items", Json{{"type", "number"}, {"minimum", 0}}}});
  static inline const Param<std::string> kOptimizer =
      Param<std::string>("optimizer", "adam", "adam (epsilon 1e-7, as Keras) or sgd (with `momentum`)")
          .one_of({"adam", "sgd"});
  static inline const Param<double> kLearningRate =
      Param<double>("learning_rate", 1e-3, "Step size of the optimizer, > 0 (the paper: 0.001)").range(0.0, 10.0);
  static inline const Param<double> kMomentum =
      Param<double>("momentum", 0.0, "Momentum of sgd in [0, 1); ignored by adam").range(0.0, 1.0);
  static inline const Param<int64_t> kBatchSize =
      Param<int64_t>("batch_size", 32, "Rows per gradient step (the last batch of an epoch may be smaller)").min(1);
  static inline const Param<int64_t> kEpochs =
      Param<int64_t>("epochs", 100, "Maximum number of passes over the training rows").min(1);
  static inline const Param<int64_t> kPatience =
      Param<int64_t>("patience", 10,
                     "Stop after this many epochs without improvement of `monitor` on the validation rows; 0 = "
                     "always run every epoch")
          .min(0);
  static inline const Param<std::string> kMonitor =
      Param<std::string>("monitor", "val_loss",
                         "What early stopping and `restore_best` watch: val_loss (lower is better, Keras's default) "
                         "or val_accuracy")
          .one_of({"val_loss", "val_accuracy"});
  static inline const Param<bool> kRestoreBest{
      "restore_best", true,
      "Keep the weights of the best validation epoch (by `monitor`) rather than the last epoch's"};
  static inline const Param<double> kValidationSplit =
      Param<double>("validation_split", 0.1,
                    "When `validation` is not connected: fraction held out (seeded) for early stopping and the best "
                    "epoch, in [0, 0.9]: of the people when validation_group finds a person column (whole people), "
                    "else of the rows, stratified by class; 0 = no validation, no early stopping")
          .range(0.0, 0.9);
  static inline const Param<std::string> kValidationGroup = training::validation_group_param();
  static inline const Param<std::string> kClassWeights =
      Param<std::string>("class_weights", "none",
                         "none, or balanced: each row's loss weighted by rows / (classes * rows of its class)")
          .one_of({"none", "balanced"});
  static inline const Param<bool> kStandardize{
      "standardize", true,
      "Fit each feature's mean and std (ddof 0) on the training rows, store them in the model and apply them "
      "inside predict (consumers pass raw features)"};
  static inline const Param<std::string> kLoad{
      "load", "",
      "Artifact folder of a model.mlp trained earlier (the `model` folder of its node, e.g. "
      "runs/<run>/nodes/<node>/model); relative paths are resolved against the experiment file. When set, nothing "
      "is trained: the model is copied from there and `train` may be left unconnected"};

  static inline const Param<std::string> kRandomize =
      Param<std::string>("randomize", "none",
                         "Model-parameter randomisation for sanity checks of explanations (Adebayo et al. 2018): "
                         "none; all = every linear layer re-initialised from the node's seed (independent "
                         "randomisation); cascade = the top `randomize_layers` linear layers (output side first). "
                         "Kernels are re-drawn Glorot-uniform and biases zeroed, as training initialises them; the "
                         "standardisation is kept. Applied to the trained, loaded or `source` model")
          .one_of({"none", "all", "cascade"});
  static inline const Param<int64_t> kRandomizeLayers =
      Param<int64_t>("randomize_layers", 1,
                     "randomize: cascade: how many linear layers, counted from the output layer, are re-initialised "
                     "(1 .. hidden layers + 1)")
          .min(1);

  static inline const Input kSource{
      "source", MIEN_VALUE_MODEL,
      "a model.mlp to copy and randomise instead of training (e.g. the trained node's `model`); needs `randomize`",
      MIEN_PORT_OPTIONAL};
  static inline const Input kTrain{"train", MIEN_VALUE_TABLE,
                                   "training rows: FEATURE columns and a LABEL column (required unless `load` is set)",
                                   MIEN_PORT_OPTIONAL};
  static inline const Input kValidation{
      "validation", MIEN_VALUE_TABLE,
      "validation rows for early stopping, same feature names (optional; else validation_split of train)",
      MIEN_PORT_OPTIONAL};
  static inline const Output kModel{"model", MIEN_VALUE_MODEL,
                                    "the trained model: mlp.json (architecture, features, classes, standardisation, "
                                    "training history) and weights.pt"};
  static inline const Output kCurve{"curve", MIEN_VALUE_TABLE,
                                    "one row per epoch: epoch, train_loss, train_accuracy, val_loss, val_accuracy"};

  static constexpr uint64_t kCapabilities = MIEN_CAP_PREDICT | MIEN_CAP_INPUT_GRADIENT | MIEN_CAP_LAYER_STRUCTURE;

  static ComponentInfo info();
  explicit ModelMlp(const Setup& s);
  void process(Context& ctx);
  static std::unique_ptr<Model> open(const ModelSetup& setup);

 private:
  void process_load(Context& ctx);
  void process_source(Context& ctx);
  // Applies `randomize` to the net and records it in the artifact's training record.
  void randomize(MlpNet& net, MlpArtifact& artifact, const Host& host) const;
  std::string randomize_ = "none";
  int64_t randomize_layers_ = 1;
  uint64_t seed_ = 0;
  MlpArch arch_;                   // inputs/outputs filled in process()
  TrainOptions options_;
  double validation_split_;
  std::string validation_group_;
  bool balanced_;
  bool standardize_;
  std::string load_, load_display_;
  uint32_t threads_;
};

}  // namespace mien::models
