// The Prometheus metrics of `zerodown proxy` (docs/proxy.md, "Metrics"): clients, server
// connections, transactions and errors per target, pause time, switches and the route flags'
// decisions. They live in the monitor's MetricsEndpoint, which serves them with --metrics-addr.
// Values are set on the event loop as things happen; prometheus-cpp keeps each in an atomic, so a
// scrape (on the endpoint's own thread) takes no lock the relay holds, and the relay pays one
// atomic add per transaction and none per message but an ErrorResponse. It decides nothing.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "zerodown/common/error.hpp"
#include "zerodown/monitor/endpoint.hpp"

namespace zerodown::proxy {

// One target's series: its pool publishes the connection gauges, each server connection points
// at them to count its transactions and errors.
struct TargetMetrics {
  prometheus::Counter* transactions = nullptr;      // ended (committed or rolled back)
  prometheus::Counter* query_errors = nullptr;      // ErrorResponse messages relayed to clients
  prometheus::Counter* connect_errors = nullptr;    // server connections that could not be opened
  prometheus::Counter* lost_connections = nullptr;  // server connections lost under a client
  prometheus::Gauge* active = nullptr;              // held by a client, being opened or being reset
  prometheus::Gauge* idle = nullptr;                // in the pool, ready
};

// What one route flag said about one transaction.
enum class RouteOutcome {
  kVersion,       // the user is in its rollout: the transaction ran on its version
  kNotInRollout,  // the user is not (or the flag is off or deleted)
  kNoUserId,      // the client gave no zerodown.user_id
  kEarlierFlag,   // an earlier route flag routed it already; this one was not asked
};

// Where a transaction of a client of the primary went under --read-share, and why.
enum class ReadOutcome {
  kReadTarget,      // read-only, and ran on the read target
  kShare,           // read-only, but not drawn into the share
  kReadYourWrites,  // read-only, but the read target had not replayed its client's last write
  kLagUnknown,      // read-only, but the read target's position was not known within 1 s
  kTargetError,     // read-only, but no connection to the read target could be opened
  kNotReadOnly,     // not certainly read-only: ran on the primary
};
const char* ReadOutcomeLabel(ReadOutcome outcome);
inline constexpr ReadOutcome kReadOutcomes[] = {
    ReadOutcome::kReadTarget, ReadOutcome::kShare,       ReadOutcome::kReadYourWrites,
    ReadOutcome::kLagUnknown, ReadOutcome::kTargetError, ReadOutcome::kNotReadOnly};

// The --read-share series: decisions by outcome, and the read target's lag.
struct ReadMetrics {
  std::map<ReadOutcome, prometheus::Counter*> decisions;
  prometheus::Gauge* lag_bytes = nullptr;  // -1 while unknown
};

// One route flag's decision counters. Event loop only (Count keeps the last version's series).
class FlagMetrics {
 public:
  FlagMetrics(prometheus::Family<prometheus::Counter>* family, std::string flag);
  void Count(RouteOutcome outcome, const std::string& version);

 private:
  prometheus::Family<prometheus::Counter>* family_;
  std::string flag_;
  std::map<RouteOutcome, prometheus::Counter*> others_;
  std::string version_;  // the version whose series version_counter_ is
  prometheus::Counter* version_counter_ = nullptr;
};

class ProxyMetrics {
 public:
  // Registers the series of every target and route flag, at zero.
  ProxyMetrics(const std::vector<std::string>& targets, const std::vector<std::string>& flags);

  // Serves GET /metrics on "host:port"; kUsage naming the address when it cannot bind.
  Status Serve(const std::string& address) { return endpoint_.Serve(address); }
  int port() const { return endpoint_.port(); }
  std::string Render() const { return endpoint_.Render(); }

  TargetMetrics& Target(const std::string& name) { return targets_.at(name); }
  FlagMetrics& Flag(const std::string& name) { return *flags_.at(name); }
  // Registers the --read-share series for read target `target`, at zero (once).
  ReadMetrics& AddRead(const std::string& target);

  void SetClients(std::size_t clients) { clients_->Set(static_cast<double>(clients)); }
  void SetHeld(int held) { held_->Set(held); }
  void SetPaused(bool paused) { paused_->Set(paused ? 1 : 0); }
  // A pause ended (RESUME, a timeout or --max-hold) after `seconds`.
  void AddPaused(double seconds) { paused_seconds_->Increment(seconds); }
  void CountSwitch(const std::string& to) { switches_->Add({{"target", to}}).Increment(); }

 private:
  monitor::MetricsEndpoint endpoint_;
  std::map<std::string, TargetMetrics> targets_;
  std::map<std::string, std::unique_ptr<FlagMetrics>> flags_;
  prometheus::Gauge* clients_;
  prometheus::Gauge* held_;
  prometheus::Gauge* paused_;
  prometheus::Counter* paused_seconds_;
  prometheus::Family<prometheus::Counter>* switches_;
  ReadMetrics read_;
};

}  // namespace zerodown::proxy
