// The catalog queries behind the throttler and the health checks: replication lag per standby,
// sessions kept waiting by the migration, active connections, transaction counters, and a timed
// probe query. Each is one read-only statement on a connection the caller owns (a monitoring
// connection of its own, never the one doing the migration's work). No decisions here.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zerodown/monitor/latency_window.hpp"
#include "zerodown/monitor/throttle_policy.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::monitor {

// Every standby streaming from the server `conn` is on (pg_stat_replication), with its byte and
// time lag. Empty on a standby or without the pg_monitor role (the view shows NULLs then).
std::vector<StandbyLag> SampleReplicationLag(pg::Connection& conn);

// Sessions of other clients waiting on a lock for longer than `min_wait` that either a zerodown
// session blocks (any connection whose application_name starts with "zerodown") or that wait on
// one of `tables` (qualified, quoted names, e.g. conn.Ident("public", "users")). zerodown's own
// sessions are not counted: our waits are the lock-timeout retry's business.
int CountLockWaiters(pg::Connection& conn, const std::vector<std::string>& tables,
                     std::chrono::milliseconds min_wait);

// Sessions of the current database in state 'active', `conn` itself excluded.
int CountActiveConnections(pg::Connection& conn);

// The application's sessions at one instant: the client sessions of the current database that
// are not the migration's own (application_name zerodown, zerodown-helper or zerodown-monitor).
// `active`: those in state 'active', its work in flight; by Little's law its rate times its time
// in the server, so it rises as soon as the application's statements start to queue.
// `in_transaction`: those inside a transaction (active, or idle in a transaction whose last
// statement ended under a second ago: between two statements of a transaction the client is
// working on); a session idle in a transaction for longer is left out, it hangs, it is not load.
// `connections`: all of them, active or not.
struct ApplicationSessions {
  int active = 0;
  int in_transaction = 0;
  int connections = 0;
};
ApplicationSessions CountApplicationSessions(pg::Connection& conn);

// pg_stat_database counters of the current database. The server flushes them about once a
// second per busy backend (PostgreSQL 15), so deltas are meaningful over a second or more.
struct TransactionCounters {
  std::int64_t commits = 0;
  std::int64_t rollbacks = 0;
};
TransactionCounters SampleTransactionCounters(pg::Connection& conn);

// The qualified, quoted name of the pg_stat_statements view when the extension is installed in
// the current database and its library loaded (shared_preload_libraries) on PostgreSQL 14 or
// later (query_id in pg_stat_activity); nullopt otherwise. Never throws for a missing view.
std::optional<std::string> FindStatementStatistics(pg::Connection& conn);

// The counters of every top-level statement of the current database in `view` (as found above).
StatementSnapshot SampleStatements(pg::Connection& conn, const std::string& view);

// Statements other clients of the current database are running now (zerodown's own sessions,
// application_name "zerodown…", not counted), with how long each has been running.
std::vector<RunningStatement> SampleRunningStatements(pg::Connection& conn);

// Times a probe query on its own connection. The baseline is the median of a few runs, so one
// slow run at start does not make every later run look fast.
class LatencyProbe {
 public:
  // `query` defaults to SELECT 1. Measures nothing yet.
  LatencyProbe(pg::Connection& conn, std::string query = "SELECT 1");

  // Runs the query `runs` times, `spacing` apart, and remembers the median as the baseline.
  // Throws the query's Error (a probe that fails at start is a configuration mistake).
  std::chrono::microseconds MeasureBaseline(int runs = 5, std::chrono::milliseconds spacing = {});
  // One timed run; failures are thrown as the query's Error.
  std::chrono::microseconds Measure();
  std::chrono::microseconds baseline() const { return baseline_; }

 private:
  pg::Connection& conn_;
  std::string query_;
  std::chrono::microseconds baseline_{0};
};

}  // namespace zerodown::monitor
