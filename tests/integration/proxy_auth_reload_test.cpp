// Promise: `zerodown proxy --auth-file FILE` reads the file again on SIGHUP and on `zerodown proxy
// reload`: new logins use the new users and passwords (an old password is refused, a new user
// gets in), clients logged in already go on untouched, and a file that no longer parses leaves
// the old list serving, logged once as one paragraph naming the file, the line and the fix.
// Without --auth-file, SIGHUP does not stop the proxy and `reload` says there is nothing to read.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <csignal>
#include <fstream>
#include <memory>

#include "proxy/scram.hpp"
#include "support/database.hpp"
#include "support/proxy.hpp"

namespace zerodown {
namespace {

using testing::ProxyProcess;

// One userlist line for `user` with a SCRAM-SHA-256 secret of `password`.
std::string UserLine(const std::string& user, const std::string& password) {
  return "\"" + user + "\" \"" +
         proxy::scram::FormatSecret(proxy::scram::MakeSecret(password, "salt-" + user, 4096)) +
         "\"\n";
}

class ProxyAuthReload : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = testing::FreshDatabase();
    auth_file_ = ::testing::TempDir() + "zerodown_reload_userlist.txt";
    Write(UserLine("alice", "old-pw"));
    proxy_ = std::make_unique<ProxyProcess>(
        std::vector<std::string>{"--target", "blue=" + db_, "--auth-file", auth_file_});
  }
  void Write(const std::string& text) const { std::ofstream(auth_file_) << text; }

  // Empty when `user` logs in with `password` and runs a query, else libpq's error.
  std::string LoginError(const std::string& user, const std::string& password) const {
    std::string conninfo = "host=127.0.0.1 port=" + std::to_string(proxy_->port()) +
                           " dbname=blue user=" + user + " password=" + password +
                           " passfile=/nonexistent connect_timeout=10";
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(conninfo.c_str()), &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK) return PQerrorMessage(conn.get());
    std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), "SELECT 1"), &PQclear);
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) return PQerrorMessage(conn.get());
    return "";
  }
  // Counts the lines of the proxy's log that hold `text`.
  int LogLines(const std::string& text) const {
    std::string log = proxy_->log();
    int n = 0;
    for (std::size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) {
      ++n;
    }
    return n;
  }

  std::string db_;
  std::string auth_file_;
  std::unique_ptr<ProxyProcess> proxy_;
};

TEST_F(ProxyAuthReload, NewLoginsUseTheReloadedFileAndConnectedClientsGoOn) {
  ASSERT_EQ(LoginError("alice", "old-pw"), "") << proxy_->log();
  EXPECT_NE(LoginError("bob", "bob-pw"), "");
  pg::Connection connected = testing::Connect(
      "host=127.0.0.1 port=" + std::to_string(proxy_->port()) +
      " dbname=blue user=alice password=old-pw passfile=/nonexistent connect_timeout=10");
  connected.Run("BEGIN");
  EXPECT_EQ(connected.Exec("SELECT 41 + 1").Int(0, 0), 42);

  Write(UserLine("alice", "new-pw") + UserLine("bob", "bob-pw"));
  proxy_->Signal(SIGHUP);
  ASSERT_TRUE(proxy_->WaitForLog("RELOAD: 2 user(s)")) << proxy_->log();
  EXPECT_FALSE(proxy_->Ended()) << "SIGHUP does not stop the proxy";
  EXPECT_NE(LoginError("alice", "old-pw").find("password authentication failed"),
            std::string::npos);
  EXPECT_EQ(LoginError("alice", "new-pw"), "") << proxy_->log();
  EXPECT_EQ(LoginError("bob", "bob-pw"), "") << proxy_->log();
  // The client logged in with the old password goes on in its transaction.
  EXPECT_EQ(connected.Exec("SELECT 40 + 3").Int(0, 0), 43);
  connected.Run("COMMIT");

  // A file that does not parse: the old list keeps serving, one paragraph in the log.
  Write(UserLine("alice", "newest-pw") + "\"carol\" \"plain-pw\"\n");
  proxy_->Signal(SIGHUP);
  ASSERT_TRUE(proxy_->WaitForLog("RELOAD of the user list failed")) << proxy_->log();
  EXPECT_EQ(LogLines("RELOAD of the user list failed"), 1) << proxy_->log();
  EXPECT_EQ(LogLines("the 2 user(s) loaded before keep serving new logins. --auth-file " +
                     auth_file_ + ", line 2: user \"carol\" has a plaintext password"),
            1)
      << proxy_->log();
  EXPECT_EQ(LogLines("Replace it with the user's rolpassword from pg_authid"), 1) << proxy_->log();
  EXPECT_EQ(LoginError("alice", "new-pw"), "") << proxy_->log();
  EXPECT_NE(LoginError("alice", "newest-pw"), "");
  EXPECT_NE(LoginError("carol", "plain-pw"), "");
  EXPECT_FALSE(proxy_->Ended());
}

TEST_F(ProxyAuthReload, TheReloadCommandAnswersWhatHappened) {
  Write("\"alice\" \"SCRAM-SHA-256$4096:bad\"\n");
  nlohmann::json answer;
  EXPECT_EQ(proxy_->Control("reload", &answer), 1);
  EXPECT_EQ(answer.value("ok", true), false) << answer.dump();
  EXPECT_NE(answer.value("error", "").find(auth_file_ + ", line 1: user \"alice\""),
            std::string::npos)
      << answer.dump();
  EXPECT_EQ(LoginError("alice", "old-pw"), "") << "the old list serves";

  Write(UserLine("dave", "dave-pw"));
  ASSERT_EQ(proxy_->Control("reload", &answer), 0) << answer.dump();
  EXPECT_EQ(answer.value("users", 0), 1) << answer.dump();
  EXPECT_EQ(LoginError("dave", "dave-pw"), "") << proxy_->log();
  EXPECT_NE(LoginError("alice", "old-pw"), "");
  ASSERT_EQ(proxy_->Control("status", &answer), 0);
  EXPECT_EQ(answer["auth"].value("users", 0), 1) << answer.dump();
}

TEST(ProxyAuthReloadWithoutFile, HangupKeepsTheProxyAndReloadHasNothingToRead) {
  std::string db = testing::FreshDatabase();
  ProxyProcess proxy({"--target", "blue=" + db});
  proxy.Signal(SIGHUP);
  ASSERT_TRUE(proxy.WaitForLog("nothing to reload")) << proxy.log();
  EXPECT_FALSE(proxy.Ended());
  nlohmann::json answer;
  EXPECT_EQ(proxy.Control("reload", &answer), 1);
  EXPECT_NE(answer.value("error", "").find("without --auth-file"), std::string::npos)
      << answer.dump();
  pg::Connection client = testing::Connect(proxy.ConnInfo("blue"));
  EXPECT_EQ(client.Exec("SELECT 7").Int(0, 0), 7);
}

}  // namespace
}  // namespace zerodown
