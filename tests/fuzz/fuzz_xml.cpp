// libFuzzer target: arbitrary bytes through the xml decoder with mappings/oh/generic_xml.xml.
#include "fuzz_decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  esrsync::fuzz::decode_all(esrsync::fuzz::shipped("mappings/oh/generic_xml.xml"), data, size);
  return 0;
}
