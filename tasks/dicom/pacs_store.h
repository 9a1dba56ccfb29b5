// Sending files to a PACS with C-STORE, each in its own transfer syntax.
//
// Every file's header is read first (a file that is not DICOM fails the
// call before anything is sent). For each SOP class the association
// proposes one context per transfer syntax the files hold, plus explicit
// little endian: a file goes as it is when the PACS accepts its syntax,
// otherwise DCMTK decodes it to explicit little endian (lossless).
//
// Owns: C-STORE of a list of files. Does not own: which files (the CLI's
// pacs-store lists a folder) or retrieval (pacs_retrieve.h).
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "tasks/dicom/pacs_peer.h"

namespace helix::dicom {

// Returns the number of files stored. Stops at the first failure, naming
// the file: Unavailable with the DIMSE status when the PACS refuses one
// (earlier files stay stored; a retry sends all again, which a PACS takes
// as the same instances), Unavailable starting with "association" for
// network failures, Corruption for a file that cannot be read.
Result<int> store_files(const PacsPeer& peer, const std::vector<std::string>& files);

}  // namespace helix::dicom
