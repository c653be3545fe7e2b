// The proxy's shared state and live control: the pools by target name, which target a new client
// gets, the registry of client sessions (for status and cancel requests), and PAUSE / RESUME /
// SWITCH. Sessions report when each transaction begins and ends; PAUSE holds the beginnings and
// waits for the ends. Every wait is on the one event loop and every RESUME wakes every wait, so
// a RESUME racing a PAUSE can never leave either hanging (the PgBouncer hang, pgbouncer#715).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "proxy/async_util.hpp"
#include "proxy/proxy_metrics.hpp"
#include "proxy/server_pool.hpp"
#include "zerodown/proxy/proxy.hpp"

namespace zerodown::proxy {

class AuthFile;
class ClientSession;
class ReadTarget;
class Router;

struct PauseRequest {
  std::chrono::milliseconds timeout;
  bool cancel_blockers = false;
};

class Controller {
 public:
  // `metrics` has the series of every target of `options` and outlives the controller.
  Controller(asio::io_context& io, asio::thread_pool& blocking, const ProxyOptions& options,
             ProxyMetrics& metrics);

  const ProxyOptions& options() const { return options_; }
  asio::thread_pool& blocking() { return blocking_; }
  ServerPool& Pool(const std::string& target) { return *pools_.at(target); }
  // The route flags (--route-flag), or nullptr: sessions ask them at each transaction's start.
  Router* route() const { return route_; }
  void SetRoute(Router* route) { route_ = route; }
  // The read target of --read-share, or nullptr: sessions ask it at each transaction's start.
  ReadTarget* read() const { return read_; }
  void SetRead(ReadTarget* read) { read_ = read; }
  // The pool of the read target's connections for reads ("green (reads)"): apart from the
  // target's own, since its connections run with default_transaction_read_only on.
  const std::string& read_pool() const { return read_pool_; }
  // The users clients authenticate as (--auth-file), or nullptr: every client is let in. A login
  // keeps the list it began with, so a reload during its exchange changes nothing for it.
  std::shared_ptr<const AuthFile> auth() const { return auth_; }
  void SetAuth(std::shared_ptr<const AuthFile> auth) { auth_ = std::move(auth); }
  // RELOAD (SIGHUP or the admin command): reads --auth-file again; new logins use the new list,
  // sessions logged in already are not touched. A file that cannot be read or parsed leaves the
  // old list serving and is logged as one paragraph naming the file, line and fix. Answers
  // {"ok":true,"users":N,…} or {"ok":false,"error":…}.
  nlohmann::json ReloadAuth();

  // The target for a client that asked for `database`: the target of that name, else the
  // default (the last SWITCH's target, once there was one). kNotFound when neither exists.
  Result<std::string> Resolve(const std::string& database) const;

  // A (process id, secret key) pair for a new session's BackendKeyData, and its registration.
  void Register(ClientSession* session);
  void Unregister(ClientSession* session);
  // Cancels the running statement of the session with that key, if any.
  void Cancel(std::uint32_t pid, std::uint32_t secret);

  // Called by a session when a client message arrives between transactions: waits while the
  // proxy is paused, then counts the session as running a transaction.
  Awaitable<void> BeginTransaction(ClientSession& session);
  // BeginTransaction without a coroutine when the proxy is not paused (the relay's common case):
  // true when the session now counts as running, false when it must wait in BeginTransaction.
  bool TryBeginTransaction() {
    if (paused_) return false;
    ++running_;
    return true;
  }
  // Called when that transaction (or the session) ends.
  void EndTransaction();

  // PAUSE: holds new transactions and waits until none runs. Answers {"ok":true,…} once paused;
  // {"ok":false,…} when it timed out (and resumed) or a RESUME came first.
  Awaitable<nlohmann::json> Pause(PauseRequest request);
  nlohmann::json Resume(const std::string& why);
  // SWITCH (while paused): every session's next transaction runs on `to`, and so do new clients.
  nlohmann::json Switch(const std::string& to);
  // WARM (before a PAUSE): opens server connections of `target` until its pool holds
  // `connections`, or, when 0, as many as the current default target's pool holds (each client's
  // in session pooling), so the clients a SWITCH moves there do not each wait for a login.
  Awaitable<nlohmann::json> Warm(const std::string& target, int connections);
  nlohmann::json Status() const;

 private:
  void CancelBlockers();
  // A target clients and commands may name: not the read pool.
  bool IsTarget(const std::string& name) const { return pools_.count(name) && name != read_pool_; }
  Awaitable<void> ExpireHold(std::uint64_t epoch);

  asio::io_context& io_;
  asio::thread_pool& blocking_;
  ProxyOptions options_;
  ProxyMetrics& metrics_;
  std::map<std::string, std::unique_ptr<ServerPool>> pools_;
  std::string default_target_;
  std::unordered_map<std::uint32_t, ClientSession*> sessions_;
  Router* route_ = nullptr;
  ReadTarget* read_ = nullptr;
  std::string read_pool_;
  std::shared_ptr<const AuthFile> auth_;

  bool paused_ = false;
  std::uint64_t epoch_ = 0;  // +1 at every PAUSE and RESUME: a waiter sees it moved on
  Clock::time_point paused_since_;
  int running_ = 0;  // sessions between BeginTransaction and EndTransaction
  int held_ = 0;     // sessions waiting in BeginTransaction
  Signal resumed_;   // wakes held sessions
  Signal changed_;   // wakes PAUSE: a transaction ended, or a RESUME came
};

}  // namespace zerodown::proxy
