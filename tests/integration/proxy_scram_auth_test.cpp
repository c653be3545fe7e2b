// zerodown proxy --auth-file: clients log in with SCRAM-SHA-256 against secrets copied from
// pg_authid the way docs/proxy.md shows. psql, pgbench (simple, extended, prepared) and libpq get
// in with the right password; a wrong password, an unknown user and a malformed SASL message are
// refused (28P01, 08P01) and logged with the client's address, while other clients go on; a bad
// auth file stops the proxy before it listens.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <regex>

#include "proxy/wire.hpp"
#include "support/database.hpp"
#include "support/proxy.hpp"

namespace zerodown {
namespace {

namespace wire = proxy::wire;
using testing::ProxyProcess;
using testing::Quoted;
using testing::SharedCluster;
using testing::Shell;

constexpr const char* kUser = "scram_client";
constexpr const char* kPassword = "pencil-pw";

std::string Bin(const std::string& tool) { return SharedCluster().bindir() + "/" + tool; }

// A client speaking the protocol byte by byte, to see the proxy's exact answers.
class RawClient {
 public:
  explicit RawClient(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    timeval timeout{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~RawClient() { ::close(fd_); }

  void Send(const std::string& bytes) {
    EXPECT_EQ(::write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  void SendStartup(const std::string& user) {
    std::string body;
    wire::AppendUint32(body, wire::kProtocol3);
    body += std::string("user\0", 5) + user + '\0' + std::string("database\0blue\0\0", 15);
    std::string packet;
    wire::AppendUint32(packet, static_cast<std::uint32_t>(body.size() + 4));
    Send(packet + body);
  }
  // A typed message ('p' for both SASL responses).
  void SendMessage(char type, const std::string& body) {
    std::string out(1, type);
    wire::AppendUint32(out, static_cast<std::uint32_t>(body.size() + 4));
    Send(out + body);
  }
  void SendInitialResponse(const std::string& mechanism, const std::string& data) {
    std::string body = mechanism + '\0';
    wire::AppendUint32(body, static_cast<std::uint32_t>(data.size()));
    SendMessage('p', body + data);
  }
  // The next message's type and body; type 0 when the connection closed first.
  std::pair<char, std::string> Read() {
    std::string header = ReadBytes(5);
    if (header.size() < 5) return {0, ""};
    return {header[0], ReadBytes(wire::ReadUint32(header.data() + 1) - 4)};
  }
  // Reads up to the ErrorResponse that ends the login: its SQLSTATE and message.
  std::string ErrorAfter() {
    for (;;) {
      auto [type, body] = Read();
      if (type == 'E')
        return wire::ParseError(body).sqlstate + " " + wire::ParseError(body).message;
      if (type == 0) return "closed without an error";
    }
  }

 private:
  std::string ReadBytes(std::size_t n) {
    std::string out;
    char buffer[4096];
    while (out.size() < n) {
      ssize_t got = ::read(fd_, buffer, std::min(sizeof(buffer), n - out.size()));
      if (got <= 0) break;
      out.append(buffer, static_cast<std::size_t>(got));
    }
    return out;
  }
  int fd_;
};

// The AuthenticationSASL message a client must get first.
void ExpectSaslOffer(RawClient& client) {
  auto [type, body] = client.Read();
  ASSERT_EQ(type, 'R');
  EXPECT_EQ(body, std::string("\0\0\0\x0aSCRAM-SHA-256\0\0", 19));
}

class ProxyScramAuth : public ::testing::Test {
 protected:
  // A login role with a SCRAM password, and the auth file made from pg_authid with the command
  // docs/proxy.md gives (a superuser's psql).
  void SetUp() override {
    db_ = testing::FreshDatabase();
    pg::Connection admin = testing::Connect(db_);
    admin.Run("DROP ROLE IF EXISTS " + std::string(kUser));
    admin.Run("SET password_encryption = 'scram-sha-256'");
    admin.Run("CREATE ROLE " + std::string(kUser) + " LOGIN PASSWORD '" + kPassword + "'");
    auth_file_ = ::testing::TempDir() + "zerodown_userlist.txt";
    std::string out;
    // In a subshell: Shell appends 2>&1, which must not land on the here-document's last line.
    ASSERT_EQ(Shell("(" + Bin("psql") + " -AtX -d " + Quoted(db_) + " -o " + auth_file_ +
                        " <<'SQL'\n"
                        "SELECT format('\"%s\" \"%s\"', replace(rolname, '\"', '\"\"'), "
                        "rolpassword)\n"
                        "FROM pg_authid\n"
                        "WHERE rolcanlogin AND rolpassword LIKE 'SCRAM-SHA-256$%';\n"
                        "SQL\n)",
                    &out),
              0)
        << out;
    proxy_ = std::make_unique<ProxyProcess>(
        std::vector<std::string>{"--target", "blue=" + db_, "--auth-file", auth_file_});
  }

  std::string ConnInfo(const std::string& user, const std::string& password) const {
    return "host=127.0.0.1 port=" + std::to_string(proxy_->port()) + " dbname=blue user=" + user +
           (password.empty() ? "" : " password=" + password) +
           " passfile=/nonexistent connect_timeout=10";
  }
  // psql through the proxy as `user` with PGPASSWORD=`password`.
  int Psql(const std::string& user, const std::string& password, const std::string& sql,
           std::string* out) const {
    return Shell("PGPASSWORD=" + password + " PGPASSFILE=/nonexistent " + Bin("psql") +
                     " -X -At -h 127.0.0.1 -p " + std::to_string(proxy_->port()) + " -U " + user +
                     " -c " + Quoted(sql) + " blue",
                 out);
  }

  std::string db_;
  std::string auth_file_;
  std::unique_ptr<ProxyProcess> proxy_;
};

TEST_F(ProxyScramAuth, PsqlPgbenchAndLibpqLogInWithTheRightPassword) {
  std::string out;
  ASSERT_EQ(Psql(kUser, kPassword, "SELECT 40 + 2", &out), 0) << out << proxy_->log();
  EXPECT_EQ(out, "42\n");
  ASSERT_EQ(Shell(Bin("pgbench") + " -i -q -s 1 " + Quoted(db_), &out), 0) << out;
  for (std::string mode : {"simple", "extended", "prepared"}) {
    ASSERT_EQ(Shell("PGPASSWORD=" + std::string(kPassword) + " PGPASSFILE=/nonexistent " +
                        Bin("pgbench") + " -h 127.0.0.1 -p " + std::to_string(proxy_->port()) +
                        " -U " + kUser + " -c 4 -j 2 -T 2 -M " + mode + " blue",
                    &out),
              0)
        << out << proxy_->log();
    std::smatch match;
    ASSERT_TRUE(std::regex_search(out, match, std::regex(R"(actually processed: (\d+))"))) << out;
    EXPECT_GT(std::stoi(match[1]), 50) << mode << "\n" << out;
    EXPECT_NE(out.find("number of failed transactions: 0 "), std::string::npos) << mode << out;
  }
  pg::Connection client = testing::Connect(ConnInfo(kUser, kPassword));
  EXPECT_EQ(client.Exec("SELECT count(*) FROM pgbench_branches").Int(0, 0), 1);
  // The proxy asked for the password, and libpq checked the proxy's server signature
  // (AuthenticationSASLFinal), or it would have given up.
  EXPECT_TRUE(PQconnectionUsedPassword(client.raw()));
  PGconn* none = PQconnectdb(ConnInfo(kUser, "").c_str());
  EXPECT_NE(PQstatus(none), CONNECTION_OK) << "no password, no session";
  EXPECT_NE(std::string(PQerrorMessage(none)).find("no password supplied"), std::string::npos)
      << PQerrorMessage(none);
  PQfinish(none);
}

TEST_F(ProxyScramAuth, AWrongPasswordOrUnknownUserIsRefusedAndOthersGoOn) {
  pg::Connection bystander = testing::Connect(ConnInfo(kUser, kPassword));
  bystander.Run("BEGIN");
  bystander.Exec("SELECT 1");
  std::string out;
  EXPECT_NE(Psql(kUser, "wrong-pw", "SELECT 'answer ' || (40 + 2)", &out), 0) << out;
  EXPECT_NE(out.find("password authentication failed for user \"scram_client\""), std::string::npos)
      << out;
  // Not "42" alone: the proxy's port may hold those digits.
  EXPECT_EQ(out.find("answer 42"), std::string::npos) << out;
  EXPECT_NE(Psql("nobody", kPassword, "SELECT 40 + 2", &out), 0) << out;
  EXPECT_NE(out.find("password authentication failed for user \"nobody\""), std::string::npos)
      << out;
  // The same on the wire for both: a well-formed exchange whose proof is wrong ends in 28P01.
  for (std::string user : {std::string(kUser), std::string("nobody")}) {
    RawClient client(proxy_->port());
    client.SendStartup(user);
    ExpectSaslOffer(client);
    client.SendInitialResponse("SCRAM-SHA-256", "n,,n=,r=clientnonce");
    auto [type, server_first] = client.Read();
    ASSERT_EQ(type, 'R') << server_first;
    ASSERT_EQ(wire::ReadUint32(server_first.data()), 11u);  // AuthenticationSASLContinue
    std::string nonce = server_first.substr(4, server_first.find(',') - 4);
    EXPECT_EQ(nonce.rfind("r=clientnonce", 0), 0u) << server_first;
    client.SendMessage('p', "c=biws," + nonce + ",p=" + std::string(43, 'A') + "=");
    EXPECT_EQ(client.ErrorAfter(),
              "28P01 password authentication failed for user \"" + user + "\"");
  }
  std::string log = proxy_->log();
  EXPECT_NE(log.find("client 127.0.0.1:"), std::string::npos) << log;
  EXPECT_NE(log.find("the password is wrong"), std::string::npos) << log;
  EXPECT_NE(log.find("the user is not in --auth-file"), std::string::npos) << log;
  // The next client with the right password gets in, and the bystander never noticed.
  ASSERT_EQ(Psql(kUser, kPassword, "SELECT 40 + 2", &out), 0) << out << log;
  EXPECT_EQ(out, "42\n");
  bystander.Exec("SELECT 2");
  bystander.Run("COMMIT");
}

TEST_F(ProxyScramAuth, MalformedSaslMessagesGet08P01) {
  struct Case {
    std::string name;
    std::function<void(RawClient&)> send;
    std::string expected;
  };
  std::vector<Case> cases = {
      {"a mechanism not offered",
       [](RawClient& c) {
         c.SendInitialResponse("SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,");
       },
       "08P01 SCRAM authentication failed: the client chose SASL mechanism \"SCRAM-SHA-256-PLUS\""},
      {"channel binding asked for",
       [](RawClient& c) {
         c.SendInitialResponse("SCRAM-SHA-256", "p=tls-server-end-point,,n=,r=x");
       },
       "08P01 SCRAM authentication failed: the client asks for channel binding"},
      {"a client-first-message without a nonce",
       [](RawClient& c) { c.SendInitialResponse("SCRAM-SHA-256", "n,,n=user"); },
       "08P01 SCRAM authentication failed: the client-first-message has no valid nonce"},
      {"a query instead of a SASL response",
       [](RawClient& c) { c.SendMessage('Q', std::string("SELECT 1\0", 9)); },
       "08P01 SCRAM authentication failed: expected a SASL response"},
      {"a truncated SASLInitialResponse",
       [](RawClient& c) { c.SendMessage('p', std::string("SCRAM-SHA-256\0\0", 15)); },
       "08P01 SCRAM authentication failed: the SASLInitialResponse is not"},
  };
  for (const auto& test : cases) {
    RawClient client(proxy_->port());
    client.SendStartup(kUser);
    ExpectSaslOffer(client);
    test.send(client);
    std::string error = client.ErrorAfter();
    EXPECT_EQ(error.rfind(test.expected, 0), 0u) << test.name << ": " << error;
  }
  std::string out;
  ASSERT_EQ(Psql(kUser, kPassword, "SELECT 40 + 2", &out), 0) << out << proxy_->log();
}

TEST(ProxyScramAuthFile, ABadAuthFileStopsTheProxyBeforeItListens) {
  std::string db = testing::FreshDatabase();
  std::string path = ::testing::TempDir() + "zerodown_bad_userlist.txt";
  std::ofstream(path) << "; users\n\"app\" \"secret-pw\"\n";
  int port = testing::FreePort();
  std::string out;
  int rc = testing::RunZerodown("proxy --listen 127.0.0.1:" + std::to_string(port) +
                                    " --target blue=" + Quoted(db) + " --auth-file " + path,
                                &out);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("--auth-file " + path + ", line 2: user \"app\" has a plaintext password"),
            std::string::npos)
      << out;
  EXPECT_FALSE(testing::Listening(port));
}

TEST(ProxyScramAuthFile, WithoutAnAuthFileEveryClientIsLetIn) {
  std::string db = testing::FreshDatabase();
  ProxyProcess proxy({"--target", "blue=" + db});
  EXPECT_NE(proxy.log().find("clients: trust, no --auth-file"), std::string::npos) << proxy.log();
  std::string out;
  ASSERT_EQ(Shell("PGPASSWORD=anything " + Bin("psql") + " -X -At -h 127.0.0.1 -p " +
                      std::to_string(proxy.port()) + " -U whoever -c 'SELECT 1' blue",
                  &out),
            0)
      << out;
}

}  // namespace
}  // namespace zerodown
