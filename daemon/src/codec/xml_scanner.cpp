#include "esrsync/codec/xml_scanner.hpp"

#include "read_buffer.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

namespace esrsync::codec {
namespace {

// The read buffer starts here and grows (doubling) only while one record does not fit, up to
// max_record_bytes + kSlack. Outside records only a few bytes of look-ahead are ever kept.
constexpr std::size_t kInitialBuffer = std::size_t{256} * 1024;
constexpr std::size_t kSlack = 4096;
// Bounds on what the element stack may hold, so a hostile document cannot grow memory outside a
// record. Real exports nest a few dozen levels with short names.
constexpr std::size_t kMaxDepth = 1024;
constexpr std::size_t kMaxNameBytes = 1024;
constexpr std::size_t kNotFound = std::numeric_limits<std::size_t>::max();

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// XML names, restricted to what matters here: ASCII letters, '_' and ':' start a name, digits, '-'
// and '.' may follow, and any byte >= 0x80 (a multi-byte character) is accepted anywhere.
bool is_name_start(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' || u == ':' || u >= 0x80;
}

bool is_name_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return is_name_start(c) || (u >= '0' && u <= '9') || u == '-' || u == '.';
}

enum class Match : std::uint8_t { yes, no, partial };

}  // namespace

struct XmlRecordScanner::Impl {
  // What the scanner is inside of at pos_. Every state can resume after a refill, so long text,
  // comments and attribute lists are never held in memory outside a record.
  enum class Lex : std::uint8_t { text, markup, start_tag, end_tag, comment, pi, cdata };
  // go_on: carry on scanning; record: record_xml is set; need_more: refill and call again (nothing
  // consumed that is still needed); error: `error` is set; end: the document ended cleanly.
  enum class Step : std::uint8_t { go_on, record, need_more, error, end };

  Impl(ByteSource& source, XmlScanOptions options)
      : source_(source),
        options_(std::move(options)),
        cap_max_(std::max(kInitialBuffer, saturating_add(options_.max_record_bytes, kSlack))) {}

  Result<bool> next(std::string_view& record_xml);

  ByteSource& source_;
  XmlScanOptions options_;
  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0;
  std::size_t cap_max_;
  std::size_t end_ = 0;  // end of the bytes read into buf_
  std::size_t pos_ = 0;  // scan position
  bool eof_ = false;
  bool started_ = false;  // BOM check done
  bool done_ = false;     // end of document or a file-level error: only false from now on
  Lex lex_ = Lex::text;

  // The '<' that opened the markup being scanned. Once fill() has discarded it (a long comment
  // outside a record), mark_line_/mark_column_ keep its place for error reports.
  std::size_t mark_ = 0;
  bool mark_valid_ = false;
  std::uint64_t mark_line_ = 0;
  std::uint32_t mark_column_ = 0;
  char quote_ = 0;      // in a start tag: the quote of the attribute value we are inside, or 0
  bool slash_ = false;  // in a start tag: the last byte outside quotes was '/'

  // The open elements' names, back to back, and where each starts.
  std::string names_;
  std::vector<std::size_t> name_starts_;
  bool root_closed_ = false;

  bool in_record_ = false;
  bool skipping_ = false;  // the open record was reported over the limit; scan to its end, keep nothing
  std::size_t record_start_ = 0;
  std::size_t record_depth_ = 0;  // stack depth with the record element open
  std::uint64_t record_line_ = 0;
  std::uint32_t record_column_ = 0;

  // Newlines are counted lazily, only up to positions whose line is needed (a record start, an
  // error, or the bytes fill() is about to discard).
  std::size_t counted_ = 0;
  std::uint64_t counted_line_ = 1;
  std::uint64_t line_start_abs_ = 0;  // absolute offset of the first byte of line counted_line_
  std::uint64_t buf_abs_ = 0;         // absolute offset of buf_[0]
  std::uint64_t line_ = 0;

 private:
  struct Place {
    std::uint64_t line;
    std::uint32_t column;
  };

  Status fill();
  Place place_at(std::size_t at);
  Place mark_place();
  Step scan(std::string_view& record_xml, Error& error);
  Step open_markup(Error& error);
  Step close_element(std::string_view& record_xml, Error& error);
  Step out_of_data(Error& error);
  Match prefix(std::size_t at, std::string_view literal) const;
  std::size_t find_terminator(std::string_view terminator);
  Step read_name(std::size_t from, std::size_t& name_end, Error& error);
  Step structure_error(const char* rule, std::string message, Place place, Error& error);
};

XmlRecordScanner::Impl::Place XmlRecordScanner::Impl::place_at(std::size_t at) {
  // Callers only ask for positions at or after counted_ (record starts, error positions and
  // discard points all move forward), so each byte is counted once.
  const char* b = buf_.get();
  if (at > counted_) {
    const char* p = b + counted_;
    const char* last = b + at;
    while (p < last) {
      const auto* hit = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(last - p)));
      if (hit == nullptr) break;
      ++counted_line_;
      line_start_abs_ = buf_abs_ + offset_of(hit, b) + 1;
      p = hit + 1;
    }
    counted_ = at;
  }
  return Place{counted_line_, clamp_column(buf_abs_ + at - line_start_abs_ + 1)};
}

XmlRecordScanner::Impl::Place XmlRecordScanner::Impl::mark_place() {
  return mark_valid_ ? place_at(mark_) : Place{mark_line_, mark_column_};
}

Status XmlRecordScanner::Impl::fill() {
  if (!buf_) {
    cap_ = std::min(kInitialBuffer, cap_max_);
    buf_ = std::make_unique_for_overwrite<char[]>(cap_);
  }
  std::size_t keep = pos_;
  if (in_record_ && !skipping_) {
    keep = record_start_;
  } else if (lex_ == Lex::markup) {
    keep = mark_;  // still looking ahead at the '<'
  }
  if (mark_valid_ && mark_ < keep) {
    const Place p = place_at(mark_);
    mark_line_ = p.line;
    mark_column_ = p.column;
    mark_valid_ = false;
  }
  (void)place_at(keep);
  if (keep > 0) {
    std::memmove(buf_.get(), buf_.get() + keep, end_ - keep);
    buf_abs_ += keep;
    end_ -= keep;
    pos_ -= keep;
    counted_ -= keep;
    if (mark_valid_) mark_ -= keep;
    if (in_record_ && !skipping_) record_start_ -= keep;
  }
  auto read = grow_and_read(source_, buf_, cap_, cap_max_, end_, eof_);
  if (!read) return fail(std::move(read).error());
  if (!*read) {
    // Unreachable while next() checks the record limit first; kept so a bug cannot spin.
    const Place p = place_at(end_);
    return fail(Errc::limit, "limit.record", "markup does not fit the read buffer",
                Origin{source_.name(), p.line, p.column});
  }
  return {};
}

XmlRecordScanner::Impl::Step XmlRecordScanner::Impl::structure_error(const char* rule, std::string message, Place place,
                                                                     Error& error) {
  error = make_error(Errc::structure, rule, std::move(message), Origin{source_.name(), place.line, place.column});
  line_ = place.line;
  done_ = true;
  return Step::error;
}

Match XmlRecordScanner::Impl::prefix(std::size_t at, std::string_view literal) const {
  const std::size_t n = std::min(end_ - at, literal.size());
  if (std::memcmp(buf_.get() + at, literal.data(), n) != 0) return Match::no;
  return n < literal.size() ? Match::partial : Match::yes;
}

// Finds `terminator` from pos_. Found: pos_ moves past it. Not found: pos_ moves to where a
// terminator split by the buffer end could start, and kNotFound is returned.
std::size_t XmlRecordScanner::Impl::find_terminator(std::string_view terminator) {
  const char* b = buf_.get();
  std::size_t p = pos_;
  for (;;) {
    const auto* hit = static_cast<const char*>(std::memchr(b + p, terminator[0], end_ - p));
    if (hit == nullptr) {
      pos_ = end_;
      return kNotFound;
    }
    const std::size_t h = offset_of(hit, b);
    if (end_ - h < terminator.size()) {
      if (std::memcmp(b + h, terminator.data(), end_ - h) == 0) {
        pos_ = h;
        return kNotFound;
      }
    } else if (std::memcmp(b + h, terminator.data(), terminator.size()) == 0) {
      pos_ = h + terminator.size();
      return pos_;
    }
    p = h + 1;
  }
}

// Reads an element name starting at `from`. need_more if the name may continue past end_.
XmlRecordScanner::Impl::Step XmlRecordScanner::Impl::read_name(std::size_t from, std::size_t& name_end, Error& error) {
  const char* b = buf_.get();
  if (from >= end_) return out_of_data(error);
  if (!is_name_start(b[from])) return structure_error("xml.syntax", "invalid element name", place_at(from), error);
  std::size_t i = from + 1;
  const std::size_t limit = std::min(end_, from + kMaxNameBytes + 1);
  while (i < limit && is_name_char(b[i]))
    ++i;
  if (i - from > kMaxNameBytes) {
    return structure_error("xml.syntax", "element name longer than 1024 bytes", place_at(from), error);
  }
  if (i == end_) return out_of_data(error);
  name_end = i;
  return Step::go_on;
}

// Called when the bytes run out in the current state: ask for more, or decide what the end of
// input means here.
XmlRecordScanner::Impl::Step XmlRecordScanner::Impl::out_of_data(Error& error) {
  if (!eof_) return Step::need_more;
  switch (lex_) {
    case Lex::text:
      if (!name_starts_.empty()) {
        const std::size_t top = name_starts_.back();
        return structure_error("xml.truncated", "end of input before </" + names_.substr(top) + ">", place_at(end_),
                               error);
      }
      if (root_closed_) {
        done_ = true;
        return Step::end;
      }
      return structure_error("xml.no_root", "no root element", place_at(end_), error);
    case Lex::markup:
    case Lex::start_tag:
    case Lex::end_tag:
      return structure_error("xml.truncated", "end of input inside a tag", mark_place(), error);
    case Lex::comment:
      return structure_error("xml.truncated", "end of input inside a comment", mark_place(), error);
    case Lex::pi:
      return structure_error("xml.truncated", "end of input inside a processing instruction", mark_place(), error);
    case Lex::cdata:
      return structure_error("xml.truncated", "end of input inside a CDATA section", mark_place(), error);
  }
  return structure_error("xml.syntax", "scanner state lost", place_at(end_), error);
}

// At a '<' (mark_ == pos_): decides what it opens. Nothing is consumed until the decision is made,
// so on need_more the same '<' is looked at again after the refill.
XmlRecordScanner::Impl::Step XmlRecordScanner::Impl::open_markup(Error& error) {
  const char* b = buf_.get();
  if (end_ - pos_ < 2) return out_of_data(error);
  const char c1 = b[pos_ + 1];
  if (c1 == '?') {
    lex_ = Lex::pi;
    pos_ += 2;
    return Step::go_on;
  }
  if (c1 == '!') {
    constexpr std::string_view kComment = "<!--";
    constexpr std::string_view kCdata = "<![CDATA[";
    constexpr std::string_view kDoctype = "<!DOCTYPE";
    Match m = prefix(pos_, kComment);
    if (m == Match::yes) {
      lex_ = Lex::comment;
      pos_ += kComment.size();
      return Step::go_on;
    }
    if (m == Match::partial) return out_of_data(error);
    m = prefix(pos_, kCdata);
    if (m == Match::yes) {
      if (name_starts_.empty()) {
        return structure_error("xml.syntax", "CDATA section outside the root element", mark_place(), error);
      }
      lex_ = Lex::cdata;
      pos_ += kCdata.size();
      return Step::go_on;
    }
    if (m == Match::partial) return out_of_data(error);
    m = prefix(pos_, kDoctype);
    if (m == Match::yes) {
      return structure_error("xml.doctype", "DOCTYPE declarations are refused (no DTDs, no entity expansion)",
                             mark_place(), error);
    }
    if (m == Match::partial) return out_of_data(error);
    return structure_error("xml.syntax", "unsupported markup declaration", mark_place(), error);
  }
  std::size_t name_end = 0;
  if (c1 == '/') {
    const Step s = read_name(pos_ + 2, name_end, error);
    if (s != Step::go_on) return s;
    const std::string_view name(b + pos_ + 2, name_end - pos_ - 2);
    if (name_starts_.empty()) {
      return structure_error("xml.mismatched_tag", "end tag </" + std::string(name) + "> with no open element",
                             mark_place(), error);
    }
    const std::string_view open = std::string_view(names_).substr(name_starts_.back());
    if (name != open) {
      return structure_error("xml.mismatched_tag",
                             "end tag </" + std::string(name) + "> does not match <" + std::string(open) + ">",
                             mark_place(), error);
    }
    lex_ = Lex::end_tag;
    pos_ = name_end;
    return Step::go_on;
  }
  if (root_closed_) {
    return structure_error("xml.syntax", "element after the root element", mark_place(), error);
  }
  const Step s = read_name(pos_ + 1, name_end, error);
  if (s != Step::go_on) return s;
  const char after = b[name_end];
  if (!is_space(after) && after != '/' && after != '>') {
    return structure_error("xml.syntax", "invalid character in element name", place_at(name_end), error);
  }
  if (name_starts_.size() >= kMaxDepth) {
    return structure_error("xml.syntax", "elements nested deeper than 1024 levels", mark_place(), error);
  }
  const std::string_view name(b + pos_ + 1, name_end - pos_ - 1);
  const bool below_root = !name_starts_.empty();
  name_starts_.push_back(names_.size());
  names_.append(name);
  if (below_root && !in_record_ && name == options_.record_element) {
    in_record_ = true;
    skipping_ = false;
    record_start_ = pos_;
    record_depth_ = name_starts_.size();
    const Place p = place_at(pos_);
    record_line_ = p.line;
    record_column_ = p.column;
  }
  lex_ = Lex::start_tag;
  quote_ = 0;
  slash_ = false;
  pos_ = name_end;
  return Step::go_on;
}

// Pops the element just closed (pos_ is past its '>'); returns record when that completes one.
XmlRecordScanner::Impl::Step XmlRecordScanner::Impl::close_element(std::string_view& record_xml, Error& error) {
  names_.resize(name_starts_.back());
  name_starts_.pop_back();
  if (name_starts_.empty()) root_closed_ = true;
  if (!in_record_ || name_starts_.size() >= record_depth_) return Step::go_on;
  in_record_ = false;
  if (skipping_) {
    skipping_ = false;  // its limit error was already returned
    return Step::go_on;
  }
  line_ = record_line_;
  const std::size_t size = pos_ - record_start_;
  if (size > options_.max_record_bytes) {
    error = make_error(Errc::limit, "limit.record", "record element longer than max_record_bytes",
                       Origin{source_.name(), record_line_, record_column_});
    return Step::error;
  }
  record_xml = std::string_view(buf_.get() + record_start_, size);
  return Step::record;
}

XmlRecordScanner::Impl::Step XmlRecordScanner::Impl::scan(std::string_view& record_xml, Error& error) {
  const char* b = buf_.get();
  for (;;) {
    switch (lex_) {
      case Lex::text: {
        if (name_starts_.empty()) {
          // Outside the root element only whitespace may appear between markup.
          while (pos_ < end_ && is_space(b[pos_]))
            ++pos_;
          if (pos_ == end_) return out_of_data(error);
          if (b[pos_] != '<') {
            return structure_error("xml.syntax",
                                   root_closed_ ? "text after the root element" : "text before the root element",
                                   place_at(pos_), error);
          }
        } else {
          const auto* hit = static_cast<const char*>(std::memchr(b + pos_, '<', end_ - pos_));
          if (hit == nullptr) {
            pos_ = end_;
            return out_of_data(error);
          }
          pos_ = offset_of(hit, b);
        }
        mark_ = pos_;
        mark_valid_ = true;
        lex_ = Lex::markup;
        break;
      }
      case Lex::markup: {
        const Step s = open_markup(error);
        if (s != Step::go_on) return s;
        break;
      }
      case Lex::start_tag: {
        bool closed = false;
        while (pos_ < end_) {
          if (quote_ != 0) {
            const auto* hit = static_cast<const char*>(std::memchr(b + pos_, quote_, end_ - pos_));
            if (hit == nullptr) {
              pos_ = end_;
              break;
            }
            pos_ = offset_of(hit, b) + 1;
            quote_ = 0;
            slash_ = false;
            continue;
          }
          const char c = b[pos_];
          if (c == '>') {
            ++pos_;
            closed = true;
            break;
          }
          if (c == '"' || c == '\'') {
            quote_ = c;
          } else if (c == '<') {
            return structure_error("xml.syntax", "'<' inside a tag", place_at(pos_), error);
          }
          slash_ = c == '/';
          ++pos_;
        }
        if (!closed) return out_of_data(error);
        lex_ = Lex::text;
        if (slash_) {
          const Step s = close_element(record_xml, error);
          if (s != Step::go_on) return s;
        }
        break;
      }
      case Lex::end_tag: {
        while (pos_ < end_ && is_space(b[pos_]))
          ++pos_;
        if (pos_ == end_) return out_of_data(error);
        if (b[pos_] != '>') return structure_error("xml.syntax", "malformed end tag", place_at(pos_), error);
        ++pos_;
        lex_ = Lex::text;
        const Step s = close_element(record_xml, error);
        if (s != Step::go_on) return s;
        break;
      }
      case Lex::comment:
        if (find_terminator("-->") == kNotFound) return out_of_data(error);
        lex_ = Lex::text;
        break;
      case Lex::pi:
        if (find_terminator("?>") == kNotFound) return out_of_data(error);
        lex_ = Lex::text;
        break;
      case Lex::cdata:
        if (find_terminator("]]>") == kNotFound) return out_of_data(error);
        lex_ = Lex::text;
        break;
    }
  }
}

Result<bool> XmlRecordScanner::Impl::next(std::string_view& record_xml) {
  record_xml = {};
  if (done_) return false;
  if (!started_) {
    auto filled = fill();
    if (!filled) {
      done_ = true;
      return fail(std::move(filled).error());
    }
    if (end_ >= kBom.size() && std::memcmp(buf_.get(), kBom.data(), kBom.size()) == 0) {
      pos_ = kBom.size();
      counted_ = kBom.size();
      line_start_abs_ = kBom.size();
    }
    started_ = true;
  }
  for (;;) {
    Error error;
    switch (scan(record_xml, error)) {
      case Step::record:
        return true;
      case Step::end:
        return false;
      case Step::error:
        return fail(std::move(error));
      case Step::go_on:
      case Step::need_more:
        break;
    }
    // The open record ends past end_, so it is longer than end_ - record_start_: report it now and
    // skip the rest of it without keeping it.
    if (in_record_ && !skipping_ && end_ - record_start_ >= options_.max_record_bytes) {
      skipping_ = true;
      line_ = record_line_;
      return fail(Errc::limit, "limit.record", "record element longer than max_record_bytes",
                  Origin{source_.name(), record_line_, record_column_});
    }
    auto filled = fill();
    if (!filled) {
      done_ = true;
      return fail(std::move(filled).error());
    }
  }
}

XmlRecordScanner::XmlRecordScanner(ByteSource& source, XmlScanOptions options)
    : impl_(std::make_unique<Impl>(source, std::move(options))) {}

XmlRecordScanner::~XmlRecordScanner() = default;

Result<bool> XmlRecordScanner::next(std::string_view& record_xml) {
  return impl_->next(record_xml);
}

std::uint64_t XmlRecordScanner::line() const noexcept {
  return impl_->line_;
}

}  // namespace esrsync::codec
