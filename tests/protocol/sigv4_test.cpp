#include "protocol/sigv4.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace helix::protocol {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// tests/data/aws-wire/sigv4-vectors.json (scripts/make_sigv4_vectors.py):
// { access_key_id, secret_access_key, region, vectors: [{ id, client,
//   service, method, raw_path, raw_query, headers: [[name, value]...], body,
//   x_amz_date, authorization }] }, real aws CLI and boto3 requests.
struct Vector {
  std::string id;
  std::string service;
  std::string x_amz_date;
  std::string authorization;
  WireRequest request;
};

struct Vectors {
  Credentials credentials;
  std::string region;
  std::vector<Vector> list;
};

const Vectors& vectors() {
  static const Vectors loaded = [] {
    std::ifstream in(std::string(HELIX_SOURCE_DIR) + "/tests/data/aws-wire/sigv4-vectors.json");
    json document = json::parse(in);
    Vectors out;
    out.credentials = {document["access_key_id"], document["secret_access_key"]};
    out.region = document["region"];
    for (const json& v : document["vectors"]) {
      Vector vector;
      vector.id = v["id"];
      vector.service = v["service"];
      vector.x_amz_date = v["x_amz_date"];
      vector.authorization = v["authorization"];
      vector.request.method = v["method"];
      vector.request.raw_path = v["raw_path"];
      vector.request.raw_query = v["raw_query"];
      vector.request.body = v["body"];
      for (const json& h : v["headers"]) vector.request.headers.emplace_back(h[0], h[1]);
      out.list.push_back(std::move(vector));
    }
    return out;
  }();
  return loaded;
}

TimePoint date_of(const Vector& v) { return *parse_amz_date(v.x_amz_date); }

SecretLookup only(const Credentials& credentials) {
  return [credentials](const std::string& key) -> std::optional<std::string> {
    if (key == credentials.access_key_id) return credentials.secret_access_key;
    return std::nullopt;
  };
}

// The vector used when one request stands for all: a Batch call with a body.
const Vector& submit_job() {
  for (const Vector& v : vectors().list)
    if (v.id == "submit-job") return v;
  ADD_FAILURE() << "no submit-job vector";
  return vectors().list.front();
}

void set_header(WireRequest& request, const std::string& name, const std::string& value) {
  for (auto& [key, old] : request.headers)
    if (key == name) old = value;
}

TEST(SigV4Vectors, CoverBothServicesPathsWithQueriesAndBodylessRequests) {
  int batch = 0, states = 0, with_query = 0, bodyless = 0, encoded_path = 0;
  for (const Vector& v : vectors().list) {
    batch += v.service == "batch";
    states += v.service == "states";
    with_query += !v.request.raw_query.empty();
    bodyless += v.request.body.empty();
    encoded_path += v.request.raw_path.find('%') != std::string::npos;
  }
  EXPECT_GE(vectors().list.size(), 50u);
  EXPECT_GT(batch, 0);
  EXPECT_GT(states, 0);
  EXPECT_GT(with_query, 0);
  EXPECT_GT(bodyless, 0);
  EXPECT_GT(encoded_path, 0);
}

TEST(SigV4Vectors, EveryRealRequestVerifiesAtItsOwnDate) {
  for (const Vector& v : vectors().list) {
    auto verified = verify_request(v.request, only(vectors().credentials), date_of(v));
    EXPECT_TRUE(verified.has_value())
        << v.id << ": "
        << (verified ? "" : verified.error().code + ": " + verified.error().message);
    if (verified) {
      EXPECT_EQ(*verified, "AKIDEXAMPLE") << v.id;
    }
  }
}

TEST(SigV4Vectors, SignRequestReproducesTheClientsAuthorization) {
  for (const Vector& v : vectors().list) {
    WireRequest request = v.request;
    std::erase_if(request.headers, [](const auto& h) {
      return h.first == "X-Amz-Date" || h.first == "Authorization" || h.first == "x-amz-date" ||
             h.first == "authorization";
    });
    sign_request(request, vectors().credentials, vectors().region, v.service, date_of(v));
    EXPECT_EQ(request.header("authorization"), v.authorization) << v.id;
    EXPECT_EQ(request.header("x-amz-date"), v.x_amz_date) << v.id;
  }
}

TEST(SigV4Verify, OneByteOfBodyChangedIsInvalidSignature) {
  WireRequest request = submit_job().request;
  ASSERT_FALSE(request.body.empty());
  request.body[request.body.size() / 2] ^= 1;
  auto verified = verify_request(request, only(vectors().credentials), date_of(submit_job()));
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, "InvalidSignatureException");
  EXPECT_NE(verified.error().message.find("does not match"), std::string::npos)
      << verified.error().message;
}

TEST(SigV4Verify, SignedHeaderChangedIsInvalidUnsignedHeaderChangedIsAccepted) {
  const Vector& v = submit_job();
  WireRequest signed_changed = v.request;
  set_header(signed_changed, "Content-Type", "application/x-amz-json-1.1");
  auto refused = verify_request(signed_changed, only(vectors().credentials), date_of(v));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "InvalidSignatureException");

  WireRequest host_changed = v.request;
  set_header(host_changed, "Host", "127.0.0.1:1");
  EXPECT_FALSE(verify_request(host_changed, only(vectors().credentials), date_of(v)));

  // User-Agent is never signed (botocore's blacklist), so proxies may rewrite it.
  WireRequest unsigned_changed = v.request;
  set_header(unsigned_changed, "User-Agent", "curl/8");
  EXPECT_TRUE(verify_request(unsigned_changed, only(vectors().credentials), date_of(v)));
}

TEST(SigV4Verify, ChangedPathOrQueryIsInvalid) {
  for (const Vector& v : vectors().list) {
    if (v.id != "untag-resource") continue;
    WireRequest path = v.request;
    path.raw_path += "x";
    EXPECT_FALSE(verify_request(path, only(vectors().credentials), date_of(v)));
    WireRequest query = v.request;
    query.raw_query = "tagKeys=a&tagKeys=c";
    EXPECT_FALSE(verify_request(query, only(vectors().credentials), date_of(v)));
    // The canonical query is sorted, so the order on the wire does not matter.
    WireRequest reordered = v.request;
    ASSERT_EQ(reordered.raw_query, "tagKeys=a&tagKeys=b");
    reordered.raw_query = "tagKeys=b&tagKeys=a";
    EXPECT_TRUE(verify_request(reordered, only(vectors().credentials), date_of(v)));
    return;
  }
  FAIL() << "no untag-resource vector";
}

TEST(SigV4Verify, WrongSecretIsInvalidSignature) {
  Credentials wrong{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEz"};
  auto verified = verify_request(submit_job().request, only(wrong), date_of(submit_job()));
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, "InvalidSignatureException");
}

TEST(SigV4Verify, UnknownAccessKeyIsUnrecognizedClient) {
  std::string asked;
  auto verified = verify_request(
      submit_job().request,
      [&](const std::string& key) -> std::optional<std::string> {
        asked = key;
        return std::nullopt;
      },
      date_of(submit_job()));
  ASSERT_FALSE(verified);
  EXPECT_EQ(asked, "AKIDEXAMPLE");
  EXPECT_EQ(verified.error().code, "UnrecognizedClientException");
  EXPECT_EQ(verified.error().message, "The security token included in the request is invalid.");
}

TEST(SigV4Verify, MissingAuthorizationIsMissingAuthenticationToken) {
  WireRequest request = submit_job().request;
  std::erase_if(request.headers, [](const auto& h) { return h.first == "Authorization"; });
  auto verified = verify_request(request, only(vectors().credentials), date_of(submit_job()));
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, "MissingAuthenticationTokenException");
  EXPECT_EQ(verified.error().message, "Missing Authentication Token");
}

TEST(SigV4Verify, MalformedAuthorizationIsIncompleteSignature) {
  const std::string good_credential =
      "Credential=AKIDEXAMPLE/20261122/us-east-1/batch/aws4_request";
  const std::string good_signature =
      "Signature=0000000000000000000000000000000000000000000000000000000000000000";
  struct Case {
    const char* name;
    std::string authorization;
    const char* message_part;
  };
  const std::vector<Case> cases = {
      {"other algorithm", "AWS4-HMAC-SHA512 " + good_credential, "is not AWS4-HMAC-SHA256"},
      {"algorithm only", "AWS4-HMAC-SHA256", "requires 'Credential' parameter"},
      {"no signature",
       "AWS4-HMAC-SHA256 " + good_credential + ", SignedHeaders=content-type;host;x-amz-date",
       "requires 'Signature' parameter"},
      {"no signed headers", "AWS4-HMAC-SHA256 " + good_credential + ", " + good_signature,
       "requires 'SignedHeaders' parameter"},
      {"component without =",
       "AWS4-HMAC-SHA256 " + good_credential + ", SignedHeaders, " + good_signature,
       "not of the form key=value"},
      {"short credential",
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1, "
       "SignedHeaders=host;x-amz-date, " +
           good_signature,
       "is not of the form <access key id>/"},
      {"host not signed",
       "AWS4-HMAC-SHA256 " + good_credential + ", SignedHeaders=content-type;x-amz-date, " +
           good_signature,
       "'Host' or ':authority' must be a 'SignedHeader'"},
      {"date not signed",
       "AWS4-HMAC-SHA256 " + good_credential + ", SignedHeaders=content-type;host, " +
           good_signature,
       "'X-Amz-Date' must be a 'SignedHeader'"},
  };
  for (const Case& c : cases) {
    WireRequest request = submit_job().request;
    set_header(request, "Authorization", c.authorization);
    auto verified = verify_request(request, only(vectors().credentials), date_of(submit_job()));
    ASSERT_FALSE(verified) << c.name;
    EXPECT_EQ(verified.error().code, "IncompleteSignatureException") << c.name;
    EXPECT_NE(verified.error().message.find(c.message_part), std::string::npos)
        << c.name << ": " << verified.error().message;
  }
}

TEST(SigV4Verify, MissingOrMalformedDateIsIncompleteSignature) {
  WireRequest no_date = submit_job().request;
  std::erase_if(no_date.headers, [](const auto& h) { return h.first == "X-Amz-Date"; });
  auto verified = verify_request(no_date, only(vectors().credentials), date_of(submit_job()));
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, "IncompleteSignatureException");

  WireRequest bad_date = submit_job().request;
  set_header(bad_date, "X-Amz-Date", "2026-11-22T10:48:52Z");
  verified = verify_request(bad_date, only(vectors().credentials), date_of(submit_job()));
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, "IncompleteSignatureException");
}

TEST(SigV4Verify, SkewBeyondFifteenMinutesIsExpiredLikeAws) {
  const Vector& v = submit_job();
  ASSERT_EQ(v.x_amz_date, "20261122T104825Z");
  TimePoint signed_at = date_of(v);
  // Exactly at the limit still verifies; one second later it has expired.
  EXPECT_TRUE(verify_request(v.request, only(vectors().credentials), signed_at + 15min));
  EXPECT_TRUE(verify_request(v.request, only(vectors().credentials), signed_at - 15min));

  auto late = verify_request(v.request, only(vectors().credentials), signed_at + 15min + 1s);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, "InvalidSignatureException");
  // now = 11:03:26, now - 15 min = 10:48:26.
  EXPECT_EQ(late.error().message,
            "Signature expired: 20261122T104825Z is now earlier than 20261122T104826Z "
            "(20261122T110326Z - 15 min.)");

  auto early = verify_request(v.request, only(vectors().credentials), signed_at - 1h);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, "InvalidSignatureException");
  EXPECT_EQ(early.error().message,
            "Signature not yet current: 20261122T104825Z is still later than 20261122T100325Z "
            "(20261122T094825Z + 15 min.)");
}

TEST(SigV4Verify, CredentialScopeDateMustMatchXAmzDate) {
  Credentials credentials{"AKIDHELIX", "secret"};
  WireRequest request;
  request.method = "POST";
  request.raw_path = "/v1/listjobs";
  request.headers = {{"Host", "localhost:8470"}, {"Content-Type", "application/json"}};
  TimePoint now = *parse_amz_date("20261122T000010Z");
  sign_request(request, credentials, "us-east-1", "batch", now);
  // The date moves back over midnight; the scope still says the 22nd.
  set_header(request, "X-Amz-Date", "20261121T235950Z");
  auto verified = verify_request(request, only(credentials), now);
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, "InvalidSignatureException");
  EXPECT_NE(verified.error().message.find("'20261122' != '20261121'"), std::string::npos)
      << verified.error().message;
}

TEST(SigV4RoundTrip, SignedRequestVerifiesWithEncodedPathAndQuery) {
  Credentials credentials{"HLXABCDEFGHIJKLMNOPQ", "s3cr3t/with+slash"};
  WireRequest request;
  request.method = "DELETE";
  request.raw_path = "/v1/tags/arn%3Aaws%3Abatch%3Aus-east-1%3A1%3Ajob-queue%2Fq";
  request.raw_query = "tagKeys=b%20c&tagKeys=a&empty=";
  request.headers = {{"Host", "127.0.0.1:8470"}, {"Content-Length", "0"}};
  TimePoint now = *parse_amz_date("20261122T104852Z") + 500ms;
  sign_request(request, credentials, "us-east-1", "batch", now);

  EXPECT_EQ(request.header("x-amz-date"), "20261122T104852Z");
  std::string authorization = request.header("authorization").value_or("");
  EXPECT_EQ(authorization.rfind("AWS4-HMAC-SHA256 Credential=HLXABCDEFGHIJKLMNOPQ/20261122/"
                                "us-east-1/batch/aws4_request, SignedHeaders=host;x-amz-date, "
                                "Signature=",
                                0),
            0u)
      << authorization;
  auto verified = verify_request(request, only(credentials), now + 1min);
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(*verified, "HLXABCDEFGHIJKLMNOPQ");

  // Signing twice replaces the old date and signature instead of adding more.
  sign_request(request, credentials, "us-east-1", "batch", now + 1h);
  int dates = 0;
  for (const auto& h : request.headers) dates += h.first == "X-Amz-Date";
  EXPECT_EQ(dates, 1);
  EXPECT_TRUE(verify_request(request, only(credentials), now + 1h));
}

TEST(SigV4RoundTrip, StepFunctionsTargetIsSigned) {
  Credentials credentials{"HLXABCDEFGHIJKLMNOPQ", "secret"};
  WireRequest request;
  request.method = "POST";
  request.raw_path = "/";
  request.headers = {{"Host", "127.0.0.1:8470"},
                     {"Content-Type", "application/x-amz-json-1.0"},
                     {"X-Amz-Target", "AWSStepFunctions.StartExecution"}};
  request.body = R"({"stateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:p"})";
  TimePoint now = *parse_amz_date("20261122T104852Z");
  sign_request(request, credentials, "us-east-1", "states", now);
  EXPECT_NE(request.header("authorization")
                ->find("SignedHeaders=content-type;host;x-amz-date;x-amz-target,"),
            std::string::npos);
  ASSERT_TRUE(verify_request(request, only(credentials), now));
  set_header(request, "X-Amz-Target", "AWSStepFunctions.StopExecution");
  EXPECT_FALSE(verify_request(request, only(credentials), now));
}

TEST(SigV4Dates, FormatAndParseAreInverse) {
  TimePoint t = *parse_amz_date("20240229T235959Z");
  EXPECT_EQ(format_amz_date(t), "20240229T235959Z");
  EXPECT_EQ(format_amz_date(t + 999ms), "20240229T235959Z");
  EXPECT_EQ(format_amz_date(t + 1s), "20240301T000000Z");
  EXPECT_EQ(to_epoch_ms(*parse_amz_date("19700101T000001Z")), 1000);
}

TEST(SigV4Dates, ParseRefusesWhatIsNotAnAmzDate) {
  for (const char* bad : {"", "20261122T104852", "20261122 104852Z", "2026112XT104852Z",
                          "20230229T000000Z", "20261122T246000Z", "20261122T104852Z "})
    EXPECT_FALSE(parse_amz_date(bad)) << bad;
}

}  // namespace
}  // namespace helix::protocol
