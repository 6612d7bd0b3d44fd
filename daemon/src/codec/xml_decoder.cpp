// Decoder for XML exports (DOMAIN.md "OH system XML export"): the scanner hands over one record
// element at a time, pugixml parses just that element, and fields are read by simple paths.

#include <pugixml.hpp>

#include <algorithm>

#include "decoders.hpp"
#include "esrsync/codec/xml_scanner.hpp"
#include "esrsync/model/text_encoding.hpp"
#include "record_builder.hpp"

namespace esrsync::codec {
namespace {

using mapping::RecordSpec;
using mapping::Source;

class XmlDecoder final : public Decoder {
 public:
  XmlDecoder(const mapping::Mapping& mapping, ByteSource& source, DecodeOptions options)
      : mapping_(mapping),
        source_(source),
        scanner_(source, XmlScanOptions{mapping.record_element, mapping.limits.max_line_bytes}),
        builder_(mapping, options, model::Encoding::utf8),
        spec_(mapping.records.front()) {
    builder_.set_file(source.name());
    fetch_ = [this](const Source& s) -> std::string_view {
      pugi::xml_node node = doc_.document_element();
      for (const auto& name : s.path.elements) {
        node = node.child(name.c_str());
        if (!node) return {};
      }
      if (!s.path.attribute.empty()) return node.attribute(s.path.attribute.c_str()).value();
      return node.child_value();
    };
  }

  Next next(model::Record& record, std::vector<Error>& errors) override {
    errors.clear();
    if (done_) return Next::end;
    std::string_view text;
    auto more = scanner_.next(text);
    if (over_file_limit(mapping_.limits.max_file_bytes, source_, 0)) {
      done_ = true;
      return Next::end;
    }
    record.reset(spec_.entity);
    record.record_type = spec_.type;
    record.line = scanner_.line();
    if (!more) {
      Error e = std::move(more).error();
      if (e.code == Errc::structure || e.code == Errc::io) {
        file_errors_.push_back(std::move(e));
        done_ = true;
        return Next::end;
      }
      ++stats_.records_read;
      ++stats_.rejected;
      errors.push_back(std::move(e));
      return Next::rejected;
    }
    if (!*more) {
      done_ = true;
      return Next::end;
    }
    ++stats_.records_read;
    // pugixml does not check UTF-8, and the mapping may declare a single-byte encoding: turn the
    // whole element into valid UTF-8 first (invalid bytes are this record's error, with a line).
    utf8_.clear();
    if (auto ok = model::append_as_utf8(text, mapping_.encoding, utf8_); !ok) {
      Error e = std::move(ok).error();
      const auto offset = e.origin.column > 0 ? e.origin.column - 1 : 0;
      e.origin = Origin{source_.name(), scanner_.line() + newlines(text.substr(0, offset))};
      errors.push_back(std::move(e));
      ++stats_.rejected;
      return Next::rejected;
    }
    const auto parsed = doc_.load_buffer(utf8_.data(), utf8_.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!parsed) {
      const auto offset = static_cast<std::size_t>(std::max<std::ptrdiff_t>(parsed.offset, 0));
      errors.push_back(
          make_error(Errc::parse, "xml.record", std::string("malformed record: ") + parsed.description(),
                     Origin{source_.name(), scanner_.line() + newlines(std::string_view(utf8_).substr(0, offset))}));
      ++stats_.rejected;
      return Next::rejected;
    }
    if (!builder_.build(spec_, RecordBuilder::Raw{{}, {}, &fetch_}, scanner_.line(), nullptr, record, errors)) {
      ++stats_.rejected;
      return Next::rejected;
    }
    ++stats_.accepted;
    return Next::record;
  }

  [[nodiscard]] std::uint64_t bytes_read() const noexcept override { return source_.bytes_read(); }

 private:
  static std::uint64_t newlines(std::string_view s) {
    return static_cast<std::uint64_t>(std::count(s.begin(), s.end(), '\n'));
  }

  const mapping::Mapping& mapping_;
  ByteSource& source_;
  XmlRecordScanner scanner_;
  RecordBuilder builder_;
  const RecordSpec& spec_;
  RecordBuilder::Fetch fetch_;
  pugi::xml_document doc_;
  std::string utf8_;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<Decoder> make_xml_decoder(const mapping::Mapping& mapping, ByteSource& source, DecodeOptions options) {
  return std::make_unique<XmlDecoder>(mapping, source, options);
}

}  // namespace esrsync::codec
