#include "esrsync/model/record.hpp"

namespace esrsync::model {

void Record::reset(Entity e) {
  entity = e;
  const std::size_t n = entity_def(e).fields.size();
  if (values.size() != n) values.resize(n);
  for (auto& v : values)
    v.clear();
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
  values[*index].assign(value);
  return true;
}

std::string_view Record::key() const noexcept {
  return get(entity_def(entity).key_field);
}

}  // namespace esrsync::model
