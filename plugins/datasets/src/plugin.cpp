// The mien-datasets plugin library: its one exported symbol.
#include <opencv2/core/version.hpp>

#include "components.hpp"

MIEN_PLUGIN_WITH_BUILD_INFO("mien-datasets", "0.1.0", "MIT", "{\"opencv\": \"" CV_VERSION "\"}",
                            mien::datasets::KdefDataset, mien::datasets::JaffeDataset, mien::datasets::CkplusDataset,
                            mien::datasets::Fer2013Dataset, mien::datasets::ImageFolderDataset, mien::datasets::ImageFilesDataset)
