// `--on-alert CMD`: runs an operator's shell command when a health check gets worse, with what
// happened in its environment (ZERODOWN_HEALTH_STATE, ZERODOWN_HEALTH_CHECKS,
// ZERODOWN_HEALTH_MESSAGE). The command runs in the background: a slow pager script must never
// hold up the health checks. Its output goes where ours goes; its exit status is ignored.
#pragma once

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "zerodown/monitor/health_policy.hpp"

namespace zerodown::monitor {

class AlertHook {
 public:
  explicit AlertHook(std::string command = {}) : command_(std::move(command)) {}
  AlertHook(const AlertHook&) = delete;
  AlertHook& operator=(const AlertHook&) = delete;
  // Waits for the commands still running.
  ~AlertHook();

  bool enabled() const { return !command_.empty(); }
  // Starts `/bin/sh -c command` for `verdict` and returns at once. No-op when disabled.
  void Fire(const HealthVerdict& verdict);
  // Waits for every command started so far.
  void Wait();

 private:
  std::string command_;
  std::mutex mutex_;
  std::vector<std::thread> running_;
};

}  // namespace zerodown::monitor
