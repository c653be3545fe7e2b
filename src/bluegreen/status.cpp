// bluegreen::Inspect and Heartbeat: lag (bytes from the slot, seconds from a heartbeat's trip),
// initial-copy progress and the guardrails a switch checks. Writes nothing but the heartbeat.
#include <fmt/format.h>

#include <thread>

#include "bluegreen/catalog.hpp"
#include "bluegreen/fence.hpp"
#include "bluegreen/replication.hpp"
#include "bluegreen/state.hpp"

namespace zerodown::bluegreen {
namespace {

// Writes a fresh token on `sender`'s heartbeat row and waits up to `wait` for `receiver` to show
// it: the seconds it took, or a lower bound (`wait`) when it did not arrive. nullopt when the
// sender refuses the write (fenced mid-switch).
std::optional<double> HeartbeatTrip(pg::Connection& sender, pg::Connection& receiver,
                                    std::chrono::milliseconds wait) {
  auto written = sender.TryExec(
      "UPDATE zerodown.bluegreen_heartbeat SET beat_at = clock_timestamp(), "
      "token = gen_random_uuid()::text WHERE id = 1 RETURNING token");
  if (!written.ok() || written->empty()) return std::nullopt;
  std::string token = written->Text(0, 0);
  auto began = std::chrono::steady_clock::now();
  for (;;) {
    auto seen = receiver.Exec("SELECT token FROM zerodown.bluegreen_heartbeat WHERE id = 1");
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    if (!seen.empty() && seen.Text(0, 0) == token) return elapsed;
    if (elapsed * 1000 >= static_cast<double>(wait.count())) return elapsed;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Guardrail Check(std::string name, bool ok, std::string detail, bool transient = false) {
  return {std::move(name), ok, std::move(detail), transient};
}

// A transient check of sessions the fence would wait for: passes when `found` is empty ("none"),
// and otherwise names each one after `intro`.
Guardrail SessionsCheck(std::string name, const std::vector<std::string>& found,
                        const std::string& intro) {
  std::string detail = found.empty() ? "none" : intro;
  for (const auto& f : found) detail += f + "; ";
  return Check(std::move(name), found.empty(), std::move(detail), /*transient=*/true);
}

void AddGuardrails(Pair& pair, const PairState& state, const StatusOptions& options,
                   const SubscriptionHealth& health, StatusReport& report) {
  Side sender = state.serving;
  std::string subscription = PathName(pair, sender);
  auto& g = report.guardrails;
  g.push_back(Check("switch", !state.switching,
                    state.switching ? "a switch was interrupted: `zerodown bluegreen switch` "
                                      "finishes or undoes it"
                                    : "none in progress"));
  g.push_back(Check(
      "subscription", health.exists && health.enabled && health.worker_running,
      health.worker_running
          ? fmt::format("{} applying on {}", subscription, SideName(Other(sender)))
          : fmt::format("{} on {} is {}: see the server log of {} for why (a conflicting row, "
                        "a missing column or a refused connection stops it)",
                        subscription, SideName(Other(sender)),
                        !health.exists    ? "missing"
                        : !health.enabled ? "disabled"
                                          : "not running",
                        SideName(Other(sender)))));
  g.push_back(
      Check("initial copy", health.tables_total > 0 && health.tables_ready == health.tables_total,
            fmt::format("{} of {} tables ready", health.tables_ready, health.tables_total)));
  bool lag_ok = report.lag_seconds && *report.lag_seconds <= options.max_lag_seconds &&
                (!report.lag_bytes || *report.lag_bytes <= options.max_lag_bytes);
  g.push_back(
      Check("lag", lag_ok,
            fmt::format("{} s and {} bytes (limits {} s, {} bytes)",
                        report.lag_seconds ? fmt::format("{:.3f}", *report.lag_seconds) : "unknown",
                        report.lag_bytes ? std::to_string(*report.lag_bytes) : "unknown",
                        options.max_lag_seconds, options.max_lag_bytes),
            /*transient=*/true));
  pg::Connection& fenced = pair.Of(sender);
  g.push_back(
      SessionsCheck("long transaction", LongTransactions(fenced, options.max_transaction_age),
                    fmt::format("open longer than {} s on {} (the fence would wait for them): ",
                                options.max_transaction_age.count(), SideName(sender))));
  g.push_back(SessionsCheck(
      "maintenance", MaintenanceLocks(fenced, state.tables, CancelsAutovacuum(fenced)),
      fmt::format("on {} (the fence would wait for them with traffic paused; let them end, "
                  "or cancel them with pg_cancel_backend): ",
                  SideName(sender))));
  std::string now = Fingerprint(fenced);
  g.push_back(Check("schema", now == state.fingerprint,
                    now == state.fingerprint
                        ? "unchanged since replication began"
                        : fmt::format("{}'s schema changed since replication began (DDL is not "
                                      "replicated): apply the same change on {}, or abort and "
                                      "create again",
                                      SideName(sender), SideName(Other(sender)))));
}

}  // namespace

Result<StatusReport> Inspect(Pair& pair, const StatusOptions& options) {
  auto state = LoadState(pair);
  if (!state) {
    return Error(ErrorKind::kNotFound, "no blue-green pair exists for these databases",
                 "Run `zerodown bluegreen create --green URL` first.");
  }
  Side sender = state->serving;
  pg::Connection& receiver = pair.Of(Other(sender));
  StatusReport report;
  report.serving = sender;
  report.phase = state->switching ? "switching" : "replicating";
  auto health = Health(receiver, PathName(pair, sender));
  report.tables_total = health.tables_total;
  report.tables_ready = health.tables_ready;
  report.tables_copying = health.tables_copying;
  report.lag_bytes = LagBytes(pair.Of(sender), PathName(pair, sender));
  if (health.worker_running) {
    report.lag_seconds = HeartbeatTrip(pair.Of(sender), receiver, options.heartbeat_wait);
  }
  AddGuardrails(pair, *state, options, health, report);
  report.migration = state->migration;
  return report;
}

void Heartbeat(Pair& pair) {
  auto state = LoadState(pair);
  if (!state) return;
  (void)pair.Of(state->serving)
      .TryExec("UPDATE zerodown.bluegreen_heartbeat SET beat_at = clock_timestamp() WHERE id = 1");
}

}  // namespace zerodown::bluegreen
