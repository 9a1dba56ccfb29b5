// Where vendors burn text into pixels: rules matched on an image's
// modality, manufacturer, model and size, each naming the rectangles to
// blank (the approach of RSNA CTP's pixel anonymizer scripts, in JSON).
//
//   {"rules": [{"name": "HelixSim Echo-1 header",
//               "match": {"Modality": "US", "Manufacturer": "HelixSim",
//                         "ManufacturerModelName": "Echo-*",
//                         "Rows": 48, "Columns": 64},
//               "regions": [{"x": 0, "y": 0, "width": 64, "height": 8}]}]}
//
// Strings match exactly or as shell globs; every match key is optional; the
// first matching rule wins. Owns: parsing and matching. Does not own:
// touching pixels (pixel_cleaner.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace helix::dicom {

struct PixelRegion {
  std::uint32_t x = 0, y = 0, width = 0, height = 0;  // columns x, rows y
};

// What a rule can be matched on, read from the image before any change.
struct ImageFacts {
  std::string modality, manufacturer, model;
  std::uint32_t rows = 0, columns = 0;
};

struct PixelRule {
  std::string name;
  std::optional<std::string> modality, manufacturer, model;  // glob patterns
  std::optional<std::uint32_t> rows, columns;
  std::vector<PixelRegion> regions;

  bool matches(const ImageFacts& facts) const;
};

class PixelRules {
 public:
  // Refuses the whole text on the first problem, naming its path
  // ("rules[1].regions[0].width") and what is wrong.
  static Result<PixelRules> parse(std::string_view json_text);

  const PixelRule* match(const ImageFacts& facts) const;
  std::size_t size() const { return rules_.size(); }

 private:
  std::vector<PixelRule> rules_;
};

}  // namespace helix::dicom
