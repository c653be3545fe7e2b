// Which texts may run on a read target (--read-share): only what certainly reads.
#include <gtest/gtest.h>

#include "proxy/session_sql.hpp"

namespace zerodown::proxy {
namespace {

ReadKind Read(std::string_view sql) { return AnalyzeSql(sql, /*classify=*/true).read; }

TEST(ReadSql, PgbenchSelectOnlyInEveryProtocol) {
  // -M simple sends the value, -M extended and -M prepared a parameter.
  EXPECT_EQ(Read("SELECT abalance FROM pgbench_accounts WHERE aid = 4711;"), ReadKind::kReadOnly);
  EXPECT_EQ(Read("SELECT abalance FROM pgbench_accounts WHERE aid = $1"), ReadKind::kReadOnly);
}

TEST(ReadSql, PlainReads) {
  for (const char* sql :
       {"select 1", "  -- a comment\n SELECT * FROM t", "/* hint */ select a from t",
        "SELECT count(*), max(b) FROM t GROUP BY a HAVING sum(b) > 3",
        "WITH x AS (SELECT a FROM t) SELECT * FROM x", "VALUES (1), (2)", "TABLE t",
        "(SELECT 1) UNION ALL (SELECT 2)", "SELECT a FROM t WHERE b IN (SELECT b FROM u)",
        "SELECT current_setting('port'), inet_server_port()",
        "SELECT pg_catalog.lower(name), extract(epoch FROM now()) FROM t",
        "SELECT coalesce(a, 0), greatest(a, b) FROM t", "SELECT 1; SELECT 2"}) {
    EXPECT_EQ(Read(sql), ReadKind::kReadOnly) << sql;
  }
}

TEST(ReadSql, AnythingThatMayWriteStaysOnThePrimary) {
  for (const char* sql : {
           "SELECT * FROM t FOR UPDATE",
           "SELECT * FROM t FOR SHARE",
           "SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED",
           "SELECT * INTO copy FROM t",
           "WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone",
           "WITH x AS (UPDATE t SET a = 1 RETURNING a) SELECT count(*) FROM x",
           "WITH x AS (INSERT INTO t VALUES (1) RETURNING a) SELECT * FROM x",
           "SELECT nextval('s')",
           "SELECT setval('s', 5)",
           "SELECT set_config('search_path', 'x', false)",
           "SELECT pg_advisory_lock(1)",
           "SELECT my_function(a) FROM t",
           "SELECT public.lower(a) FROM t",
           "SELECT * FROM my_set_returning_function()",
           "SELECT a FROM t WHERE b = (SELECT nextval('s'))",
           "SELECT 1; INSERT INTO t VALUES (1)",
           "INSERT INTO t VALUES (1)",
           "UPDATE t SET a = 1",
           "BEGIN",
           "BEGIN; SELECT 1",
           "SET search_path = a",
           "SHOW port",
           "EXPLAIN SELECT 1",
           "COPY t TO STDOUT",
           "SELECT FROM",  // does not parse: the server refuses it wherever it runs
           "",
       }) {
    EXPECT_EQ(Read(sql), ReadKind::kOther) << sql;
  }
}

TEST(ReadSql, BeginReadOnly) {
  for (const char* sql :
       {"BEGIN READ ONLY", "begin transaction read only",
        "START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", "BEGIN READ ONLY; SELECT 1",
        "BEGIN READ ONLY; SELECT a FROM t; COMMIT"}) {
    EXPECT_EQ(Read(sql), ReadKind::kBeginsReadOnly) << sql;
  }
  for (const char* sql :
       {"BEGIN READ WRITE", "BEGIN READ ONLY, READ WRITE", "BEGIN ISOLATION LEVEL SERIALIZABLE",
        "BEGIN READ ONLY; COMMIT; SELECT 1", "BEGIN READ ONLY; SELECT nextval('s')",
        "BEGIN READ ONLY; COMMIT AND CHAIN", "START TRANSACTION"}) {
    EXPECT_EQ(Read(sql), ReadKind::kOther) << sql;
  }
}

TEST(ReadSql, AskedOnlyForSettingsItDoesNotClassify) {
  EXPECT_EQ(AnalyzeSql("SELECT 1", /*classify=*/false).read, ReadKind::kOther);
  // One parse answers both: a SET in the same text is followed, and the text is not a read.
  auto facts = AnalyzeSql("SELECT 1; SET search_path = a", /*classify=*/true);
  EXPECT_EQ(facts.read, ReadKind::kOther);
  ASSERT_EQ(facts.changes.size(), 1u);
  EXPECT_EQ(facts.changes[0].setting, SettingKind::kSearchPath);
  // A read that mentions a followed setting is both followed and classified.
  auto read = AnalyzeSql("SELECT current_setting('search_path')", /*classify=*/true);
  EXPECT_EQ(read.read, ReadKind::kReadOnly);
  EXPECT_TRUE(read.changes.empty());
}

TEST(ReadSql, TheCacheGivesTheSameAnswer) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Read("SELECT abalance FROM pgbench_accounts WHERE aid = $1"), ReadKind::kReadOnly);
    EXPECT_EQ(Read("SELECT * FROM t FOR UPDATE"), ReadKind::kOther);
  }
}

}  // namespace
}  // namespace zerodown::proxy
