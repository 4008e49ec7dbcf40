// Helpers shared by model.cnn and model.torchscript (both LibTorch translation units):
// checked conversion of IMAGE-like inputs to float tensors, the portable RNG, small
// string helpers and JSON file I/O. Header-only; includes LibTorch.
#pragma once

#include <mien/plugin.hpp>
#include <mien/random.hpp>
#include <mien/text.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace mien::cnn {

inline std::string first_line(const std::string& s) {
  const auto p = s.find('\n');
  return p == std::string::npos ? s : s.substr(0, p);
}

// An input batch [N, H, W, C] (uint8, float32 or float64, pixel values on the 0..255
// scale) as a float32 torch tensor [N, H, W, C]. `who` prefixes errors.
inline torch::Tensor image_batch(const TensorView& in, int64_t channels, const std::string& who) {
  const bool dtype_ok = in.valid() && (in.dtype() == MIEN_DTYPE_U8 || in.dtype() == MIEN_DTYPE_F32 ||
                                       in.dtype() == MIEN_DTYPE_F64);
  if (!dtype_ok || in.ndim() != 4 || in.dim(3) != channels || in.dim(1) < 1 || in.dim(2) < 1)
    throw Error(who + ": the input must be images [N, H, W, " + std::to_string(channels) +
                "] (uint8, or float32 on the 0..255 scale), got " +
                (in.valid() ? std::string(dtype_name(in.dtype())) + " " + shape_text(in.shape()) : "no tensor"));
  const std::vector<float> v = in.to_vector<float>();
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i])) throw Error(who + ": input value " + std::to_string(i) + " is not finite");
  return torch::from_blob(const_cast<float*>(v.data()), {in.dim(0), in.dim(1), in.dim(2), in.dim(3)},
                          torch::kFloat32)
      .clone();
}

// [N, H, W, C] -> [N, C, h, w] resized (bilinear, as OpenCV's INTER_LINEAR) when the size differs.
inline torch::Tensor to_nchw_resized(const torch::Tensor& nhwc, int64_t h, int64_t w) {
  torch::Tensor x = nhwc.permute({0, 3, 1, 2});
  if (x.size(2) != h || x.size(3) != w)
    x = torch::nn::functional::interpolate(
        x, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kBilinear).align_corners(false));
  return x.contiguous();
}

inline Tensor to_mien(const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kFloat32).contiguous();
  std::vector<int64_t> shape(c.sizes().begin(), c.sizes().end());
  std::vector<float> v(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  return Tensor::from<float>(shape, v);
}


inline Json read_json_file(const std::filesystem::path& p, const std::string& who) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Error(who + ": cannot read " + p.string(), MIEN_ERR_IO);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return Json::parse(ss.str());
  } catch (const std::exception& e) {
    throw Error(who + ": " + p.string() + " is not valid JSON: " + e.what(), MIEN_ERR_IO);
  }
}

inline void write_text_file(const std::filesystem::path& p, const std::string& text, const std::string& who) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw Error(who + ": cannot write " + p.string(), MIEN_ERR_IO);
}

}  // namespace mien::cnn
