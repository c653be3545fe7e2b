#include "proxy/server_pool.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace zerodown::proxy {
namespace {

// A new backend builds its catalog caches at its first use of each table and index, some 15-20
// ms for a handful of tables: on a connection opened ahead of a switch that is paid before the
// pause, not by the first transactions after it. Opening a relation (pg_relation_size does)
// builds its entry; the 200 busiest tables and their indexes are warmed. A lock it cannot get
// within 100 ms (a migration's) makes it give up: the warm-up is best effort.
constexpr std::string_view kWarmUp =
    "SET lock_timeout = 100; "
    "SELECT count(pg_catalog.pg_relation_size(r.oid)) FROM "
    "(SELECT relid FROM pg_catalog.pg_stat_user_tables ORDER BY coalesce(seq_scan, 0) + "
    "coalesce(idx_scan, 0) + n_tup_ins + n_tup_upd + n_tup_del DESC LIMIT 200) t "
    "CROSS JOIN LATERAL (SELECT t.relid AS oid UNION ALL SELECT indexrelid FROM "
    "pg_catalog.pg_index WHERE indrelid = t.relid) r; "
    "RESET lock_timeout";

}  // namespace

ServerPool::ServerPool(asio::thread_pool& blocking, Target target, int max_size,
                       std::chrono::milliseconds wait_timeout, const TargetMetrics& metrics)
    : blocking_(blocking),
      target_(std::move(target)),
      max_size_(max_size),
      wait_timeout_(wait_timeout),
      metrics_(metrics) {}

Awaitable<std::unique_ptr<ServerConnection>> ServerPool::Open(std::string* error) {
  ++total_;
  Publish();
  auto connection = co_await ServerConnection::Open(blocking_, target_, error);
  if (connection) {
    connection->set_metrics(&metrics_);
  } else {
    metrics_.connect_errors->Increment();
    --total_;
    Publish();
    WakeOne();
  }
  co_return connection;
}

void ServerPool::Publish() {
  metrics_.idle->Set(static_cast<double>(idle_.size()));
  metrics_.active->Set(static_cast<double>(total_) - static_cast<double>(idle_.size()));
}

std::unique_ptr<ServerConnection> ServerPool::TakeIdle() {
  while (!idle_.empty()) {
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    Publish();
    if (connection->LooksIdle()) return connection;
    Discard(std::move(connection));  // the server went away while it sat idle
  }
  return nullptr;
}

Awaitable<std::unique_ptr<ServerConnection>> ServerPool::Acquire(std::string* error) {
  auto deadline = Clock::now() + wait_timeout_;
  for (;;) {
    if (auto connection = TakeIdle()) co_return connection;
    if (total_ < max_size_) co_return co_await Open(error);
    if (Clock::now() >= deadline) {
      *error = fmt::format("all {} server connections of target \"{}\" stayed busy for {} ms",
                           max_size_, target_.name, wait_timeout_.count());
      co_return nullptr;
    }
    Waiter waiter(co_await asio::this_coro::executor, deadline);
    auto place = waiters_.insert(waiters_.end(), &waiter);
    asio::error_code ignored;
    co_await waiter.timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    // Keep and WakeOne take the waiter off the list themselves; the deadline does not.
    if (!waiter.woken) waiters_.erase(place);
    if (waiter.handed) co_return std::move(waiter.handed);
  }
}

Awaitable<int> ServerPool::Fill(int wanted, std::string* error) {
  int opened = 0;
  while (total_ < std::min(wanted, max_size_)) {
    auto connection = co_await Open(error);
    if (!connection) break;
    std::string warm_error = co_await connection->RunInternal(std::string(kWarmUp));
    if (!warm_error.empty()) {
      Log(fmt::format("target {}: warming a new server connection failed ({}); it is kept",
                      target_.name, warm_error));
    }
    Keep(std::move(connection));
    ++opened;
  }
  co_return opened;
}

void ServerPool::Release(std::unique_ptr<ServerConnection> connection, bool reset) {
  if (!reset) {
    Keep(std::move(connection));
    return;
  }
  // The executor first: the coroutine's parameter takes the connection when it is called, and
  // argument order is unspecified.
  auto executor = connection->socket().get_executor();
  asio::co_spawn(executor, ResetAndKeep(std::move(connection)), asio::detached);
}

Awaitable<void> ServerPool::ResetAndKeep(std::unique_ptr<ServerConnection> connection) {
  std::string error = co_await connection->Reset();
  if (error.empty()) {
    Keep(std::move(connection));
  } else {
    Log(fmt::format("target {}: closing a server connection whose DISCARD ALL failed: {}",
                    target_.name, error));
    Discard(std::move(connection));
  }
}

void ServerPool::Keep(std::unique_ptr<ServerConnection> connection) {
  if (waiters_.empty()) {
    connection->MarkIdle();
    idle_.push_back(std::move(connection));
    Publish();
    return;
  }
  Waiter* first = waiters_.front();
  waiters_.pop_front();
  first->woken = true;
  first->handed = std::move(connection);
  first->timer.cancel();
}

void ServerPool::WakeOne() {
  if (waiters_.empty()) return;
  Waiter* first = waiters_.front();
  waiters_.pop_front();
  first->woken = true;
  first->timer.cancel();
}

void ServerPool::Discard(std::unique_ptr<ServerConnection> connection) {
  connection.reset();
  --total_;
  Publish();
  WakeOne();
}

}  // namespace zerodown::proxy
