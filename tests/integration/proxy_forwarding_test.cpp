// How zerodown proxy relays bytes in transaction pooling, where it writes each message at once
// when the socket takes it and hands server connections back at every ReadyForQuery: messages
// far larger than a socket buffer arrive whole both ways; a pipeline of batches, each ending in
// Sync, runs in order across the ReadyForQuery replies between them while another client takes
// turns on the same server connection; and a client is told the parameters of the server
// connection each transaction runs on, even after it changed one with SET.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <string>

#include "support/database.hpp"
#include "support/proxy.hpp"

namespace zerodown {
namespace {

using testing::ProxyProcess;

TEST(ProxyForwarding, MessagesLargerThanASocketBufferArriveWhole) {
  std::string db = testing::FreshDatabase();
  ProxyProcess proxy({"--target", "blue=" + db, "--pool-mode", "transaction"});
  pg::Connection client = testing::Connect(proxy.ConnInfo("blue"));
  // 8 MB to the server as a parameter, 24 MB back: both directions fill the socket buffers, so
  // writes go out in parts.
  std::string sent(8 << 20, 'x');
  for (std::size_t i = 0; i < sent.size(); i += 4093) sent[i] = static_cast<char>('a' + i % 26);
  auto rows = client.Exec("SELECT md5($1), length($1), repeat($1, 3)", {sent});
  EXPECT_EQ(rows.Text(0, 1), std::to_string(sent.size()));
  std::string back = rows.Text(0, 2);
  ASSERT_EQ(back.size(), 3 * sent.size());
  EXPECT_TRUE(back.compare(0, sent.size(), sent) == 0);
  EXPECT_TRUE(back.compare(2 * sent.size(), sent.size(), sent) == 0);
  EXPECT_EQ(client.Exec("SELECT md5($1)", {sent}).Text(0, 0), rows.Text(0, 0)) << proxy.log();
}

TEST(ProxyForwarding, PipelinedBatchesRunInOrderAcrossReadyForQuery) {
  std::string db = testing::FreshDatabase();
  pg::Connection setup = testing::Connect(db);
  setup.Run("CREATE TABLE seen(n int)");
  ProxyProcess proxy(
      {"--target", "blue=" + db, "--pool-mode", "transaction", "--max-server-connections", "1"});
  pg::Connection client = testing::Connect(proxy.ConnInfo("blue"));
  pg::Connection other = testing::Connect(proxy.ConnInfo("blue"));
  PGconn* raw = client.raw();
  ASSERT_EQ(PQenterPipelineMode(raw), 1);
  constexpr int kBatches = 200;
  for (int i = 0; i < kBatches; ++i) {
    std::string n = std::to_string(i);
    const char* values[] = {n.c_str()};
    ASSERT_EQ(PQsendQueryParams(raw, "INSERT INTO seen VALUES ($1::int) RETURNING n", 1, nullptr,
                                values, nullptr, nullptr, 0),
              1);
    ASSERT_EQ(PQpipelineSync(raw), 1);
    // Another client's transactions take the one server connection between some batches.
    if (i % 50 == 25) other.Run("SELECT 1");
  }
  ASSERT_EQ(PQflush(raw), 0);
  for (int i = 0; i < kBatches; ++i) {
    PGresult* result = PQgetResult(raw);
    ASSERT_NE(result, nullptr) << i << proxy.log();
    ASSERT_EQ(PQresultStatus(result), PGRES_TUPLES_OK) << i << PQerrorMessage(raw) << proxy.log();
    EXPECT_EQ(std::string(PQgetvalue(result, 0, 0)), std::to_string(i));
    PQclear(result);
    EXPECT_EQ(PQgetResult(raw), nullptr);  // the end of this query's results
    result = PQgetResult(raw);
    ASSERT_NE(result, nullptr);
    EXPECT_EQ(PQresultStatus(result), PGRES_PIPELINE_SYNC) << i;
    PQclear(result);
  }
  ASSERT_EQ(PQexitPipelineMode(raw), 1) << PQerrorMessage(raw);
  EXPECT_EQ(client.Exec("SELECT count(DISTINCT n) FROM seen").Text(0, 0), std::to_string(kBatches));
}

TEST(ProxyForwarding, AClientIsToldTheParametersOfTheConnectionItRunsOn) {
  std::string db = testing::FreshDatabase();
  ProxyProcess proxy(
      {"--target", "blue=" + db, "--pool-mode", "transaction", "--max-server-connections", "2"});
  pg::Connection a = testing::Connect(proxy.ConnInfo("blue"));
  pg::Connection b = testing::Connect(proxy.ConnInfo("blue"));
  std::string usual = a.Exec("SHOW DateStyle").Text(0, 0);
  // Two server connections with the same parameters, a has been told them.
  a.Run("BEGIN");
  b.Run("BEGIN");
  a.Run("COMMIT");
  b.Run("COMMIT");
  a.Exec("SELECT 1");
  // SET outside a transaction changes the connection a ran on and is not carried further.
  a.Run("SET DateStyle = 'German'");
  EXPECT_STREQ(PQparameterStatus(a.raw(), "DateStyle"), "German, DMY");
  // b holds that connection, so a's next transaction runs on the other one.
  b.Run("BEGIN");
  std::string now = a.Exec("SHOW DateStyle").Text(0, 0);
  b.Run("COMMIT");
  EXPECT_EQ(now, usual) << proxy.log();
  EXPECT_EQ(PQparameterStatus(a.raw(), "DateStyle"), now) << proxy.log();
}

}  // namespace
}  // namespace zerodown
