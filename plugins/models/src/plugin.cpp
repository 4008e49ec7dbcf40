// The mien-models plugin library: its one exported symbol.
#include <torch/version.h>

#include "model_mlp.hpp"

MIEN_PLUGIN_WITH_BUILD_INFO("mien-models", "0.1.0", "MIT", "{\"libtorch\": \"" TORCH_VERSION "\"}",
                            mien::models::ModelMlp)
