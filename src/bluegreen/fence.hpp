// The write fence of the side that stops serving: a statement trigger on every published table
// (the heartbeat's included) that raises read_only_sql_transaction for INSERT, UPDATE, DELETE and
// TRUNCATE. It stops every role and every session, the ones already connected included, and not
// the subscription's apply worker (session_replication_role = replica fires no ordinary
// trigger), so the reverse path can write where no application can.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "bluegreen/catalog.hpp"

namespace zerodown::bluegreen {

inline constexpr std::string_view kFenceTrigger = "zerodown_bluegreen_fence";

// Whether the fence's lock cancels an autovacuum in its way after 20 ms: only a superuser may
// shorten deadlock_timeout, which is when a waiter cancels one (1 s by default).
bool CancelsAutovacuum(pg::Connection& conn);
// In the transaction open on `conn`: a lock waited for at most `timeout`, and, for a superuser, an
// autovacuum in the way cancelled after 20 ms instead of the server's deadlock_timeout.
void LimitLockWaits(pg::Connection& conn, std::chrono::milliseconds timeout);
// In one transaction: writes heartbeat `token` (the marker the other side must show before the
// switch goes on) and creates the fence triggers. Each CREATE TRIGGER takes SHARE ROW EXCLUSIVE
// on its table, so the transaction waits for the writes in flight to commit, and fails after
// `lock_timeout` (then nothing is fenced). Returns blue's WAL position after the commit.
std::string Fence(pg::Connection& conn, const std::vector<TableRef>& tables,
                  const std::string& token, std::chrono::milliseconds lock_timeout);
// Drops the fence triggers in one transaction. DROP TRIGGER takes ACCESS EXCLUSIVE on each table
// (reads wait too), bounded by `lock_timeout`.
void Unfence(pg::Connection& conn, const std::vector<TableRef>& tables,
             std::chrono::milliseconds lock_timeout);
// The tables of `conn` that carry a fence trigger, as regclass text; and whether there is one.
std::vector<std::string> FencedTables(pg::Connection& conn);
bool IsFenced(pg::Connection& conn);

}  // namespace zerodown::bluegreen
