// The mien-explain-image plugin library: its one exported symbol.
#include <opencv2/core/version.hpp>

#include "components.hpp"

MIEN_PLUGIN_WITH_BUILD_INFO("mien-explain-image", "0.1.0", "MIT", "{\"opencv\": \"" CV_VERSION "\"}",
                            mien::ximg::GradCam, mien::ximg::GradCamPP, mien::ximg::OcclusionImage,
                            mien::ximg::LimeImage, mien::ximg::ImageDeletion, mien::ximg::ImageInsertion,
                            mien::ximg::GroundTruth, mien::ximg::RandomizationCheck)
