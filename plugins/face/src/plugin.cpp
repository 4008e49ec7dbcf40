// The mien-face plugin library: its one exported symbol.
#include <dlib/revision.h>
#include <opencv2/core/version.hpp>

#include "components.hpp"

#define MIEN_FACE_STR2(x) #x
#define MIEN_FACE_STR(x) MIEN_FACE_STR2(x)

MIEN_PLUGIN_WITH_BUILD_INFO("mien-face", "0.1.0", "MIT",
                            "{\"opencv\": \"" CV_VERSION "\", \"dlib\": \"" MIEN_FACE_STR(DLIB_MAJOR_VERSION) "." MIEN_FACE_STR(
                                DLIB_MINOR_VERSION) "\"}",
                            mien::face::DetectDlibHog, mien::face::DetectOpencvHaar, mien::face::LandmarksDlib68,
                            mien::face::AlignEyes, mien::face::FeaturesGeometric, mien::face::FeaturesLandmarks)
