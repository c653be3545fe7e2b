// zerodown proxy in session pooling: psql and pgbench (simple, extended and prepared protocols)
// work through it unchanged with no failed transaction, a SCRAM-SHA-256 server is reached with
// the target URL's credentials, and bad input (a malformed startup packet, an unknown target, an
// unreachable server, a client leaving mid-transaction) gets a clear error without touching any
// other client.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "support/database.hpp"
#include "support/proxy.hpp"

namespace zerodown {
namespace {

using testing::ProxyProcess;
using testing::Quoted;
using testing::SharedCluster;
using testing::Shell;

std::string Bin(const std::string& tool) { return SharedCluster().bindir() + "/" + tool; }

// pgbench through the proxy for 3 s in `mode`; expects exit 0 and no failed transaction.
void RunPgbench(const ProxyProcess& proxy, const std::string& mode, int clients) {
  std::string out;
  int rc = Shell(Bin("pgbench") + " -h 127.0.0.1 -p " + std::to_string(proxy.port()) +
                     " -U app -c " + std::to_string(clients) + " -j 2 -T 3 -M " + mode + " blue",
                 &out);
  EXPECT_EQ(rc, 0) << out << proxy.log();
  std::smatch match;
  ASSERT_TRUE(std::regex_search(out, match, std::regex(R"(actually processed: (\d+))"))) << out;
  EXPECT_GT(std::stoi(match[1]), 100) << mode << "\n" << out;
  EXPECT_NE(out.find("number of failed transactions: 0 "), std::string::npos) << mode << out;
}

TEST(ProxySessionPooling, PgbenchRunsWithAllThreeProtocols) {
  std::string db = testing::FreshDatabase();
  std::string out;
  ASSERT_EQ(Shell(Bin("pgbench") + " -i -q -s 1 " + Quoted(db), &out), 0) << out;
  ProxyProcess proxy({"--target", "blue=" + db});
  for (std::string mode : {"simple", "extended", "prepared"}) RunPgbench(proxy, mode, 8);
  // Session pooling: a connection per client, reused after each client's DISCARD ALL.
  nlohmann::json status;
  ASSERT_EQ(proxy.Control("status", &status), 0);
  EXPECT_LE(status["targets"][0]["server_connections"].get<int>(), 10) << status.dump();
}

TEST(ProxySessionPooling, PsqlRunsStatementsCopyAndTransactions) {
  std::string db = testing::FreshDatabase();
  ProxyProcess proxy({"--target", "blue=" + db});
  std::string psql = Bin("psql") + " -X -v ON_ERROR_STOP=1 -At -h 127.0.0.1 -p " +
                     std::to_string(proxy.port()) + " -U app blue";
  std::string out;
  ASSERT_EQ(Shell(psql + " -c 'CREATE TABLE t(id int, note text)'", &out), 0) << out;
  ASSERT_EQ(Shell("printf '1\\tone\\n2\\ttwo\\n' | " + psql + " -c '\\copy t from stdin'", &out), 0)
      << out;
  ASSERT_EQ(Shell(psql + " -c 'BEGIN' -c 'INSERT INTO t VALUES (3, $$three$$)' -c 'COMMIT' " +
                      "-c 'SELECT count(*), string_agg(note, $$,$$ ORDER BY id) FROM t'",
                  &out),
            0)
      << out;
  EXPECT_NE(out.find("3|one,two,three"), std::string::npos) << out;
  // A failing statement is the server's error, and the session goes on.
  EXPECT_NE(Shell(psql + " -c 'SELECT 1/0'", &out), 0);
  EXPECT_NE(out.find("division by zero"), std::string::npos) << out;
  // The client's settings reach its server session (startup parameters and -c options).
  ASSERT_EQ(Shell("PGOPTIONS='-c work_mem=7MB' PGAPPNAME=shop " + psql +
                      " -c 'SHOW work_mem' -c 'SHOW application_name'",
                  &out),
            0)
      << out;
  EXPECT_EQ(out, "7MB\nshop\n");
}

TEST(ProxySessionPooling, TheNextClientSeesNoneOfThePreviousClientsState) {
  std::string db = testing::FreshDatabase();
  // One server connection: the second client gets the first one's, after DISCARD ALL.
  ProxyProcess proxy({"--target", "blue=" + db, "--max-server-connections", "1"});
  std::string psql = Bin("psql") + " -X -v ON_ERROR_STOP=1 -At -h 127.0.0.1 -p " +
                     std::to_string(proxy.port()) + " -U app blue";
  std::string out;
  ASSERT_EQ(Shell(psql + " -c 'SET work_mem = $$3MB$$' -c 'PREPARE q AS SELECT 1' " +
                      "-c 'CREATE TEMP TABLE scratch(id int)' -c 'SELECT pg_backend_pid()'",
                  &out),
            0)
      << out;
  std::string first_pid = out.substr(out.rfind('\n', out.size() - 2) + 1);
  ASSERT_EQ(Shell(psql + " -c 'SHOW work_mem' -c 'SELECT count(*) FROM pg_prepared_statements' " +
                      "-c 'SELECT to_regclass($$scratch$$) IS NULL' -c 'SELECT pg_backend_pid()'",
                  &out),
            0)
      << out;
  EXPECT_EQ(out, "4MB\n0\nt\n" + first_pid) << "the same server session, reset";
}

TEST(ProxySessionPooling, ReachesAScramServerWithTheTargetCredentials) {
  std::string db = testing::FreshDatabase();
  pg::Connection admin = testing::Connect(db);
  admin.Run("SET password_encryption = 'scram-sha-256'");
  admin.Run("DROP ROLE IF EXISTS scram_app");
  admin.Run("CREATE ROLE scram_app LOGIN PASSWORD 'secret-pw'");
  admin.Run("GRANT ALL ON SCHEMA public TO scram_app");
  // Only this role must use SCRAM: its line goes first in pg_hba.conf.
  std::string hba_path = SharedCluster().data_dir() + "/pg_hba.conf";
  std::stringstream hba;
  hba << std::ifstream(hba_path).rdbuf();
  if (hba.str().find("scram_app") == std::string::npos) {
    std::ofstream(hba_path) << "local all scram_app scram-sha-256\n" << hba.str();
  }
  admin.Exec("SELECT pg_reload_conf()");
  std::string scram = db + " user=scram_app";
  std::string out;
  ASSERT_NE(Shell(Bin("psql") + " -X -w -c 'SELECT 1' " + Quoted(scram), &out), 0)
      << "the server must ask scram_app for a password: " << out;
  ProxyProcess proxy({"--target", "blue=" + scram + " password=secret-pw"});
  ASSERT_EQ(Shell(Bin("psql") + " -X -At -h 127.0.0.1 -p " + std::to_string(proxy.port()) +
                      " -U app blue -c 'SELECT current_user'",
                  &out),
            0)
      << out << proxy.log();
  EXPECT_EQ(out, "scram_app\n");
}

// Sends raw bytes as a client's first packet and returns what the proxy answers.
std::string SendRaw(int port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  std::string answer;
  char buffer[4096];
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    answer.append(buffer, n);
  }
  ::close(fd);
  return answer;
}

TEST(ProxySessionPooling, BadInputGetsAClearErrorAndOtherClientsGoOn) {
  std::string db = testing::FreshDatabase();
  testing::Connect(db).Run("CREATE TABLE t(id int)");
  ProxyProcess proxy({"--target", "blue=" + db, "--target",
                      "down=host=127.0.0.1 port=1 dbname=x user=x connect_timeout=2"});
  // A bystander holds a session through all of it.
  pg::Connection bystander = testing::Connect(proxy.ConnInfo("blue"));
  bystander.Run("BEGIN");
  bystander.Exec("INSERT INTO t VALUES (1)");

  std::string answer = SendRaw(proxy.port(), std::string("\x00\x00\x00\x03garbage", 11));
  EXPECT_NE(answer.find("malformed startup packet: length 3"), std::string::npos) << answer;
  answer = SendRaw(proxy.port(), std::string("\x00\x00\x00\x0c\x00\x02\x00\x00user", 12));
  EXPECT_NE(answer.find("unsupported protocol version 2.0"), std::string::npos) << answer;

  std::string out;
  std::string psql = Bin("psql") + " -X -At -h 127.0.0.1 -p " + std::to_string(proxy.port()) +
                     " -U app -c 'SELECT 1' ";
  EXPECT_NE(Shell(psql + "nosuch", &out), 0);
  EXPECT_NE(out.find("database \"nosuch\" is not a target of this proxy (targets: blue, down)"),
            std::string::npos)
      << out;
  EXPECT_NE(Shell(psql + "down", &out), 0);
  EXPECT_NE(out.find("cannot reach target \"down\""), std::string::npos) << out;

  // A client that leaves mid-transaction: its server connection is closed, so its insert rolls
  // back and no session is left idle in a transaction.
  {
    pg::Connection leaver = testing::Connect(proxy.ConnInfo("blue"));
    leaver.Run("BEGIN");
    leaver.Exec("INSERT INTO t VALUES (2)");
    ::shutdown(PQsocket(leaver.raw()), SHUT_RDWR);  // gone without a Terminate
  }
  bystander.Exec("INSERT INTO t VALUES (3)");
  bystander.Run("COMMIT");
  pg::Connection direct = testing::Connect(db);
  EXPECT_EQ(direct.Exec("SELECT string_agg(id::text, ',' ORDER BY id) FROM t").Text(0, 0), "1,3");
  for (int i = 0; i < 50; ++i) {
    if (direct.Exec("SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in%'")
            .Int(0, 0) == 0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(
      direct.Exec("SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in%'").Int(0, 0),
      0);
  EXPECT_NE(proxy.log().find("left mid-transaction"), std::string::npos) << proxy.log();
  EXPECT_EQ(bystander.Exec("SELECT count(*) FROM t").Int(0, 0), 2);
}

TEST(ProxySessionPooling, AClientThatDoesNotLogInIsDisconnectedAtTheLoginTimeout) {
  std::string db = testing::FreshDatabase();
  ProxyProcess proxy({"--target", "blue=" + db, "--login-timeout", "1s"});
  pg::Connection bystander = testing::Connect(proxy.ConnInfo("blue"));
  // Silent after connecting, then a startup packet cut short: each is closed by the proxy after
  // about a second (SendRaw itself gives up after 5 s).
  for (const std::string& bytes : {std::string(), std::string("\x00\x00\x00\x40\x00\x03", 6)}) {
    auto began = std::chrono::steady_clock::now();
    EXPECT_EQ(SendRaw(proxy.port(), bytes), "");
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    EXPECT_GT(seconds, 0.8);
    EXPECT_LT(seconds, 4.0) << proxy.log();
  }
  EXPECT_NE(proxy.log().find("did not log in within 1000 ms of connecting"), std::string::npos)
      << proxy.log();
  // A client that logged in long ago is not touched by it.
  EXPECT_EQ(bystander.Exec("SELECT 1").Int(0, 0), 1);
}

}  // namespace
}  // namespace zerodown
