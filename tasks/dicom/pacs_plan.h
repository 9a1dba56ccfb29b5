// The pipeline's plan for a PACS source, in the same shape as a folder
// scan's (series_scan.h): WORK/series.json ([{"index": N, "files": K}])
// for the Map, and per series WORK/series/N.pacs.json ({study_uid,
// series_uid, modality, instances}) in place of N.list. UIDs stay in the
// work folder and never enter series.json, which the execution history
// records. Once series N is retrieved, WORK/series/N.list names its files,
// so `helix-deid run --list` reads it as it reads a scanned series.
//
// Owns: these files. Does not own: querying or retrieving (pacs_query.h,
// pacs_retrieve.h).
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "tasks/dicom/pacs_query.h"

namespace helix::dicom {

// Replaces any plan in work (WORK/series/ is emptied first).
Result<void> write_pacs_plan(const std::vector<SeriesRef>& series, const std::string& work);

// NotFound when WORK/series/N.pacs.json is missing; Corruption when it does
// not hold two UIDs.
Result<SeriesRef> read_pacs_series(const std::string& work, int index);

// WORK/retrieved/N: where series N is retrieved to.
std::string retrieved_folder(const std::string& work, int index);

// Writes WORK/series/N.list, one path a line, through a temporary name.
Result<void> write_series_list(const std::string& work, int index,
                               const std::vector<std::string>& paths);

}  // namespace helix::dicom
