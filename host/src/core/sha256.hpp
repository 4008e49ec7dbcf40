// SHA-256 through OpenSSL's libcrypto (EVP): used to fingerprint plugin libraries and
// input files for run records and the cache.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace mien::host {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // Finishes the hash and returns 64 lower-case hex digits. The object is reset
  // afterwards, so it can hash a new message.
  std::string hex_digest();

 private:
  struct State;  // the EVP context; kept out of this header so users need no OpenSSL include
  std::unique_ptr<State> state_;
};

// Hex digest of a byte string.
std::string sha256_hex(std::string_view data);
// Hex digest of a file's contents; throws std::runtime_error naming the file when it
// cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace mien::host
