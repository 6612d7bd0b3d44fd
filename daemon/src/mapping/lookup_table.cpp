#include "esrsync/mapping/lookup_table.hpp"

#include <algorithm>

#include "esrsync/codec/byte_source.hpp"
#include "esrsync/codec/csv_reader.hpp"
#include "esrsync/model/text_encoding.hpp"

namespace esrsync::mapping {

std::string LookupTable::normalise_key(std::string_view key) {
  const auto first = key.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = key.find_last_not_of(" \t");
  std::string out(key.substr(first, last - first + 1));
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Result<LookupTable> LookupTable::load(const std::string& path) {
  auto source = codec::open_file_source(path);
  if (!source) {
    Error e = std::move(source).error();
    e.rule = "lookup.open";
    e.message = "lookup table " + e.message;
    return fail(std::move(e));
  }
  codec::CsvReader reader(**source, codec::CsvOptions{});
  LookupTable table;
  table.path_ = path;
  std::vector<std::string_view> fields;
  bool have_header = false;
  for (;;) {
    auto more = reader.next(fields);
    if (!more) {
      Error e = std::move(more).error();
      e.code = Errc::mapping;
      e.rule = "lookup.parse";
      return fail(std::move(e));
    }
    if (!*more) break;
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    for (const auto f : fields) {
      if (model::find_invalid_utf8(f) != std::string_view::npos) {
        return fail(Errc::mapping, "lookup.parse", "lookup table is not valid UTF-8", Origin{path, reader.line()});
      }
    }
    if (!have_header) {
      for (const auto f : fields)
        table.columns_.push_back(normalise_key(f));
      have_header = true;
      continue;
    }
    if (fields.size() != table.columns_.size()) {
      return fail(Errc::mapping, "lookup.row_width",
                  "row has " + std::to_string(fields.size()) + " columns, the header has " +
                      std::to_string(table.columns_.size()),
                  Origin{path, reader.line()});
    }
    table.rows_.emplace_back(fields.begin(), fields.end());
    table.row_lines_.push_back(reader.line());
  }
  if (!have_header) return fail(Errc::mapping, "lookup.empty", "lookup table has no header row", Origin{path});
  table.indexes_.resize(table.columns_.size());
  for (std::size_t c = 0; c < table.columns_.size(); ++c) {
    auto& rows = table.indexes_[c].rows;
    rows.reserve(table.rows_.size());
    for (std::size_t r = 0; r < table.rows_.size(); ++r)
      rows.emplace(normalise_key(table.rows_[r][c]), r);
  }
  return table;
}

std::optional<std::size_t> LookupTable::column(std::string_view name) const noexcept {
  const std::string key = normalise_key(name);
  const auto it = std::find(columns_.begin(), columns_.end(), key);
  if (it == columns_.end()) return std::nullopt;
  return static_cast<std::size_t>(it - columns_.begin());
}

std::vector<Error> LookupTable::duplicate_keys(std::size_t key_column) const {
  std::vector<Error> out;
  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t r = 0; r < rows_.size(); ++r) {
    auto [it, inserted] = seen.emplace(normalise_key(rows_[r][key_column]), r);
    if (!inserted) {
      out.push_back(make_error(Errc::mapping, "lookup.duplicate_key",
                               "key '" + rows_[r][key_column] + "' in column '" + columns_[key_column] +
                                   "' already appears on line " + std::to_string(row_lines_[it->second]),
                               Origin{path_, row_lines_[r]}));
    }
  }
  return out;
}

const LookupTable::Index& LookupTable::index_for(std::size_t key_column) const {
  return indexes_[key_column];
}

std::optional<std::string_view> LookupTable::find(std::size_t key_column, std::string_view key,
                                                  std::size_t value_column) const {
  if (key_column >= indexes_.size() || value_column >= columns_.size()) return std::nullopt;
  const auto& rows = index_for(key_column).rows;
  const auto it = rows.find(normalise_key(key));
  if (it == rows.end()) return std::nullopt;
  return std::string_view(rows_[it->second][value_column]);
}

}  // namespace esrsync::mapping
