// Percent-encoding (RFC 3986 section 2.1) as SigV4 and the HTTP server need
// it. Owns only the byte transformations; which parts of a URL they apply
// to is the caller's business.
#pragma once

#include <string>
#include <string_view>

namespace helix::protocol {

// Encodes every byte but the unreserved ones (A-Z a-z 0-9 - _ . ~), and '/'
// when keep_slash, as %XX with upper-case hex: SigV4's UriEncode.
// "a b/c" -> "a%20b%2Fc" (keep_slash false) or "a%20b/c" (true).
std::string uri_encode(std::string_view text, bool keep_slash);

// Decodes %XX (either case of hex). A '%' not followed by two hex digits is
// kept as it is, never an error, because a path is routed, not validated,
// here. '+' becomes a space only when plus_as_space (HTML form encoding,
// which curl and browsers use in query strings; the AWS SDKs send %20).
std::string percent_decode(std::string_view text, bool plus_as_space = false);

}  // namespace helix::protocol
