// Small helpers for the proxy's coroutines on one Asio event loop: a broadcast signal to wait on
// with a deadline, blocking libpq calls run on a worker pool, host:port parsing and the log line.
#pragma once

#include <sys/socket.h>

#include <asio.hpp>
#include <cerrno>
#include <chrono>
#include <functional>
#include <list>
#include <string>
#include <string_view>

#include "zerodown/common/error.hpp"

namespace zerodown::proxy {

using Clock = std::chrono::steady_clock;
template <typename T>
using Awaitable = asio::awaitable<T>;

// Wakes every coroutine waiting on it. Waiters re-check their condition after waking: Notify
// only means "something changed". Single-threaded: use from the event loop only.
class Signal {
 public:
  // Returns when notified or at `deadline`, whichever is first.
  Awaitable<void> WaitUntil(Clock::time_point deadline);
  Awaitable<void> Wait() { return WaitUntil(Clock::time_point::max()); }
  void Notify();

 private:
  std::list<asio::steady_timer*> waiters_;
};

// Runs `work` (which blocks, e.g. PQconnectdb) on `pool` and completes on `executor` (the calling
// coroutine's) with its result: `co_await RunBlocking<PGconn*>(pool, executor, work)`. Both are
// taken by reference and copied inside: GCC 12 destroys a temporary with a destructor twice when
// it is built inside a co_await expression (a by-value std::function or a lambda capturing a
// std::string freed its buffer twice), so callers pass a named lambda that captures pointers.
template <typename T, typename Work>
auto RunBlocking(asio::thread_pool& pool, const asio::any_io_executor& executor, const Work& work) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(T)>(
      [&pool, executor, work](auto handler) mutable {
        asio::post(pool, [executor, work, handler = std::move(handler)]() mutable {
          T result = work();
          asio::post(executor,
                     [handler = std::move(handler), result = std::move(result)]() mutable {
                       std::move(handler)(std::move(result));
                     });
        });
      },
      asio::use_awaitable);
}

// Writes what `stream` (in non-blocking mode) takes of `bytes` right now and returns how many;
// 0 when it is full. Relaying a message this way, and waiting only for what is left, spares the
// trip through the event loop that an asynchronous write costs even when the socket has room.
// A failure other than "would block" goes to `ec`. It calls send(2) itself: Asio's write_some
// builds an error_code from errno after every call, a tenth of the relay's own work per message.
template <typename Stream>
std::size_t WriteNow(Stream& stream, asio::const_buffer bytes, asio::error_code& ec) {
  ec = {};
  for (;;) {
    // MSG_NOSIGNAL: a peer that left is an EPIPE here, not a SIGPIPE for the process.
    ssize_t written = ::send(stream.native_handle(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (written >= 0) return static_cast<std::size_t>(written);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      ec = asio::error_code(errno, asio::error::get_system_category());
    }
    return 0;
  }
}

// "host:port" (":port" means 127.0.0.1) as a TCP endpoint; kUsage naming `what` when malformed.
Result<asio::ip::tcp::endpoint> ParseEndpoint(std::string_view address, std::string_view what);

// One progress or log line on stderr: "zerodown proxy: <text>".
void Log(std::string_view text);

}  // namespace zerodown::proxy
