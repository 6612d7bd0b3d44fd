#include "esrsync/core/checksum.hpp"

#include "esrsync/core/unique_fd.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace esrsync {

struct Sha256::Impl {
  struct Free {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx{EVP_MD_CTX_new()};
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  // Allocation failure of a few hundred bytes at this point is unrecoverable (STYLE.md rule 7).
  if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx.get(), EVP_sha256(), nullptr) != 1) std::abort();
}
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;
Sha256::~Sha256() = default;

void Sha256::update(std::string_view bytes) {
  if (EVP_DigestUpdate(impl_->ctx.get(), bytes.data(), bytes.size()) != 1) std::abort();
}

namespace {

std::string to_hex(const unsigned char* digest, unsigned int size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(std::size_t{size} * 2, '0');
  for (unsigned int i = 0; i < size; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return out;
}

}  // namespace

std::string Sha256::hex_digest() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(impl_->ctx.get(), digest.data(), &size) != 1) std::abort();
  return to_hex(digest.data(), size);
}

std::string sha256_hex(std::string_view bytes) {
  // Once per record on the sync path: the algorithm is fetched once and one context per thread is
  // reused, instead of a context allocated and the algorithm looked up (under a lock) every call.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct Free {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  thread_local const std::unique_ptr<EVP_MD_CTX, Free> ctx{EVP_MD_CTX_new()};
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  // Failure here (no memory, no SHA-256 in the crypto library) is unrecoverable (STYLE.md rule 7).
  if (md == nullptr || !ctx || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest.data(), &size) != 1) {
    std::abort();
  }
  return to_hex(digest.data(), size);
}

Result<std::string> sha256_file(const std::string& path) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid())
    return fail(Errc::io, "file.open", std::string("cannot open: ") + std::strerror(errno), Origin{path});
  Sha256 hash;
  std::vector<char> block(1 << 20);
  for (;;) {
    const ssize_t n = ::read(fd.get(), block.data(), block.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(Errc::io, "file.read", std::string("read failed: ") + std::strerror(errno), Origin{path});
    }
    if (n == 0) break;
    hash.update(std::string_view(block.data(), static_cast<std::size_t>(n)));
  }
  return hash.hex_digest();
}

}  // namespace esrsync
