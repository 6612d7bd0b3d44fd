// Decoder for ESR-style delimited files (DOMAIN.md "The reference ESR interface"): one record a
// line, LF or CRLF, the record type in field 1, no quoting, optional HDR/TRL envelope.

#include <algorithm>
#include <array>
#include <cstring>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <optional>

#include "decoders.hpp"
#include "record_builder.hpp"

namespace esrsync::codec {
namespace {

using mapping::RecordSpec;

// Bytes per read(2): small enough that what one read brings is parsed while still in the CPU cache.
constexpr std::size_t kReadChunk = 64 * 1024;

std::string printable_type(std::string_view type) {
  if (type.size() > 16) return "(unreadable)";
  for (const char c : type) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) return "(unreadable)";
  }
  return "'" + std::string(type) + "'";
}

class DelimitedDecoder final : public Decoder {
 public:
  DelimitedDecoder(const mapping::Mapping& mapping, ByteSource& source, DecodeOptions options)
      : mapping_(mapping),
        source_(source),
        builder_(mapping, options, mapping.encoding),
        header_(mapping.find_role(RecordSpec::Role::header)),
        trailer_(mapping.find_role(RecordSpec::Role::trailer)) {
    builder_.set_file(source.name());
    buffer_.resize(std::max(kReadChunk, mapping.limits.max_line_bytes + 2) * 2);
    fields_.resize(256);
  }

  Next next(model::Record& record, std::vector<Error>& errors) override {
    errors.clear();
    for (;;) {
      if (done_) return Next::end;
      std::string_view line;
      bool oversize = false;
      const bool scanned = scan_line(line);  // the common case: found and split in one pass
      if (!scanned && !read_line(line, oversize)) {
        finish();
        return Next::end;
      }
      ++line_no_;
      if (line.empty()) continue;  // a blank line carries no record
      if (after_trailer_) {
        if (!reported_after_trailer_) {
          file_error(Errc::structure, "file.after_trailer", "content after the trailer record", line_no_);
          reported_after_trailer_ = true;
        }
        continue;
      }
      // The record type is field 1. A line over the limit is not split: its type is what precedes
      // the first separator of the head kept.
      if (!oversize && !scanned) split(line);
      const std::string_view type = oversize ? line.substr(0, line.find(mapping_.separator)) : fields_[0];
      bool counts = false;
      const RecordSpec* spec = find_record(type, counts);
      const bool first = !seen_any_;
      seen_any_ = true;
      if (first && header_ != nullptr && spec != header_) {
        file_error(Errc::structure, "file.no_header", "the file must start with a " + header_->type + " record",
                   line_no_);
      }
      if (counts) ++stats_.records_read;
      if (oversize || spec == nullptr) start_rejected(record, spec, type);
      if (oversize) {
        reject(errors, Errc::limit, "limit.line",
               "line is longer than " + std::to_string(mapping_.limits.max_line_bytes) + " bytes");
        return Next::rejected;
      }
      if (spec == nullptr) {
        reject(errors, Errc::parse, "record.unknown_type", "unknown record type " + printable_type(type));
        return Next::rejected;
      }
      if (spec->field_count != 0 && field_count_ != spec->field_count) {
        const std::string message = spec->type + " record has " + std::to_string(field_count_) +
                                    " fields, the interface defines " + std::to_string(spec->field_count);
        if (spec->role != RecordSpec::Role::data) {
          file_error(Errc::structure, "record.field_count", message, line_no_);
          if (spec == trailer_) after_trailer_ = true;
          continue;
        }
        start_rejected(record, spec, type);
        reject(errors, Errc::parse, "record.field_count", message);
        return Next::rejected;
      }
      const bool ok = builder_.build(
          *spec, RecordBuilder::Raw{{fields_.data(), field_count_}, {}, nullptr, line_plain_ascii_, line}, line_no_,
          line.data(), record, errors);
      if (spec->role != RecordSpec::Role::data) {
        if (!envelope(*spec, ok, record, errors)) continue;
        return Next::record;
      }
      if (!ok) {
        ++stats_.rejected;
        return Next::rejected;
      }
      ++stats_.accepted;
      return Next::record;
    }
  }

  [[nodiscard]] std::uint64_t bytes_read() const noexcept override { return source_.bytes_read(); }

 private:
  bool counted(const RecordSpec& spec) const {
    if (trailer_ == nullptr) return spec.role == RecordSpec::Role::data;
    for (const auto& t : trailer_->counts) {
      if (t == spec.type) return true;
    }
    return false;
  }

  // Header and trailer problems are file-level (DOMAIN.md: a bad HDR rejects the file).
  bool envelope(const RecordSpec& spec, bool ok, const model::Record& record, std::vector<Error>& errors) {
    if (&spec == header_) {
      if (seen_header_) file_error(Errc::structure, "file.duplicate_header", "a second header record", line_no_);
      seen_header_ = true;
    } else {
      seen_trailer_ = true;
      after_trailer_ = true;
      trailer_line_ = line_no_;
      if (ok) trailer_count_ = std::strtoull(std::string(record.get("record_count")).c_str(), nullptr, 10);
    }
    for (auto& e : errors) {
      e.code = Errc::structure;
      file_errors_.push_back(std::move(e));
    }
    errors.clear();
    return ok;
  }

  // A record rejected before the record builder sees it (which resets the record itself).
  void start_rejected(model::Record& record, const RecordSpec* spec, std::string_view type) const {
    record.reset(spec != nullptr ? spec->entity : model::Entity::person);
    record.record_type.assign(type.substr(0, 16));
    record.line = line_no_;
  }

  void reject(std::vector<Error>& errors, Errc code, std::string rule, std::string message) {
    errors.push_back(make_error(code, std::move(rule), std::move(message), Origin{source_.name(), line_no_}));
    ++stats_.rejected;
  }

  void file_error(Errc code, std::string rule, std::string message, std::uint64_t line) {
    file_errors_.push_back(make_error(code, std::move(rule), std::move(message), Origin{source_.name(), line}));
  }

  void finish() {
    done_ = true;
    if (io_failed_) return;
    if (!seen_any_) {
      file_error(Errc::structure, "file.empty", "the file holds no records", 0);
      return;
    }
    if (trailer_ != nullptr) {
      if (!seen_trailer_) {
        file_error(Errc::structure, "file.no_trailer",
                   "no " + trailer_->type + " record: the file is truncated or incomplete", line_no_);
      } else if (trailer_count_ && *trailer_count_ != stats_.records_read) {
        file_error(Errc::structure, "file.trailer_count",
                   trailer_->type + " says " + std::to_string(*trailer_count_) + " records, the file has " +
                       std::to_string(stats_.records_read),
                   trailer_line_);
      }
    }
  }

  // The mapping's record spec for `type` and whether the trailer counts it; the last two found
  // are remembered (an extract alternates PER and ASG lines).
  const RecordSpec* find_record(std::string_view type, bool& counts) {
    for (const auto& recent : recent_specs_) {
      if (recent.spec != nullptr && same_short(recent.spec->type, type)) {
        counts = recent.counts;
        return recent.spec;
      }
    }
    const RecordSpec* spec = mapping_.find_record(type);
    counts = spec != nullptr && counted(*spec);
    if (spec != nullptr) {
      recent_specs_[1] = recent_specs_[0];
      recent_specs_[0] = RecentSpec{spec, counts};
    }
    return spec;
  }

  // fields_ with room after `out` for what one 16-byte block (or a tail shorter than that) and the
  // line's last field can add: checked per block, not per field. Returns `out` in the grown vector.
  std::string_view* room_for_block(std::string_view* out) {
    const auto at = static_cast<std::size_t>(out - fields_.data());
    if (fields_.size() - at < 17) fields_.resize(fields_.size() * 2 + 17);
    return fields_.data() + at;
  }

  // Splits `line` into fields_ and sets line_plain_ascii_ (every byte plain ASCII, see
  // plain_ascii(), so the record builder need not check field by field).
  void split(std::string_view line) {
    std::string_view* out = fields_.data();
    const char sep = mapping_.separator;
    const char* const data = line.data();
    const std::size_t size = line.size();
    std::size_t start = 0;
    std::size_t i = 0;
    bool plain = true;
#ifdef __SSE2__
    // 16 bytes at a time: a compare and a bit mask find every separator in the block; a signed
    // compare with 0x20 flags both control characters and bytes >= 0x80.
    const __m128i needle = _mm_set1_epi8(sep);
    const __m128i space = _mm_set1_epi8(0x20);
    __m128i unusual = _mm_setzero_si128();
    for (; i + 16 <= size; i += 16) {
      out = room_for_block(out);
      const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i));
      unusual = _mm_or_si128(unusual, _mm_cmplt_epi8(block, space));
      auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, needle)));
      while (mask != 0) {
        const std::size_t at = i + static_cast<std::size_t>(__builtin_ctz(mask));
        *out++ = std::string_view(data + start, at - start);
        start = at + 1;
        mask &= mask - 1;
      }
    }
    plain = _mm_movemask_epi8(unusual) == 0;
#endif
    out = room_for_block(out);  // fewer than 16 bytes are left, or the scalar loop does it all
    if (size - i > 16) {
      const std::size_t at = static_cast<std::size_t>(out - fields_.data());
      fields_.resize(std::max(fields_.size(), at + size - i + 1));
      out = fields_.data() + at;
    }
    for (; i < size; ++i) {
      const auto c = static_cast<unsigned char>(data[i]);
      if (c < 0x20 || c >= 0x80) plain = false;
      if (data[i] == sep) {
        *out++ = std::string_view(data + start, i - start);
        start = i + 1;
      }
    }
    *out++ = std::string_view(data + start, size - start);
    field_count_ = static_cast<std::size_t>(out - fields_.data());
    line_plain_ascii_ = plain;
  }

  // Takes the next line from the buffer and splits it in the same pass over its bytes (fields_,
  // field_count_, line_plain_ascii_), as read_line() and split() would. Returns false, consuming
  // nothing, when that is not the simple case: the line is not wholly in the buffer, is over the
  // limit, or ends in CR.
  bool scan_line(std::string_view& line) {
#ifdef __SSE2__
    const char* const base = buffer_.data() + begin_;
    const std::size_t avail = std::min(end_ - begin_, mapping_.limits.max_line_bytes + 1);
    std::string_view* out = fields_.data();
    std::size_t start = 0;
    std::size_t i = 0;
    std::size_t length = 0;
    unsigned odd = 0;
    const __m128i newline = _mm_set1_epi8('\n');
    const __m128i needle = _mm_set1_epi8(mapping_.separator);
    const __m128i space = _mm_set1_epi8(0x20);
    for (;; i += 16) {
      out = room_for_block(out);
      if (i + 16 > avail) {
        for (; i < avail; ++i) {
          const char c = base[i];
          if (c == '\n') break;
          if (c == mapping_.separator) {
            *out++ = std::string_view(base + start, i - start);
            start = i + 1;
          }
          const auto u = static_cast<unsigned char>(c);
          if (u < 0x20 || u >= 0x80) odd = 1;
        }
        if (i == avail) return false;  // no line break within reach
        length = i;
        break;
      }
      const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + i));
      const auto breaks = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, newline)));
      auto seps = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, needle)));
      auto unusual = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmplt_epi8(block, space)));
      if (breaks != 0) {
        const unsigned at = static_cast<unsigned>(__builtin_ctz(breaks));
        const unsigned before = (1U << at) - 1;
        seps &= before;
        unusual &= before;
        length = i + at;
      }
      odd |= unusual;
      while (seps != 0) {
        const std::size_t at = i + static_cast<std::size_t>(__builtin_ctz(seps));
        *out++ = std::string_view(base + start, at - start);
        start = at + 1;
        seps &= seps - 1;
      }
      if (breaks != 0) break;
    }
    if (length > mapping_.limits.max_line_bytes || (length > 0 && base[length - 1] == '\r')) return false;
    *out++ = std::string_view(base + start, length - start);
    field_count_ = static_cast<std::size_t>(out - fields_.data());
    line_plain_ascii_ = odd == 0;
    line = std::string_view(base, length);
    begin_ += length + 1;
    return true;
#else
    (void)line;
    return false;
#endif
  }

  // Reads bytes until the buffer holds more data or the input ends. False at end or on error.
  bool fill() {
    if (eof_) return false;
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == buffer_.size()) return true;
    auto n = source_.read(buffer_.data() + end_, std::min(kReadChunk, buffer_.size() - end_));
    if (!n) {
      file_errors_.push_back(std::move(n).error());
      io_failed_ = true;
      eof_ = true;
      return false;
    }
    if (*n == 0) {
      eof_ = true;
      return false;
    }
    end_ += *n;
    if (over_file_limit(mapping_.limits.max_file_bytes, source_, line_no_)) {
      io_failed_ = true;
      eof_ = true;
      end_ = begin_;
      return false;
    }
    return true;
  }

  // Next line without its LF/CRLF. A line over the limit is returned truncated with `oversize` set
  // and the rest of it skipped.
  bool read_line(std::string_view& line, bool& oversize) {
    std::size_t scanned = 0;
    for (;;) {
      const char* base = buffer_.data() + begin_;
      const std::size_t avail = end_ - begin_;
      const void* nl = std::memchr(base + scanned, '\n', avail - scanned);
      if (nl != nullptr) {
        auto len = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
        begin_ += len + 1;
        if (len > 0 && base[len - 1] == '\r') --len;
        oversize = len > mapping_.limits.max_line_bytes;
        line = std::string_view(base, oversize ? mapping_.limits.max_line_bytes : len);
        return true;
      }
      scanned = avail;
      if (avail > mapping_.limits.max_line_bytes + 1) return skip_long_line(line, oversize);
      if (!fill()) {
        if (io_failed_ || end_ == begin_) return false;
        // The last line has no line break.
        const std::size_t len = end_ - begin_;
        line = std::string_view(buffer_.data() + begin_, std::min(len, mapping_.limits.max_line_bytes));
        oversize = len > mapping_.limits.max_line_bytes;
        begin_ = end_;
        return true;
      }
    }
  }

  // The line in the buffer is already over the limit: keep its head (for the record type) in
  // `long_head_`, drop bytes until the line break.
  bool skip_long_line(std::string_view& line, bool& oversize) {
    long_head_.assign(buffer_.data() + begin_, std::min<std::size_t>(64, end_ - begin_));
    oversize = true;
    for (;;) {
      const void* nl = std::memchr(buffer_.data() + begin_, '\n', end_ - begin_);
      if (nl != nullptr) {
        begin_ = static_cast<std::size_t>(static_cast<const char*>(nl) - buffer_.data()) + 1;
        break;
      }
      begin_ = end_;
      if (!fill()) break;
    }
    line = long_head_;
    return true;
  }

  const mapping::Mapping& mapping_;
  ByteSource& source_;
  RecordBuilder builder_;
  const RecordSpec* header_;
  const RecordSpec* trailer_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  bool eof_ = false;
  bool io_failed_ = false;
  bool done_ = false;
  std::uint64_t line_no_ = 0;
  std::vector<std::string_view> fields_;  // grows to the most fields a line had
  std::size_t field_count_ = 0;
  bool line_plain_ascii_ = false;
  struct RecentSpec {
    const RecordSpec* spec = nullptr;
    bool counts = false;
  };
  std::array<RecentSpec, 2> recent_specs_{};
  std::string long_head_;
  bool seen_any_ = false;
  bool seen_header_ = false;
  bool seen_trailer_ = false;
  bool after_trailer_ = false;
  bool reported_after_trailer_ = false;
  std::uint64_t trailer_line_ = 0;
  std::optional<std::uint64_t> trailer_count_;
};

}  // namespace

std::unique_ptr<Decoder> make_delimited_decoder(const mapping::Mapping& mapping, ByteSource& source,
                                                DecodeOptions options) {
  return std::make_unique<DelimitedDecoder>(mapping, source, options);
}

}  // namespace esrsync::codec
