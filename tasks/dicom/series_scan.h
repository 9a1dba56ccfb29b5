// Finds the series in a folder tree: every file's header is read (up to
// Pixel Data) and files are grouped by Study and Series Instance UID. Files
// that are not readable DICOM form one group of their own, so the run
// quarantines each with its reason instead of losing it silently.
//
// The plan is written to a work folder as WORK/series/N.list (one path per
// line) and WORK/series.json ([{"index": N, "files": K}, ...]): the
// pipeline's Map reads series.json, and neither UIDs nor paths (which can
// name patients) enter the execution history.
//
// Owns: discovery and grouping. Does not own: de-identifying (deid_run.h).
#pragma once

#include <string>
#include <vector>

#include "common/error.h"

namespace helix::dicom {

struct SeriesPlan {
  std::vector<std::vector<std::string>> series;  // paths, sorted; series ordered by first path
  std::vector<std::string> unreadable;           // not DICOM or no Series Instance UID
};

// Unavailable when folder cannot be listed.
Result<SeriesPlan> scan_folder(const std::string& folder);

// Writes the plan; the unreadable group, when there is one, is the last
// index. Existing plan files in work are replaced.
Result<void> write_plan(const SeriesPlan& plan, const std::string& work);

}  // namespace helix::dicom
