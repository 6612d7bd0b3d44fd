#pragma once
// A real SQLite store at the newest schema, for unit tests of everything that sits on the store.

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <vector>

#include "esrsync/store/schema.hpp"
#include "esrsync/store/sqlite.hpp"

namespace esrsync::test {

// Opens (creating) the store at `path` and runs every migration; nullopt (and a test failure) if
// either fails.
inline std::optional<store::SqliteDb> open_migrated_store(const std::filesystem::path& path) {
  auto opened = store::SqliteDb::open(path.string());
  if (!opened) {
    ADD_FAILURE() << opened.error().to_string();
    return std::nullopt;
  }
  if (auto ok = opened->migrate(store::schema_migrations()); !ok) {
    ADD_FAILURE() << ok.error().to_string();
    return std::nullopt;
  }
  return std::optional<store::SqliteDb>(std::move(*opened));
}

// The migrations before schema `version`: a store as an older esrsync left it, for upgrade tests.
inline std::vector<store::Migration> migrations_before(int version) {
  std::vector<store::Migration> out;
  for (const auto& m : store::schema_migrations()) {
    if (m.version < version) out.push_back(m);
  }
  return out;
}

}  // namespace esrsync::test
