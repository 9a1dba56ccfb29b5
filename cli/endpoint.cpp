#include "cli/endpoint.h"

#include <charconv>

namespace helix::cli {

std::string Endpoint::url() const {
  if (is_unix_socket()) return "unix://" + socket_path;
  return "http://" + host_header();
}

std::string Endpoint::host_header() const {
  if (port == 80) return host;
  return host + ":" + std::to_string(port);
}

Result<Endpoint> parse_endpoint(const std::string& url, const std::string& field) {
  auto refuse = [&](const std::string& why) -> Result<Endpoint> {
    return fail(Error::invalid(field, "\"" + url + "\" " + why));
  };
  Endpoint e;
  if (url.rfind("unix:", 0) == 0) {
    std::string path = url.substr(5);
    // unix:///abs -> "//" + "/abs"; unix:/abs -> "/abs".
    if (path.rfind("//", 0) == 0) path = path.substr(2);
    if (path.empty() || path[0] != '/')
      return refuse("needs an absolute socket path: unix:///path/to/helixd.sock");
    e.kind = Endpoint::Kind::kUnixSocket;
    e.socket_path = path;
    return e;
  }
  if (url.rfind("https://", 0) == 0)
    return refuse("uses https; helixd serves plain http on loopback (or use its unix socket)");
  if (url.rfind("http://", 0) != 0)
    return refuse("is not an endpoint URL: use unix:///path/to/helixd.sock or http://HOST:PORT");
  std::string rest = url.substr(7);
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) return refuse("has a path; give only http://HOST:PORT");
  e.kind = Endpoint::Kind::kHttp;
  // An IPv6 literal keeps its brackets in the Host header: [::1]:8470.
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find(']', colon) == std::string::npos) {
    std::string port_text = rest.substr(colon + 1);
    int port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535)
      return refuse("has port \"" + port_text + "\"; a port is a number from 1 to 65535");
    e.port = port;
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return refuse("has no host");
  e.host = rest;
  return e;
}

std::string default_state_dir(const EnvLookup& env, uid_t euid) {
  if (auto dir = env("HELIX_STATE_DIR")) return *dir;
  if (euid == 0) return "/var/lib/helix";
  return env("HOME").value_or("/tmp") + "/.local/state/helix";
}

Result<Endpoint> resolve_endpoint(const std::optional<std::string>& flag, const EnvLookup& env,
                                  uid_t euid) {
  if (flag) return parse_endpoint(*flag, "--endpoint");
  if (auto from_env = env("HELIX_ENDPOINT")) return parse_endpoint(*from_env, "HELIX_ENDPOINT");
  Endpoint e;
  e.socket_path = default_state_dir(env, euid) + "/helixd.sock";
  return e;
}

}  // namespace helix::cli
