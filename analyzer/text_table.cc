// SPDX-License-Identifier: MIT
#include "text_table.h"

#include <algorithm>

namespace bdtrace::analyzer {

std::string TextTable::Render() const {
  std::vector<size_t> width(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) width[c] = columns_[c].header.size();
  for (const auto &row : rows_) {
    for (size_t c = 0; c < columns_.size() && c < row.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  std::string out;
  const auto emit = [&](const auto &cell_at) {
    std::string line = " ";
    for (size_t c = 0; c < columns_.size(); ++c) {
      const std::string &cell = cell_at(c);
      const std::string pad(width[c] - std::min(width[c], cell.size()), ' ');
      line += "  ";
      line += columns_[c].align == Align::kRight ? pad + cell : cell + pad;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  emit([&](size_t c) -> const std::string & { return columns_[c].header; });
  static const std::string kEmpty;
  for (const auto &row : rows_) {
    emit([&](size_t c) -> const std::string & { return c < row.size() ? row[c] : kEmpty; });
  }
  return out;
}

}  // namespace bdtrace::analyzer
