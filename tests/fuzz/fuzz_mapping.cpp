// libFuzzer target: arbitrary bytes as a mapping definition. The loader must return a mapping or
// located problems, never crash; lookup tables resolve against the shipped mappings/oh directory.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "esrsync/mapping/mapping.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<esrsync::Error> problems;
  auto mapping = esrsync::mapping::parse_mapping(std::string(reinterpret_cast<const char*>(data), size),
                                                 std::string(ESRSYNC_SOURCE_DIR) + "/mappings/oh/fuzz.xml", &problems);
  if (mapping.has_value() != problems.empty()) std::abort();
  for (const auto& p : problems) {
    if (p.rule.empty() || p.origin.file.empty()) std::abort();
  }
  return 0;
}
