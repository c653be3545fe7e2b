// How a switch moves the application's traffic: the user's shell hooks, a running `zerodown
// proxy` driven through its admin endpoint, or PgBouncer (bluegreen/pgbouncer.hpp). The switch
// calls one interface and never asks which; none of them touches the databases.
#pragma once

#include <chrono>
#include <memory>

#include "zerodown/bluegreen/bluegreen.hpp"

namespace zerodown::bluegreen {

class Traffic {
 public:
  virtual ~Traffic() = default;

  // Before anything changes: readies the way to the switch's target (the proxy opens its server
  // connections there, so moved clients do not wait for logins inside the pause). An Error when
  // the target cannot be reached.
  virtual Status Prepare(std::chrono::milliseconds timeout) = 0;
  // Stops new transactions and returns once those in flight have ended. An Error (naming the
  // hook or the proxy, with the fix) when that fails or takes longer than `timeout`.
  virtual Status Pause(std::chrono::milliseconds timeout) = 0;
  // Sends every client to the switch's target from now on (traffic is paused).
  virtual Status Move(std::chrono::milliseconds timeout) = 0;
  // Lets traffic flow again.
  virtual Status Resume(std::chrono::milliseconds timeout) = 0;
  // After a failed or undone switch: traffic on the side that served and flowing, whatever part
  // of pause and move had happened.
  virtual Status Restore(std::chrono::milliseconds timeout) = 0;
};

// The traffic mover `options` name for a switch from `from` to `to`: the proxy when
// `options.proxy.admin` is set, PgBouncer when `options.pgbouncer.console` is (pointed at the
// sides where `pair` reaches them), the hooks otherwise. kUsage when more than one is given, or
// only part of PgBouncer's three settings.
Result<std::unique_ptr<Traffic>> MakeTraffic(const SwitchOptions& options, Pair& pair, Side from,
                                             Side to);

}  // namespace zerodown::bluegreen
