#pragma once
// SHA-256 of a file's content, streamed in fixed-size blocks (memory bounded whatever the size),
// for the inbound file ledger (DOMAIN.md "same file content seen before (checksum) ... skipped").
// OpenSSL EVP. Blocking I/O: call from the blocking pool.

#include <memory>
#include <string>
#include <string_view>

#include "esrsync/core/result.hpp"

namespace esrsync {

class Sha256 {
 public:
  Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  ~Sha256();

  void update(std::string_view bytes);
  // Lower-case hex digest; the object is then spent.
  [[nodiscard]] std::string hex_digest();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// SHA-256 (lower-case hex) of `bytes` in one call: what the sync path uses per record.
[[nodiscard]] std::string sha256_hex(std::string_view bytes);

// Errors: Errc::io (file.open, file.read) with the path.
Result<std::string> sha256_file(const std::string& path);

}  // namespace esrsync
