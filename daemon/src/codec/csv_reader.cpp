#include "esrsync/codec/csv_reader.hpp"

#include "read_buffer.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

namespace esrsync::codec {
namespace {

// The read buffer starts here and grows (doubling) only while one record does not fit, up to
// max_record_bytes + kSlack, so memory stays bounded by one record.
constexpr std::size_t kInitialBuffer = std::size_t{256} * 1024;
// Room past max_record_bytes for the line break and the byte looked at after a closing quote, so a
// record exactly at the limit always fits and an over-long one is always noticed.
constexpr std::size_t kSlack = 4096;
constexpr char kQuote = '"';

const char* find_byte(const char* base, std::size_t from, std::size_t to, char c) {
  return static_cast<const char*>(std::memchr(base + from, c, to - from));
}

std::uint64_t count_newlines(const char* first, const char* last) {
  std::uint64_t n = 0;
  while (first < last) {
    const auto* hit = static_cast<const char*>(std::memchr(first, '\n', static_cast<std::size_t>(last - first)));
    if (hit == nullptr) break;
    ++n;
    first = hit + 1;
  }
  return n;
}

// Where a field's value lives: in the read buffer (the common case, no copy) or in the per-record
// scratch string (a quoted field whose doubled quotes had to be unescaped). Offsets, not pointers,
// because scratch may reallocate while the record is being parsed.
struct Span {
  std::size_t offset;
  std::size_t size;
  bool in_scratch;
};

// States of the lenient scan that finds where a broken record ends (see skip_broken_record).
enum class SkipState : std::uint8_t { field_start, unquoted, quoted, quote_in_quoted };

}  // namespace

struct CsvReader::Impl {
  enum class Step : std::uint8_t { record, need_more, error };

  Impl(ByteSource& source, CsvOptions options)
      : source_(source),
        options_(options),
        cap_max_(std::max(kInitialBuffer, saturating_add(options.max_record_bytes, kSlack))) {}

  Result<bool> next(std::vector<std::string_view>& fields);

  ByteSource& source_;
  CsvOptions options_;
  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0;
  std::size_t cap_max_;
  std::size_t begin_ = 0;  // start of the current record (everything before it is consumed)
  std::size_t end_ = 0;    // end of the bytes read into buf_
  bool eof_ = false;
  bool started_ = false;         // BOM check done
  bool done_ = false;            // a fatal (io/config) error was returned; only false from now on
  bool skipping_ = false;        // the record at begin_ was reported broken; skip it on the next call
  std::uint64_t next_line_ = 1;  // physical line at begin_
  std::uint64_t line_ = 0;       // line on which the last record or error started
  std::string scratch_;
  std::vector<Span> spans_;

 private:
  Status fill();
  Step parse(Error& error);
  Step finish(std::size_t record_end, std::size_t next_begin, std::uint64_t lines, Error& error);
  Status skip_broken_record();
  Error error_at(Errc code, const char* rule, const char* message, std::size_t at) const;
};

// Compacts the unconsumed bytes to the front, grows the buffer if one record fills all of it, and
// reads until the buffer is full or the input ends (so a record is re-parsed at most once per
// buffer-full, whatever sizes read() returns).
Status CsvReader::Impl::fill() {
  if (!buf_) {
    cap_ = std::min(kInitialBuffer, cap_max_);
    buf_ = std::make_unique_for_overwrite<char[]>(cap_);
  }
  if (begin_ > 0) {
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  auto read = grow_and_read(source_, buf_, cap_, cap_max_, end_, eof_);
  if (!read) return fail(std::move(read).error());
  if (!*read) {
    // Unreachable while next() checks the record limit first; kept so a bug cannot spin.
    return fail(Errc::limit, "limit.record", "record does not fit the read buffer",
                Origin{source_.name(), next_line_, 1});
  }
  return {};
}

Error CsvReader::Impl::error_at(Errc code, const char* rule, const char* message, std::size_t at) const {
  // Records always start at the beginning of a physical line (after the BOM on line 1), so the
  // line and column of `at` follow from the newlines between begin_ and `at`.
  const char* b = buf_.get();
  const std::uint64_t line = next_line_ + count_newlines(b + begin_, b + at);
  std::size_t line_start = begin_;
  if (at > begin_) {
    const void* last = ::memrchr(b + begin_, '\n', at - begin_);
    if (last != nullptr) line_start = offset_of(static_cast<const char*>(last), b) + 1;
  }
  return make_error(code, rule, message, Origin{source_.name(), line, clamp_column(at - line_start + 1)});
}

CsvReader::Impl::Step CsvReader::Impl::finish(std::size_t record_end, std::size_t next_begin, std::uint64_t lines,
                                              Error& error) {
  const bool too_long = record_end - begin_ > options_.max_record_bytes;
  if (too_long) {
    error = make_error(Errc::limit, "limit.record", "record longer than max_record_bytes",
                       Origin{source_.name(), next_line_, 1});
  }
  // The record was read to its end, so even an over-long one needs no skipping.
  begin_ = next_begin;
  next_line_ += lines;
  return too_long ? Step::error : Step::record;
}

// Parses the record at begin_ into spans_. Returns need_more (without consuming anything) when the
// record may continue past end_; the caller refills and parses the record again from its start.
CsvReader::Impl::Step CsvReader::Impl::parse(Error& error) {
  const char* b = buf_.get();
  const char delim = options_.delimiter;
  const std::size_t max_field = options_.max_field_bytes;
  spans_.clear();
  scratch_.clear();
  line_ = next_line_;

  std::size_t p = begin_;
  // Cached per physical line: the next '\n' (or end_ at the end of input) and the first quote
  // before it, so plain fields cost one memchr for the delimiter and nothing more.
  std::size_t nl = 0;
  bool nl_known = false;
  bool nl_found = false;
  std::size_t quote = 0;
  bool quote_known = false;
  std::uint64_t quoted_lines = 0;

  for (;;) {
    const std::size_t field_start = p;
    if (p < end_ && b[p] == kQuote) {
      std::size_t segment = p + 1;
      std::size_t search = segment;
      bool escaped = false;
      const std::size_t scratch_offset = scratch_.size();
      std::size_t close = 0;
      for (;;) {
        const char* hit = find_byte(b, search, end_, kQuote);
        if (hit == nullptr) {
          if (!eof_) return Step::need_more;
          error =
              error_at(Errc::parse, "csv.unterminated_quote", "quoted field still open at end of input", field_start);
          begin_ = end_;  // the record is dropped and nothing follows it
          return Step::error;
        }
        const std::size_t at = offset_of(hit, b);
        if (at + 1 == end_ && !eof_) return Step::need_more;  // a doubled quote or the closing one?
        if (at + 1 < end_ && b[at + 1] == kQuote) {
          scratch_.append(b + segment, at + 1 - segment);
          escaped = true;
          segment = at + 2;
          search = segment;
          continue;
        }
        close = at;
        break;
      }
      quoted_lines += count_newlines(b + p + 1, b + close);
      std::size_t size = 0;
      if (escaped) {
        scratch_.append(b + segment, close - segment);
        size = scratch_.size() - scratch_offset;
        spans_.push_back(Span{scratch_offset, size, true});
      } else {
        size = close - p - 1;
        spans_.push_back(Span{p + 1, size, false});
      }
      if (size > max_field) {
        error = error_at(Errc::limit, "limit.field", "field longer than max_field_bytes", field_start);
        skipping_ = true;
        return Step::error;
      }
      p = close + 1;
      nl_known = false;  // the quoted field may have crossed line breaks
      quote_known = false;
      if (p == end_) return finish(p, p, quoted_lines, error);  // end of input (need_more handled above)
      const char c = b[p];
      if (c == delim) {
        ++p;
        continue;
      }
      if (c == '\n') return finish(p, p + 1, quoted_lines + 1, error);
      if (c == '\r') {
        if (p + 1 == end_ && !eof_) return Step::need_more;
        if (p + 1 < end_ && b[p + 1] == '\n') return finish(p, p + 2, quoted_lines + 1, error);
      }
      error =
          error_at(Errc::parse, "csv.after_quote", "only a delimiter or a line break may follow a closing quote", p);
      skipping_ = true;
      return Step::error;
    }

    if (!nl_known) {
      const char* hit = find_byte(b, p, end_, '\n');
      if (hit != nullptr) {
        nl = offset_of(hit, b);
        nl_found = true;
      } else {
        if (!eof_) return Step::need_more;
        nl = end_;
        nl_found = false;
      }
      nl_known = true;
      quote_known = false;
    }
    if (!quote_known || quote < p) {
      const char* hit = find_byte(b, p, nl, kQuote);
      quote = hit != nullptr ? offset_of(hit, b) : nl;
      quote_known = true;
    }
    const char* dhit = find_byte(b, p, nl, delim);
    const std::size_t d = dhit != nullptr ? offset_of(dhit, b) : nl;
    if (quote < d) {
      error = error_at(Errc::parse, "csv.bad_quote", "quote inside an unquoted field", quote);
      skipping_ = true;
      return Step::error;
    }
    if (d < nl) {
      if (d - p > max_field) {
        error = error_at(Errc::limit, "limit.field", "field longer than max_field_bytes", field_start);
        skipping_ = true;
        return Step::error;
      }
      spans_.push_back(Span{p, d - p, false});
      p = d + 1;
      continue;
    }
    // Last field of the record. Only the CR of a CRLF line ending is stripped; a CR elsewhere is data.
    std::size_t value_end = nl;
    if (nl_found && value_end > p && b[value_end - 1] == '\r') --value_end;
    if (value_end - p > max_field) {
      error = error_at(Errc::limit, "limit.field", "field longer than max_field_bytes", field_start);
      skipping_ = true;
      return Step::error;
    }
    spans_.push_back(Span{p, value_end - p, false});
    return nl_found ? finish(value_end, nl + 1, quoted_lines + 1, error) : finish(value_end, end_, quoted_lines, error);
  }
}

// After an error the quoting from the error on cannot be trusted strictly, so the broken record is
// re-read from its start with the lenient rules most CSV readers use (a quote opens a quoted field
// only at the start of a field; a quote elsewhere, or text after a closing quote, is data) until a
// line break outside quotes. The next record starts on the following line, never on a line inside
// the broken record. Nothing is kept, so this needs no memory however long the record is.
Status CsvReader::Impl::skip_broken_record() {
  const char delim = options_.delimiter;
  SkipState state = SkipState::field_start;
  std::uint64_t quote_line = 0;
  std::uint64_t quote_column = 0;
  std::uint64_t column_base = 0;  // column of buf_[begin_] minus one, kept across refills
  std::size_t line_start = begin_;
  for (;;) {
    const char* b = buf_.get();
    std::size_t p = begin_;
    while (p < end_) {
      if (state == SkipState::quoted) {
        const char* hit = find_byte(b, p, end_, kQuote);
        const std::size_t stop = hit != nullptr ? offset_of(hit, b) : end_;
        for (const char* n = find_byte(b, p, stop, '\n'); n != nullptr;
             n = find_byte(b, offset_of(n, b) + 1, stop, '\n')) {
          ++next_line_;
          line_start = offset_of(n, b) + 1;
          column_base = 0;
        }
        p = stop;
        if (hit == nullptr) break;
        ++p;
        state = SkipState::quote_in_quoted;
        continue;
      }
      const char c = b[p];
      if (c == '\n') {
        ++next_line_;
        begin_ = p + 1;
        return {};
      }
      if (c == delim) {
        state = SkipState::field_start;
      } else if (c == kQuote && state == SkipState::field_start) {
        state = SkipState::quoted;
        quote_line = next_line_;
        quote_column = column_base + (p - line_start) + 1;
      } else if (c == kQuote && state == SkipState::quote_in_quoted) {
        state = SkipState::quoted;  // a doubled quote
      } else {
        state = SkipState::unquoted;
      }
      ++p;
    }
    column_base += end_ - line_start;
    begin_ = end_;
    line_start = 0;
    if (eof_) {
      if (state == SkipState::quoted) {
        return fail(Errc::parse, "csv.unterminated_quote", "quoted field still open at end of input",
                    Origin{source_.name(), quote_line, clamp_column(quote_column)});
      }
      return {};
    }
    auto filled = fill();
    if (!filled) return filled;
  }
}

Result<bool> CsvReader::Impl::next(std::vector<std::string_view>& fields) {
  fields.clear();
  if (done_) return false;
  const char delim = options_.delimiter;
  if (delim == kQuote || delim == '\n' || delim == '\r') {
    done_ = true;
    return fail(Errc::config, "csv.delimiter", "the delimiter cannot be a quote or a line break",
                Origin{source_.name()});
  }
  if (!started_) {
    auto filled = fill();
    if (!filled) {
      done_ = true;
      return fail(std::move(filled).error());
    }
    // fill() reads until the buffer is full or the input ends, so three bytes are there if they exist.
    if (end_ >= kBom.size() && std::memcmp(buf_.get(), kBom.data(), kBom.size()) == 0) begin_ = kBom.size();
    started_ = true;
  }
  if (skipping_) {
    skipping_ = false;
    auto skipped = skip_broken_record();
    if (!skipped) {
      if (skipped.error().code == Errc::io) done_ = true;
      return fail(std::move(skipped).error());
    }
  }
  for (;;) {
    if (begin_ == end_) {
      if (eof_) return false;
    } else {
      Error error;
      switch (parse(error)) {
        case Step::record: {
          const char* b = buf_.get();
          fields.resize(spans_.size());
          for (std::size_t i = 0; i < spans_.size(); ++i) {
            const Span& s = spans_[i];
            fields[i] = std::string_view((s.in_scratch ? scratch_.data() : b) + s.offset, s.size);
          }
          return true;
        }
        case Step::error:
          return fail(std::move(error));
        case Step::need_more:
          break;
      }
      // The record runs past end_, so it is longer than end_ - begin_ minus a possible CR/quote
      // look-ahead byte; report it now rather than reading more of it.
      const std::size_t pending = end_ - begin_;
      if (pending > options_.max_record_bytes && pending - options_.max_record_bytes > 2) {
        line_ = next_line_;
        skipping_ = true;
        return fail(Errc::limit, "limit.record", "record longer than max_record_bytes",
                    Origin{source_.name(), next_line_, 1});
      }
    }
    auto filled = fill();
    if (!filled) {
      done_ = true;
      return fail(std::move(filled).error());
    }
  }
}

CsvReader::CsvReader(ByteSource& source, CsvOptions options) : impl_(std::make_unique<Impl>(source, options)) {}

CsvReader::~CsvReader() = default;

Result<bool> CsvReader::next(std::vector<std::string_view>& fields) {
  return impl_->next(fields);
}

std::uint64_t CsvReader::line() const noexcept {
  return impl_->line_;
}

}  // namespace esrsync::codec
