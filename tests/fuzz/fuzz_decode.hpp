#pragma once
// Shared body of the decoder fuzzers: push arbitrary bytes through a shipped mapping's decoder and
// check the decoder's own promises (it ends, every error is located, counts add up).

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "esrsync/codec/decoder.hpp"
#include "esrsync/mapping/mapping.hpp"

namespace esrsync::fuzz {

inline const mapping::Mapping& shipped(const char* relative) {
  static const auto mapping = [relative] {
    auto m = mapping::load_mapping(std::string(ESRSYNC_SOURCE_DIR) + "/" + relative);
    if (!m) std::abort();
    return *m;
  }();
  return *mapping;
}

inline void decode_all(const mapping::Mapping& mapping, const std::uint8_t* data, std::size_t size) {
  auto source = codec::make_memory_source(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
  auto decoder = codec::make_decoder(mapping, *source, codec::DecodeOptions{model::Date{2026, 9, 1}});
  model::Record record;
  std::vector<Error> errors;
  std::uint64_t rejected = 0;
  for (std::size_t guard = 0;; ++guard) {
    if (guard > size + 2) std::abort();  // more records than bytes: the decoder is looping
    const auto next = decoder->next(record, errors);
    if (next == codec::Next::end) break;
    if (next == codec::Next::rejected) {
      ++rejected;
      if (errors.empty()) std::abort();  // a rejection always says why
      for (const auto& e : errors) {
        if (e.rule.empty() || e.origin.file != "fuzz") std::abort();
      }
    }
  }
  if (decoder->stats().rejected != rejected) std::abort();
}

}  // namespace esrsync::fuzz
