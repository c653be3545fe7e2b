#include "proxy/flag_watch.hpp"

#include <fmt/format.h>
#include <poll.h>

#include <algorithm>
#include <chrono>

#include "proxy/async_util.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::proxy {
namespace {

// How often the flag is re-read besides the notifications: a lost NOTIFY (a reconnect, a
// notification sent while the watcher was down) is made up for within this time.
constexpr std::chrono::milliseconds kReread{500};
// The longest the watcher sleeps before it looks at its stop flag again.
constexpr std::chrono::milliseconds kTick{200};

std::optional<flags::FlagState> Read(pg::Connection& conn, const std::string& flag) {
  auto found = flags::Get(conn, flag);
  if (!found) return std::nullopt;
  return found->state;
}

}  // namespace

std::optional<std::string> RoutedVersion(const std::optional<flags::FlagState>& state,
                                         std::string_view flag,
                                         const std::optional<std::string>& user_id) {
  if (!state || !state->version || !user_id) return std::nullopt;
  if (!flags::Enabled(*state, flag, *user_id)) return std::nullopt;
  return state->version;
}

std::string DescribeState(const std::optional<flags::FlagState>& state) {
  if (!state) return "deleted (off for every user)";
  std::string on = !state->enabled
                       ? "off"
                       : fmt::format("on for {} of users (buckets below {})",
                                     flags::FormatRollout(state->rollout_bp), state->rollout_bp);
  if (!state->version) return on + ", no version";
  return fmt::format("{}, version \"{}\"", on, *state->version);
}

StateVerdict JudgeState(std::string_view flag, const std::optional<flags::FlagState>& current,
                        const std::optional<flags::FlagState>& incoming, bool version_exists) {
  if (incoming == current) return {};
  if (incoming && incoming->version && !version_exists) {
    return {false, fmt::format("WARNING: route flag \"{}\" was changed to name version \"{}\", "
                               "which is not a schema of its database; the proxy keeps routing "
                               "by the last good state ({}). Create that version (`zerodown "
                               "start`) or set the flag's --version to an existing schema.",
                               flag, *incoming->version, DescribeState(current))};
  }
  std::string note = incoming && !incoming->version
                         ? "; it names no version, so every transaction runs with its client's "
                           "own search_path"
                         : "";
  return {true, fmt::format("route flag \"{}\": {} -> {}{}", flag, DescribeState(current),
                            DescribeState(incoming), note)};
}

Result<std::unique_ptr<FlagWatch>> FlagWatch::Start(asio::io_context& io, std::string target,
                                                    std::string conninfo, std::string flag) {
  if (zerodown::Status named = flags::CheckFlagName(flag); !named) return named.error();
  try {
    pg::Connection conn = pg::Connection::Open(conninfo, "zerodown proxy flag watch");
    auto found = flags::Get(conn, flag);
    if (!found) {
      std::vector<std::string> names;
      for (const auto& f : flags::List(conn)) names.push_back(f.name);
      return Error(
          ErrorKind::kNotFound,
          fmt::format("--route-flag \"{}\": target \"{}\" (database \"{}\") has no flag "
                      "of that name ({})",
                      flag, target, conn.Database(),
                      names.empty() ? "it has no flags at all"
                                    : fmt::format("its flags: {}", fmt::join(names, ", "))),
          fmt::format("Create it first, e.g. `zerodown flag set {} --rollout 0% --version "
                      "SCHEMA` against that database, or name an existing flag.",
                      flag));
    }
    if (!found->state.version) {
      return Error(ErrorKind::kUsage,
                   fmt::format("--route-flag \"{}\": the flag names no version schema, so the "
                               "proxy has nothing to route its users to",
                               flag),
                   fmt::format("Give it one: `zerodown flag set {} --version SCHEMA`.", flag));
    }
    if (zerodown::Status exists = flags::CheckVersionExists(conn, flag, *found->state.version);
        !exists) {
      return Error(exists.error().kind(),
                   fmt::format("--route-flag \"{}\": the flag names version \"{}\", but database "
                               "\"{}\" has no schema of that name, so the proxy did not start",
                               flag, *found->state.version, conn.Database()),
                   exists.error().fix());
    }
    Log(fmt::format("route flag \"{}\" (from target {}): {}", flag, target,
                    DescribeState(found->state)));
    return std::unique_ptr<FlagWatch>(
        new FlagWatch(io, std::move(target), std::move(conninfo), std::move(flag), found->state));
  } catch (const Error& error) {
    return Error(error.kind(),
                 fmt::format("--route-flag \"{}\": cannot read the flag from target \"{}\": {}",
                             flag, target, error.message()),
                 error.fix());
  }
}

FlagWatch::FlagWatch(asio::io_context& io, std::string target, std::string conninfo,
                     std::string flag, std::optional<flags::FlagState> state)
    : io_(io),
      target_(std::move(target)),
      conninfo_(std::move(conninfo)),
      flag_(std::move(flag)),
      state_(state),
      watched_(state) {
  thread_ = std::thread([this] { Watch(); });
}

FlagWatch::~FlagWatch() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::optional<std::string> FlagWatch::Route(const std::optional<std::string>& user_id,
                                            bool routed_already) {
  if (routed_already) {
    ++earlier_flag_;
    if (metrics_ != nullptr) metrics_->Count(RouteOutcome::kEarlierFlag, {});
    return std::nullopt;
  }
  auto version = RoutedVersion(state_, flag_, user_id);
  ++(version ? to_version_ : not_to_version_);
  if (metrics_ != nullptr) {
    RouteOutcome outcome = version   ? RouteOutcome::kVersion
                           : user_id ? RouteOutcome::kNotInRollout
                                     : RouteOutcome::kNoUserId;
    metrics_->Count(outcome, version ? *version : std::string());
  }
  return version;
}

nlohmann::json FlagWatch::Status() const {
  nlohmann::json out{{"flag", flag_},
                     {"target", target_},
                     {"state", DescribeState(state_)},
                     {"exists", state_.has_value()},
                     {"to_version", to_version_},
                     {"not_to_version", not_to_version_},
                     {"earlier_flag", earlier_flag_}};
  if (state_) {
    out["enabled"] = state_->enabled;
    out["rollout_bp"] = state_->rollout_bp;
    out["version"] = state_->version ? nlohmann::json(*state_->version) : nlohmann::json();
  }
  return out;
}

// Applies a state read from the database or announced by a notification, on the watcher thread;
// the event loop gets a copy.
void FlagWatch::Offer(pg::Connection& conn, const std::optional<flags::FlagState>& incoming) {
  if (incoming == watched_) return;
  bool exists = true;
  if (incoming && incoming->version) {
    exists = flags::CheckVersionExists(conn, flag_, *incoming->version).ok();
  }
  StateVerdict verdict = JudgeState(flag_, watched_, incoming, exists);
  if (!verdict.log.empty() && incoming != rejected_) Log(verdict.log);
  if (!verdict.apply) {
    rejected_ = incoming;  // warned once; polled again without a new warning
    return;
  }
  rejected_.reset();
  watched_ = incoming;
  asio::post(io_, [this, state = incoming] { state_ = state; });
}

// The watcher thread: (re)connects, LISTENs, applies notifications as they come and re-reads the
// flag every kReread. While the database cannot be reached the last state stays in force.
void FlagWatch::Watch() {
  std::optional<pg::Connection> conn;
  bool down = false;
  auto next_read = Clock::now();
  while (!stop_) {
    try {
      if (!conn) {
        conn.emplace(pg::Connection::Open(conninfo_, "zerodown proxy flag watch"));
        conn->Run("LISTEN " + conn->Ident(flags::kNotifyChannel));
        if (down)
          Log(fmt::format("route flag \"{}\": reading it again from target {}", flag_, target_));
        down = false;
        next_read = Clock::now();  // what changed while it was down
      }
      if (Clock::now() >= next_read) {
        Offer(*conn, Read(*conn, flag_));
        next_read = Clock::now() + kReread;
      }
      auto wait = std::min(
          kTick, std::chrono::duration_cast<std::chrono::milliseconds>(next_read - Clock::now()));
      pollfd pfd{PQsocket(conn->raw()), POLLIN, 0};
      ::poll(&pfd, 1, static_cast<int>(std::max<std::int64_t>(wait.count(), 0)));
      if (PQconsumeInput(conn->raw()) == 0) {
        throw Error(ErrorKind::kConnection, PQerrorMessage(conn->raw()));
      }
      while (PGnotify* notify = PQnotifies(conn->raw())) {
        std::string payload = notify->extra;
        PQfreemem(notify);
        auto notice = flags::ParseNotice(payload);
        if (!notice.ok()) {
          Log("route flag: ignoring a notification: " + notice.error().message());
        } else if (notice->flag == flag_) {
          Offer(*conn, notice->state);
        }
      }
    } catch (const Error& error) {
      if (!down) {
        Log(
            fmt::format("WARNING: route flag \"{}\": lost the connection to target {} ({}); "
                        "routing by the last state read ({}) and retrying every second",
                        flag_, target_, error.message(), DescribeState(watched_)));
      }
      down = true;
      conn.reset();
      for (int i = 0; i < 5 && !stop_; ++i) std::this_thread::sleep_for(kTick);
    }
  }
}

}  // namespace zerodown::proxy
