#include "esrsync/model/record.hpp"

#include <algorithm>
#include <ostream>

namespace esrsync::model {

FieldValues::FieldValues(std::initializer_list<std::string_view> values) {
  reset(values.size());
  std::size_t i = 0;
  for (const auto v : values)
    set(i++, v);
}

void FieldValues::set(std::size_t i, std::string_view value) {
  if (value.empty()) {
    spans_[i] = Span{};
    return;
  }
  // A value that fits where the old one was is written there (no growth on repeated sets), unless
  // the old one is in adopted text, which other values may share.
  if (value.size() <= spans_[i].length && spans_[i].offset >= shared_end_) {
    std::memmove(text_.data() + spans_[i].offset, value.data(), value.size());
    spans_[i].length = static_cast<std::uint32_t>(value.size());
    return;
  }
  const char* const base = text_.data();
  const bool own = value.data() >= base && value.data() < base + text_.size();
  const std::size_t offset = own ? static_cast<std::size_t>(value.data() - base) : 0;
  char* const at = prepare(i, value.size());  // may move text_
  std::memmove(at, own ? text_.data() + offset : value.data(), value.size());
}

void FieldValues::resize(std::size_t count) {
  spans_.resize(count);
}

void FieldValues::grow(std::size_t length) {
  text_.resize(std::max<std::size_t>({256, text_.size() * 2, used_ + length}));
}

bool operator==(const FieldValues& a, const FieldValues& b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

void PrintTo(const FieldValues& values, std::ostream* out) {
  *out << '{';
  for (std::size_t i = 0; i < values.size(); ++i)
    *out << (i == 0 ? "\"" : ", \"") << values[i] << '"';
  *out << '}';
}

void Record::reset(Entity e) {
  entity = e;
  values.reset(entity_def(e).fields.size());
  record_type.clear();
  line = 0;
}

std::string_view Record::get(std::string_view field) const noexcept {
  const auto index = field_index(entity, field);
  if (!index || *index >= values.size()) return {};
  return values[*index];
}

bool Record::set(std::string_view field, std::string_view value) {
  const auto index = field_index(entity, field);
  if (!index) return false;
  if (values.size() != entity_def(entity).fields.size()) values.resize(entity_def(entity).fields.size());
  values.set(*index, value);
  return true;
}

std::string_view Record::key() const noexcept {
  return get(entity_def(entity).key_field);
}

}  // namespace esrsync::model
