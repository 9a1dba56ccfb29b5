// Delivers de-identified files to a destination folder, mirroring their
// relative paths (STUDY/SERIES/SOP.dcm). Each file is copied to NAME.tmp
// and renamed, so a killed store never leaves a half file where a reader
// looks, and a retried store overwrites what it wrote before.
//
// Owns: the folder destination. Does not own: PACS destinations.
#pragma once

#include <string>

#include "common/error.h"

namespace helix::dicom {

// Returns the number of files delivered. Unavailable naming the file when
// one cannot be copied (earlier files stay delivered; a retry redoes all).
Result<int> store_to_folder(const std::string& from, const std::string& to);

}  // namespace helix::dicom
