#include "tasks/genomics/regions_json.h"

#include <nlohmann/json.hpp>

namespace helix::genomics {

std::string regions_json(const std::vector<Region>& regions) {
  // Written by hand rather than by json::dump so the key order ("region"
  // before "index") matches the awk job's output byte for byte.
  std::string text = "[";
  for (size_t index = 0; index < regions.size(); ++index) {
    const Region& region = regions[index];
    if (index > 0) text += ',';
    const std::string name =
        region.contig + ':' + std::to_string(region.first) + '-' + std::to_string(region.last);
    text +=
        "{\"region\":" + nlohmann::json(name).dump() + ",\"index\":" + std::to_string(index) + "}";
  }
  text += "]\n";
  return text;
}

}  // namespace helix::genomics
