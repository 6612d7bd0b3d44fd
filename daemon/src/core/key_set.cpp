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
  // Drops repeats in one pass (as std::unique), listing each repeated key the first time it repeats.
  std::uint64_t repeats = 0;
  std::size_t kept = 0;
  std::size_t listed = 0;
  bool listed_this_key = false;
  for (std::size_t i = 0; i < spans_.size(); ++i) {
    if (kept > 0 && at(i) == at(kept - 1)) {
      ++repeats;
      if (repeated != nullptr && !listed_this_key && listed < limit) {
        repeated->emplace_back(at(i));
        ++listed;
        listed_this_key = true;
      }
      continue;
    }
    spans_[kept++] = spans_[i];
    listed_this_key = false;
  }
  spans_.resize(kept);
  return repeats;
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
