#include "protocol/sigv4.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cstdio>
#include <map>
#include <vector>

#include "common/text.h"
#include "protocol/crypto.h"
#include "protocol/percent_encoding.h"

// The algorithm follows AWS's "Create a signed AWS API request" (Signature
// Version 4) and, where the documentation is loose, botocore 1.29's
// SigV4Auth (botocore/auth.py), because the aws CLI and boto3 are the
// clients that must verify. tests/data/aws-wire/sigv4-vectors.json holds
// their real requests.

namespace helix::protocol {

namespace {

constexpr char kAlgorithm[] = "AWS4-HMAC-SHA256";
constexpr char kTerminator[] = "aws4_request";

bool iequals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// botocore's remove_dot_segments: RFC 3986 section 5.2.4 plus the removal of
// empty segments ("//"), which AWS services require. "" becomes "/".
std::string remove_dot_segments(const std::string& path) {
  if (path.empty()) return "/";
  std::vector<std::string> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(std::move(segment));
    }
    start = end + 1;
  }
  std::string out = path.front() == '/' ? "/" : "";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    out += segments[i];
  }
  if (path.back() == '/' && !segments.empty()) out.push_back('/');
  return out;
}

// Services other than S3 encode the path twice: the client encodes each
// segment once to put it on the wire ("job-queue%2Fhpc-high") and once more
// for the canonical request ("job-queue%252Fhpc-high"). Encoding the raw
// path, with '/' kept, is that second pass (botocore: quote(path, '/~')).
std::string canonical_uri(const std::string& raw_path) {
  return uri_encode(remove_dot_segments(raw_path), /*keep_slash=*/true);
}

// Parameters decoded and re-encoded strictly, then sorted by key and value:
// "b=2&a=x%2fy&a" -> "a=&a=x%2Fy&b=2". botocore sorts the pairs of its own
// (already strict) encoding, which gives the same string.
std::string canonical_query(const std::string& raw_query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t start = 0;
  while (start <= raw_query.size() && !raw_query.empty()) {
    size_t end = raw_query.find('&', start);
    if (end == std::string::npos) end = raw_query.size();
    std::string_view pair(raw_query.data() + start, end - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string_view key = pair.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
      pairs.emplace_back(uri_encode(percent_decode(key), false),
                         uri_encode(percent_decode(value), false));
    }
    start = end + 1;
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [key, value] : pairs) {
    if (!out.empty()) out.push_back('&');
    out += key + "=" + value;
  }
  return out;
}

// Trimall: no leading or trailing blanks, inner runs of blanks as one space.
std::string trim_all(const std::string& value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      pending_space = !out.empty();
    } else {
      if (pending_space) out.push_back(' ');
      pending_space = false;
      out.push_back(c);
    }
  }
  return out;
}

// signed_headers: lower-case names in ascending order, no duplicates.
std::string canonical_request(const WireRequest& request,
                              const std::vector<std::string>& signed_headers) {
  std::string out = request.method + "\n" + canonical_uri(request.raw_path) + "\n" +
                    canonical_query(request.raw_query) + "\n";
  for (const std::string& name : signed_headers) {
    std::string values;
    bool first = true;
    for (const auto& [key, value] : request.headers) {
      if (!iequals(key, name)) continue;
      if (!first) values.push_back(',');
      values += trim_all(value);
      first = false;
    }
    out += name + ":" + values + "\n";
  }
  out += "\n";
  for (size_t i = 0; i < signed_headers.size(); ++i) {
    if (i > 0) out.push_back(';');
    out += signed_headers[i];
  }
  out += "\n" + to_hex(sha256(request.body));
  return out;
}

// The hex signature of a request for the scope date/region/service.
std::string signature(const WireRequest& request, const std::vector<std::string>& signed_headers,
                      const std::string& secret, const std::string& amz_date,
                      const std::string& scope_date, const std::string& region,
                      const std::string& service) {
  std::string scope = scope_date + "/" + region + "/" + service + "/" + kTerminator;
  std::string string_to_sign = std::string(kAlgorithm) + "\n" + amz_date + "\n" + scope + "\n" +
                               to_hex(sha256(canonical_request(request, signed_headers)));
  std::string key = hmac_sha256("AWS4" + secret, scope_date);
  key = hmac_sha256(key, region);
  key = hmac_sha256(key, service);
  key = hmac_sha256(key, kTerminator);
  return to_hex(hmac_sha256(key, string_to_sign));
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

std::string trim(const std::string& text) {
  size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  size_t last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

struct ParsedAuthorization {
  std::string access_key_id;
  std::string scope_date;
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;
  std::string signature;
};

tl::unexpected<AuthFailure> incomplete(std::string message) {
  return tl::unexpected(AuthFailure{"IncompleteSignatureException", std::move(message)});
}

tl::unexpected<AuthFailure> invalid(std::string message) {
  return tl::unexpected(AuthFailure{"InvalidSignatureException", std::move(message)});
}

// "AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/batch/aws4_request,
// SignedHeaders=content-type;host;x-amz-date, Signature=<64 hex>"
tl::expected<ParsedAuthorization, AuthFailure> parse_authorization(const std::string& header) {
  std::string text = trim(header);
  size_t space = text.find(' ');
  std::string algorithm = text.substr(0, space);
  if (algorithm != kAlgorithm)
    return incomplete("Authorization header algorithm '" + algorithm + "' is not " + kAlgorithm);
  std::map<std::string, std::string> fields;
  for (const std::string& part :
       split(space == std::string::npos ? "" : text.substr(space + 1), ',')) {
    std::string item = trim(part);
    size_t eq = item.find('=');
    if (eq == std::string::npos) {
      if (!item.empty())
        return incomplete("Authorization header component '" + item +
                          "' is not of the form key=value");
      continue;
    }
    fields[item.substr(0, eq)] = item.substr(eq + 1);
  }
  std::string missing;
  for (const char* name : {"Credential", "SignedHeaders", "Signature"})
    if (fields.count(name) == 0 || fields[name].empty())
      missing += std::string(missing.empty() ? "" : " ") + "Authorization header requires '" +
                 name + "' parameter.";
  if (!missing.empty()) return incomplete(missing + " Authorization=" + header);

  ParsedAuthorization parsed;
  std::vector<std::string> credential = split(fields["Credential"], '/');
  if (credential.size() != 5 || credential[4] != kTerminator ||
      std::any_of(credential.begin(), credential.end(), [](auto& s) { return s.empty(); }))
    return incomplete("Credential '" + fields["Credential"] +
                      "' is not of the form <access key id>/<YYYYMMDD>/<region>/<service>/" +
                      kTerminator);
  parsed.access_key_id = credential[0];
  parsed.scope_date = credential[1];
  parsed.region = credential[2];
  parsed.service = credential[3];
  for (const std::string& name : split(fields["SignedHeaders"], ';')) {
    if (name.empty() || name != ascii_lower(name))
      return incomplete("SignedHeaders '" + fields["SignedHeaders"] +
                        "' must be lower-case header names separated by ';'");
    parsed.signed_headers.push_back(name);
  }
  // The canonical request lists the headers in this order; a client that
  // signed them unsorted computed something else, so it fails as a mismatch.
  if (!std::is_sorted(parsed.signed_headers.begin(), parsed.signed_headers.end()))
    return invalid("SignedHeaders '" + fields["SignedHeaders"] + "' are not in sorted order");
  auto has = [&](const char* name) {
    return std::find(parsed.signed_headers.begin(), parsed.signed_headers.end(), name) !=
           parsed.signed_headers.end();
  };
  // Without host the request could be replayed to another server; without
  // x-amz-date the skew check would read an unsigned, forgeable date.
  if (!has("host"))
    return incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  if (!has("x-amz-date"))
    return incomplete("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  parsed.signature = fields["Signature"];
  return parsed;
}

std::string skew_text(std::chrono::seconds skew) {
  if (skew.count() % 60 == 0) return std::to_string(skew.count() / 60) + " min.";
  return std::to_string(skew.count()) + " sec.";
}

}  // namespace

std::optional<std::string> WireRequest::header(const std::string& name) const {
  for (const auto& [key, value] : headers)
    if (iequals(key, name)) return value;
  return std::nullopt;
}

std::string format_amz_date(TimePoint t) {
  using namespace std::chrono;
  auto seconds = floor<std::chrono::seconds>(t);
  auto day = floor<days>(seconds);
  year_month_day date(day);
  hh_mm_ss time(seconds - day);
  char text[32];
  std::snprintf(text, sizeof text, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return text;
}

std::optional<TimePoint> parse_amz_date(const std::string& text) {
  using namespace std::chrono;
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  for (size_t i = 0; i < 15; ++i)
    if (i != 8 && !std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
  auto number = [&](size_t at, size_t length) { return std::stoi(text.substr(at, length)); };
  year_month_day date{year(number(0, 4)), month(static_cast<unsigned>(number(4, 2))),
                      day(static_cast<unsigned>(number(6, 2)))};
  int hour = number(9, 2), minute = number(11, 2), second = number(13, 2);
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  return TimePoint(sys_days(date) + hours(hour) + minutes(minute) + seconds(second));
}

void sign_request(WireRequest& request, const Credentials& credentials, const std::string& region,
                  const std::string& service, TimePoint now) {
  assert(request.header("host").has_value());
  std::erase_if(request.headers, [](const auto& h) {
    return iequals(h.first, "x-amz-date") || iequals(h.first, "authorization");
  });
  std::string amz_date = format_amz_date(now);
  request.headers.emplace_back("X-Amz-Date", amz_date);
  // Already in sorted order, as the canonical request needs them.
  std::vector<std::string> signed_headers;
  for (const char* name : {"content-type", "host", "x-amz-date", "x-amz-target"})
    if (request.header(name)) signed_headers.push_back(name);
  std::string scope_date = amz_date.substr(0, 8);
  std::string hex = signature(request, signed_headers, credentials.secret_access_key, amz_date,
                              scope_date, region, service);
  std::string joined;
  for (const std::string& name : signed_headers) joined += (joined.empty() ? "" : ";") + name;
  request.headers.emplace_back(
      "Authorization", std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
                           scope_date + "/" + region + "/" + service + "/" + kTerminator +
                           ", SignedHeaders=" + joined + ", Signature=" + hex);
}

tl::expected<std::string, AuthFailure> verify_request(const WireRequest& request,
                                                      const SecretLookup& lookup, TimePoint now,
                                                      std::chrono::seconds max_skew) {
  std::optional<std::string> header = request.header("authorization");
  if (!header || trim(*header).empty())
    return tl::unexpected(
        AuthFailure{"MissingAuthenticationTokenException", "Missing Authentication Token"});
  auto parsed = parse_authorization(*header);
  if (!parsed) return tl::unexpected(parsed.error());

  std::optional<std::string> amz_date = request.header("x-amz-date");
  if (!amz_date)
    return incomplete(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  std::optional<TimePoint> signed_at = parse_amz_date(*amz_date);
  if (!signed_at)
    return incomplete("X-Amz-Date '" + *amz_date + "' is not of the form YYYYMMDDTHHMMSSZ");

  std::optional<std::string> secret = lookup(parsed->access_key_id);
  if (!secret)
    return tl::unexpected(AuthFailure{"UnrecognizedClientException",
                                      "The security token included in the request is invalid."});

  // AWS's wording, e.g. "Signature expired: 20261122T104852Z is now earlier
  // than 20261122T110500Z (20261122T112000Z - 15 min.)".
  if (*signed_at < now - max_skew)
    return invalid("Signature expired: " + *amz_date + " is now earlier than " +
                   format_amz_date(now - max_skew) + " (" + format_amz_date(now) + " - " +
                   skew_text(max_skew) + ")");
  if (*signed_at > now + max_skew)
    return invalid("Signature not yet current: " + *amz_date + " is still later than " +
                   format_amz_date(now + max_skew) + " (" + format_amz_date(now) + " + " +
                   skew_text(max_skew) + ")");
  if (parsed->scope_date != amz_date->substr(0, 8))
    return invalid(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
        "date from HTTP: '" +
        parsed->scope_date + "' != '" + amz_date->substr(0, 8) + "', from '" + *amz_date + "'.");

  std::string expected = signature(request, parsed->signed_headers, *secret, *amz_date,
                                   parsed->scope_date, parsed->region, parsed->service);
  if (!constant_time_equals(expected, parsed->signature))
    return invalid(
        "The request signature we calculated does not match the signature you provided. Check "
        "your AWS Secret Access Key and signing method. Consult the service documentation for "
        "details.");
  return parsed->access_key_id;
}

}  // namespace helix::protocol
