// The server connections of one target: idle ones reused last-in first-out, new ones opened up to
// a limit, clients queued (with a deadline) when the pool is full. A connection comes back either
// reset with DISCARD ALL (session pooling: the next client must not see this one's state) or as
// it is (transaction pooling); one that may be mid-transaction is closed instead, which makes the
// server roll its transaction back. It does not decide who gets which target: the controller does.
// A connection given back while clients wait goes straight to the one that waited longest, and
// only that one wakes: with 64 clients on 20 connections, waking every waiter at each release
// cost more than relaying the transactions.
#pragma once

#include <asio.hpp>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "proxy/async_util.hpp"
#include "proxy/proxy_metrics.hpp"
#include "proxy/server_connection.hpp"

namespace zerodown::proxy {

class ServerPool {
 public:
  // `metrics`: the target's series, which the pool keeps current and its connections count in.
  ServerPool(asio::thread_pool& blocking, Target target, int max_size,
             std::chrono::milliseconds wait_timeout, const TargetMetrics& metrics);

  const Target& target() const { return target_; }

  // A connection for one client: an idle one, a new one, or the next one released when the pool
  // is full. Returns nullptr and sets `*error` when the server cannot be reached or none frees up
  // within the wait timeout.
  Awaitable<std::unique_ptr<ServerConnection>> Acquire(std::string* error);
  // An idle connection at once, without a coroutine (a transaction's start in transaction
  // pooling), or nullptr when none is idle: then Acquire waits or opens one.
  std::unique_ptr<ServerConnection> TakeIdle();
  // Takes a connection back. `reset` runs DISCARD ALL first (in the background); a connection
  // whose reset fails is closed.
  void Release(std::unique_ptr<ServerConnection> connection, bool reset);
  // Closes a connection that cannot be reused (lost, or left mid-transaction).
  void Discard(std::unique_ptr<ServerConnection> connection);
  // Opens connections, one after the other, until the pool holds `wanted` (at most its limit),
  // warms each one's catalog caches for the busiest tables, and keeps them idle: clients moved
  // here by a SWITCH then find a login done and the tables known. Returns how many
  // it opened; sets `*error` when the server cannot be reached.
  Awaitable<int> Fill(int wanted, std::string* error);

  int idle() const { return static_cast<int>(idle_.size()); }
  int total() const { return total_; }  // idle, in use, opening and resetting

 private:
  // A client waiting in Acquire: woken with a connection, or without one when a place in the
  // pool came free (it opens a connection then), or by its deadline.
  struct Waiter {
    explicit Waiter(asio::any_io_executor executor, Clock::time_point deadline)
        : timer(executor, deadline) {}
    asio::steady_timer timer;
    std::unique_ptr<ServerConnection> handed;
    bool woken = false;
  };

  Awaitable<void> ResetAndKeep(std::unique_ptr<ServerConnection> connection);
  void Keep(std::unique_ptr<ServerConnection> connection);
  void WakeOne();
  // Opens one connection for this pool, counting a failure.
  Awaitable<std::unique_ptr<ServerConnection>> Open(std::string* error);
  // Sets the connection gauges from idle_ and total_, after each change of either.
  void Publish();

  asio::thread_pool& blocking_;
  Target target_;
  int max_size_;
  std::chrono::milliseconds wait_timeout_;
  const TargetMetrics& metrics_;
  std::vector<std::unique_ptr<ServerConnection>> idle_;
  int total_ = 0;
  std::list<Waiter*> waiters_;  // oldest first
};

}  // namespace zerodown::proxy
