// Test support for a primary key's type change: `accounts` (serial key, a secondary index, a
// foreign key pointing at it from `history`, a view with a grant), the bank workload that writes
// it (+1/-1 with a history row between, and new accounts from the serial), and the checks on the
// key's type, the foreign key and `zerodown verify`'s comparison of both heaps.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "support/database.hpp"
#include "zerodown/engine/plan.hpp"
#include "zerodown/engine/state.hpp"
#include "zerodown/verify/verify.hpp"

namespace zerodown::testing {

inline std::string SetUpAccounts(int rows) {
  std::string db = FreshDatabase();
  pg::Connection conn = Connect(db);
  conn.Run(fmt::format(
      "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reader') THEN CREATE "
      "ROLE reader; END IF; END $$;"
      "CREATE TABLE accounts (id serial PRIMARY KEY, balance int NOT NULL, branch int NOT NULL);"
      "CREATE INDEX accounts_branch ON accounts (branch);"
      "INSERT INTO accounts (balance, branch) SELECT g % 1000, g % 10 FROM generate_series(1, "
      "{}) g;"
      "CREATE TABLE history (id bigserial PRIMARY KEY, account int NOT NULL REFERENCES accounts, "
      "delta int);"
      "CREATE VIEW rich AS SELECT id, branch FROM accounts WHERE branch > 5;"
      "GRANT SELECT ON rich TO reader;"
      "ANALYZE accounts;",
      rows));
  engine::State(conn).Init();
  return db;
}

// +1 and -1 on an account with a history row between (sums stay), and every fifth transaction
// a new account from the serial (the key the reverse log must carry back on rollback).
class Bank {
 public:
  explicit Bank(int rows) : rows_(rows) {}
  void operator()(pg::Connection& conn, int client, std::uint64_t n) {
    std::string id = std::to_string(1 + (client * 7919 + n * 104729) % rows_);
    conn.Exec("BEGIN");
    conn.Exec("UPDATE accounts SET balance = balance + 1 WHERE id = $1", {id});
    conn.Exec("INSERT INTO history (account, delta) VALUES ($1, 1)", {id});
    conn.Exec("UPDATE accounts SET balance = balance - 1 WHERE id = $1", {id});
    if (n % 5 == 0) conn.Exec("INSERT INTO accounts (balance, branch) VALUES (0, 7)");
    conn.Exec("COMMIT");
    if (n % 5 == 0) ++opened;
  }
  std::atomic<std::int64_t> opened{0};

 private:
  int rows_;
};

inline std::string KeyType(pg::Connection& conn) {
  return conn
      .Exec(
          "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
          "'accounts'::regclass AND attname = 'id'")
      .Text(0, 0);
}

inline bool HistoryKeyValid(pg::Connection& conn) {
  return conn.Exec(
                 "SELECT count(*) FROM pg_constraint WHERE confrelid = 'accounts'::regclass AND "
                 "conrelid = 'history'::regclass AND convalidated")
             .Int(0, 0) == 1;
}

// Every check the plan gives `zerodown verify` (old heap against new, new against old); keys the
// load wrote since the swap are skipped, so at least `min_rows` must have been compared.
inline void ExpectVerifyClean(pg::Connection& conn, const engine::Plan& plan,
                              std::int64_t min_rows) {
  ASSERT_EQ(plan.checks.size(), 2u);
  for (const engine::ColumnCheck& check : plan.checks) {
    verify::VerifyOptions options;
    options.range_rows = 50000;
    verify::VerifyReport report = verify::CompareRows(
        conn, {check.description, check.schema, check.table, check.key_columns, check.select_sql},
        options);
    EXPECT_TRUE(report.ok()) << verify::Render(report);
    EXPECT_GE(report.rows_checked, min_rows) << check.description;
  }
}

}  // namespace zerodown::testing
