// Reading an instance for de-identification and writing the result, with
// the checks a file must pass before anything is written from it.
//
// Owns: loading with DCMTK, completeness checks (the data set ends at end
// of file, native Pixel Data is whole), and writing to a temporary name
// that is renamed into place. Does not own: what is changed (Deidentifier).
#pragma once

#include <memory>
#include <string>

#include "common/error.h"

class DcmFileFormat;

namespace helix::dicom {

// Corruption naming the problem (truncated, not DICOM, unknown transfer
// syntax, short Pixel Data): the caller quarantines the file with it.
Result<std::unique_ptr<DcmFileFormat>> load_instance(const std::string& path);

// Writes file in its current transfer syntax (the original one unless
// blanking decoded compressed pixels) to path via path + ".tmp"
// and rename, with the meta header's Media Storage SOP Instance UID taken
// from the data set and Source AE Title dropped. The directory must exist.
Result<void> save_instance(DcmFileFormat& file, const std::string& path);

}  // namespace helix::dicom
