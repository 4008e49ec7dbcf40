// model.cnn: a small convolutional network trained from scratch on aligned face crops.
// Declared without LibTorch so the tests and the plugin entry see a plain C++ API.
#pragma once

#include <mien/plugin.hpp>
#include <mien_training/validation_groups.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mien::cnn {

// Augmentation settings (each draw is per image, from the component's own RNG).
struct Augment {
  bool flip = true;          // mirror left-right with probability 1/2
  double rotation = 10;      // degrees, uniform in [-rotation, rotation]
  double scale = 0.1;        // zoom factor uniform in [1 - scale, 1 + scale]
  double brightness = 0.1;   // added offset uniform in [-b, b] (pixel range 0..1)
  double contrast = 0.2;     // factor uniform in [1 - c, 1 + c] around the image mean
  bool any() const { return flip || rotation > 0 || scale > 0 || brightness > 0 || contrast > 0; }
  Json to_json() const;
};

// Example config:
//
//   cnn:
//     use: model.cnn
//     in: {images: align.images, table: align.table}   # + validation_images / validation_table
//     with:
//       channels: [32, 64, 128]     # conv3x3-BN-ReLU-conv3x3-BN-ReLU-maxpool2 blocks
//       input_size: 64
//       head: flatten               # or gap (global average pool)
//       dropout: 0.3
//       epochs: 30
//       batch_size: 64
//       learning_rate: 0.001
//       weight_decay: 0.0001
//       patience: 8
//       augment: {flip: true, rotation: 10, scale: 0.1, brightness: 0.1, contrast: 0.2}
//
// Images are resized (bilinear) to input_size x input_size, scaled to [0, 1] and
// standardised per channel with the training rows' mean and std (stored in the model,
// applied inside predict). Blocks are named block1..blockK; the head is dropout +
// a linear layer over the flattened last block (or its global average, head: gap). Adam with weight decay, cross-entropy,
// early stopping on the validation loss keeping the best epoch's weights. Same seed and
// thread count give bit-identical weights.
class ModelCnn {
 public:
  static inline const Param<std::vector<int64_t>> kChannels{
      "channels", {32, 64, 128},
      "Output channels of each block (conv3x3-BN-ReLU-conv3x3-BN-ReLU-maxpool2), input side first; the blocks are "
      "named block1, block2, ... (Grad-CAM layers)"};
  static inline const Param<std::string> kHead =
      Param<std::string>("head", "flatten",
                         "What the final linear layer sees: flatten (the last block's whole map, so it knows where "
                         "features are) or gap (their global average per channel: fewer weights, and classic "
                         "Grad-CAM, with spatially averaged gradients, is then exactly the class activation map)")
          .one_of({"flatten", "gap"});
  static inline const Param<double> kDropout =
      Param<double>("dropout", 0.3, "Dropout rate before the final linear layer, in [0, 1)").range(0.0, 1.0);
  static inline const Param<int64_t> kInputSize =
      Param<int64_t>("input_size", 64,
                     "Images are resized (bilinear) to input_size x input_size inside the model; must be at least "
                     "2^(number of blocks)")
          .range(4, 1024);
  static inline const Param<int64_t> kEpochs =
      Param<int64_t>("epochs", 30, "Maximum number of passes over the training images").min(1);
  static inline const Param<int64_t> kBatchSize =
      Param<int64_t>("batch_size", 64, "Images per gradient step (the last batch of an epoch may be smaller)").min(2);
  static inline const Param<double> kLearningRate =
      Param<double>("learning_rate", 1e-3, "Adam step size, > 0").range(0.0, 10.0);
  static inline const Param<double> kWeightDecay =
      Param<double>("weight_decay", 1e-4, "Adam weight decay (L2 added to the gradients), >= 0").range(0.0, 1.0);
  static inline const Param<int64_t> kPatience =
      Param<int64_t>("patience", 8,
                     "Stop after this many epochs without a lower validation loss; 0 = always run every epoch. "
                     "The best validation epoch's weights are kept")
          .min(0);
  static inline const Param<double> kValidationSplit =
      Param<double>("validation_split", 0.1,
                    "When validation_images/validation_table are not connected: fraction of the training people "
                    "(validation_group) or rows held out (seeded) for early stopping, in [0, 0.9]; 0 = none")
          .range(0.0, 0.9);
  static inline const Param<std::string> kValidationGroup = training::validation_group_param();
  static inline const Param<Json> kAugment =
      Param<Json>("augment", Json(true),
                  "Training-time augmentation: true (defaults flip true, rotation 10 degrees, scale 0.1, brightness "
                  "0.1, contrast 0.2), false (none), or an object overriding some of flip (boolean), rotation "
                  "(degrees >= 0), scale (>= 0, < 1), brightness (>= 0), contrast (>= 0, < 1)")
          .json_schema(Json{{"type", Json::array({"boolean", "object"})}});
  static inline const Param<std::string> kClassWeights =
      Param<std::string>("class_weights", "none",
                         "none, or balanced: each image's loss weighted by rows / (classes * rows of its class)")
          .one_of({"none", "balanced"});

  static inline const Param<std::string> kRandomize =
      Param<std::string>("randomize", "none",
                         "Model-parameter randomisation for sanity checks of explanations (Adebayo et al. 2018): "
                         "none; all = every convolution, batch norm and the linear layer re-initialised from the "
                         "node's seed; cascade = the top `randomize_layers` layers (fc, then each block's conv2+bn2, "
                         "conv1+bn1, from the last block down). Re-initialised as at construction (torch's "
                         "Kaiming-uniform, batch norm weight 1, bias 0, running statistics 0/1); the input "
                         "normalisation is kept. Applied to the trained model or to `source`")
          .one_of({"none", "all", "cascade"});
  static inline const Param<int64_t> kRandomizeLayers =
      Param<int64_t>("randomize_layers", 1,
                     "randomize: cascade: how many layers, from the output down, are re-initialised (1 = fc; "
                     "1 + 2 x blocks = all)")
          .min(1);

  static inline const Input kSource{
      "source", MIEN_VALUE_MODEL,
      "a model.cnn to copy and randomise instead of training (e.g. the trained node's `model`); needs `randomize`",
      MIEN_PORT_OPTIONAL};
  static inline const Input kImages{"images", MIEN_VALUE_IMAGE,
                                    "training images, uint8 [N, H, W, C] with C = 1 or 3 (required unless `source` "
                                    "is connected)",
                                    MIEN_PORT_OPTIONAL};
  static inline const Input kTable{"table", MIEN_VALUE_TABLE,
                                   "sample table beside the images (row i = image i) with a LABEL column (required "
                                   "unless `source` is connected)",
                                   MIEN_PORT_OPTIONAL};
  static inline const Input kValidationImages{"validation_images", MIEN_VALUE_IMAGE,
                                              "validation images (optional; else validation_split of the training rows)",
                                              MIEN_PORT_OPTIONAL};
  static inline const Input kValidationTable{"validation_table", MIEN_VALUE_TABLE,
                                             "sample table beside validation_images, with the LABEL column",
                                             MIEN_PORT_OPTIONAL};
  static inline const Output kModel{"model", MIEN_VALUE_MODEL,
                                    "the trained model: cnn.json (architecture, classes, input size, normalisation, "
                                    "training history) and weights.pt"};
  static inline const Output kCurve{"curve", MIEN_VALUE_TABLE,
                                    "one row per epoch: epoch, train_loss, train_accuracy, val_loss, val_accuracy"};

  static constexpr uint64_t kCapabilities = MIEN_CAP_PREDICT | MIEN_CAP_INPUT_GRADIENT | MIEN_CAP_LAYER_GRADIENT;

  static ComponentInfo info();
  explicit ModelCnn(const Setup& s);
  void process(Context& ctx);
  static std::unique_ptr<Model> open(const ModelSetup& setup);

  // For the benchmark: the parsed settings.
  struct Settings {
    std::vector<int64_t> channels;
    std::string head = "flatten";
    double dropout = 0.3;
    int64_t input_size = 64, epochs = 30, batch_size = 64, patience = 8;
    double learning_rate = 1e-3, weight_decay = 1e-4, validation_split = 0.1;
    std::string validation_group = "auto";
    Augment augment;
    bool balanced = false;
    uint64_t seed = 0;
    uint32_t threads = 1;
    std::string randomize = "none";
    int64_t randomize_layers = 1;
  };

 private:
  void process_source(Context& ctx);
  Settings s_;
};

}  // namespace mien::cnn
