#pragma once
// The embedded store's schema: every migration, in order. Append a new migration for a change;
// never edit one that has shipped (SqliteDb::migrate refuses a schema newer than it knows).

#include <span>

#include "esrsync/store/sqlite.hpp"

namespace esrsync::store {

[[nodiscard]] std::span<const Migration> schema_migrations() noexcept;

}  // namespace esrsync::store
