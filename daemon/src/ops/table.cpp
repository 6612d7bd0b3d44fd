#include "esrsync/ops/table.hpp"

#include <algorithm>

namespace esrsync::ops {

void Table::print(std::FILE* out) const {
  std::vector<std::size_t> widths;
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    std::size_t width = std::max(columns_[c].width, columns_[c].title.size());
    for (const auto& row : rows_) {
      if (c < row.size()) width = std::max(width, row[c].size());
    }
    widths.push_back(width);
  }
  const auto line = [&](const auto& cell_of) {
    std::string text;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const std::string& cell = cell_of(c);
      if (c > 0) text.append(columns_[c].gap, ' ');
      const std::size_t pad = widths[c] - std::min(widths[c], cell.size());
      const bool last = c + 1 == columns_.size();
      if (columns_[c].right) text.append(pad, ' ');
      text += cell;
      if (!columns_[c].right && !last) text.append(pad, ' ');
    }
    text += '\n';
    std::fwrite(text.data(), 1, text.size(), out);
  };
  line([&](std::size_t c) -> const std::string& { return columns_[c].title; });
  static const std::string kNone;
  for (const auto& row : rows_)
    line([&](std::size_t c) -> const std::string& { return c < row.size() ? row[c] : kNone; });
}

}  // namespace esrsync::ops
