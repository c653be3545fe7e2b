// The auth file of `zerodown proxy --auth-file`: PgBouncer userlist.txt lines with
// pg_authid.rolpassword secrets, and a one-paragraph error naming the file, the line and the fix
// for every line it cannot use.
#include "proxy/auth_file.hpp"

#include <gtest/gtest.h>

#include "proxy/wire.hpp"

namespace zerodown::proxy {
namespace {

constexpr const char* kPencil =
    "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";

std::string Line(const std::string& user, const std::string& secret) {
  return "\"" + user + "\" \"" + secret + "\"\n";
}

TEST(AuthFile, ReadsUsersCommentsAndQuotedQuotes) {
  std::string text = "; made from pg_authid\n# another comment\n\n" + Line("app", kPencil) + "  " +
                     Line("we\"\"ird", kPencil) + Line("reporting", kPencil) + "\r\n";
  auto file = AuthFile::Parse(text, "users.txt");
  ASSERT_TRUE(file.ok()) << file.error().Describe();
  EXPECT_EQ(file->size(), 3u);
  ASSERT_NE(file->Find("app"), nullptr);
  EXPECT_EQ(scram::FormatSecret(*file->Find("app")), kPencil);
  EXPECT_NE(file->Find("we\"ird"), nullptr);
  EXPECT_EQ(file->Find("nobody"), nullptr);
}

TEST(AuthFile, AnUnknownUsersMockSaltIsTheSameAtEveryAttempt) {
  auto file = AuthFile::Parse(Line("app", kPencil), "users.txt");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->MockSecret("eve").salt, file->MockSecret("eve").salt);
  EXPECT_NE(file->MockSecret("eve").salt, file->MockSecret("mallory").salt);
  EXPECT_EQ(file->MockSecret("eve").iterations, 4096);
}

// The one-paragraph message for a file whose text is `text`.
std::string ErrorFor(const std::string& text) {
  auto file = AuthFile::Parse(text, "/etc/zerodown/users.txt");
  EXPECT_FALSE(file.ok()) << text;
  if (file.ok()) return "";
  EXPECT_EQ(file.error().kind(), ErrorKind::kUsage);
  return file.error().Describe();
}

TEST(AuthFile, EachBadLineIsNamedWithItsFix) {
  std::string first = Line("app", kPencil);
  std::string plain = ErrorFor(first + Line("app2", "secret-pw"));
  EXPECT_NE(plain.find("--auth-file /etc/zerodown/users.txt, line 2: user \"app2\" has a "
                       "plaintext password"),
            std::string::npos)
      << plain;
  EXPECT_NE(plain.find("pg_authid"), std::string::npos) << plain;
  std::string md5 = ErrorFor(Line("app", "md5a3556571e93b0d20722ba62be61e8c2d"));
  EXPECT_NE(md5.find("line 1: user \"app\" has an md5 secret"), std::string::npos) << md5;
  EXPECT_NE(md5.find("password_encryption = 'scram-sha-256'"), std::string::npos) << md5;
  std::string unquoted = ErrorFor("app SCRAM-SHA-256$4096:abc\n");
  EXPECT_NE(unquoted.find("line 1: the line is not two quoted fields"), std::string::npos)
      << unquoted;
  EXPECT_NE(ErrorFor("\"app\" \"" + std::string(kPencil) + "\" extra\n").find("line 1"),
            std::string::npos);
  EXPECT_NE(ErrorFor("\"app\" \"unterminated\n").find("line 1"), std::string::npos);
  std::string broken = ErrorFor(Line("app", "SCRAM-SHA-256$4096:W22Z$short:short"));
  EXPECT_NE(broken.find("line 1: user \"app\": the SCRAM secret"), std::string::npos) << broken;
  std::string twice = ErrorFor(first + first);
  EXPECT_NE(twice.find("line 2: user \"app\" is named a second time"), std::string::npos) << twice;
  EXPECT_NE(ErrorFor("; nothing but comments\n").find("names no user"), std::string::npos);
}

TEST(AuthFile, AnUnreadableFileIsNamed) {
  auto file = AuthFile::Load("/nonexistent/users.txt");
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().Describe().find("/nonexistent/users.txt: cannot read"), std::string::npos);
}

TEST(Wire, SaslInitialResponse) {
  std::string body = std::string("SCRAM-SHA-256") + '\0';
  wire::AppendUint32(body, 3);
  auto parsed = wire::ParseSaslInitialResponse(body + "abc");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->mechanism, "SCRAM-SHA-256");
  EXPECT_EQ(parsed->data, "abc");
  EXPECT_FALSE(wire::ParseSaslInitialResponse(body + "ab").has_value());
  EXPECT_FALSE(wire::ParseSaslInitialResponse("SCRAM-SHA-256").has_value());
  EXPECT_EQ(wire::AuthenticationSasl("SCRAM-SHA-256"),
            std::string("R\0\0\0\x17\0\0\0\x0aSCRAM-SHA-256\0\0", 24));
}

}  // namespace
}  // namespace zerodown::proxy
