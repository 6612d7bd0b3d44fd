#include "esrsync/store/schema.hpp"

#include <array>

#include "esrsync/store/outbox.hpp"
#include "esrsync/store/record_store.hpp"

namespace esrsync::store {

std::span<const Migration> schema_migrations() noexcept {
  static const std::array kMigrations{Outbox::kMigration, RecordStore::kMigration};
  return kMigrations;
}

}  // namespace esrsync::store
