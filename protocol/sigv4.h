// AWS Signature Version 4 for helix's HTTP API: the CLI signs, helixd
// verifies, so the real aws CLI and boto3 work with a profile (as S3-
// compatible servers do). Shared by helixd and the helix CLI.
//
// Owns: the canonical request, string to sign, signing key and the parsing
// of the Authorization header. Does not own: looking up secrets (injected)
// or the clock (`now` is an argument).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

#include "common/time.h"

namespace helix::protocol {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
};

// An HTTP request as it travels on the wire. raw_path and raw_query are
// exactly as sent (percent-encoding untouched); header names in any case.
struct WireRequest {
  std::string method;
  std::string raw_path;
  std::string raw_query;  // without the leading '?'; empty when none
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // First header with this name, case-insensitive.
  std::optional<std::string> header(const std::string& name) const;
};

// Adds X-Amz-Date and Authorization (signing host, x-amz-date and, when
// present, content-type and x-amz-target) as botocore does. `host` must
// already be among the headers.
void sign_request(WireRequest& request, const Credentials& credentials, const std::string& region,
                  const std::string& service, TimePoint now);

// Why a request was refused: the AWS error code for the 403 reply
// (MissingAuthenticationTokenException, IncompleteSignatureException,
// InvalidSignatureException, UnrecognizedClientException) and a message.
struct AuthFailure {
  std::string code;
  std::string message;
};

// The secret of an access key id, or nullopt when the key is unknown.
using SecretLookup = std::function<std::optional<std::string>(const std::string& access_key_id)>;

// Verifies the Authorization header of `request`; returns the access key id
// that signed it. Refuses a request dated more than `max_skew` from `now`.
// Outcomes, checked in this order (codes as AWS names them):
// - MissingAuthenticationTokenException: no Authorization header;
// - IncompleteSignatureException: the header is not AWS4-HMAC-SHA256 with
//   Credential, SignedHeaders and Signature, host or x-amz-date is not
//   signed, or X-Amz-Date is missing or not YYYYMMDDTHHMMSSZ;
// - UnrecognizedClientException: `lookup` does not know the key;
// - InvalidSignatureException: dated outside now +- max_skew ("Signature
//   expired: ..." as AWS words it), a credential scope date other than the
//   X-Amz-Date's day, or a signature that does not match.
// The region and service are taken from the credential scope, not checked
// (helix answers for any region). The body is always hashed, whatever an
// X-Amz-Content-Sha256 header says. Signatures are compared in constant
// time. Thread safe when `lookup` is.
tl::expected<std::string, AuthFailure> verify_request(
    const WireRequest& request, const SecretLookup& lookup, TimePoint now,
    std::chrono::seconds max_skew = std::chrono::minutes(15));

// "20261122T104852Z": the X-Amz-Date form of `t` (UTC, whole seconds,
// fractions truncated).
std::string format_amz_date(TimePoint t);

// The instant an X-Amz-Date names, or nullopt unless `text` is exactly
// YYYYMMDDTHHMMSSZ with a valid calendar date and time.
std::optional<TimePoint> parse_amz_date(const std::string& text);

}  // namespace helix::protocol
