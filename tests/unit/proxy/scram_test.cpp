// SCRAM-SHA-256 on the server's side, driven by the example exchange of RFC 7677 section 3 (user
// "user", password "pencil"), and each way a client's message can be wrong.
#include "proxy/scram.hpp"

#include <gtest/gtest.h>

namespace zerodown::proxy::scram {
namespace {

constexpr const char* kClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr const char* kServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr const char* kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr const char* kClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr const char* kServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

Secret PencilSecret() {
  return MakeSecret("pencil", *Base64Decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
}

TEST(Scram, Rfc7677ExchangeGivesTheRfcsServerMessages) {
  ServerExchange exchange(PencilSecret(), kServerNonce);
  Reply first = exchange.OnClientFirst(kClientFirst);
  ASSERT_TRUE(first.ok()) << first.failure->reason;
  EXPECT_EQ(first.message, kServerFirst);
  Reply final = exchange.OnClientFinal(kClientFinal);
  ASSERT_TRUE(final.ok()) << final.failure->reason;
  EXPECT_EQ(final.message, kServerFinal);
}

TEST(Scram, TheSecretParsesFromAndFormatsToPgAuthidsForm) {
  // The same secret as PostgreSQL stores for "pencil" with the RFC's salt and iterations.
  std::string stored =
      "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
      "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";
  EXPECT_EQ(FormatSecret(PencilSecret()), stored);
  auto parsed = ParseSecret(stored);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(FormatSecret(*parsed), stored);
  ServerExchange exchange(*parsed, kServerNonce);
  ASSERT_TRUE(exchange.OnClientFirst(kClientFirst).ok());
  EXPECT_EQ(exchange.OnClientFinal(kClientFinal).message, kServerFinal);
}

TEST(Scram, MalformedSecretsAreRefused) {
  for (const char* bad :
       {"md5a3556571e93b0d20722ba62be61e8c2d", "SCRAM-SHA-256$4096:c2FsdA==",
        "SCRAM-SHA-256$x:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
        "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$c2hvcnQ=:c2hvcnQ=",
        "SCRAM-SHA-256$4096:not base64!$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
        "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="}) {
    EXPECT_FALSE(ParseSecret(bad).ok()) << bad;
  }
}

TEST(Scram, AWrongPasswordIsRefusedAtTheProof) {
  ServerExchange exchange(MakeSecret("pencil2", *Base64Decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096),
                          kServerNonce);
  ASSERT_TRUE(exchange.OnClientFirst(kClientFirst).ok());
  Reply final = exchange.OnClientFinal(kClientFinal);
  ASSERT_FALSE(final.ok());
  EXPECT_EQ(final.failure->kind, FailureKind::kRefused);
  EXPECT_TRUE(final.message.empty());
}

// The reason a protocol error gives for `client_first`, "" when it was accepted.
std::string FirstFailure(const std::string& client_first) {
  ServerExchange exchange(PencilSecret(), kServerNonce);
  Reply reply = exchange.OnClientFirst(client_first);
  if (reply.ok()) return "";
  EXPECT_EQ(reply.failure->kind, FailureKind::kProtocol);
  return reply.failure->reason;
}

TEST(Scram, MalformedClientFirstMessagesAreProtocolErrors) {
  EXPECT_NE(FirstFailure("p=tls-server-end-point,,n=,r=abc").find("channel binding"),
            std::string::npos);
  EXPECT_NE(FirstFailure("n,a=admin,n=,r=abc").find("authorization identity"), std::string::npos);
  EXPECT_NE(FirstFailure("n,,m=ext,n=,r=abc").find("mandatory extension"), std::string::npos);
  EXPECT_NE(FirstFailure("x,,n=,r=abc"), "");
  EXPECT_NE(FirstFailure("n,,r=abc"), "");
  EXPECT_NE(FirstFailure("n,,n=,r="), "");
  EXPECT_NE(FirstFailure(""), "");
  // libpq sends an empty user name and 'y' when it could bind but the server offers no -PLUS.
  EXPECT_EQ(FirstFailure("n,,n=,r=abc"), "");
  EXPECT_EQ(FirstFailure("y,,n=,r=abc,x=extension"), "");
}

// The failure for a client-final-message after the RFC's client-first.
std::optional<Failure> FinalFailure(const std::string& client_final) {
  ServerExchange exchange(PencilSecret(), kServerNonce);
  EXPECT_TRUE(exchange.OnClientFirst(kClientFirst).ok());
  return exchange.OnClientFinal(client_final).failure;
}

TEST(Scram, MalformedClientFinalMessagesAreProtocolErrors) {
  std::string nonce = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  std::string proof = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  for (const std::string& bad :
       {"c=eSws," + nonce + "," + proof,                        // binding "y,," after "n,,"
        "c=biws,r=rOprNGfwEbeRWgbNEkqOother," + proof,          // not the server's nonce
        "c=biws," + nonce,                                      // no proof
        "c=biws," + nonce + ",p=c2hvcnQ=",                      // a proof of the wrong length
        nonce + ",c=biws," + proof, std::string("garbage")}) {  // out of order
    auto failure = FinalFailure(bad);
    ASSERT_TRUE(failure.has_value()) << bad;
    EXPECT_EQ(failure->kind, FailureKind::kProtocol) << bad;
  }
}

TEST(Scram, MessagesOutOfTurnAreProtocolErrors) {
  ServerExchange exchange(PencilSecret(), kServerNonce);
  EXPECT_FALSE(exchange.OnClientFinal(kClientFinal).ok());
  ServerExchange twice(PencilSecret(), kServerNonce);
  ASSERT_TRUE(twice.OnClientFirst(kClientFirst).ok());
  EXPECT_FALSE(twice.OnClientFirst(kClientFirst).ok());
}

TEST(Scram, Base64AndNonces) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("n,,"), "biws");
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_EQ(Base64Decode("YWI="), "ab");
  EXPECT_EQ(Base64Decode("YQ=="), "a");
  EXPECT_EQ(Base64Decode("YWI"), std::nullopt);
  EXPECT_EQ(Base64Decode("YW I="), std::nullopt);
  EXPECT_EQ(Base64Decode("Y==="), std::nullopt);
  std::string a = RandomNonce();
  EXPECT_EQ(a.size(), 24u);
  EXPECT_EQ(a.find(','), std::string::npos);
  EXPECT_NE(a, RandomNonce());
}

}  // namespace
}  // namespace zerodown::proxy::scram
