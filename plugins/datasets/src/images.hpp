// Checking that an image file is whole: a cheap look at its first and last bytes, then a
// decode with OpenCV. A truncated JPEG still decodes (libjpeg pads it with gray and only
// warns), so the end-of-image marker is checked first.
#pragma once

#include <mien/plugin.hpp>

#include <string>
#include <vector>

namespace mien::datasets {

struct ImageCheck {
  bool ok = true;
  std::string problem;  // not_an_image, truncated, unreadable, empty, missing
  std::string reason;   // one sentence for people
};

// The format from the first bytes ("jpeg", "png", "tiff", "bmp"), or "" when none of them.
std::string sniff_format(const unsigned char* head, size_t n);

// Checks one file. With `decode`, OpenCV must also decode it. Never throws.
ImageCheck check_image(const std::string& path, bool decode);

// Checks many files on `threads` threads (host calls stay on the calling thread: it
// polls cancellation and reports progress). Results follow `paths`. Throws Cancelled.
std::vector<ImageCheck> check_images(const std::vector<std::string>& paths, unsigned threads, const Host& host,
                                     const std::string& note);

}  // namespace mien::datasets
