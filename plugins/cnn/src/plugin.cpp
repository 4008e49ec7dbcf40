// The mien-cnn plugin library: its one exported symbol.
#include <torch/version.h>

#include "model_cnn.hpp"
#include "model_torchscript.hpp"

MIEN_PLUGIN_WITH_BUILD_INFO("mien-cnn", "0.1.0", "MIT", "{\"libtorch\": \"" TORCH_VERSION "\"}",
                            mien::cnn::ModelCnn, mien::cnn::ModelTorchScript)
