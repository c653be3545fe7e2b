// The read target of `zerodown proxy --read-share TARGET=PERCENT`: a thread of its own samples,
// every 20 ms, the primary's WAL position and how far TARGET has replayed it, and hands each
// sample to the event loop, where sessions ask for the read-your-writes verdict (ReplayState).
// A physical standby says its own replay position (pg_last_wal_replay_lsn); for a logical
// subscriber the primary says it: its subscriptions' slots there, the walsender's replay_lsn
// (which keepalives carry to the primary's current position on an idle primary) or else the
// slot's confirmed_flush_lsn. Anything else, or a server that cannot be reached, leaves the
// position unknown, and then every read stays on the primary. It also counts the routing
// decisions for `proxy status`. It routes nothing itself.
#pragma once

#include <asio.hpp>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "proxy/proxy_metrics.hpp"
#include "proxy/replay_state.hpp"
#include "zerodown/proxy/proxy.hpp"

namespace zerodown::pg {
class Connection;
}

namespace zerodown::proxy {

// Why the watcher does not know the read target's position, as the log says it once per change.
struct WatchProblem {
  const Target* unreachable = nullptr;  // the server the watcher cannot connect to, if that is why
  std::string detail;                   // one line
  bool empty() const { return unreachable == nullptr && detail.empty(); }
  bool operator==(const WatchProblem&) const = default;
};

class ReadTarget {
 public:
  // Starts sampling `primary` and `target` (the read target) at once; the first verdicts are
  // kLagUnknown until a sample is in. `metrics` outlives this.
  ReadTarget(asio::io_context& io, Target primary, Target target, int percent,
             ReadMetrics& metrics);
  ~ReadTarget();
  ReadTarget(const ReadTarget&) = delete;
  ReadTarget& operator=(const ReadTarget&) = delete;

  const std::string& primary() const { return primary_.name; }
  const std::string& name() const { return target_.name; }
  int percent() const { return percent_; }
  // The verdict for one read of a client with `mark` (event loop only).
  ReplayVerdict Judge(WriterMark& mark) { return state_.Judge(mark, Clock::now()); }
  // Counts one decision for status and metrics (event loop only).
  void Count(ReadOutcome outcome);
  // A connection to the read target could not be opened for a read: logged once until one is.
  void ConnectFailed(const std::string& error);
  void Connected();
  // Within a second of a failed connect: reads do not try again yet, so a target that is down
  // costs them nothing (event loop only).
  bool failing() const { return connect_failing_ && Clock::now() < retry_at_; }
  // {"target", "primary", "percent", "known", "lag_bytes", "sample_age_ms", "decisions"}.
  nlohmann::json Status() const;

 private:
  void Watch();
  // One sample through the two connections; throws Error when either fails.
  ReplaySample Sample(pg::Connection& primary, pg::Connection& target, std::string* problem);
  void Publish(std::optional<ReplaySample> sample, const WatchProblem& problem);
  // The log line that says `problem` (or that it is over).
  std::string Describe(const WatchProblem& problem) const;

  asio::io_context& io_;
  Target primary_;
  Target target_;
  int percent_;
  ReadMetrics& metrics_;
  ReplayState state_;                              // event loop's
  std::map<ReadOutcome, std::int64_t> decisions_;  // event loop's
  bool connect_failing_ = false;                   // event loop's
  Clock::time_point retry_at_;                     // event loop's
  WatchProblem problem_;                           // watcher thread's: the last logged
  std::uint64_t segment_size_ = 0;                 // watcher thread's
  std::uint64_t block_size_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace zerodown::proxy
