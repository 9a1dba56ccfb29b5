// The SigV4 region and key pair the CLI signs with when it reaches helixd
// over http:// (a Unix socket needs neither).
//
// Owns: the lookup order. Reads the credentials files it names; does not
// write them and does not contact helixd.
#pragma once

#include <sys/types.h>

#include <string>

#include "cli/environment.h"
#include "common/error.h"
#include "protocol/sigv4.h"

namespace helix::cli {

// AWS_DEFAULT_REGION, else AWS_REGION, else "us-east-1". helixd answers for
// any region; the region only has to be the one that was signed.
std::string resolve_region(const EnvLookup& env);

// The first of, in order:
// 1. AWS_ACCESS_KEY_ID with AWS_SECRET_ACCESS_KEY (one without the other is
//    an InvalidInput error naming the missing one);
// 2. the profile AWS_PROFILE of the shared-credentials file
//    (AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials); a named
//    profile that is missing is an error, never skipped;
// 3. without AWS_PROFILE: profile "default" of that file, else its profile
//    "helix" (what `helix credentials >> ~/.aws/credentials` appends);
// 4. profile "helix" of default_state_dir()/credentials, which helixd writes
//    for the user it runs as.
// NotFound listing the places looked at when none has a key pair; a file
// that exists but does not parse is an InvalidInput error naming its lines.
Result<protocol::Credentials> resolve_credentials(const EnvLookup& env, uid_t euid);

}  // namespace helix::cli
