#include "zerodown/monitor/signals.hpp"

#include <algorithm>
#include <thread>

namespace zerodown::monitor {

namespace {
using Clock = std::chrono::steady_clock;
}

std::vector<StandbyLag> SampleReplicationLag(pg::Connection& conn) {
  // pg_current_wal_lsn() fails during recovery, so a standby answers with no rows instead.
  pg::Rows rows = conn.ExecPrepared(
      "SELECT coalesce(nullif(application_name, ''), client_addr::text, pid::text), "
      "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint, "
      "extract(epoch FROM replay_lag)::float8 "
      "FROM pg_stat_replication WHERE NOT pg_is_in_recovery() ORDER BY 1");
  std::vector<StandbyLag> standbys;
  for (int i = 0; i < rows.size(); ++i) {
    StandbyLag lag;
    lag.name = rows.Text(i, 0);
    if (!rows.IsNull(i, 1)) lag.bytes = std::max<std::int64_t>(rows.Int(i, 1), 0);
    if (!rows.IsNull(i, 2)) lag.seconds = rows.Double(i, 2);
    standbys.push_back(std::move(lag));
  }
  return standbys;
}

int CountLockWaiters(pg::Connection& conn, const std::vector<std::string>& tables,
                     std::chrono::milliseconds min_wait) {
  std::string array = "{";
  for (std::size_t i = 0; i < tables.size(); ++i) {
    if (i > 0) array += ",";
    // Array-literal quoting of an already quoted identifier: escape backslashes and quotes.
    std::string element;
    for (char c : tables[i]) {
      if (c == '"' || c == '\\') element += '\\';
      element += c;
    }
    array += "\"" + element + "\"";
  }
  array += "}";
  // pg_locks.waitstart exists since PostgreSQL 14; older servers count every waiter.
  std::string wait_filter =
      conn.ServerVersionNum() >= 140000
          ? "AND EXISTS (SELECT 1 FROM pg_locks w WHERE w.pid = a.pid AND NOT w.granted "
            "AND w.waitstart < clock_timestamp() - make_interval(secs => $2::float8 / 1000))"
          : "AND $2::float8 IS NOT NULL";
  pg::Rows rows = conn.ExecPrepared(
      "SELECT count(*) FROM pg_stat_activity a "
      "WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() "
      "AND a.wait_event_type = 'Lock' AND a.application_name NOT LIKE 'zerodown%' " +
          wait_filter +
          " AND (EXISTS (SELECT 1 FROM pg_stat_activity b "
          "             WHERE b.pid = ANY (pg_blocking_pids(a.pid)) "
          "             AND b.application_name LIKE 'zerodown%') "
          "  OR EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted "
          "             AND l.relation IN (SELECT to_regclass(t)::oid "
          "                                FROM unnest($1::text[]) AS t)))",
      {array, std::to_string(min_wait.count())});
  return static_cast<int>(rows.Int(0, 0));
}

int CountActiveConnections(pg::Connection& conn) {
  return static_cast<int>(
      conn.ExecPrepared("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                        "AND datname = current_database() AND pid <> pg_backend_pid()")
          .Int(0, 0));
}

ApplicationSessions CountApplicationSessions(pg::Connection& conn) {
  pg::Rows rows = conn.ExecPrepared(
      "SELECT count(*) FILTER (WHERE state = 'active'), count(*) FILTER (WHERE state = 'active' "
      "OR (state LIKE 'idle in transaction%' AND state_change > now() - interval '1 s')), "
      "count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
      "AND datname = current_database() AND pid <> pg_backend_pid() "
      "AND application_name NOT IN ('zerodown', 'zerodown-helper', 'zerodown-monitor')");
  return {static_cast<int>(rows.Int(0, 0)), static_cast<int>(rows.Int(0, 1)),
          static_cast<int>(rows.Int(0, 2))};
}

TransactionCounters SampleTransactionCounters(pg::Connection& conn) {
  // Each call is its own transaction, so the default stats_fetch_consistency = cache (which
  // freezes the numbers for a transaction) still sees fresh values every time.
  pg::Rows rows = conn.ExecPrepared(
      "SELECT xact_commit, xact_rollback FROM pg_stat_database "
      "WHERE datname = current_database()");
  TransactionCounters counters;
  if (!rows.empty()) {
    counters.commits = rows.Int(0, 0);
    counters.rollbacks = rows.Int(0, 1);
  }
  return counters;
}

std::optional<std::string> FindStatementStatistics(pg::Connection& conn) {
  if (conn.ServerVersionNum() < 140000) return std::nullopt;
  pg::Rows rows = conn.Exec(
      "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
      "WHERE e.extname = 'pg_stat_statements'");
  if (rows.empty()) return std::nullopt;
  std::string view = conn.Ident(rows.Text(0, 0), "pg_stat_statements");
  // Installed but not in shared_preload_libraries: the view raises on every read.
  if (!conn.TryExec("SELECT 1 FROM " + view + " LIMIT 1").ok()) return std::nullopt;
  return view;
}

StatementSnapshot SampleStatements(pg::Connection& conn, const std::string& view) {
  pg::Rows rows = conn.ExecPrepared(
      "SELECT userid::text || ':' || queryid::text, calls, total_exec_time FROM " + view +
      " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
      "AND toplevel AND queryid IS NOT NULL");
  StatementSnapshot snapshot;
  for (int i = 0; i < rows.size(); ++i) {
    // One key can have two rows only across a reset race; the sum is what the counters mean.
    StatementTotals& t = snapshot[rows.Text(i, 0)];
    t.calls += rows.Int(i, 1);
    t.total_ms += rows.Double(i, 2);
  }
  return snapshot;
}

std::vector<RunningStatement> SampleRunningStatements(pg::Connection& conn) {
  pg::Rows rows = conn.ExecPrepared(
      "SELECT usesysid::text || ':' || query_id::text, "
      "(extract(epoch FROM clock_timestamp() - query_start) * 1000000)::bigint "
      "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
      "AND backend_type = 'client backend' AND state = 'active' AND query_id IS NOT NULL "
      "AND application_name NOT LIKE 'zerodown%'");
  std::vector<RunningStatement> running;
  for (int i = 0; i < rows.size(); ++i) {
    running.push_back(
        {rows.Text(i, 0), std::chrono::microseconds(std::max<std::int64_t>(rows.Int(i, 1), 0))});
  }
  return running;
}

LatencyProbe::LatencyProbe(pg::Connection& conn, std::string query)
    : conn_(conn), query_(std::move(query)) {}

std::chrono::microseconds LatencyProbe::Measure() {
  auto start = Clock::now();
  conn_.Exec(query_);
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
}

std::chrono::microseconds LatencyProbe::MeasureBaseline(int runs,
                                                        std::chrono::milliseconds spacing) {
  std::vector<std::chrono::microseconds> samples;
  for (int i = 0; i < std::max(runs, 1); ++i) {
    if (i > 0 && spacing.count() > 0) std::this_thread::sleep_for(spacing);
    samples.push_back(Measure());
  }
  baseline_ = Median(std::move(samples));
  return baseline_;
}

}  // namespace zerodown::monitor
