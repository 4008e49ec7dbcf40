// libmien_faceapi.so: model.faceapi_expression.
#include <torch/version.h>

#include "model_faceapi.hpp"

MIEN_PLUGIN_WITH_BUILD_INFO("mien-faceapi", "1.0.0", "MIT", "{\"libtorch\": \"" TORCH_VERSION "\"}",
                            mien::faceapi::ModelFaceApiExpression)
