// Retrieving one series from a PACS into a folder, by C-GET (the PACS sends
// the instances back on our association) or by C-MOVE (the PACS opens its
// own associations to a storage SCP we run for the duration of the call).
//
// Both first list the series' instances (C-FIND, IMAGE level): that names
// the SOP classes to negotiate for C-GET, and lets the retrieval fail
// unless every listed instance arrived. Files are written by InstanceSink
// (pacs_sink.h): FOLDER/<SOP Instance UID>.dcm, as the PACS sent them.
//
// Owns: the C-GET and C-MOVE exchanges and our temporary storage SCP.
// Does not own: queries (pacs_query.h), sending (pacs_store.h).
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "tasks/dicom/pacs_peer.h"
#include "tasks/dicom/pacs_query.h"

namespace helix::dicom {

// Returns the paths written, sorted. Network failures are Unavailable
// starting with "association"; sub-operations the PACS reports failed, or
// listed instances that never arrived, are Unavailable naming the counts;
// an instance that is not of the series is Corruption.
Result<std::vector<std::string>> retrieve_series_get(const PacsPeer& peer, const SeriesRef& series,
                                                     const std::string& folder);

// The same by C-MOVE to our_ae, listening on our_port (all interfaces, as
// DCMTK 3.6.7 cannot bind one; only associations called our_ae are
// accepted, and only instances of the series are kept). The PACS must know
// our_ae at this host and port.
Result<std::vector<std::string>> retrieve_series_move(const PacsPeer& peer, const SeriesRef& series,
                                                      const std::string& our_ae, int our_port,
                                                      const std::string& folder);

}  // namespace helix::dicom
