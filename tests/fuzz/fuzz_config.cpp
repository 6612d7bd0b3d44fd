// libFuzzer target: arbitrary bytes as a configuration file. The loader must return a
// configuration or located problems, never crash, hang or throw.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "esrsync/flow/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<esrsync::Error> problems;
  auto config = esrsync::flow::parse_config(std::string_view(reinterpret_cast<const char*>(data), size),
                                            "/etc/esrsync/fuzz.toml", &problems);
  if (config.has_value() != problems.empty()) std::abort();
  for (const auto& p : problems) {
    if (p.rule.empty() || p.origin.file.empty()) std::abort();
  }
  return 0;
}
