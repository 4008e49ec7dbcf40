// The vendored face-api.js expression weights (third_party/face-api), built into the plugin
// with the assembler's .incbin, so an installed plugin needs no data files and nothing is
// ever fetched. MIEN_FACEAPI_WEIGHTS_DIR is set by CMakeLists.txt.
#include "weights_blob.hpp"

#define MIEN_FACEAPI_BLOB(sym, file)                 \
  ".balign 16\n"                                     \
  ".hidden " #sym "_begin\n"                         \
  ".globl " #sym "_begin\n" #sym "_begin:\n"         \
  ".incbin \"" MIEN_FACEAPI_WEIGHTS_DIR "/" file "\"\n" \
  ".hidden " #sym "_end\n"                           \
  ".globl " #sym "_end\n" #sym "_end:\n"             \
  ".byte 0\n"

__asm__(".section .rodata\n"
        MIEN_FACEAPI_BLOB(mien_faceapi_manifest, "face_expression_model-weights_manifest.json")
        MIEN_FACEAPI_BLOB(mien_faceapi_bin, "face_expression_model.bin")
        ".previous\n");

extern "C" {
extern const char mien_faceapi_manifest_begin[];
extern const char mien_faceapi_manifest_end[];
extern const char mien_faceapi_bin_begin[];
extern const char mien_faceapi_bin_end[];
}

namespace mien::faceapi {

std::string embedded_manifest() { return std::string(mien_faceapi_manifest_begin, mien_faceapi_manifest_end); }
std::string embedded_bin() { return std::string(mien_faceapi_bin_begin, mien_faceapi_bin_end); }

}  // namespace mien::faceapi
