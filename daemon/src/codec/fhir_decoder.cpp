// Staff-history bundles (mapping format "fhir-bundle"; fhir/staff_history.hpp) as a decoder, so a
// flow takes them from an inbox and `esrsync map` shows them like any other source. A bundle is one
// person's history: small, read whole (bounded by the mapping's file limit, 16 MiB by default).

#include "decoders.hpp"
#include "esrsync/fhir/staff_history.hpp"

namespace esrsync::codec {
namespace {

constexpr std::uint64_t kDefaultLimit = 16U << 20U;

class FhirBundleDecoder final : public Decoder {
 public:
  FhirBundleDecoder(const mapping::Mapping& mapping, ByteSource& source, DecodeOptions options)
      : mapping_(mapping), source_(source), options_(options) {}

  Next next(model::Record& record, std::vector<Error>& errors) override {
    errors.clear();
    if (!parsed_) parse();
    while (at_ < bundle_.events.size()) {
      auto& ev = bundle_.events[at_++];
      ++stats_.records_read;
      record = std::move(ev.record);
      if (!ev.errors.empty()) {
        ++stats_.rejected;
        errors = std::move(ev.errors);
        return Next::rejected;
      }
      ++stats_.accepted;
      return Next::record;
    }
    return Next::end;
  }

  [[nodiscard]] std::uint64_t bytes_read() const noexcept override { return source_.bytes_read(); }

 private:
  void parse() {
    parsed_ = true;
    const std::uint64_t limit = mapping_.limits.max_file_bytes != 0 ? mapping_.limits.max_file_bytes : kDefaultLimit;
    std::string text;
    char buffer[65536];
    for (;;) {
      auto n = source_.read(buffer, sizeof buffer);
      if (!n) {
        file_errors_.push_back(std::move(n).error());
        return;
      }
      if (*n == 0) break;
      text.append(buffer, *n);
      if (over_file_limit(limit, source_, 0)) return;
    }
    bundle_ = fhir::parse_bundle(text, source_.name(), options_.today);
    for (auto& e : bundle_.file_errors)
      file_errors_.push_back(std::move(e));
    if (!file_errors_.empty()) bundle_.events.clear();
  }

  const mapping::Mapping& mapping_;
  ByteSource& source_;
  DecodeOptions options_;
  fhir::ParsedBundle bundle_;
  std::size_t at_ = 0;
  bool parsed_ = false;
};

}  // namespace

std::unique_ptr<Decoder> make_fhir_decoder(const mapping::Mapping& mapping, ByteSource& source, DecodeOptions options) {
  return std::make_unique<FhirBundleDecoder>(mapping, source, options);
}

}  // namespace esrsync::codec
