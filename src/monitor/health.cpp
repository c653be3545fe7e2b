#include "zerodown/monitor/health.hpp"

#include <algorithm>

#include "latency_gauge.hpp"
#include "zerodown/monitor/signals.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::monitor {

struct HealthMonitor::Impl {
  Impl(const std::string& conninfo, const HealthOptions& options)
      : conn(pg::Connection::Open(conninfo, "zerodown-monitor")),
        latency(conn, options.probe_query, options.window) {}
  pg::Connection conn;
  LatencyGauge latency;
  // The application's transactions: the database's less this process's own.
  ApplicationCount commits;
  ApplicationCount rollbacks;
  std::optional<std::string> consistency_failure;  // guarded by HealthMonitor::mutex_
};

HealthMonitor::HealthMonitor(const std::string& conninfo, HealthOptions options)
    : conninfo_(conninfo),
      options_(std::move(options)),
      impl_(std::make_unique<Impl>(conninfo, options_)),
      hook_(options_.on_alert),
      policy_(options_.sustain, options_.latency_sustain) {}

HealthMonitor::~HealthMonitor() { Stop(); }

std::chrono::microseconds HealthMonitor::baseline() const {
  return impl_->latency.probe_baseline();
}

LatencySource HealthMonitor::latency_source() const { return impl_->latency.source(); }

HealthVerdict HealthMonitor::SampleOnce() {
  auto now = std::chrono::steady_clock::now();
  Snapshot snap;
  snap.at = now;
  HealthSample sample;
  try {
    if (PQstatus(impl_->conn.raw()) != CONNECTION_OK) {
      impl_->conn = pg::Connection::Open(conninfo_, "zerodown-monitor");
    }
    TransactionCounters counters = SampleTransactionCounters(impl_->conn);
    pg::TransactionCount own = impl_->conn.OwnTransactions();
    snap.commits = impl_->commits.Observe(counters.commits, own.commits);
    snap.rollbacks = impl_->rollbacks.Observe(counters.rollbacks, own.rollbacks);
    impl_->latency.Sample(now);
    auto lag = SampleReplicationLag(impl_->conn);
    for (const auto& s : lag) {
      if (s.bytes && (!sample.lag_bytes || *s.bytes > *sample.lag_bytes))
        sample.lag_bytes = s.bytes;
    }
    history_.push_back(snap);
  } catch (const Error&) {
    // A failed sample judges nothing; the next one tries again on a new connection.
  }
  // Keep one snapshot at or before the window's start, so the deltas span the whole window.
  while (history_.size() > 2 && history_[1].at <= now - options_.window) history_.pop_front();
  if (history_.size() >= 2) {
    // pg_stat_reset() can move the counters back; a negative delta is no information.
    sample.commits = std::max<std::int64_t>(history_.back().commits - history_.front().commits, 0);
    sample.rollbacks =
        std::max<std::int64_t>(history_.back().rollbacks - history_.front().rollbacks, 0);
  }
  sample.latency = impl_->latency.Since(now - options_.window);
  HealthVerdict verdict;
  HealthState previous;
  {
    std::lock_guard lock(mutex_);
    sample.consistency_failure = impl_->consistency_failure;
    verdict = Judge(sample, options_.thresholds);
    previous = latest_.state;
    latest_ = verdict;
    policy_.Observe(verdict);
  }
  for (auto* o : observers_) o->OnHealth(verdict);
  if (verdict.state > previous) {
    for (auto* o : observers_) o->OnAlert(verdict);
    hook_.Fire(verdict);
  }
  return verdict;
}

void HealthMonitor::Loop() {
  std::unique_lock lock(wake_mutex_);
  while (!stopping_) {
    lock.unlock();
    SampleOnce();
    lock.lock();
    wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
  }
}

void HealthMonitor::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(wake_mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void HealthMonitor::Stop() {
  {
    std::lock_guard lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

HealthVerdict HealthMonitor::Latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

bool HealthMonitor::ShouldRollBack(std::string* why) const {
  if (!options_.auto_rollback) return false;
  std::lock_guard lock(mutex_);
  return policy_.ShouldRollBack(why);
}

void HealthMonitor::ReportConsistencyFailure(const std::string& what) {
  std::lock_guard lock(mutex_);
  impl_->consistency_failure = what;
}

}  // namespace zerodown::monitor
