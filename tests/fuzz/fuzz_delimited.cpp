// libFuzzer target: arbitrary bytes through the delimited decoder with mappings/esr/de_extract.xml.
#include "fuzz_decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  esrsync::fuzz::decode_all(esrsync::fuzz::shipped("mappings/esr/de_extract.xml"), data, size);
  return 0;
}
