// SHA-256 (FIPS 180-4), self-contained: used to fingerprint plugin libraries and
// input files for run records and the cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mien::host {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // Finishes the hash and returns 64 lower-case hex digits. The object is reset
  // afterwards, so it can hash a new message.
  std::string hex_digest();

 private:
  void reset();
  void compress(const uint8_t* block);
  uint32_t state_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

// Hex digest of a byte string.
std::string sha256_hex(std::string_view data);
// Hex digest of a file's contents; throws std::runtime_error naming the file when it
// cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace mien::host
