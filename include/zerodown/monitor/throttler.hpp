// The one throttler every copy and backfill loop asks before each chunk. It samples the database
// on a connection of its own (replication lag, sessions our locks keep waiting, probe latency
// against its baseline, active connections) at most every 250 ms, checks a pause file, reads the
// live control rows of `zerodown pause/resume/set` at most once a second, and blocks the loop
// while any of them is over its limit. It reports why it waits and how long it has waited. It
// never cancels or slows the application: all it can do is hold back our next chunk.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "zerodown/common/error.hpp"
#include "zerodown/monitor/control.hpp"
#include "zerodown/monitor/throttle_policy.hpp"

namespace zerodown::monitor {

struct ThrottlerOptions {
  // The schema being migrated: its zerodown.control rows are the ones obeyed.
  std::string schema = "public";
  // Tables the migration works on, as qualified quoted names (conn.Ident(schema, table)); a
  // session waiting on a lock of one of them counts as kept waiting by us.
  std::vector<std::string> tables;
  ThrottleLimits limits;
  std::string pause_file;  // "" = none
  std::string probe_query = "SELECT 1";
  // Lock waits shorter than this are normal traffic, not our doing.
  std::chrono::milliseconds min_lock_wait{200};
  std::chrono::milliseconds sample_interval{250};
  std::chrono::milliseconds control_interval{1000};
  // How often a blocked WaitIfNeeded looks again.
  std::chrono::milliseconds poll_interval{100};
  // Called on every poll while WaitIfNeeded blocks; an exception thrown here (an automatic
  // rollback, say) leaves WaitIfNeeded and reaches the loop, which stops.
  std::function<void()> while_waiting;
};

// Where the signals come from: the database (DatabaseSignals) or a test's fake.
class SignalSource {
 public:
  virtual ~SignalSource() = default;
  // One sample of the database signals (the pause file and control rows are not its job).
  // Throws Error when the database cannot be asked.
  virtual ThrottleSignals Sample() = 0;
  // The control rows of `schema`. Throws Error when the database cannot be asked.
  virtual ControlValues ReadControl(const std::string& schema) = 0;
  // The application's level measured before the migration began; nullopt when not measured.
  virtual std::optional<ApplicationLevel> ApplicationBaseline() const { return std::nullopt; }
  // The application's active sessions at this instant (ApplicationSessions::active); nullopt when
  // the source cannot tell. Throws Error when the database cannot be asked.
  virtual std::optional<int> ApplicationActiveNow() { return std::nullopt; }
};

// Samples a live server through its own connection, opened from `conninfo` with
// application_name "zerodown-monitor". Measures the probe's baseline at construction, so build it
// before the migration starts loading the server. Throws kConnection if it cannot connect.
std::unique_ptr<SignalSource> MakeDatabaseSignals(const std::string& conninfo,
                                                  const ThrottlerOptions& options);

// Told what the throttler does; observers must be cheap and must not throw.
class ThrottleObserver {
 public:
  virtual ~ThrottleObserver() = default;
  // The throttler starts waiting, or waits on for a different reason.
  virtual void OnThrottle(const std::string& reason) = 0;
  // It stops waiting after `waited`.
  virtual void OnResume(std::chrono::duration<double> waited) = 0;
  // Every fresh sample, waiting or not (for metrics).
  virtual void OnSample(const ThrottleSignals& /*signals*/) {}
  // A sample failed; the throttler carries on as if the signals were fine.
  virtual void OnSampleError(const Error& /*error*/) {}
};

class Throttler {
 public:
  Throttler(std::unique_ptr<SignalSource> source, ThrottlerOptions options);
  Throttler(const Throttler&) = delete;
  Throttler& operator=(const Throttler&) = delete;

  // Returns at once when nothing is over its limit; otherwise blocks until nothing is (or
  // Cancel()). Meant as BackfillOptions::before_batch. Call from one thread at a time.
  void WaitIfNeeded();
  // The current decision without blocking (samples if a sample is due).
  ThrottleDecision Check();
  // Reads the control rows now rather than when control_interval says (a postponed cut-over
  // polls them faster than that) and returns them; ChunkTime() follows. When the read fails,
  // observers hear of it (OnSampleError) and the values read last stand, so a postponed cut-over
  // stays postponed through a dropped monitoring connection. Call from the thread that calls
  // WaitIfNeeded.
  ControlValues RefreshControl();
  // After a step every application session pays for on its next statement (triggers put on its
  // table: each session loads and compiles them once; a table swapped in): waits until the
  // application's active sessions, looked at every kSettlePoll, have been at or under the
  // headroom line for kSettleQuiet looks in a row, at most kMaxSettle, so that the work's next
  // statement does not take the CPU they need then. Returns how long it waited: at once when
  // headroom is off, not measured, or never left by the application (it would wait in vain).
  // Call from the thread that calls WaitIfNeeded.
  std::chrono::milliseconds Settle();
  // Makes a blocked WaitIfNeeded return now, and every later one return at once. Thread-safe.
  void Cancel();

  // Not owned; must outlive the throttler. Add before the first WaitIfNeeded.
  void AddObserver(ThrottleObserver* observer) { observers_.push_back(observer); }

  // Thread-safe readers for progress and status displays.
  std::chrono::duration<double> ThrottledTime() const;
  std::string Reason() const;  // "" while not waiting
  // The chunk time `zerodown set chunk-time=…` asks for, if any, as last read (before every
  // WaitIfNeeded at most once per control_interval): cheap enough to ask before every batch.
  std::optional<std::chrono::milliseconds> ChunkTime() const;
  ThrottleSignals LastSignals() const;
  // The application's level before the migration began (see SignalSource), and whether it
  // leaves headroom under these limits: work sized to the headroom then runs one session.
  std::optional<ApplicationLevel> ApplicationBaseline() const {
    return source_->ApplicationBaseline();
  }
  bool ApplicationLeavesHeadroom() const {
    auto level = ApplicationBaseline();
    return level && LeavesHeadroom(*level, options_.limits);
  }

 private:
  ThrottleDecision Evaluate();
  void ReadControlRows();

  std::unique_ptr<SignalSource> source_;
  ThrottlerOptions options_;
  std::vector<ThrottleObserver*> observers_;

  using Clock = std::chrono::steady_clock;
  // A wait for headroom alone lasts at most this many times as long as the work ran since its
  // last wait (counted between these bounds): the work keeps at least a quarter of the time.
  static constexpr int kHeadroomWaitPerRun = 3;
  static constexpr std::chrono::milliseconds kMinHeadroomRun{50};
  static constexpr std::chrono::milliseconds kMaxHeadroomRun{1000};
  static constexpr std::chrono::milliseconds kSettlePoll{10};
  static constexpr int kSettleQuiet = 3;
  static constexpr std::chrono::milliseconds kMaxSettle{1000};
  Clock::time_point next_sample_{};
  Clock::time_point last_return_ = Clock::now();
  Clock::time_point next_control_{};
  ThrottleSignals sampled_;
  ControlValues control_;

  mutable std::mutex mutex_;  // guards the fields below, read by other threads
  bool cancelled_ = false;
  std::string reason_;
  std::chrono::duration<double> throttled_{0};
  std::optional<std::chrono::milliseconds> chunk_time_;
  ThrottleSignals last_;
};

}  // namespace zerodown::monitor
