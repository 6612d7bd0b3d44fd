// libFuzzer target: arbitrary bytes as a record's JSON to pack, and as a stored payload to read.
// Whatever is packed must come back byte for byte; stored bytes must read as a payload or as a
// store.payload error, never crash, hang or throw.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "esrsync/store/payload.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string packed;
  esrsync::store::pack_payload(bytes, packed);
  auto back = esrsync::store::unpack_payload(packed);
  if (!back || *back != bytes) std::abort();
  auto read = esrsync::store::unpack_payload(bytes);
  if (!read && read.error().rule != "store.payload") std::abort();
  return 0;
}
