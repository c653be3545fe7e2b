// The shadow copy's integration tests share one table and one change: `accounts` with
// everything a swap must carry over, `balance` int -> bigint by shadow copy, writers that move
// money and put it back, and what they check afterwards.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "support/database.hpp"
#include "support/migrations.hpp"
#include "support/writers.hpp"
#include "zerodown/engine/engine.hpp"
#include "zerodown/engine/state.hpp"

namespace zerodown::testing {

// Whether start copies the table (read-only data checks may come first).
inline bool PlansACopy(const engine::Plan& plan) {
  return std::any_of(plan.start.begin(), plan.start.end(), [](const engine::Action& a) {
    return a.kind == engine::ActionKind::kShadowCopy;
  });
}

inline constexpr int kRows = 60000;

inline model::Migration Migration() {
  return ParseOperations(
      "balance_bigint",
      R"({"alter_column": {"table": "accounts", "column": "balance", "type": "bigint",
                           "up": "balance", "down": "balance::integer"}})");
}

inline engine::EngineOptions ShadowOptions() {
  engine::EngineOptions options = FastEngineOptions();
  options.mechanism = engine::Mechanism::kShadow;
  return options;
}

// accounts with everything a swap must carry over: a primary key, a secondary index, a check, a
// serial's sequence, a foreign key out (to branches) and in (from history), a view, a user
// trigger, a grant and a comment.
inline std::string SetUpLedger() {
  std::string db = FreshDatabase();
  pg::Connection conn = Connect(db);
  conn.Run(fmt::format(
      "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reader') THEN CREATE "
      "ROLE reader; END IF; END $$;"
      "CREATE TABLE branches (id int PRIMARY KEY);"
      "INSERT INTO branches SELECT generate_series(0, 9);"
      "CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, branch int NOT NULL "
      "CHECK (branch >= 0) REFERENCES branches, serial_no serial, note text DEFAULT 'x');"
      "CREATE INDEX accounts_branch ON accounts (branch);"
      "INSERT INTO accounts (id, balance, branch) SELECT g, g % 1000, g % 10 FROM "
      "generate_series(1, {}) g;"
      "CREATE TABLE history (id bigserial PRIMARY KEY, account int NOT NULL REFERENCES accounts, "
      "delta int);"
      "CREATE TABLE deleted (id int);"
      "CREATE FUNCTION remember_delete() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN INSERT "
      "INTO deleted VALUES (OLD.id); RETURN OLD; END $f$;"
      "CREATE TRIGGER remember AFTER DELETE ON accounts FOR EACH ROW EXECUTE FUNCTION "
      "remember_delete();"
      "CREATE VIEW rich AS SELECT id, branch FROM accounts WHERE branch > 5;"
      "GRANT SELECT ON accounts TO reader;"
      "COMMENT ON TABLE accounts IS 'the ledger';"
      "ANALYZE accounts;",
      kRows));
  engine::State(conn).Init();
  return db;
}

// Writers through the old version (public): +1 then -1 on an account and a history row that
// references it, so sums end where they began and the foreign key is exercised at the swap.
inline void Transfer(pg::Connection& conn, int client, std::uint64_t n) {
  std::string id = std::to_string(1 + (client * 7919 + n * 104729) % kRows);
  conn.Exec("BEGIN");
  conn.Exec("UPDATE accounts SET balance = balance + 1 WHERE id = $1", {id});
  conn.Exec("INSERT INTO history (account, delta) VALUES ($1, 1)", {id});
  conn.Exec("UPDATE accounts SET balance = balance - 1 WHERE id = $1", {id});
  conn.Exec("COMMIT");
}

inline std::string Oid(pg::Connection& conn, const std::string& table) {
  return conn.Exec("SELECT $1::regclass::oid::text", {table}).Text(0, 0);
}

inline nlohmann::json CopyCheckpoint(pg::Connection& conn) {
  pg::Rows rows = conn.Exec(
      "SELECT checkpoint FROM zerodown.steps WHERE action LIKE '%shadow_copy' AND phase = "
      "'start'");
  return rows.empty() ? nlohmann::json() : nlohmann::json::parse(rows.Text(0, 0));
}

// After a start under Transfer writers, once `load` has stopped: no write failed, the copy is
// done and the transfers' sums are where they began.
inline void ExpectDoneWithEveryTransfer(pg::Connection& conn, Writers& load,
                                        std::int64_t sum_before) {
  EXPECT_EQ(load.failed, 0) << load.last_error();
  EXPECT_EQ(CopyCheckpoint(conn).value("stage", ""), "done");
  EXPECT_EQ(conn.Exec("SELECT sum(balance) FROM accounts").Int(0, 0), sum_before);
}

// Runs `sql` in a transaction on `conn` that a thread of its own commits 1.5 s later: a session
// holding the table's lock across the swap. Join the thread before `conn` goes.
inline std::thread HoldOpen(pg::Connection& conn, const std::string& sql) {
  conn.Exec("BEGIN");
  conn.Exec(sql);
  return std::thread([&conn] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    conn.Exec("COMMIT");
  });
}

}  // namespace zerodown::testing
