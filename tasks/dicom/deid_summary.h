// The audit summary of one pipeline run: what the per-series audit logs
// (WORK/audit/N.jsonl) and rejections (WORK/rejected/N.json) say, counted.
// Reasons are the de-identifier's own texts, which name problems and
// never values from the files.
//
// Owns: reading those files back. Does not own: writing them (deid_run.h,
// the pipeline's reject task).
#pragma once

#include <string>

#include "common/error.h"

namespace helix::dicom {

// {"series": N, "series_rejected": [index, ...], "files": N, "deidentified": N,
//  "delivered": N, "quarantined": N, "quarantine_reasons": {reason: count}}
// also written to WORK/summary.json. Corruption naming the file when an
// audit line is not JSON.
Result<std::string> summarize_run(const std::string& work);

}  // namespace helix::dicom
