#include "tasks/dicom/pixel_rules.h"

#include <gtest/gtest.h>

namespace helix::dicom {
namespace {

const char* kRules = R"({"rules": [
  {"name": "echo header", "match": {"Modality": "US", "Manufacturer": "HelixSim",
     "ManufacturerModelName": "Echo-*", "Rows": 48, "Columns": 64},
   "regions": [{"x": 0, "y": 0, "width": 64, "height": 8}]},
  {"name": "any CT", "match": {"Modality": "CT"},
   "regions": [{"x": 2, "y": 3, "width": 4, "height": 5}, {"x": 0, "y": 0, "width": 1, "height": 1}]}
]})";

TEST(DicomPixelRules, FirstMatchingRuleWinsWithGlobsAndExactSizes) {
  auto rules = PixelRules::parse(kRules);
  ASSERT_TRUE(rules) << rules.error().to_string();
  EXPECT_EQ(rules->size(), 2u);
  const PixelRule* echo = rules->match({"US", "HelixSim", "Echo-1", 48, 64});
  ASSERT_NE(echo, nullptr);
  EXPECT_EQ(echo->name, "echo header");
  EXPECT_EQ(echo->regions.at(0).width, 64u);
  EXPECT_EQ(rules->match({"US", "HelixSim", "Echo-1", 48, 65}), nullptr);  // other size
  EXPECT_EQ(rules->match({"US", "HelixSim", "Scan-8", 48, 64}), nullptr);  // other model
  EXPECT_EQ(rules->match({"US", "UnknownVendor", "Echo-1", 48, 64}), nullptr);
  const PixelRule* ct = rules->match({"CT", "", "", 512, 512});
  ASSERT_NE(ct, nullptr);
  EXPECT_EQ(ct->regions.size(), 2u);
  EXPECT_EQ(ct->regions[0].y, 3u);
}

// Each broken file is refused whole, naming where and what.
TEST(DicomPixelRules, RefusesBrokenRulesNamingTheField) {
  struct Case {
    const char* text;
    const char* names;
  } cases[] = {
      {"{", "not valid JSON"},
      {R"({"rule": []})", "rules"},
      {R"({"rules": [{"match": {}, "regions": [{"x":0,"y":0,"width":1,"height":1}]}]})",
       "rules[0].name"},
      {R"({"rules": [{"name": "a", "match": {"Modality": 3},
          "regions": [{"x":0,"y":0,"width":1,"height":1}]}]})",
       "rules[0].match.Modality"},
      {R"({"rules": [{"name": "a", "match": {"Vendor": "x"},
          "regions": [{"x":0,"y":0,"width":1,"height":1}]}]})",
       "rules[0].match.Vendor"},
      {R"({"rules": [{"name": "a", "match": {"Rows": 0},
          "regions": [{"x":0,"y":0,"width":1,"height":1}]}]})",
       "rules[0].match.Rows"},
      {R"({"rules": [{"name": "a", "regions": []}]})", "rules[0].regions"},
      {R"({"rules": [{"name": "a", "regions": [{"x":0,"y":0,"width":0,"height":1}]}]})",
       "rules[0].regions[0].width"},
      {R"({"rules": [{"name": "a", "regions": [{"x":-1,"y":0,"width":1,"height":1}]}]})",
       "rules[0].regions[0].x"},
      {R"({"rules": [{"name": "a", "regions": [{"x":0,"width":1,"height":1}]}]})",
       "rules[0].regions[0].y"},
      {R"({"rules": [{"name": "a", "regions": [{"x":0,"y":0,"width":1,"height":1}],
          "color": 1}]})",
       "rules[0].color"},
  };
  for (const auto& c : cases) {
    auto rules = PixelRules::parse(c.text);
    ASSERT_FALSE(rules) << c.text;
    EXPECT_NE(rules.error().to_string().find(c.names), std::string::npos)
        << c.text << " -> " << rules.error().to_string();
  }
}

}  // namespace
}  // namespace helix::dicom
