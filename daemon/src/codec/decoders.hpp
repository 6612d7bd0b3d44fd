#pragma once
// The per-format decoders behind make_decoder (private to the codec area).

#include <memory>

#include "esrsync/codec/decoder.hpp"

namespace esrsync::codec {

std::unique_ptr<Decoder> make_delimited_decoder(const mapping::Mapping& mapping, ByteSource& source,
                                                DecodeOptions options);
std::unique_ptr<Decoder> make_csv_decoder(const mapping::Mapping& mapping, ByteSource& source, DecodeOptions options);
std::unique_ptr<Decoder> make_xml_decoder(const mapping::Mapping& mapping, ByteSource& source, DecodeOptions options);
std::unique_ptr<Decoder> make_fhir_decoder(const mapping::Mapping& mapping, ByteSource& source, DecodeOptions options);

}  // namespace esrsync::codec
