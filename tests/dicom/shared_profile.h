// The PS3.15 profile extract the DICOM tests read: the copy in docs/ that
// helix-deid uses by default (HELIX_DEID_PROFILE, set by CMake); empty when
// it is absent (the tests then skip).
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace helix::dicom {

inline std::string read_shared_profile() {
  std::ifstream in(HELIX_DEID_PROFILE);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace helix::dicom
