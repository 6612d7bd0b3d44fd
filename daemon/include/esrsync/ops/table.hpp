#pragma once
// The human output of a listing (DESIGN.md: short tables). Each column has its usual width and
// grows when a value needs more (a clearance's key, a long file name), so the columns stay in line
// whatever the data; numbers are right-aligned. The last column is not padded.

#include <cstdio>
#include <string>
#include <vector>

namespace esrsync::ops {

class Table {
 public:
  struct Column {
    std::string title;
    std::size_t width = 0;  // the usual width; the column is never narrower
    bool right = false;     // right-aligned (numbers)
    std::size_t gap = 1;    // spaces before the column (none before the first)
  };

  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

  // One cell per column.
  void add(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  // The header line, then a line per row.
  void print(std::FILE* out) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace esrsync::ops
