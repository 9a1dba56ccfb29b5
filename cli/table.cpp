#include "cli/table.h"

#include <algorithm>

namespace helix::cli {

std::string cut(const std::string& text, size_t max_width) {
  std::string one_line = text;
  std::replace(one_line.begin(), one_line.end(), '\n', ' ');
  if (max_width == 0 || one_line.size() <= max_width) return one_line;
  if (max_width <= 3) return one_line.substr(0, max_width);
  return one_line.substr(0, max_width - 3) + "...";
}

std::string render_table(const std::vector<Column>& columns,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::vector<std::string>> cells;
  std::vector<std::string> header;
  for (const auto& c : columns) header.push_back(c.title);
  cells.push_back(header);
  for (const auto& row : rows) {
    std::vector<std::string> line;
    for (size_t i = 0; i < columns.size(); ++i)
      line.push_back(cut(i < row.size() ? row[i] : std::string(), columns[i].max_width));
    cells.push_back(std::move(line));
  }
  std::vector<size_t> width(columns.size(), 0);
  for (const auto& line : cells)
    for (size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
  std::string out;
  for (const auto& line : cells) {
    std::string text;
    for (size_t i = 0; i < line.size(); ++i) {
      text += line[i];
      if (i + 1 < line.size()) text += std::string(width[i] - line[i].size() + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  }
  return out;
}

}  // namespace helix::cli
