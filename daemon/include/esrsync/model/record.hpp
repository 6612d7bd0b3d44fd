#pragma once
// Record: one canonical record (DOMAIN.md "Canonical model") as decoded from, or about to be encoded
// into, a file. Values are canonical text (ISO dates, normalised NHS/NI numbers, codes), indexed like
// entity_def(entity).fields; an empty string means absent. A Record is reused across a stream of
// records: its values live in one buffer that keeps its capacity (no allocation per record or per
// field on the hot path).

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "esrsync/model/schema.hpp"

namespace esrsync::model {

// memcpy for the short values of a record's fields, inline: two overlapping word copies instead of
// a library call (which costs more than the copy for a few bytes).
template <typename Word>
[[gnu::always_inline]] inline void copy_overlapping(char* to, const char* from, std::size_t n) noexcept {
  Word head{};
  Word tail{};
  std::memcpy(&head, from, sizeof(Word));
  std::memcpy(&tail, from + n - sizeof(Word), sizeof(Word));
  std::memcpy(to, &head, sizeof(Word));
  std::memcpy(to + n - sizeof(Word), &tail, sizeof(Word));
}

[[gnu::always_inline]] inline void copy_short(char* to, const char* from, std::size_t n) noexcept {
  if (n >= 8 && n <= 16) {
    copy_overlapping<std::uint64_t>(to, from, n);
  } else if (n >= 4 && n < 8) {
    copy_overlapping<std::uint32_t>(to, from, n);
  } else if (n < 4) {
    for (std::size_t i = 0; i < n; ++i)
      to[i] = from[i];
  } else {
    std::memcpy(to, from, n);
  }
}

// The values of one record's fields, held in one text buffer. Setting a value appends its text to
// the buffer and points the field at it; reset() empties them all and keeps the buffer.
class FieldValues {
 public:
  FieldValues() = default;
  FieldValues(std::initializer_list<std::string_view> values);

  // `count` empty values (inline: once per decoded record).
  void reset(std::size_t count) {
    used_ = 0;
    shared_end_ = 0;
    if (spans_.size() != count) spans_.resize(count);
    for (Span& span : spans_)
      span = Span{};
  }
  // `count` values: the first ones kept, any added empty.
  void resize(std::size_t count);
  [[nodiscard]] std::size_t size() const noexcept { return spans_.size(); }
  [[nodiscard]] std::string_view operator[](std::size_t i) const noexcept {
    return {text_.data() + spans_[i].offset, spans_[i].length};
  }
  // Sets value `i` (`value` may be a view of this object's own text).
  void set(std::size_t i, std::string_view value);
  // Makes value `i` `length` bytes long and returns where to write them (valid until the next set).
  [[gnu::always_inline]] char* prepare(std::size_t i, std::size_t length) {
    if (length > text_.size() - used_) grow(length);
    char* at = text_.data() + used_;
    spans_[i] = Span{static_cast<std::uint32_t>(used_), static_cast<std::uint32_t>(length)};
    used_ += length;
    return at;
  }
  void clear(std::size_t i) noexcept { spans_[i] = Span{}; }
  // Copies `text` into the buffer and returns where it starts: values can then be pointed at parts
  // of it with set_span(), without a copy each (a decoder adopts a record's line this way).
  std::size_t adopt(std::string_view text) {
    if (text.size() > text_.size() - used_) grow(text.size());
    const std::size_t at = used_;
    if (!text.empty()) std::memcpy(text_.data() + at, text.data(), text.size());
    used_ += text.size();
    shared_end_ = used_;
    return at;
  }
  // Value `i` is the `length` bytes at `offset` of text adopted since the last reset.
  void set_span(std::size_t i, std::size_t offset, std::size_t length) noexcept {
    spans_[i] = Span{static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(length)};
  }

  friend bool operator==(const FieldValues& a, const FieldValues& b) noexcept;

 private:
  struct Span {
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
  };
  void grow(std::size_t length);

  std::vector<char> text_;  // its size is the capacity; used_ bytes hold values
  std::size_t used_ = 0;
  std::size_t shared_end_ = 0;  // adopted text ends here: spans into it may overlap, so never rewritten
  std::vector<Span> spans_;
};

// For test failure messages.
void PrintTo(const FieldValues& values, std::ostream* out);

struct Record {
  Entity entity = Entity::person;
  std::string record_type;  // the mapping's record type, e.g. "PER" (ESR) or "immunisation" (CSV)
  std::uint64_t line = 0;   // 1-based line in the source where the record starts
  FieldValues values;

  // Clears every value and sizes `values` for `e`, keeping the buffer's capacity.
  void reset(Entity e);
  // The value of `field` ("" when absent or when the entity has no such field).
  [[nodiscard]] std::string_view get(std::string_view field) const noexcept;
  // Sets `field`; returns false when the entity has no such field.
  bool set(std::string_view field, std::string_view value);
  // The value of the entity's key field (DOMAIN.md record key used in ACK ERR lines).
  [[nodiscard]] std::string_view key() const noexcept;
};

}  // namespace esrsync::model
