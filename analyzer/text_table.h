/* SPDX-License-Identifier: MIT */
// A minimal column-aligned text table for the text report.
#ifndef BDTRACE_ANALYZER_TEXT_TABLE_H
#define BDTRACE_ANALYZER_TEXT_TABLE_H

#include <string>
#include <vector>

namespace bdtrace::analyzer {

class TextTable {
 public:
  enum class Align { kLeft, kRight };
  struct Column {
    std::string header;
    Align align;
  };

  explicit TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}
  void AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  // Rows indented by two spaces, columns separated by two spaces, no
  // trailing blanks.
  std::string Render() const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_TEXT_TABLE_H
