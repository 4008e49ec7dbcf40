// Rendering a synthetic face (OpenCV) and the action-unit region masks.
#pragma once

#include <cstdint>

#include "face_model.hpp"

namespace mien::faces_synth {

// Label-independent nuisance of one image.
struct Nuisance {
  double light_azimuth = 0;    // degrees, direction the light comes from in the image plane (0 = from the right, 90 = from below)
  double light_elevation = 45; // degrees from the viewing axis
  double light_strength = 0.3; // 0 = flat ambient light
  double contrast = 1.0;       // multiplies deviations from mid-grey
  double brightness = 0.0;     // added grey levels
  double background_level = 128;
  double background_texture = 0;  // amplitude (grey levels) of a smooth random pattern
  double blur_sigma = 0;       // Gaussian blur of the whole image, pixels
  double noise_sigma = 0;      // per-pixel Gaussian noise, grey levels
  double gaze_x = 0, gaze_y = 0;  // iris offset, fraction of the eye width
  uint64_t texture_key = 0;    // stream for the background pattern and the pixel noise
};

// Renders one grayscale face into `out` (size × size bytes, row-major).
// `shape` is the deformed 3D face (face frame), `au` the intensities per kAuCodes slot
// (for wrinkles), `cam` the pose and projection.
void render_face(const Identity& id, const Shape3& shape, const double* au, const Camera& cam,
                 const Nuisance& nz, int size, uint8_t* out);

// Marks (255) the image regions where the active AUs (au[slot] > 0) act, on a zeroed
// size × size mask. See README.md ("au_masks") for the region of each AU.
void render_au_mask(const Shape3& shape, const double* au, const Camera& cam, int size, uint8_t* mask);

}  // namespace mien::faces_synth
