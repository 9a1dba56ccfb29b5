#include "protocol/percent_encoding.h"

#include <gtest/gtest.h>

namespace helix::protocol {
namespace {

TEST(UriEncode, KeepsOnlyUnreservedAndOptionallySlash) {
  EXPECT_EQ(uri_encode("AZaz09-_.~", false), "AZaz09-_.~");
  EXPECT_EQ(uri_encode("a b/c:d+e%", false), "a%20b%2Fc%3Ad%2Be%25");
  EXPECT_EQ(uri_encode("a b/c:d+e%", true), "a%20b/c%3Ad%2Be%25");
  EXPECT_EQ(uri_encode("\xc3\xa9", false), "%C3%A9");  // UTF-8 bytes, upper-case hex
}

TEST(PercentDecode, DecodesEitherCaseAndKeepsMalformedEscapes) {
  EXPECT_EQ(percent_decode("job-queue%2Fhpc%2fhigh"), "job-queue/hpc/high");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(percent_decode("%C3%A9"), "\xc3\xa9");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("a+b%2B", /*plus_as_space=*/true), "a b+");
}

TEST(PercentDecode, UndoesEncode) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  EXPECT_EQ(percent_decode(uri_encode(all, false)), all);
  EXPECT_EQ(percent_decode(uri_encode(all, true)), all);
}

}  // namespace
}  // namespace helix::protocol
