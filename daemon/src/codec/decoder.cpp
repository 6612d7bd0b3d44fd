#include "esrsync/codec/decoder.hpp"

#include "decoders.hpp"

namespace esrsync::codec {

bool Decoder::over_file_limit(std::uint64_t limit, const ByteSource& source, std::uint64_t line) {
  if (limit == 0 || source.bytes_read() <= limit) return false;
  file_errors_.push_back(make_error(Errc::limit, "limit.file",
                                    "file is over the limit of " + std::to_string(limit) + " bytes",
                                    Origin{source.name(), line}));
  return true;
}

std::unique_ptr<Decoder> make_decoder(const mapping::Mapping& mapping, ByteSource& source, DecodeOptions options) {
  switch (mapping.format) {
    case mapping::Format::delimited:
      return make_delimited_decoder(mapping, source, options);
    case mapping::Format::csv:
      return make_csv_decoder(mapping, source, options);
    case mapping::Format::xml:
      return make_xml_decoder(mapping, source, options);
    case mapping::Format::fhir_bundle:
      return make_fhir_decoder(mapping, source, options);
  }
  return nullptr;
}

}  // namespace esrsync::codec
