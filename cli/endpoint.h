// Where helixd is reached: a Unix socket (the daemon knows the caller from
// the socket's peer credentials, nothing is signed) or http://HOST:PORT on
// loopback (every request is signed with SigV4).
//
// Owns: parsing endpoint URLs and choosing the endpoint from the --endpoint
// flag, HELIX_ENDPOINT and the default state directory, which must match
// helixd's (scheduler/controller/helixd_main.cpp). Does not connect.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "cli/environment.h"
#include "common/error.h"

namespace helix::cli {

struct Endpoint {
  enum class Kind { kUnixSocket, kHttp };
  Kind kind = Kind::kUnixSocket;
  std::string socket_path;  // kUnixSocket: an absolute path
  std::string host;         // kHttp
  int port = 80;            // kHttp

  bool is_unix_socket() const { return kind == Kind::kUnixSocket; }
  // "unix:///var/lib/helix/helixd.sock" or "http://127.0.0.1:8470".
  std::string url() const;
  // The Host header for kHttp: "127.0.0.1:8470" ("host" alone for port 80).
  std::string host_header() const;
};

// Accepts "unix:///abs/path.sock", "unix:/abs/path.sock" (the form helixd
// prints when it starts), and "http://HOST[:PORT][/]". InvalidInput naming
// `field` for anything else: https (helixd serves plain HTTP on loopback), a
// relative socket path, a path after the port, a port outside 1..65535.
Result<Endpoint> parse_endpoint(const std::string& url, const std::string& field = "--endpoint");

// helixd's default state directory: $HELIX_STATE_DIR, else /var/lib/helix
// for root, else $HOME/.local/state/helix (/tmp/.local/state/helix without
// HOME, as helixd does).
std::string default_state_dir(const EnvLookup& env, uid_t euid);

// The endpoint to use: `flag` (--endpoint) when given, else HELIX_ENDPOINT,
// else the Unix socket helixd.sock in default_state_dir().
Result<Endpoint> resolve_endpoint(const std::optional<std::string>& flag, const EnvLookup& env,
                                  uid_t euid);

}  // namespace helix::cli
