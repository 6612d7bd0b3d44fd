#include "esrsync/core/compress.hpp"

#include <zstd.h>

#include <cstdlib>
#include <memory>

namespace esrsync {

namespace {

struct FreeCCtx {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct FreeDCtx {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

Unexpected bad_frame(std::string message) {
  return fail(Errc::parse, "zstd.frame", std::move(message));
}

}  // namespace

std::string zstd_compress(std::string_view text) {
  // One context per thread, reused: a context is ~1 MB of tables to set up.
  thread_local const std::unique_ptr<ZSTD_CCtx, FreeCCtx> ctx = [] {
    std::unique_ptr<ZSTD_CCtx, FreeCCtx> c(ZSTD_createCCtx());
    if (!c || ZSTD_isError(ZSTD_CCtx_setParameter(c.get(), ZSTD_c_compressionLevel, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(c.get(), ZSTD_c_checksumFlag, 1))) {
      std::abort();  // out of memory, or a libzstd without these parameters: unrecoverable (rule 7)
    }
    return c;
  }();
  std::string out(ZSTD_compressBound(text.size()), '\0');
  const std::size_t n = ZSTD_compress2(ctx.get(), out.data(), out.size(), text.data(), text.size());
  if (ZSTD_isError(n)) std::abort();  // the output is sized by ZSTD_compressBound: cannot fail
  out.resize(n);
  return out;
}

bool is_zstd_frame(std::string_view bytes) noexcept {
  // ZSTD_MAGICNUMBER, little-endian.
  return bytes.size() >= 4 && static_cast<unsigned char>(bytes[0]) == 0x28 &&
         static_cast<unsigned char>(bytes[1]) == 0xB5 && static_cast<unsigned char>(bytes[2]) == 0x2F &&
         static_cast<unsigned char>(bytes[3]) == 0xFD;
}

Result<std::string> zstd_decompress(std::string_view frame, std::size_t max_size) {
  if (!is_zstd_frame(frame)) return bad_frame("not a zstd frame");
  const unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    return bad_frame("the frame header is damaged or has no content size");
  }
  if (size > max_size) {
    return bad_frame("the frame says " + std::to_string(size) + " bytes, over the limit of " +
                     std::to_string(max_size));
  }
  thread_local const std::unique_ptr<ZSTD_DCtx, FreeDCtx> ctx(ZSTD_createDCtx());
  if (!ctx) std::abort();
  std::string out(static_cast<std::size_t>(size), '\0');
  const std::size_t n = ZSTD_decompressDCtx(ctx.get(), out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(n)) return bad_frame(std::string("damaged frame: ") + ZSTD_getErrorName(n));
  if (n != size) return bad_frame("the frame holds fewer bytes than its header says");
  return out;
}

}  // namespace esrsync
