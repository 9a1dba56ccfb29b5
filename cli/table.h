// Plain-text tables for the terminal: a header row, left-aligned columns
// two spaces apart, long cells cut with "...". Pure.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace helix::cli {

struct Column {
  std::string title;
  size_t max_width = 0;  // 0: never cut
};

// Rows shorter than the column list are padded with empty cells. The last
// column is not padded, so no line ends in spaces. Widths count bytes:
// non-ASCII text may misalign, never break. Example:
//   render_table({{"ID"}, {"NAME", 6}}, {{"1", "alignment"}})
//   == "ID  NAME\n1   ali...\n"
std::string render_table(const std::vector<Column>& columns,
                         const std::vector<std::vector<std::string>>& rows);

// `text` cut to `max_width` bytes, the last three replaced by "..."; the
// whole text when it fits or max_width is 0. Newlines become spaces.
std::string cut(const std::string& text, size_t max_width);

}  // namespace helix::cli
