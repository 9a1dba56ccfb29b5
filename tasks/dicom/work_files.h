// The files helix-deid writes in a pipeline's work folder, and the UIDs it
// names files by.
//
// Owns: WORK/series.json, and which UIDs may name a file. Files are written
// whole (tasks/common/whole_file.h). Does not own: what a plan lists
// (series_scan.h, pacs_plan.h).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/error.h"

namespace helix::dicom {

// WORK/series.json: [{"index": N, "files": K}, ...] for the Map; no UID or
// path, so nothing from the images enters the execution history.
Result<void> write_series_index(const std::string& work, const std::vector<std::size_t>& files);

// Whether text is a DICOM UID we are willing to use as a file name: 1-64
// characters, digits and dots, no empty component (a crafted "../x" is
// not one).
bool is_uid(const std::string& text);

}  // namespace helix::dicom
