// model.faceapi_expression: the face-api.js facial-expression CNN (reimplemented in
// LibTorch, see faceapi_net.hpp) as a mien model: the shipped weights as they are, or
// fine-tuned on the user's classes, with predict, input gradients and Grad-CAM layers.
#pragma once

#include <mien/plugin.hpp>
#include <mien_training/training_curve.hpp>
#include <mien_training/validation_groups.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "faceapi_net.hpp"

namespace mien::faceapi {

constexpr const char* kArtifactJson = "faceapi.json";
constexpr const char* kArtifactWeights = "weights.pt";  // fine_tune only
constexpr const char* kArtifactFormat = "mien.faceapi_expression";
constexpr int kArtifactVersion = 1;

// face-api's class names in its output order, and their canonical names (CONVENTIONS.md).
extern const std::vector<std::string> kFaceApiClasses;   // neutral, happy, sad, angry, fearful, disgusted, surprised
extern const std::vector<std::string> kCanonicalNames;   // neutral, happy, sad, anger, fear, disgust, surprise
extern const std::vector<std::string> kCanonicalOrder;   // fear, anger, disgust, happy, neutral, sad, surprise

// The opened model (the model side of the component).
class FaceApiModel : public Model {
 public:
  FaceApiModel(FaceApiNet net, Json meta);
  // Opens an artifact folder written by the component (checks the weights' sha256).
  static std::unique_ptr<FaceApiModel> open_dir(const std::string& dir, int threads);

  Json info() const override;
  Tensor predict(const TensorView& input, const Host& host) override;
  std::pair<Tensor, Tensor> input_gradient(const TensorView& input, const std::vector<int64_t>& classes,
                                           const Host& host) override;
  ModelRef::LayerResult layer_gradient(const std::string& layer, const TensorView& input,
                                       const std::vector<int64_t>& classes, const Host& host) override;

  const FaceApiNet& net() const { return net_; }
  FaceApiNet& mutable_net() { return net_; }
  const Json& meta() const { return meta_; }
  std::string dir;  // the artifact folder it was opened from
  const std::vector<std::string>& classes() const { return classes_; }

 private:
  FaceApiNet net_;
  Json meta_;
  std::vector<std::string> classes_;
};

// The shipped network with the given canonical (or face-api) class names, in that order;
// `weights_dir` empty = the copy built into the plugin, else a folder holding the two
// files (checked by size and sha256). Errors name the file / parameter.
FaceApiNet shipped_net(const std::vector<std::string>& classes, const std::string& weights_dir,
                       std::vector<int64_t>* head_rows = nullptr);

// Checks a weights file's size and sha256 against the vendored file's; throws naming it.
void check_weights_file(const std::string& path, const std::string& bytes, uint64_t size, const std::string& sha256);

// Example config:
//
//   expr:
//     use: model.faceapi_expression
//     with: {mode: as_shipped}                       # the pretrained face-api.js network
//
//   expr_ft:
//     use: model.faceapi_expression
//     in: {images: crops.images, table: crops.table}  # face crops + a LABEL column
//     with:
//       mode: fine_tune
//       classes: [anger, happy, neutral, sad]         # [] = every class of the label
//       unfreeze_blocks: 1                            # also retrain dense block 3
//       epochs: 20
//       learning_rate: 0.001
//       batch_size: 32
//       validation_split: 0.2
class ModelFaceApiExpression {
 public:
  static inline const Param<std::string> kMode =
      Param<std::string>("mode", "as_shipped",
                         "as_shipped: the pretrained face-api.js network (7 classes mapped onto the canonical "
                         "names); fine_tune: a new 256->K head trained on the connected images and labels")
          .one_of({"as_shipped", "fine_tune"});
  static inline const Param<std::vector<std::string>> kClasses{
      "classes", std::vector<std::string>{},
      "Classes, in output order. as_shipped: a subset of fear, anger, disgust, happy, neutral, sad, surprise "
      "(probabilities renormalised over it); fine_tune: classes of the label to train on (rows of other "
      "classes are skipped). [] = all seven (as_shipped) or every class of the label (fine_tune)"};
  static inline const Param<int> kUnfreezeBlocks =
      Param<int>("unfreeze_blocks", 0,
                 "fine_tune: how many of the last dense blocks train with the head (0 = the feature extractor "
                 "stays frozen, 4 = everything trains)")
          .range(0, 4);
  static inline const Param<int> kEpochs = Param<int>("epochs", 20, "fine_tune: passes over the training images").range(1, 100000);
  static inline const Param<double> kLearningRate =
      Param<double>("learning_rate", 1e-3, "fine_tune: Adam's learning rate").min(0);
  static inline const Param<int> kBatchSize = Param<int>("batch_size", 32, "fine_tune: images per step").range(1, 65536);
  static inline const Param<double> kValidationSplit =
      Param<double>("validation_split", 0.2,
                    "fine_tune: fraction of each class held out to report validation loss and accuracy (0 = none)")
          .range(0, 0.9);
  static inline const Param<std::string> kValidationGroup = training::validation_group_param();
  static inline const Param<std::string> kResize =
      Param<std::string>("resize", "tfjs",
                         "How a face is resized to the network's 112x112: tfjs = the original face-api.js rule "
                         "(TensorFlow.js resizeBilinear, align_corners = half_pixel_centers = false: output pixel d "
                         "samples input d x n/m); bilinear = OpenCV's pixel-centred INTER_LINEAR ((d + 0.5) x n/m - "
                         "0.5). Recorded in the artifact, so predictions, gradients and fine-tuning use the same rule")
          .one_of({"tfjs", "bilinear"});
  static inline const Param<std::string> kWeights{
      "weights", "",
      "Folder holding face_expression_model-weights_manifest.json and face_expression_model.bin (checked by "
      "sha256); empty = the copy of third_party/face-api built into the plugin"};

  static inline const Param<std::string> kRandomize =
      Param<std::string>("randomize", "none",
                         "Model-parameter randomisation for sanity checks of explanations (Adebayo et al. 2018): "
                         "none; all = every layer re-initialised from the node's seed; cascade = the top "
                         "`randomize_layers` layers (head, block3 sep3..sep0, block2 ..., block0 conv0: 17 in all). "
                         "Keras's defaults the network was trained from: Glorot-uniform kernels, zero biases. Applied "
                         "to the shipped or the fine-tuned network; the weights are written into the artifact")
          .one_of({"none", "all", "cascade"});
  static inline const Param<int> kRandomizeLayers =
      Param<int>("randomize_layers", 1, "randomize: cascade: how many layers, from the output down, are re-initialised")
          .range(1, 17);

  static inline const Input kImages{"images", MIEN_VALUE_IMAGE,
                                    "face crops, uint8 [N,H,W,C] (RGB, BGR or gray); needed by fine_tune",
                                    MIEN_PORT_OPTIONAL};
  static inline const Input kTable{"table", MIEN_VALUE_TABLE,
                                   "one row per image with a LABEL column; needed by fine_tune", MIEN_PORT_OPTIONAL};
  static inline const Input kSource{
      "source", MIEN_VALUE_MODEL,
      "a model.faceapi_expression (e.g. a fine_tune node's model) to copy and randomise instead of building one; "
      "needs `randomize`",
      MIEN_PORT_OPTIONAL};
  static inline const Output kModel{"model", MIEN_VALUE_MODEL,
                                    "the network (predict, input_gradient, layer_gradient block0..block3)"};
  static inline const Output kCurve{"curve", MIEN_VALUE_TABLE,
                                    "fine_tune: loss and accuracy per epoch (no rows for as_shipped)"};

  static constexpr uint64_t kCapabilities = MIEN_CAP_PREDICT | MIEN_CAP_INPUT_GRADIENT | MIEN_CAP_LAYER_GRADIENT;

  static ComponentInfo info();
  explicit ModelFaceApiExpression(const Setup& s);
  void process(Context& ctx);
  static std::unique_ptr<Model> open(const ModelSetup& s);

 private:
  void process_shipped(Context& ctx);
  void process_fine_tune(Context& ctx);
  void process_source(Context& ctx);
  Json randomize(FaceApiNet& net, const Host& host) const;
  static std::string save_weights(const FaceApiNet& net, const std::filesystem::path& wp);
  std::string mode_;
  std::vector<std::string> classes_;
  FineTuneOptions options_;
  double validation_split_ = 0.2;
  std::string validation_group_;
  ResizeRule resize_ = ResizeRule::tfjs;
  std::string weights_dir_;
  std::string randomize_ = "none";
  int randomize_layers_ = 1;
  uint64_t seed_ = 0;
  int threads_ = 1;
};

}  // namespace mien::faceapi
