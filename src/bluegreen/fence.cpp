#include "bluegreen/fence.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <string_view>

#include "bluegreen/state.hpp"

namespace zerodown::bluegreen {
namespace {

std::vector<std::string> CoveredTables(pg::Connection& conn, const std::vector<TableRef>& tables) {
  std::vector<std::string> quoted = {conn.Ident(kHeartbeatSchema, kHeartbeatTable)};
  for (const auto& t : tables) quoted.push_back(t.Quoted(conn));
  return quoted;
}

}  // namespace

bool CancelsAutovacuum(pg::Connection& conn) {
  const char* superuser = PQparameterStatus(conn.raw(), "is_superuser");
  return superuser != nullptr && std::string_view(superuser) == "on";
}

void LimitLockWaits(pg::Connection& conn, std::chrono::milliseconds timeout) {
  conn.Exec(fmt::format("SET LOCAL lock_timeout = {}", std::max<std::int64_t>(1, timeout.count())));
  // An autovacuum of a table (SHARE UPDATE EXCLUSIVE) holds up the fence's lock until the waiter's
  // deadlock check cancels it, deadlock_timeout (1 s by default) into the wait, with traffic
  // paused. Only a superuser may shorten it; for others the switch's guardrails wait for the
  // autovacuum to end before the pause.
  if (CancelsAutovacuum(conn)) conn.Exec("SET LOCAL deadlock_timeout = 20");
}

std::string Fence(pg::Connection& conn, const std::vector<TableRef>& tables,
                  const std::string& token, std::chrono::milliseconds lock_timeout) {
  pg::Transaction tx(conn);
  LimitLockWaits(conn, lock_timeout);
  // A walsender sends only flushed WAL: with synchronous_commit off the marker's commit would
  // wait for the WAL writer (up to 3 x wal_writer_delay, 600 ms by default) while traffic is
  // paused. Flushing it at commit costs one WAL flush.
  conn.Exec("SET LOCAL synchronous_commit = on");
  auto quoted = CoveredTables(conn, tables);
  std::string list;
  for (const auto& table : quoted) list += (list.empty() ? "" : ", ") + table;
  // Every lock first, so that a writer that began before the fence commits before the marker
  // (and is replicated before it), and one that comes after sees the triggers.
  conn.Exec("LOCK TABLE " + list + " IN SHARE ROW EXCLUSIVE MODE");
  // The marker before the triggers, which would refuse it.
  conn.Exec(
      "UPDATE zerodown.bluegreen_heartbeat SET beat_at = clock_timestamp(), token = $1 "
      "WHERE id = 1",
      {token});
  for (const auto& table : quoted) {
    conn.Exec(fmt::format("DROP TRIGGER IF EXISTS {} ON {}", conn.Ident(kFenceTrigger), table));
    conn.Exec(
        fmt::format("CREATE TRIGGER {} BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION zerodown.bluegreen_fence()",
                    conn.Ident(kFenceTrigger), table));
  }
  tx.Commit();
  return conn.Exec("SELECT pg_current_wal_lsn()::text").Text(0, 0);
}

void Unfence(pg::Connection& conn, const std::vector<TableRef>& tables,
             std::chrono::milliseconds lock_timeout) {
  pg::Transaction tx(conn);
  LimitLockWaits(conn, lock_timeout);
  for (const auto& table : CoveredTables(conn, tables)) {
    conn.Exec(fmt::format("DROP TRIGGER IF EXISTS {} ON {}", conn.Ident(kFenceTrigger), table));
  }
  tx.Commit();
}

std::vector<std::string> FencedTables(pg::Connection& conn) {
  auto rows =
      conn.Exec("SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = $1 ORDER BY 1",
                {std::string(kFenceTrigger)});
  std::vector<std::string> tables;
  for (int i = 0; i < rows.size(); ++i) tables.push_back(rows.Text(i, 0));
  return tables;
}

bool IsFenced(pg::Connection& conn) { return !FencedTables(conn).empty(); }

}  // namespace zerodown::bluegreen
