// The vendored weights built into the plugin, and what they must hash to.
#pragma once

#include <cstdint>
#include <string>

namespace mien::faceapi {

constexpr const char* kManifestFile = "face_expression_model-weights_manifest.json";
constexpr const char* kBinFile = "face_expression_model.bin";
constexpr uint64_t kManifestSize = 6980;
constexpr uint64_t kBinSize = 329468;
constexpr const char* kManifestSha256 = "5b349c17c7836da506e03422cd6461c74085d8bb2713ad4114647dc5d28174c8";
constexpr const char* kBinSha256 = "9a9840f2cf1f4c7eab95f197512569345c00d2426754d4608b92af30e0300f3d";

// The bytes of third_party/face-api/<file>, as compiled in.
std::string embedded_manifest();
std::string embedded_bin();

}  // namespace mien::faceapi
