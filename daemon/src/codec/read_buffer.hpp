#pragma once
// What the streaming readers share (CSV reader, XML scanner): the refill step — grow a full buffer
// by doubling up to a cap, then read until it is full or the input ends, whatever sizes read()
// returns — and a few small arithmetic helpers.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>

#include "esrsync/codec/byte_source.hpp"

namespace esrsync::codec {

inline constexpr std::string_view kBom = "\xEF\xBB\xBF";  // a UTF-8 byte-order mark

inline std::uint32_t clamp_column(std::uint64_t column) {
  return column > std::numeric_limits<std::uint32_t>::max() ? std::numeric_limits<std::uint32_t>::max()
                                                            : static_cast<std::uint32_t>(column);
}

inline std::size_t saturating_add(std::size_t a, std::size_t b) {
  return a > std::numeric_limits<std::size_t>::max() - b ? std::numeric_limits<std::size_t>::max() : a + b;
}

inline std::size_t offset_of(const char* hit, const char* base) {
  return static_cast<std::size_t>(hit - base);
}

// `buf` holds `end` bytes of `cap`. Returns false when the buffer is full and already at `cap_max`
// (the caller reports its own limit error), true after reading; an I/O error is returned as is.
inline Result<bool> grow_and_read(ByteSource& source, std::unique_ptr<char[]>& buf, std::size_t& cap,
                                  std::size_t cap_max, std::size_t& end, bool& eof) {
  if (end == cap) {
    if (cap == cap_max) return false;
    const std::size_t grown = cap > cap_max / 2 ? cap_max : cap * 2;
    auto bigger = std::make_unique_for_overwrite<char[]>(grown);
    std::memcpy(bigger.get(), buf.get(), end);
    buf = std::move(bigger);
    cap = grown;
  }
  while (end < cap && !eof) {
    auto n = source.read(buf.get() + end, cap - end);
    if (!n) return fail(std::move(n).error());
    if (*n == 0) {
      eof = true;
    } else {
      end += *n;
    }
  }
  return true;
}

}  // namespace esrsync::codec
