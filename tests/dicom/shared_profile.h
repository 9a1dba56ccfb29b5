// The PS3.15 profile extract the DICOM tests read; empty when it is absent
// (the tests then skip).
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace helix::dicom {

inline std::string read_shared_profile() {
  std::ifstream in("/work/shared/docs/dicom-deid-profile.json");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace helix::dicom
