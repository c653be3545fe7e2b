// The admin endpoint: JSON lines over TCP, one request and one answer per line, each connection
// served by its own coroutine so a RESUME is answered while a PAUSE on another connection still
// waits. Requests: {"command":"pause","timeout_ms":N,"cancel_blockers":bool},
// {"command":"resume"}, {"command":"switch","to":"NAME"}, {"command":"warm","target":"NAME",
// "connections":N}, {"command":"status"}, {"command":"reload"} (the --auth-file).
#pragma once

#include <asio.hpp>

#include "proxy/async_util.hpp"
#include "proxy/controller.hpp"

namespace zerodown::proxy {

// Accepts admin connections on `acceptor` until the loop stops.
Awaitable<void> ServeAdmin(asio::ip::tcp::acceptor& acceptor, Controller& controller);

}  // namespace zerodown::proxy
