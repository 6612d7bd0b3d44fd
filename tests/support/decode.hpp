#pragma once
// Decodes a string through a mapping and collects everything the decoder said, for unit tests.

#include <string>
#include <vector>

#include "esrsync/codec/decoder.hpp"
#include "esrsync/mapping/mapping.hpp"

namespace esrsync::test {

struct Decoded {
  std::vector<model::Record> records;        // valid records (incl. header/trailer)
  std::vector<std::vector<Error>> rejected;  // one entry per rejected record
  std::vector<model::Record> rejected_records;
  std::vector<Error> file_errors;
  codec::DecodeStats stats;

  // Every record error and file error, flattened, as "line:rule".
  [[nodiscard]] std::vector<std::string> rules() const {
    std::vector<std::string> out;
    for (const auto& errors : rejected) {
      for (const auto& e : errors)
        out.push_back(std::to_string(e.origin.line) + ":" + e.rule);
    }
    for (const auto& e : file_errors)
      out.push_back("file:" + e.rule);
    return out;
  }
};

inline Decoded decode_source(const mapping::Mapping& mapping, codec::ByteSource& source,
                             model::Date today = model::Date{2026, 9, 1}) {
  auto decoder = codec::make_decoder(mapping, source, codec::DecodeOptions{today});
  Decoded out;
  model::Record record;
  std::vector<Error> errors;
  for (;;) {
    const auto next = decoder->next(record, errors);
    if (next == codec::Next::end) break;
    if (next == codec::Next::record) {
      out.records.push_back(record);
    } else {
      out.rejected.push_back(errors);
      out.rejected_records.push_back(record);
    }
  }
  out.file_errors = decoder->file_errors();
  out.stats = decoder->stats();
  return out;
}

inline Decoded decode_string(const mapping::Mapping& mapping, std::string bytes, std::string name = "test.DAT",
                             model::Date today = model::Date{2026, 9, 1}) {
  auto source = codec::make_memory_source(std::move(bytes), std::move(name));
  return decode_source(mapping, *source, today);
}

inline std::shared_ptr<const mapping::Mapping> shipped_mapping(const std::string& relative) {
  auto m = mapping::load_mapping(std::string(ESRSYNC_SOURCE_DIR) + "/" + relative);
  if (!m) std::abort();
  return *m;
}

}  // namespace esrsync::test
