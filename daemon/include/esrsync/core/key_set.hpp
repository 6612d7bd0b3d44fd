#pragma once
// A compact set of short strings (record keys) built by appending, then sealed (sorted) and
// queried: the keys a FULL extract carried, so the ones it no longer carries can be found without
// writing anything to the records it left unchanged. About 8 bytes per key plus the key bytes
// (3.45 M ESR keys: ~45 MB), exact (no hashing, so never a false "seen"). Not thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace esrsync {

class KeySet {
 public:
  void add(std::string_view key);
  // Sorts the keys and drops repeats; returns how many adds repeated a key already added. Each key
  // that came more than once is appended to `repeated` (if given), the first `limit` of them in
  // key order.
  std::uint64_t seal(std::vector<std::string>* repeated = nullptr, std::size_t limit = 0);
  // After seal().
  [[nodiscard]] bool contains(std::string_view key) const;
  // After seal(), for keys asked in ascending order (a sorted scan of the store): `cursor` (0 at
  // first) keeps the place, so the scan costs one pass over the set instead of a binary search per
  // key. A key below the one before is looked up by binary search. Same answers as contains().
  [[nodiscard]] bool contains_ascending(std::size_t& cursor, std::string_view key) const;
  [[nodiscard]] std::size_t size() const noexcept { return spans_.size(); }

 private:
  [[nodiscard]] std::string_view at(std::size_t i) const noexcept {
    return std::string_view(bytes_).substr(spans_[i].first, spans_[i].second);
  }

  std::string bytes_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> spans_;  // (offset, length) into bytes_
};

}  // namespace esrsync
