#include "proxy/controller.hpp"

#include <fmt/format.h>

#include <random>

#include "proxy/auth_file.hpp"
#include "proxy/client_session.hpp"
#include "proxy/read_target.hpp"
#include "proxy/router.hpp"

namespace zerodown::proxy {
namespace {

// How long PAUSE --cancel-blockers waits for cancelled statements to end before it gives up.
constexpr std::chrono::milliseconds kCancelGrace{2000};

long long MillisecondsSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

}  // namespace

Controller::Controller(asio::io_context& io, asio::thread_pool& blocking,
                       const ProxyOptions& options, ProxyMetrics& metrics)
    : io_(io),
      blocking_(blocking),
      options_(options),
      metrics_(metrics),
      default_target_(options.default_target) {
  for (const auto& target : options_.targets) {
    pools_[target.name] =
        std::make_unique<ServerPool>(blocking_, target, options_.max_server_connections,
                                     options_.server_wait_timeout, metrics_.Target(target.name));
  }
  if (options_.read_share) {
    read_pool_ = ReadPoolName(options_.read_share->target);
    Target reads = pools_.at(options_.read_share->target)->target();
    reads.name = read_pool_;
    pools_[read_pool_] =
        std::make_unique<ServerPool>(blocking_, reads, options_.max_server_connections,
                                     options_.server_wait_timeout, metrics_.Target(read_pool_));
  }
}

Result<std::string> Controller::Resolve(const std::string& database) const {
  if (IsTarget(database)) return database;
  if (!default_target_.empty()) return default_target_;
  std::string names;
  for (const auto& [name, pool] : pools_) {
    if (IsTarget(name)) names += (names.empty() ? "" : ", ") + name;
  }
  return Error(
      ErrorKind::kNotFound,
      fmt::format("database \"{}\" is not a target of this proxy (targets: {})", database, names),
      "Connect with a target's name as the database name, or start the proxy with "
      "--default NAME for clients that keep their own database name.");
}

void Controller::Register(ClientSession* session) {
  static std::mt19937 random{std::random_device{}()};
  std::uint32_t pid = 0;
  do {
    pid = random() & 0x7fffffff;
  } while (pid == 0 || sessions_.count(pid));
  session->SetKey(pid, random());
  sessions_[pid] = session;
  metrics_.SetClients(sessions_.size());
}

void Controller::Unregister(ClientSession* session) {
  sessions_.erase(session->pid());
  metrics_.SetClients(sessions_.size());
}

void Controller::Cancel(std::uint32_t pid, std::uint32_t secret) {
  auto it = sessions_.find(pid);
  // A wrong secret is ignored without a word, as the server does.
  if (it != sessions_.end() && it->second->secret() == secret) it->second->CancelStatement();
}

Awaitable<void> Controller::BeginTransaction(ClientSession& /*session*/) {
  while (paused_) {
    metrics_.SetHeld(++held_);
    co_await resumed_.Wait();
    metrics_.SetHeld(--held_);
  }
  ++running_;
}

void Controller::EndTransaction() {
  --running_;
  if (running_ == 0) changed_.Notify();
}

Awaitable<nlohmann::json> Controller::Pause(PauseRequest request) {
  auto begun = Clock::now();
  if (!paused_) {
    paused_ = true;
    ++epoch_;
    paused_since_ = begun;
    metrics_.SetPaused(true);
    Log(fmt::format("PAUSE: holding new transactions; waiting for {} running", running_));
  }
  std::uint64_t epoch = epoch_;
  auto deadline = begun + request.timeout;
  int cancelled = 0;
  while (running_ > 0) {
    if (!paused_ || epoch_ != epoch) {
      co_return nlohmann::json{
          {"ok", false},
          {"paused", false},
          {"error", "a RESUME came before the running transactions ended; not paused"}};
    }
    if (Clock::now() >= deadline) {
      if (request.cancel_blockers && cancelled == 0) {
        cancelled = running_;
        CancelBlockers();
        deadline = Clock::now() + kCancelGrace;
        continue;
      }
      int still = running_;
      Resume("PAUSE timed out");
      co_return nlohmann::json{
          {"ok", false},
          {"paused", false},
          {"error", fmt::format("{} transaction(s) still ran after {} ms; resumed instead", still,
                                MillisecondsSince(begun))}};
    }
    co_await changed_.WaitUntil(deadline);
  }
  if (!paused_ || epoch_ != epoch) {
    co_return nlohmann::json{{"ok", false}, {"paused", false}, {"error", "resumed meanwhile"}};
  }
  auto waited = MillisecondsSince(begun);
  Log(fmt::format("PAUSE: paused after {} ms; {} client(s) held", waited, held_));
  asio::co_spawn(io_, ExpireHold(epoch), asio::detached);
  co_return nlohmann::json{
      {"ok", true}, {"paused", true}, {"waited_ms", waited}, {"cancelled", cancelled}};
}

void Controller::CancelBlockers() {
  std::vector<ClientSession*> blockers;
  for (const auto& [pid, session] : sessions_) {
    if (session->running()) blockers.push_back(session);
  }
  Log(fmt::format("PAUSE: cancelling {} transaction(s) still running", blockers.size()));
  for (ClientSession* session : blockers) {
    if (session->awaiting_server()) {
      session->CancelStatement();
    } else {
      // Idle in a transaction: no statement to cancel, and the client may never end it.
      session->Kill(
          "zerodown proxy ended this session: its transaction blocked a PAUSE "
          "(--cancel-blockers)");
    }
  }
}

Awaitable<void> Controller::ExpireHold(std::uint64_t epoch) {
  asio::steady_timer timer(io_, paused_since_ + options_.max_hold);
  asio::error_code ignored;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  if (paused_ && epoch_ == epoch) Resume("paused longer than --max-hold");
}

nlohmann::json Controller::Resume(const std::string& why) {
  if (!paused_) return {{"ok", true}, {"paused", false}, {"note", "was not paused"}};
  paused_ = false;
  ++epoch_;
  auto held_for = MillisecondsSince(paused_since_);
  metrics_.SetPaused(false);
  metrics_.AddPaused(std::chrono::duration<double>(Clock::now() - paused_since_).count());
  int released = held_;
  Log(fmt::format("RESUME ({}): {} held client(s) go on after {} ms", why, released, held_for));
  resumed_.Notify();
  changed_.Notify();
  return {{"ok", true}, {"paused", false}, {"released", released}, {"paused_ms", held_for}};
}

nlohmann::json Controller::Switch(const std::string& to) {
  if (!IsTarget(to)) {
    return {{"ok", false}, {"error", fmt::format("no target named \"{}\"", to)}};
  }
  if (!paused_ || running_ > 0) {
    return {{"ok", false},
            {"error", "SWITCH needs a paused proxy: run `zerodown proxy pause` first"}};
  }
  int moved = 0;
  for (const auto& [pid, session] : sessions_) {
    if (session->target() != to) ++moved;
    session->MoveTo(to);
  }
  std::string from = default_target_;
  default_target_ = to;
  metrics_.CountSwitch(to);
  Log(fmt::format("SWITCH to {}: {} client(s) move on their next transaction", to, moved));
  return {{"ok", true}, {"target", to}, {"moved", moved}, {"previous_default", from}};
}

Awaitable<nlohmann::json> Controller::Warm(const std::string& target, int connections) {
  if (!IsTarget(target)) {
    co_return nlohmann::json{{"ok", false},
                             {"error", fmt::format("no target named \"{}\"", target)}};
  }
  int wanted = connections;
  if (wanted <= 0) {
    wanted = pools_.count(default_target_) ? pools_.at(default_target_)->total()
                                           : static_cast<int>(sessions_.size());
  }
  auto began = Clock::now();
  std::string error;
  ServerPool& pool = *pools_.at(target);
  int opened = co_await pool.Fill(wanted, &error);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count();
  if (!error.empty()) {
    co_return nlohmann::json{
        {"ok", false}, {"error", fmt::format("target {}: {}", target, error)}, {"opened", opened}};
  }
  Log(fmt::format("WARM {}: opened {} server connection(s) in {} ms; {} in its pool", target,
                  opened, ms, pool.total()));
  co_return nlohmann::json{{"ok", true},
                           {"target", target},
                           {"opened", opened},
                           {"total", pool.total()},
                           {"took_ms", ms}};
}

nlohmann::json Controller::Status() const {
  nlohmann::json targets = nlohmann::json::array();
  for (const auto& [name, pool] : pools_) {
    int clients = 0;
    for (const auto& [pid, session] : sessions_) clients += session->target() == name;
    targets.push_back({{"name", name},
                       {"clients", clients},
                       {"server_connections", pool->total()},
                       {"idle_server_connections", pool->idle()}});
  }
  nlohmann::json out{
      {"ok", true},
      {"paused", paused_},
      {"pool_mode", options_.pool_mode == PoolMode::kSession ? "session" : "transaction"},
      {"default", default_target_},
      {"clients", sessions_.size()},
      {"running", running_},
      {"held", held_},
      {"targets", targets}};
  if (read_ != nullptr) out["read_share"] = read_->Status();
  if (auth_ != nullptr) out["auth"] = {{"file", auth_->path()}, {"users", auth_->size()}};
  if (route_ != nullptr) {
    out["routes"] = route_->Status();
    out["route"] = out["routes"][0];  // the first flag, as before there could be more
  }
  return out;
}

nlohmann::json Controller::ReloadAuth() {
  if (auth_ == nullptr) {
    Log("RELOAD: the proxy runs without --auth-file; nothing to reload");
    return {{"ok", false},
            {"error",
             "the proxy runs without --auth-file (every client is trusted): there is no "
             "user list to reload"}};
  }
  auto loaded = AuthFile::Load(options_.auth_file);
  if (!loaded) {
    // One paragraph: the file, the line and the fix (AuthFile names them), and what still serves.
    std::string why = fmt::format(
        "RELOAD of the user list failed; the {} user(s) loaded before "
        "keep serving new logins. {}",
        auth_->size(), loaded.error().Describe());
    Log(why);
    return {{"ok", false}, {"error", why}};
  }
  auth_ = std::make_shared<const AuthFile>(std::move(loaded).ValueOrThrow());
  Log(fmt::format("RELOAD: {} user(s) from {}; new logins use them", auth_->size(), auth_->path()));
  return {{"ok", true}, {"file", auth_->path()}, {"users", auth_->size()}};
}

}  // namespace zerodown::proxy
