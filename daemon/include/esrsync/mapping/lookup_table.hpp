#pragma once
// LookupTable: a CSV code-translation table under mappings/lookups/ (DOMAIN.md "Antigens": local
// vaccine/test names -> canonical codes). The first row names the columns; every other row is one
// entry. Keys are matched after trimming and ASCII case folding, so "measles igg " finds
// "Measles IgG". A key that appears twice in the key column is a definition error.
//
// Immutable after load: safe to share between mappings and threads.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "esrsync/core/result.hpp"

namespace esrsync::mapping {

class LookupTable {
 public:
  // Loads `path`. Errors (Errc::mapping unless noted): lookup.open (Errc::io), lookup.parse,
  // lookup.empty (no header row), lookup.row_width (a row with a different number of columns).
  static Result<LookupTable> load(const std::string& path);

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] std::optional<std::size_t> column(std::string_view name) const noexcept;
  [[nodiscard]] const std::vector<std::string>& columns() const noexcept { return columns_; }

  // Every key that appears more than once in `key_column`, each as an error at its second line.
  [[nodiscard]] std::vector<Error> duplicate_keys(std::size_t key_column) const;

  // The `value_column` cell of the row whose `key_column` matches `key`; nullopt when none does.
  [[nodiscard]] std::optional<std::string_view> find(std::size_t key_column, std::string_view key,
                                                     std::size_t value_column) const;

  // The normalised form keys are compared in (trimmed, ASCII lower case).
  static std::string normalise_key(std::string_view key);

 private:
  struct Index {
    std::unordered_map<std::string, std::size_t> rows;  // normalised key -> row
  };
  const Index& index_for(std::size_t key_column) const;

  std::string path_;
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::uint64_t> row_lines_;
  std::vector<Index> indexes_;  // one per column, built at load
};

}  // namespace esrsync::mapping
