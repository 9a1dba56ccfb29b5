// whole_file: writes a whole file as PATH.tmp, then renames it to PATH, so a
// killed task never leaves a complete-looking PATH and a reader never sees
// half of one (the rule every genomics job follows,
// jobdefs/genomics/README.md; helix-deid's work files too). A retried
// attempt overwrites both.
#pragma once

#include <string>

#include "common/error.h"

namespace helix::tasks {

// Unavailable, naming the file, when the write or the rename fails; PATH.tmp
// is removed then.
[[nodiscard]] Result<void> write_file_atomically(const std::string& path,
                                                 const std::string& contents);

}  // namespace helix::tasks
