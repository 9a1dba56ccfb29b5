#include "tasks/genomics/consequence_terms.h"

#include <vector>

namespace helix::genomics {

namespace {

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

void add_words(std::string_view field, std::set<std::string>& terms) {
  for (std::string_view word : split(field, '&'))
    if (!word.empty()) terms.emplace(word);
}

}  // namespace

std::set<std::string> bcsq_terms(std::string_view bcsq) {
  std::set<std::string> terms;
  for (std::string_view entry : split(bcsq, ',')) {
    // "." is VCF's missing value, not a consequence.
    if (entry.empty() || entry == "." || entry.front() == '@') continue;
    add_words(entry.substr(0, entry.find('|')), terms);
  }
  return terms;
}

std::set<std::string> ann_terms(std::string_view ann) {
  std::set<std::string> terms;
  for (std::string_view entry : split(ann, ',')) {
    const std::vector<std::string_view> fields = split(entry, '|');
    if (fields.size() >= 2) add_words(fields[1], terms);
  }
  return terms;
}

}  // namespace helix::genomics
