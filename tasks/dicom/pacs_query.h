// C-FIND against a PACS (Study Root): the series that match a query, and
// the instances of one series.
//
// Matching is the PACS's: the query keys go out as given (DICOM wildcards
// and date ranges included), so what a PACS cannot match on it must say
// so itself. Studies are found first (patient, date, accession), then the
// series of each (modality), since not every PACS matches Modality at the
// study level.
//
// Owns: query keys, checking them, reading the answers. Does not own:
// retrieving (pacs_retrieve.h) or the pipeline's plan files (pacs_plan.h).
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "tasks/dicom/pacs_peer.h"
#include "tasks/dicom/work_files.h"

namespace helix::dicom {

// Empty fields match everything.
struct StudyQuery {
  std::string patient_id;  // LO, wildcards allowed
  std::string study_date;  // DA or a range: "20190101", "20190101-20191231", "-20191231"
  std::string modality;    // CS, matched per series
  std::string accession;   // SH
};

struct SeriesRef {
  std::string study_uid;
  std::string series_uid;
  std::string modality;
  int instances = 0;  // as the PACS counts them (Number of Series Related Instances)
};

struct InstanceRef {
  std::string sop_class_uid;  // empty when the PACS does not return it
  std::string sop_instance_uid;
};

// InvalidInput naming each bad field (length, characters, date format).
Result<void> check_query(const StudyQuery& query);

// The matching series, ordered by study then series UID so a repeated
// query numbers them the same. Network failures are Unavailable starting
// with "association" (pacs_peer.h); a C-FIND the PACS fails is Unavailable
// naming its status.
Result<std::vector<SeriesRef>> find_series(const PacsPeer& peer, const StudyQuery& query);

// The instances of one series (IMAGE level), ordered by SOP Instance UID.
Result<std::vector<InstanceRef>> find_instances(const PacsPeer& peer, const SeriesRef& series);

}  // namespace helix::dicom
