// One de-identification run over a list of files (a series, as the
// pipeline's Map hands them out): each file is de-identified into the
// output folder or quarantined with its reason; an audit line per file and
// the UID and pseudonym tables are written for the run.
//
// Owns: the per-file outcome, the audit log and the mapping tables. Does
// not own: the element rules (Deidentifier) or file checks (dicom_file.h).
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "tasks/dicom/deidentifier.h"

namespace helix::dicom {

struct RunPaths {
  std::string output;      // STUDY/SERIES/SOP.dcm (new UIDs) are written under it
  std::string quarantine;  // NAME.reason.txt per refused file (the original is not copied)
  std::string audit;       // JSON lines, appended
  std::string maps;        // folder of NAME.uids.tsv / NAME.pseudonyms.tsv (mode 0600)
  std::string run_name;    // names the map files of this run
  std::string tiff;        // folder for TIFF copies of the de-identified pixels, empty = none
};

struct RunSummary {
  int deidentified = 0;
  int quarantined = 0;
};

// threads: files de-identified at once (each file is independent; the
// audit log and tables come out in input order whatever the number).
Result<RunSummary> run_deidentification(const Deidentifier& deid,
                                        const std::vector<std::string>& inputs,
                                        const std::vector<std::string>& options,
                                        const RunPaths& paths, int threads = 1);

}  // namespace helix::dicom
