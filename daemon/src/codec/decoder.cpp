#include "esrsync/codec/decoder.hpp"

#include "decoders.hpp"

namespace esrsync::codec {

std::unique_ptr<Decoder> make_decoder(const mapping::Mapping& mapping, ByteSource& source, DecodeOptions options) {
  switch (mapping.format) {
    case mapping::Format::delimited:
      return make_delimited_decoder(mapping, source, options);
    case mapping::Format::csv:
      return make_csv_decoder(mapping, source, options);
    case mapping::Format::xml:
      return make_xml_decoder(mapping, source, options);
  }
  return nullptr;
}

}  // namespace esrsync::codec
