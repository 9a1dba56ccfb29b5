#include "tasks/dicom/deid_profile.h"

#include "tests/dicom/shared_profile.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace helix::dicom {
namespace {

TEST(DicomProfile, ParsesTheAnnexETable) {
  const std::string text = read_shared_profile();
  if (text.empty()) GTEST_SKIP() << "profile extract not present";
  auto profile = Profile::parse(text);
  ASSERT_TRUE(profile) << profile.error().message();
  EXPECT_GT(profile->size(), 500u);
  EXPECT_TRUE(profile->option_keys().count("retain_uids"));
  // PatientName (0010,0010) is Z in the basic profile.
  EXPECT_EQ(profile->action(make_tag(0x0010, 0x0010), {}), "Z");
  // StudyInstanceUID is U, kept with the Retain UIDs option.
  EXPECT_EQ(profile->action(make_tag(0x0020, 0x000D), {}), "U");
  EXPECT_EQ(profile->action(make_tag(0x0020, 0x000D), {"retain_uids"}), "K");
  // A tag outside the table has no action.
  EXPECT_EQ(profile->action(make_tag(0x7FE0, 0x0010), {}), "");
}

TEST(DicomProfile, OptionThatKeepsMostWins) {
  const char* json = R"({"options":[{"key":"a"},{"key":"b"}],"attributes":[
    {"group":"0008","element":"0020","match":"exact","basic_action":"X",
     "options":{"a":"C","b":"K"}},
    {"group":"50xx","element":"xxxx","match":"repeating","basic_action":"X"}]})";
  auto profile = Profile::parse(json);
  ASSERT_TRUE(profile);
  EXPECT_EQ(profile->size(), 1u);
  const Tag tag = make_tag(0x0008, 0x0020);
  EXPECT_EQ(profile->action(tag, {}), "X");
  EXPECT_EQ(profile->action(tag, {"a"}), "C");
  EXPECT_EQ(profile->action(tag, {"a", "b"}), "K");
  EXPECT_EQ(profile->action(tag, {"unrelated"}), "X");
}

TEST(DicomProfile, RejectsBadDocuments) {
  EXPECT_FALSE(Profile::parse("not json"));
  EXPECT_FALSE(Profile::parse(R"({"attributes":3})"));
  auto bad = Profile::parse(
      R"({"attributes":[{"group":"00G8","element":"0020","match":"exact","basic_action":"X"}]})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidInput);
  EXPECT_FALSE(
      Profile::parse(R"({"attributes":[{"group":"0008","element":"0020","match":"exact"}]})"));
}

// The safe private list Retain Safe Private keeps, from the extract.
TEST(DicomProfile, ReadsTheSafePrivateList) {
  const std::string text = read_shared_profile();
  if (text.empty()) GTEST_SKIP() << "profile extract not present";
  auto profile = Profile::parse(text);
  ASSERT_TRUE(profile) << profile.error().to_string();
  EXPECT_EQ(profile->safe_private().size(), 130u);
  bool philips_suv = false;
  for (const auto& row : profile->safe_private()) {
    EXPECT_EQ(row.group & 1, 1) << row.creator;
    philips_suv |=
        row.creator == "Philips PET Private Group" && row.group == 0x7053 && row.element == 0x00;
  }
  EXPECT_TRUE(philips_suv);
  auto bad = Profile::parse(R"json({"attributes": [], "safe_private_attributes_sample_2020":
      [{"element": "(0008,xx00)", "private_creator": "X"}]})json");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().to_string().find("safe_private_attributes_sample_2020[0]"),
            std::string::npos);
}

}  // namespace
}  // namespace helix::dicom
