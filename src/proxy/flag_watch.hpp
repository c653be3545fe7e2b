// The route flag of `zerodown proxy --route-flag NAME`: its state cached in the proxy, kept
// current from the database that holds the flags, and the routing decision each transaction
// asks for. A thread of its own holds one libpq connection to that database, LISTENs on
// flags::kNotifyChannel and re-reads the flag twice a second as a fallback for lost
// notifications, so a change reaches the proxy within a second. A state that names a version
// schema the database does not have is refused with a warning and the last good state stays.
// Sessions read the state on the event loop; the thread hands new states over by posting to it.
#pragma once

#include <asio.hpp>
#include <atomic>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "proxy/proxy_metrics.hpp"
#include "zerodown/common/error.hpp"
#include "zerodown/flags/store.hpp"

namespace zerodown::proxy {

// The version schema a transaction of `user_id` runs in under `state` of flag `flag`: the
// flag's version when the user is in (flags::Enabled), none when the user is out, has no id,
// the flag names no version or does not exist (none state).
std::optional<std::string> RoutedVersion(const std::optional<flags::FlagState>& state,
                                         std::string_view flag,
                                         const std::optional<std::string>& user_id);

// What the watcher does with a state it read or was told (`incoming`, none for a deleted flag):
// apply it, or keep the current one because the version it names is missing.
struct StateVerdict {
  bool apply = false;
  std::string log;  // what to log, "" for nothing (an unchanged state)
};
StateVerdict JudgeState(std::string_view flag, const std::optional<flags::FlagState>& current,
                        const std::optional<flags::FlagState>& incoming, bool version_exists);

// "on for 10% of users, version \"v_new\"", "off", "deleted": a state for logs and status.
std::string DescribeState(const std::optional<flags::FlagState>& state);

class FlagWatch {
 public:
  // Reads flag `flag` through `conninfo` (the database of target `target`) and starts watching
  // it. Fails before the proxy listens when the flag does not exist (kNotFound), names no
  // version (kUsage), names a version schema that does not exist (kNotFound) or the database
  // cannot be reached (kConnection), each naming the fix.
  static Result<std::unique_ptr<FlagWatch>> Start(asio::io_context& io, std::string target,
                                                  std::string conninfo, std::string flag);
  ~FlagWatch();
  FlagWatch(const FlagWatch&) = delete;
  FlagWatch& operator=(const FlagWatch&) = delete;

  const std::string& flag() const { return flag_; }
  // Where the decisions are counted for Prometheus; none: only for status. Set before serving.
  void SetMetrics(FlagMetrics* metrics) { metrics_ = metrics; }
  // The decision for one transaction, counted for status and metrics; none without asking when
  // an earlier route flag routed the transaction already (counted as such). Event loop only.
  std::optional<std::string> Route(const std::optional<std::string>& user_id,
                                   bool routed_already = false);
  // {"flag", "target", "state", "enabled", "rollout_bp", "version", "to_version",
  //  "not_to_version", "earlier_flag"} for `proxy status`. Event loop only.
  nlohmann::json Status() const;

 private:
  FlagWatch(asio::io_context& io, std::string target, std::string conninfo, std::string flag,
            std::optional<flags::FlagState> state);
  void Watch();
  void Offer(pg::Connection& conn, const std::optional<flags::FlagState>& incoming);

  asio::io_context& io_;
  std::string target_;
  std::string conninfo_;
  std::string flag_;
  std::optional<flags::FlagState> state_;     // event loop's copy
  std::optional<flags::FlagState> watched_;   // the watcher thread's copy
  std::optional<flags::FlagState> rejected_;  // the last state refused, warned about once
  std::int64_t to_version_ = 0;
  std::int64_t not_to_version_ = 0;
  std::int64_t earlier_flag_ = 0;
  FlagMetrics* metrics_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace zerodown::proxy
