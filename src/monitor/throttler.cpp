#include "zerodown/monitor/throttler.hpp"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "zerodown/monitor/signals.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::monitor {

namespace {

class DatabaseSignals final : public SignalSource {
 public:
  DatabaseSignals(std::string conninfo, const ThrottlerOptions& options)
      : conninfo_(std::move(conninfo)),
        options_(options),
        conn_(pg::Connection::Open(conninfo_, "zerodown-monitor")),
        probe_(std::make_unique<LatencyProbe>(conn_, options.probe_query)) {
    baseline_ = probe_->MeasureBaseline();
    if (options_.limits.headroom_slack > 0) app_baseline_ = MeasureApplicationActive();
  }

  ThrottleSignals Sample() override {
    Reconnect();
    ThrottleSignals s;
    s.standbys = SampleReplicationLag(conn_);
    if (options_.limits.max_lock_waiters > 0) {
      s.lock_waiters = CountLockWaiters(conn_, options_.tables, options_.min_lock_wait);
    }
    if (options_.limits.max_probe_latency_ratio > 0) {
      // The median of the last three runs: one slow run is noise, three are a trend.
      recent_.push_back(probe_->Measure());
      if (recent_.size() > 3) recent_.erase(recent_.begin());
      s.probe_latency = Median(recent_);
      s.probe_baseline = baseline_;
    }
    if (options_.limits.max_active > 0) s.active_connections = CountActiveConnections(conn_);
    if (options_.limits.headroom_slack > 0) {
      // A count at one instant is 0 or all of them; the mean of the last second's samples is
      // the level.
      recent_active_.push_back(CountApplicationSessions(conn_).active);
      if (recent_active_.size() > kActiveSamples) recent_active_.erase(recent_active_.begin());
      double sum = 0;
      for (int n : recent_active_) sum += n;
      s.app_active = sum / static_cast<double>(recent_active_.size());
      // No line to keep under where the application leaves no headroom (LeavesHeadroom).
      if (app_baseline_ && LeavesHeadroom(*app_baseline_, options_.limits)) {
        s.app_active_baseline = app_baseline_->active;
      }
    }
    return s;
  }

  std::optional<ApplicationLevel> ApplicationBaseline() const override { return app_baseline_; }

  std::optional<int> ApplicationActiveNow() override {
    Reconnect();
    return CountApplicationSessions(conn_).active;
  }

  ControlValues ReadControl(const std::string& schema) override {
    Reconnect();
    return monitor::ReadControl(conn_, schema);
  }

 private:
  static constexpr std::size_t kActiveSamples = 4;

  // The application's level before the migration works: the mean of samples over 200 ms.
  ApplicationLevel MeasureApplicationActive() {
    constexpr int kRuns = 10;
    ApplicationLevel level;
    for (int i = 0; i < kRuns; ++i) {
      if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ApplicationSessions now = CountApplicationSessions(conn_);
      level.active += now.active;
      level.in_transaction += now.in_transaction;
      level.connections = now.connections;
    }
    level.active /= kRuns;
    level.in_transaction /= kRuns;
    return level;
  }

  // A dropped monitoring connection must not end the migration: open a new one and go on.
  void Reconnect() {
    if (PQstatus(conn_.raw()) == CONNECTION_OK) return;
    // Move-assigned in place, so probe_ (which refers to conn_) stays valid.
    conn_ = pg::Connection::Open(conninfo_, "zerodown-monitor");
  }

  std::string conninfo_;
  ThrottlerOptions options_;
  pg::Connection conn_;
  std::unique_ptr<LatencyProbe> probe_;
  std::chrono::microseconds baseline_{0};
  std::vector<std::chrono::microseconds> recent_;
  std::optional<ApplicationLevel> app_baseline_;
  std::vector<int> recent_active_;
};

}  // namespace

std::unique_ptr<SignalSource> MakeDatabaseSignals(const std::string& conninfo,
                                                  const ThrottlerOptions& options) {
  return std::make_unique<DatabaseSignals>(conninfo, options);
}

Throttler::Throttler(std::unique_ptr<SignalSource> source, ThrottlerOptions options)
    : source_(std::move(source)), options_(std::move(options)) {}

void Throttler::ReadControlRows() {
  next_control_ = Clock::now() + options_.control_interval;
  try {
    control_ = source_->ReadControl(options_.schema);
  } catch (const Error& error) {
    for (auto* o : observers_) o->OnSampleError(error);
  }
  std::lock_guard lock(mutex_);
  chunk_time_ = control_.chunk_time;
}

ControlValues Throttler::RefreshControl() {
  ReadControlRows();
  return control_;
}

ThrottleDecision Throttler::Evaluate() {
  auto now = Clock::now();
  if (now >= next_control_) ReadControlRows();
  bool fresh = false;
  if (now >= next_sample_) {
    next_sample_ = now + options_.sample_interval;
    try {
      sampled_ = source_->Sample();
      fresh = true;
    } catch (const Error& error) {
      sampled_ = {};
      for (auto* o : observers_) o->OnSampleError(error);
    }
  }
  ThrottleSignals signals = sampled_;
  signals.paused_by_control = control_.paused;
  if (!options_.pause_file.empty()) {
    std::error_code ignored;
    signals.pause_file = options_.pause_file;
    signals.pause_file_present = std::filesystem::exists(options_.pause_file, ignored);
  }
  ThrottleLimits limits = options_.limits;
  // `zerodown set max-lag=` replaces the limit of its own kind and lifts the other one, so the
  // operator's latest word is the only lag limit in force.
  if (control_.max_lag_bytes) {
    limits.max_lag_bytes = *control_.max_lag_bytes;
    limits.max_lag_seconds = 0;
  } else if (control_.max_lag_seconds) {
    limits.max_lag_seconds = *control_.max_lag_seconds;
    limits.max_lag_bytes = 0;
  }
  if (fresh) {
    for (auto* o : observers_) o->OnSample(signals);
  }
  {
    std::lock_guard lock(mutex_);
    last_ = signals;
  }
  return Decide(signals, limits);
}

ThrottleDecision Throttler::Check() { return Evaluate(); }

void Throttler::WaitIfNeeded() {
  {
    std::lock_guard lock(mutex_);
    if (cancelled_) return;
  }
  ThrottleDecision decision = Evaluate();
  auto started = Clock::now();
  // How long the work ran since it last waited here: a wait for headroom alone lasts at most
  // kHeadroomWaitPerRun times that, so the work keeps a share of the time however busy the
  // application is, and finishes.
  auto ran = started - last_return_;
  struct Returned {
    Clock::time_point& at;
    ~Returned() { at = Clock::now(); }
  } returned{last_return_};
  if (!decision.wait) return;
  auto headroom_limit = std::chrono::duration_cast<Clock::duration>(
      std::clamp<Clock::duration>(ran, kMinHeadroomRun, kMaxHeadroomRun) * kHeadroomWaitPerRun);
  std::string reported;
  auto finish = [&] {
    std::chrono::duration<double> waited = Clock::now() - started;
    {
      std::lock_guard lock(mutex_);
      throttled_ += waited;
      reason_.clear();
    }
    for (auto* o : observers_) o->OnResume(waited);
  };
  try {
    while (decision.wait) {
      if (decision.reason != reported) {
        reported = decision.reason;
        {
          std::lock_guard lock(mutex_);
          reason_ = reported;
        }
        for (auto* o : observers_) o->OnThrottle(reported);
      }
      std::this_thread::sleep_for(options_.poll_interval);
      {
        std::lock_guard lock(mutex_);
        if (cancelled_) break;
      }
      if (options_.while_waiting) options_.while_waiting();
      decision = Evaluate();
      if (decision.headroom_only && Clock::now() - started >= headroom_limit) break;
    }
  } catch (...) {
    finish();
    throw;
  }
  finish();
}

std::chrono::milliseconds Throttler::Settle() {
  std::optional<ApplicationLevel> level = source_->ApplicationBaseline();
  if (!level || !LeavesHeadroom(*level, options_.limits)) return std::chrono::milliseconds(0);
  double line = HeadroomLine(level->active, options_.limits);
  auto started = Clock::now();
  int quiet = 0;
  while (quiet < kSettleQuiet && Clock::now() - started < kMaxSettle) {
    std::this_thread::sleep_for(kSettlePoll);
    {
      std::lock_guard lock(mutex_);
      if (cancelled_) break;
    }
    std::optional<int> active;
    try {
      active = source_->ApplicationActiveNow();
    } catch (const Error& error) {
      for (auto* o : observers_) o->OnSampleError(error);
    }
    if (!active) break;
    quiet = *active <= line ? quiet + 1 : 0;
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
}

void Throttler::Cancel() {
  std::lock_guard lock(mutex_);
  cancelled_ = true;
}

std::chrono::duration<double> Throttler::ThrottledTime() const {
  std::lock_guard lock(mutex_);
  return throttled_;
}

std::string Throttler::Reason() const {
  std::lock_guard lock(mutex_);
  return reason_;
}

std::optional<std::chrono::milliseconds> Throttler::ChunkTime() const {
  std::lock_guard lock(mutex_);
  return chunk_time_;
}

ThrottleSignals Throttler::LastSignals() const {
  std::lock_guard lock(mutex_);
  return last_;
}

}  // namespace zerodown::monitor
