#include "proxy/proxy_metrics.hpp"

namespace zerodown::proxy {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;

const char* OutcomeLabel(RouteOutcome outcome) {
  switch (outcome) {
    case RouteOutcome::kVersion:
      return "version";
    case RouteOutcome::kNotInRollout:
      return "not_in_rollout";
    case RouteOutcome::kNoUserId:
      return "no_user_id";
    case RouteOutcome::kEarlierFlag:
      return "earlier_flag";
  }
  return "unknown";
}

}  // namespace

const char* ReadOutcomeLabel(ReadOutcome outcome) {
  switch (outcome) {
    case ReadOutcome::kReadTarget:
      return "read_target";
    case ReadOutcome::kShare:
      return "share";
    case ReadOutcome::kReadYourWrites:
      return "read_your_writes";
    case ReadOutcome::kLagUnknown:
      return "lag_unknown";
    case ReadOutcome::kTargetError:
      return "target_error";
    case ReadOutcome::kNotReadOnly:
      return "not_read_only";
  }
  return "unknown";
}

FlagMetrics::FlagMetrics(prometheus::Family<prometheus::Counter>* family, std::string flag)
    : family_(family), flag_(std::move(flag)) {
  for (auto outcome :
       {RouteOutcome::kNotInRollout, RouteOutcome::kNoUserId, RouteOutcome::kEarlierFlag}) {
    others_[outcome] = &family_->Add({{"flag", flag_}, {"outcome", OutcomeLabel(outcome)}});
  }
}

void FlagMetrics::Count(RouteOutcome outcome, const std::string& version) {
  if (outcome != RouteOutcome::kVersion) {
    others_.at(outcome)->Increment();
    return;
  }
  // The family's Add takes its lock: done once per version the flag names, not per transaction.
  if (version_counter_ == nullptr || version != version_) {
    version_ = version;
    version_counter_ =
        &family_->Add({{"flag", flag_}, {"outcome", "version"}, {"version", version_}});
  }
  version_counter_->Increment();
}

ProxyMetrics::ProxyMetrics(const std::vector<std::string>& targets,
                           const std::vector<std::string>& flags) {
  auto& r = endpoint_.registry();
  auto& transactions = BuildCounter()
                           .Name("zerodown_proxy_transactions_total")
                           .Help("Transactions that ended on a target (committed or rolled back)")
                           .Register(r);
  auto& errors = BuildCounter()
                     .Name("zerodown_proxy_errors_total")
                     .Help(
                         "Per target: ErrorResponses relayed to clients (kind=query), server "
                         "connections that could not be opened (connect) or were lost (lost)")
                     .Register(r);
  auto& connections = BuildGauge()
                          .Name("zerodown_proxy_server_connections")
                          .Help(
                              "Server connections per target: state=active (held by a client, "
                              "opening or resetting) or idle")
                          .Register(r);
  for (const auto& name : targets) {
    targets_[name] = TargetMetrics{
        &transactions.Add({{"target", name}}),
        &errors.Add({{"target", name}, {"kind", "query"}}),
        &errors.Add({{"target", name}, {"kind", "connect"}}),
        &errors.Add({{"target", name}, {"kind", "lost"}}),
        &connections.Add({{"target", name}, {"state", "active"}}),
        &connections.Add({{"target", name}, {"state", "idle"}}),
    };
  }
  auto& decisions = BuildCounter()
                        .Name("zerodown_proxy_route_decisions_total")
                        .Help(
                            "Per route flag and transaction: outcome=version (ran on the "
                            "flag's version), not_in_rollout, no_user_id, earlier_flag")
                        .Register(r);
  for (const auto& flag : flags) flags_[flag] = std::make_unique<FlagMetrics>(&decisions, flag);
  auto one_gauge = [&r](const std::string& name, const std::string& help) {
    return &BuildGauge().Name(name).Help(help).Register(r).Add({});
  };
  clients_ = one_gauge("zerodown_proxy_clients", "Clients connected to the proxy");
  held_ = one_gauge("zerodown_proxy_clients_held", "Clients whose transaction a PAUSE holds");
  paused_ = one_gauge("zerodown_proxy_paused", "1 from a PAUSE to its RESUME, else 0");
  paused_seconds_ = &BuildCounter()
                         .Name("zerodown_proxy_paused_seconds_total")
                         .Help("Time paused, from each PAUSE to its RESUME, added at the RESUME")
                         .Register(r)
                         .Add({});
  switches_ = &BuildCounter()
                   .Name("zerodown_proxy_switches_total")
                   .Help("SWITCHes, by the target they moved clients to")
                   .Register(r);
}

ReadMetrics& ProxyMetrics::AddRead(const std::string& target) {
  if (read_.lag_bytes != nullptr) return read_;
  auto& r = endpoint_.registry();
  auto& decisions = BuildCounter()
                        .Name("zerodown_proxy_read_decisions_total")
                        .Help(
                            "Per transaction of a client of the primary under --read-share: "
                            "outcome=read_target (ran there), or why it stayed on the primary: "
                            "share, read_your_writes, lag_unknown, target_error, not_read_only")
                        .Register(r);
  for (ReadOutcome outcome : kReadOutcomes) {
    read_.decisions[outcome] =
        &decisions.Add({{"target", target}, {"outcome", ReadOutcomeLabel(outcome)}});
  }
  read_.lag_bytes = &BuildGauge()
                         .Name("zerodown_proxy_read_target_lag_bytes")
                         .Help(
                             "WAL bytes between the primary's position and the read target's "
                             "replayed position in the latest sample; -1 while unknown")
                         .Register(r)
                         .Add({{"target", target}});
  read_.lag_bytes->Set(-1);
  return read_;
}

}  // namespace zerodown::proxy
