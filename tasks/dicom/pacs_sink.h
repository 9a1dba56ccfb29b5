// Where retrieved instances land: FOLDER/<SOP Instance UID>.dcm, each
// received as the PACS sent it (bit-preserving, straight to disk) into
// NAME.tmp and renamed once checked, so a reader or a retried retrieval
// never sees half a file.
//
// The check is what keeps a stray or hostile sender out of the folder: the
// SOP Instance UID must be a UID (it becomes a file name), and the file must
// be DICOM of the series asked for, holding the SOP Instance UID the
// C-STORE announced.
//
// Owns: file names, the checks, the record of what was written. Does not
// own: the network side (C-GET in DcmSCU, C-MOVE in our storage SCP; see
// pacs_retrieve.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace helix::dicom {

class InstanceSink {
 public:
  InstanceSink(std::string folder, std::string series_uid);

  // Creates the folder; Unavailable when it cannot.
  Result<void> prepare();

  // The temporary path to receive the announced instance into, or nothing
  // (and a recorded problem) when its UID cannot name a file.
  std::optional<std::string> begin(const std::string& sop_instance_uid);

  // After the data set was received into the temporary path: checks it and
  // renames it into place. Returns the C-STORE status to answer (Success,
  // or a failure, with the problem recorded).
  unsigned finish(const std::string& sop_instance_uid, bool received);

  // Paths written, in arrival order.
  const std::vector<std::string>& written() const { return written_; }
  // The first problem, if any: it explains a failed retrieval better than
  // the network error that may follow it.
  const std::optional<Error>& problem() const { return problem_; }

 private:
  void record(Error error);

  std::string folder_;
  std::string series_uid_;
  std::vector<std::string> written_;
  std::optional<Error> problem_;
};

}  // namespace helix::dicom
