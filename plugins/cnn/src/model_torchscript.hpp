// model.torchscript: a classifier trained elsewhere (PyTorch) and saved with
// torch.jit.save, validated and copied into the run as a mien model.
#pragma once

#include <mien/plugin.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mien::cnn {

// Example config:
//
//   resnet:
//     use: model.torchscript
//     with:
//       path: models/fer_resnet18.pt      # relative to the experiment file
//       input_size: [112, 112]
//       channels: 3
//       mean: [0.485, 0.456, 0.406]
//       std: [0.229, 0.224, 0.225]
//       classes: [fear, anger, disgust, happy, neutral, sad, surprise]
//       cam_layer: features               # optional, for Grad-CAM (see below)
//
// The module takes float32 [N, C, H, W] (input_layout nchw) or [N, H, W, C] (nhwc)
// pixels divided by 255 and standardised with mean/std, and returns logits [N, classes].
// Grad-CAM (layer_gradient) works in two ways, checked when the node is created:
//  * the module has methods forward_features(x) -> activation and forward_head(a) ->
//    logits: the layer is cam_layer (any name; the only layer offered);
//  * otherwise its direct submodules, run in order, must reproduce forward (as an
//    nn.Sequential does): every submodule name is a layer, cam_layer the default.
class ModelTorchScript {
 public:
  static inline const Param<std::string> kPath{
      "path", "TorchScript file saved with torch.jit.save (relative paths: from the experiment file's folder)"};
  static inline const Param<std::vector<int64_t>> kInputSize{
      "input_size", {224, 224}, "[H, W] the module expects; images of other sizes are resized (bilinear) to it"};
  static inline const Param<int64_t> kChannels =
      Param<int64_t>("channels", 3, "Colour channels the module expects: 1 (gray) or 3 (RGB)").range(1, 3);
  static inline const Param<std::vector<double>> kMean{
      "mean", {0.0}, "Per-channel mean subtracted after dividing pixels by 255 (one value, or one per channel)"};
  static inline const Param<std::vector<double>> kStd{
      "std", {1.0}, "Per-channel std the pixels are divided by after the mean (one value, or one per channel), > 0"};
  static inline const Param<std::vector<std::string>> kClasses{
      "classes", "Class names, in the order of the module's outputs (required)"};
  static inline const Param<std::string> kCamLayer{
      "cam_layer", "",
      "Layer for Grad-CAM: the name of a direct submodule (modules whose submodules run in sequence), or any name "
      "when the module has forward_features/forward_head methods; \"\" = no layer gradients"};
  static inline const Param<std::string> kInputLayout =
      Param<std::string>("input_layout", "nchw", "Tensor layout the module's forward takes: nchw or nhwc")
          .one_of({"nchw", "nhwc"});

  static inline const Param<std::string> kRandomize =
      Param<std::string>("randomize", "none",
                         "Model-parameter randomisation for sanity checks of explanations (Adebayo et al. 2018): "
                         "none; all = every parameterised submodule re-initialised from the node's seed; cascade = "
                         "the last `randomize_layers` parameterised submodules (in the module's parameter order, "
                         "output side first). PyTorch's default initialisation: weights of 2+ dimensions "
                         "Kaiming-uniform (a = sqrt(5)), their biases U(+-1/sqrt(fan_in)); 1-D weights (norm "
                         "layers) 1, their biases 0, running statistics 0/1. The randomised module is saved into "
                         "the artifact")
          .one_of({"none", "all", "cascade"});
  static inline const Param<int64_t> kRandomizeLayers =
      Param<int64_t>("randomize_layers", 1,
                     "randomize: cascade: how many parameterised submodules, from the output down, are "
                     "re-initialised")
          .min(1);

  static inline const Output kModel{"model", MIEN_VALUE_MODEL,
                                    "the model: module.pt (a copy of the file, randomised if asked) and "
                                    "torchscript.json (the settings)"};

  static constexpr uint64_t kCapabilities = MIEN_CAP_PREDICT | MIEN_CAP_INPUT_GRADIENT | MIEN_CAP_LAYER_GRADIENT;

  static ComponentInfo info();
  explicit ModelTorchScript(const Setup& s);
  void process(Context& ctx);
  static std::unique_ptr<Model> open(const ModelSetup& setup);

 private:
  Json settings_;
  std::string randomize_ = "none";
  int64_t randomize_layers_ = 1;
  uint64_t seed_ = 0;
  std::string path_, display_;
  uint32_t threads_ = 1;
};

}  // namespace mien::cnn
