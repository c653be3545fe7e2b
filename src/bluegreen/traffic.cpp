#include "bluegreen/traffic.hpp"

#include <fmt/format.h>

#include "bluegreen/hooks.hpp"
#include "bluegreen/pgbouncer.hpp"
#include "zerodown/proxy/admin_client.hpp"

namespace zerodown::bluegreen {
namespace {

// The user's --pause-command, --switch-command and --resume-command.
class HookTraffic final : public Traffic {
 public:
  HookTraffic(const Hooks& hooks, Side from, Side to) : hooks_(hooks), from_(from), to_(to) {}

  Status Prepare(std::chrono::milliseconds) override { return Status::Ok(); }

  Status Pause(std::chrono::milliseconds timeout) override {
    return RunHook("pause", hooks_.pause, from_, to_, timeout);
  }
  Status Move(std::chrono::milliseconds timeout) override {
    return RunHook("switch", hooks_.move, from_, to_, timeout);
  }
  Status Resume(std::chrono::milliseconds timeout) override {
    return RunHook("resume", hooks_.resume, from_, to_, timeout);
  }
  // The move hook runs last before the point of no return: an undone switch never ran it, so
  // resuming is all there is to do (also when the pause hook failed halfway).
  Status Restore(std::chrono::milliseconds timeout) override { return Resume(timeout); }

 private:
  Hooks hooks_;
  Side from_;
  Side to_;
};

// A `zerodown proxy` whose targets are blue and green: PAUSE, SWITCH and RESUME through its
// admin endpoint (the library call, no shell).
class ProxyTraffic final : public Traffic {
 public:
  ProxyTraffic(const ProxyControl& proxy, Side from, Side to)
      : proxy_(proxy), from_(from), to_(to) {}

  Status Prepare(std::chrono::milliseconds timeout) override {
    return ToStatus(Send({{"command", "warm"}, {"target", Target(to_)}}, timeout));
  }
  Status Pause(std::chrono::milliseconds timeout) override {
    // The proxy gives up after `timeout` and resumes by itself; its answer may take a moment more.
    return ToStatus(
        Send({{"command", "pause"}, {"timeout_ms", timeout.count()}}, timeout + kAnswerGrace));
  }
  Status Move(std::chrono::milliseconds timeout) override {
    return ToStatus(Send({{"command", "switch"}, {"to", Target(to_)}}, timeout));
  }
  Status Resume(std::chrono::milliseconds timeout) override {
    return ToStatus(Send({{"command", "resume"}}, timeout));
  }
  Status Restore(std::chrono::milliseconds timeout) override;

 private:
  static constexpr std::chrono::milliseconds kAnswerGrace{2000};

  const std::string& Target(Side side) const {
    return side == Side::kBlue ? proxy_.blue_target : proxy_.green_target;
  }
  static Status ToStatus(const Result<nlohmann::json>& answer) {
    return answer ? Status::Ok() : Status(answer.error());
  }
  Result<nlohmann::json> Send(const nlohmann::json& request, std::chrono::milliseconds timeout);

  ProxyControl proxy_;
  Side from_;
  Side to_;
};

Result<nlohmann::json> ProxyTraffic::Send(const nlohmann::json& request,
                                          std::chrono::milliseconds timeout) {
  std::string command = request["command"];
  auto answer = proxy::SendAdminCommand(proxy_.admin, request, timeout);
  if (!answer) {
    return answer.error().WithFix(fmt::format(
        "Check that `zerodown proxy --admin {}` runs and answers within --step-timeout.",
        proxy_.admin));
  }
  if (!answer->value("ok", false)) {
    return Error(ErrorKind::kMigrationFailed,
                 fmt::format("the proxy at {} refused {}: {}", proxy_.admin, command,
                             answer->value("error", std::string("no reason given"))),
                 command == "switch" || command == "warm"
                     ? fmt::format("Start the proxy with --target {}=… and --target {}=… "
                                   "naming servers it can log in to (or name its targets with "
                                   "--proxy-targets).",
                                   proxy_.blue_target, proxy_.green_target)
                     : "End the transactions that keep the proxy from pausing (or raise "
                       "--step-timeout), and switch again.");
  }
  return answer;
}

Status ProxyTraffic::Restore(std::chrono::milliseconds timeout) {
  auto status = Send({{"command", "status"}}, timeout);
  if (!status) return status.error();
  std::string serving = Target(from_);
  std::string current = status->value("default", std::string());
  // Nothing was moved, and the proxy is not holding anyone: nothing to restore.
  if (!status->value("paused", false) && (current.empty() || current == serving)) {
    return Status::Ok();
  }
  // A move answered too late for us to see it, or a pause still holding: send everyone back.
  if (auto paused =
          Send({{"command", "pause"}, {"timeout_ms", timeout.count()}}, timeout + kAnswerGrace);
      !paused) {
    return paused.error();
  }
  if (auto moved = Send({{"command", "switch"}, {"to", serving}}, timeout); !moved) {
    (void)Send({{"command", "resume"}}, timeout);
    return moved.error();
  }
  return Resume(timeout);
}

// kUsage unless the PgBouncer flags come as a set of three or not at all.
Status CheckPgBouncer(const PgBouncerControl& control) {
  bool any = !control.console.empty() || !control.database.empty() || !control.ini.empty();
  if (!any || (!control.console.empty() && !control.database.empty() && !control.ini.empty())) {
    return Status::Ok();
  }
  return Error(ErrorKind::kUsage,
               "bluegreen switch got only part of --pgbouncer, --pgbouncer-database and "
               "--pgbouncer-ini",
               "Give all three: the admin console's URL, the [databases] entry the application "
               "connects to, and the ini file that holds its line.");
}

}  // namespace

Result<std::unique_ptr<Traffic>> MakeTraffic(const SwitchOptions& options, Pair& pair, Side from,
                                             Side to) {
  const Hooks& hooks = options.hooks;
  bool by_hooks = !hooks.pause.empty() || !hooks.move.empty() || !hooks.resume.empty();
  bool by_proxy = !options.proxy.admin.empty();
  bool by_pgbouncer = !options.pgbouncer.console.empty();
  if (Status complete = CheckPgBouncer(options.pgbouncer); !complete) return complete.error();
  if (by_hooks + by_proxy + by_pgbouncer > 1) {
    return Error(ErrorKind::kUsage,
                 "bluegreen switch got more than one way to move traffic: --proxy, --pgbouncer "
                 "and traffic hooks (--pause-command, --switch-command, --resume-command) "
                 "exclude each other",
                 "Move traffic one way: --proxy HOST:PORT, or --pgbouncer URL with "
                 "--pgbouncer-database and --pgbouncer-ini, or the three hooks.");
  }
  if (by_pgbouncer) {
    return MakePgBouncerTraffic(options.pgbouncer, EndpointOf(pair.Of(from)),
                                EndpointOf(pair.Of(to)));
  }
  if (!by_proxy) return std::unique_ptr<Traffic>(std::make_unique<HookTraffic>(hooks, from, to));
  if (options.proxy.blue_target.empty() || options.proxy.green_target.empty() ||
      options.proxy.blue_target == options.proxy.green_target) {
    return Error(ErrorKind::kUsage,
                 fmt::format("--proxy-targets names blue \"{}\" and green \"{}\": two different "
                             "target names are needed",
                             options.proxy.blue_target, options.proxy.green_target),
                 "Pass --proxy-targets BLUE,GREEN as the proxy's --target names.");
  }
  return std::unique_ptr<Traffic>(std::make_unique<ProxyTraffic>(options.proxy, from, to));
}

}  // namespace zerodown::bluegreen
