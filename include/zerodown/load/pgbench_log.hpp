// pgbench's per-transaction logs (`pgbench -l`) read into the same report the load runner makes,
// so that a change can be measured with the reference client itself: the same windows, columns,
// ratios and charts. pgbench writes one line per transaction when it ends (see the pgbench
// documentation, "Per-Transaction Logging"):
//
//   client_id transaction_no time script_no time_epoch time_us [schedule_lag [retries]]
//
// `time` is the latency in microseconds, measured from the transaction's scheduled start when a
// rate is set (so the schedule lag is inside it), or `skipped` / `failed` / `serialization` /
// `deadlock`; time_epoch.time_us is when it ended.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zerodown/common/error.hpp"
#include "zerodown/load/report.hpp"

namespace zerodown::load {

struct PgbenchTransaction {
  double end_epoch_s = 0;        // when it ended, seconds since the Unix epoch
  std::uint64_t latency_us = 0;  // 0 for a failed one (pgbench does not log its time)
  // With a rate: how long after its scheduled start it began (inside latency_us).
  std::uint64_t schedule_lag_us = 0;
  std::string sqlstate;  // empty when it committed
};

// One log line; nullopt for a line that is not a transaction (a truncated last line, a skipped
// transaction: --latency-limit's, which never ran).
std::optional<PgbenchTransaction> ParsePgbenchLogLine(std::string_view line);

// Tallies transactions into the runner's shapes, as the load runner does: the timeline counts a
// transaction in the second it ended, the windows in the phase it began in (its end minus its
// latency, plus its schedule lag: when a client that fell behind started it), so a window's TPS
// is what the server did in it, and its latencies include the queueing before. Times on the
// run's clock are seconds since `origin_epoch_s`.
class PgbenchTally {
 public:
  PgbenchTally(double origin_epoch_s, std::vector<PhaseMark> marks, double end_s);
  // Leaves out a transaction that began at or after the run's end.
  void Add(const PgbenchTransaction& transaction);
  // A client pgbench stopped on an error at `at_s` (run clock): one failed transaction.
  void AddAborted(double at_s);
  // The report of everything added: windows from `choice` (see BuildReport), the timeline, the
  // slowest transactions (no statement: pgbench does not log which one took the time).
  Result<LoadReport> Report(const WindowChoice& choice) const;

 private:
  double origin_;
  std::vector<PhaseMark> marks_;
  double end_s_;
  std::vector<Tally> segments_;  // marks_.size() + 1
  std::vector<Tally> seconds_;
  std::vector<SlowTransaction> slowest_;
};

// Reads every file in `paths` into `tally`. Fails with kUsage naming a file it cannot read.
Status ReadPgbenchLogs(const std::vector<std::string>& paths, PgbenchTally& tally);

}  // namespace zerodown::load
