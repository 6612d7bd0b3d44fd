#include "esrsync/core/key_set.hpp"

#include <algorithm>

namespace esrsync {

void KeySet::add(std::string_view key) {
  spans_.emplace_back(static_cast<std::uint32_t>(bytes_.size()), static_cast<std::uint32_t>(key.size()));
  bytes_.append(key);
}

std::uint64_t KeySet::seal(std::vector<std::string>* repeated, std::size_t limit) {
  std::sort(spans_.begin(), spans_.end(), [this](const auto& a, const auto& b) {
    return std::string_view(bytes_).substr(a.first, a.second) < std::string_view(bytes_).substr(b.first, b.second);
  });
  if (repeated != nullptr) {
    std::size_t listed = 0;
    for (std::size_t i = 1; i < spans_.size() && listed < limit; ++i) {
      // The first repeat of a key lists it; the key's further repeats follow it and are not listed again.
      if (at(i) == at(i - 1) && (i < 2 || at(i - 1) != at(i - 2))) {
        repeated->emplace_back(at(i));
        ++listed;
      }
    }
  }
  const auto before = spans_.size();
  spans_.erase(std::unique(spans_.begin(), spans_.end(),
                           [this](const auto& a, const auto& b) {
                             return std::string_view(bytes_).substr(a.first, a.second) ==
                                    std::string_view(bytes_).substr(b.first, b.second);
                           }),
               spans_.end());
  return before - spans_.size();
}

bool KeySet::contains_ascending(std::size_t& cursor, std::string_view key) const {
  if (cursor > spans_.size() || (cursor > 0 && key < at(cursor - 1))) {
    std::size_t lo = 0;
    std::size_t hi = spans_.size();
    while (lo < hi) {  // lower bound
      const std::size_t mid = lo + (hi - lo) / 2;
      if (at(mid) < key) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    cursor = lo;
  }
  while (cursor < spans_.size() && at(cursor) < key)
    ++cursor;
  return cursor < spans_.size() && at(cursor) == key;
}

bool KeySet::contains(std::string_view key) const {
  std::size_t lo = 0;
  std::size_t hi = spans_.size();
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const auto k = at(mid);
    if (k == key) return true;
    if (k < key) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return false;
}

}  // namespace esrsync
