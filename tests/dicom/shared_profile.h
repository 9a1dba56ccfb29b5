// The PS3.15 profile extract the DICOM tests read: the copy in docs/ that
// helix-deid uses by default (HELIX_DEID_PROFILE, set by CMake); empty when
// it is absent (the tests then skip).
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "tasks/dicom/deid_profile.h"

namespace helix::dicom {

inline std::string read_shared_profile() {
  std::ifstream in(HELIX_DEID_PROFILE);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A fixture holding the parsed extract in profile_; each test is skipped
// when the extract is absent (gtest runs no test body after a skip in SetUp).
class SharedProfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string text = read_shared_profile();
    if (text.empty()) GTEST_SKIP() << "profile extract not present";
    auto parsed = Profile::parse(text);
    ASSERT_TRUE(parsed) << parsed.error().message();
    profile_ = std::move(*parsed);
  }
  Profile profile_;
};

}  // namespace helix::dicom
