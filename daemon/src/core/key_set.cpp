#include "esrsync/core/key_set.hpp"

#include <algorithm>

namespace esrsync {

void KeySet::add(std::string_view key) {
  spans_.emplace_back(static_cast<std::uint32_t>(bytes_.size()), static_cast<std::uint32_t>(key.size()));
  bytes_.append(key);
}

std::uint64_t KeySet::seal() {
  std::sort(spans_.begin(), spans_.end(), [this](const auto& a, const auto& b) {
    return std::string_view(bytes_).substr(a.first, a.second) < std::string_view(bytes_).substr(b.first, b.second);
  });
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
