#pragma once
// zstd frames for bulky text the store keeps only until it is delivered (a batch sink's lines:
// ~550 bytes of JSON per change, which compress about six-fold). Level 1, the content size and a
// content checksum in every frame, so a damaged frame is an error, never wrong lines.

#include <string>
#include <string_view>

#include "esrsync/core/result.hpp"

namespace esrsync {

[[nodiscard]] std::string zstd_compress(std::string_view text);
// True when `bytes` starts with the zstd frame magic number (text and JSON never do).
[[nodiscard]] bool is_zstd_frame(std::string_view bytes) noexcept;
// The text of one frame. Errors (Errc::parse, "zstd.frame"): not a frame, a truncated or damaged
// frame, a checksum that does not match, a content size over `max_size`.
Result<std::string> zstd_decompress(std::string_view frame, std::size_t max_size = std::size_t{1} << 30);

}  // namespace esrsync
