#include "protocol/credentials_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "protocol/secure_rng.h"

namespace helix::protocol {
namespace {

// A fresh directory under the test's temporary directory, removed after.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "helix-cred-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(CredentialsFileParse, ReadsProfilesAsBotocoreDoes) {
  const char* text =
      "# written by hand\n"
      "[default]\n"
      "aws_access_key_id = AKIDEXAMPLE\n"
      "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n"
      "\n"
      "; another comment\n"
      "[helix]\n"
      "AWS_ACCESS_KEY_ID: HLXAAAAAAAAAAAAAAAAA\n"
      "aws_secret_access_key   =   s3cr3t = with equals  \r\n"
      "aws_session_token = part1\n"
      "    part2\n";
  auto file = CredentialsFile::parse(text);
  ASSERT_TRUE(file) << file.error().to_string();
  ASSERT_EQ(file->profiles().size(), 2u);
  EXPECT_EQ(file->profiles()[0].name, "default");
  EXPECT_EQ(file->profiles()[1].name, "helix");

  auto standard = file->credentials("default");
  ASSERT_TRUE(standard);
  EXPECT_EQ(standard->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(standard->secret_access_key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");

  // Keys are case-insensitive, ':' delimits like '=', values are trimmed and
  // keep a later '='; an indented line continues the previous value (so an
  // indented key would too, as in Python's configparser).
  auto helix = file->credentials("helix");
  ASSERT_TRUE(helix);
  EXPECT_EQ(helix->access_key_id, "HLXAAAAAAAAAAAAAAAAA");
  EXPECT_EQ(helix->secret_access_key, "s3cr3t = with equals");
  EXPECT_EQ(file->profile("helix")->get("aws_session_token"), "part1\npart2");
}

TEST(CredentialsFileParse, ListsEveryBadLineByNumber) {
  const char* text =
      "aws_access_key_id = early\n"  // 1: before any profile
      "[default]\n"                  // 2
      "just words\n"                 // 3: no delimiter
      "[broken\n"                    // 4: unclosed header
      "[default]\n"                  // 5: second default
      "[other]\n"                    // 6
      "aws_access_key_id = a\n"      // 7
      "aws_access_key_id = b\n";     // 8: key twice
  auto file = CredentialsFile::parse(text);
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().code(), ErrorCode::kInvalidInput);
  std::vector<FieldProblem> want = {
      {"line 1", "key aws_access_key_id comes before any [profile] header"},
      {"line 3", "'just words' is not of the form key = value"},
      {"line 4", "section header '[broken' is not of the form [profile]"},
      {"line 5", "profile [default] appears twice"},
      {"line 8", "key aws_access_key_id appears twice in profile [other]"},
  };
  EXPECT_EQ(file.error().problems(), want) << file.error().to_string();
}

TEST(CredentialsFileParse, MissingProfileOrKeyIsNamed) {
  auto file = CredentialsFile::parse("[half]\naws_access_key_id = AKID\n");
  ASSERT_TRUE(file);
  auto none = file->credentials("nope");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(none.error().message(), "no profile [nope] in credentials file");
  auto half = file->credentials("half");
  ASSERT_FALSE(half);
  EXPECT_EQ(half.error().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(half.error().message(), "half.aws_secret_access_key: missing");
}

TEST(CredentialsFileEdit, SetReplacesKeysAndKeepsOthersThenRoundTrips) {
  auto file = CredentialsFile::parse(
      "[default]\naws_access_key_id = OLD\naws_secret_access_key = OLDSECRET\nregion = "
      "eu-west-1\n");
  ASSERT_TRUE(file);
  file->set_credentials("default", {"NEW", "NEWSECRET"});
  file->set_credentials("helix", {"HLXKEY", "HLXSECRET"});
  EXPECT_EQ(file->to_text(),
            "[default]\n"
            "aws_access_key_id = NEW\n"
            "aws_secret_access_key = NEWSECRET\n"
            "region = eu-west-1\n"
            "\n"
            "[helix]\n"
            "aws_access_key_id = HLXKEY\n"
            "aws_secret_access_key = HLXSECRET\n");
  auto again = CredentialsFile::parse(file->to_text());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->to_text(), file->to_text());

  EXPECT_TRUE(file->remove_profile("default"));
  EXPECT_FALSE(file->remove_profile("default"));
  EXPECT_EQ(file->profiles().size(), 1u);
}

TEST(CredentialsFileEdit, MultiLineValueIsWrittenAsContinuationLines) {
  auto parsed = CredentialsFile::parse("[p]\nnote = one\n  two\n");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->to_text(), "[p]\nnote = one\n    two\n");
  auto reparsed = CredentialsFile::parse(parsed->to_text());
  ASSERT_TRUE(reparsed);
  EXPECT_EQ(reparsed->profile("p")->get("note"), "one\ntwo");
}

TEST(CredentialsFileDisk, WriteIsPrivateAndReadsBack) {
  TempDir dir;
  std::string path = dir.file("credentials");
  CredentialsFile file;
  file.set_credentials("helix", {"HLXKEY", "HLXSECRET"});
  auto written = file.write(path);
  ASSERT_TRUE(written) << written.error().to_string();

  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(slurp(path), file.to_text());
  auto read = CredentialsFile::read(path);
  ASSERT_TRUE(read) << read.error().to_string();
  EXPECT_EQ(read->credentials("helix")->secret_access_key, "HLXSECRET");
  // Only the file itself is left: the temporary file was renamed.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

TEST(CredentialsFileDisk, WriteReplacesAnExistingFileWhole) {
  TempDir dir;
  std::string path = dir.file("credentials");
  std::ofstream(path) << "[old]\naws_access_key_id = X\naws_secret_access_key = Y\n"
                      << std::string(4096, '#') << "\n";
  ::chmod(path.c_str(), 0644);
  CredentialsFile file;
  file.set_credentials("new", {"A", "B"});
  ASSERT_TRUE(file.write(path));
  EXPECT_EQ(slurp(path), "[new]\naws_access_key_id = A\naws_secret_access_key = B\n");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(CredentialsFileDisk, WriteSetsTheOwner) {
  TempDir dir;
  std::string path = dir.file("credentials");
  CredentialsFile file;
  file.set_credentials("helix", {"A", "B"});
  // Our own ids work for anyone; another user's only for root.
  FileOwner owner{::getuid(), ::getgid()};
  if (::geteuid() == 0) owner = {65534, 65534};
  auto written = file.write(path, owner);
  ASSERT_TRUE(written) << written.error().to_string();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, owner.uid);
  EXPECT_EQ(st.st_gid, owner.gid);
}

TEST(CredentialsFileDisk, FailuresNameThePathAndStep) {
  TempDir dir;
  CredentialsFile file;
  file.set_credentials("helix", {"A", "B"});
  std::string nowhere = dir.file("missing-dir/credentials");
  auto written = file.write(nowhere);
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(written.error().message().find(nowhere), std::string::npos)
      << written.error().to_string();

  auto missing = CredentialsFile::read(dir.file("absent"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);

  std::string bad = dir.file("bad");
  std::ofstream(bad) << "[p]\nnonsense\n";
  auto corrupt = CredentialsFile::read(bad);
  ASSERT_FALSE(corrupt);
  EXPECT_EQ(corrupt.error().code(), ErrorCode::kInvalidInput);
  ASSERT_EQ(corrupt.error().problems().size(), 1u);
  EXPECT_EQ(corrupt.error().problems()[0].path, bad + ":2");
}

TEST(GenerateCredentials, ShapedLikeAwsKeysAndPinnedBySeed) {
  SeededRng a(1), b(1);
  Credentials first = generate_credentials(a);
  EXPECT_EQ(first.access_key_id, generate_credentials(b).access_key_id);

  std::set<std::string> ids;
  SeededRng rng(99);
  for (int i = 0; i < 200; ++i) {
    Credentials c = generate_credentials(rng);
    ASSERT_EQ(c.access_key_id.size(), 20u) << c.access_key_id;
    EXPECT_EQ(c.access_key_id.rfind("HLX", 0), 0u) << c.access_key_id;
    for (char ch : c.access_key_id)
      EXPECT_TRUE(std::isupper(static_cast<unsigned char>(ch)) ||
                  std::isdigit(static_cast<unsigned char>(ch)))
          << c.access_key_id;
    ASSERT_EQ(c.secret_access_key.size(), 40u);
    for (char ch : c.secret_access_key)
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(ch)) || ch == '+' || ch == '/')
          << c.secret_access_key;
    ids.insert(c.access_key_id);
  }
  EXPECT_EQ(ids.size(), 200u);
}

TEST(GenerateCredentials, SecureRngGivesDistinctKeys) {
  SecureRng rng;
  Credentials a = generate_credentials(rng);
  Credentials b = generate_credentials(rng);
  EXPECT_NE(a.access_key_id, b.access_key_id);
  EXPECT_NE(a.secret_access_key, b.secret_access_key);
}

}  // namespace
}  // namespace helix::protocol
