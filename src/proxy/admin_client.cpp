#include "zerodown/proxy/admin_client.hpp"

#include <fmt/format.h>

#include <asio.hpp>

#include "proxy/async_util.hpp"

namespace zerodown::proxy {

Result<nlohmann::json> SendAdminCommand(const std::string& address, const nlohmann::json& request,
                                        std::chrono::milliseconds timeout) {
  auto endpoint = ParseEndpoint(address, "--admin");
  if (!endpoint) return endpoint.error();
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  asio::error_code ec;
  std::string answer;
  auto fail = [&](std::string_view what) {
    return Error(ErrorKind::kConnection,
                 fmt::format("the proxy's admin endpoint {} {}: {}", address, what, ec.message()),
                 "Check that `zerodown proxy` runs with --admin " + address + ".");
  };
  socket.async_connect(*endpoint, [&](asio::error_code e) {
    ec = e;
    if (ec) return;
    asio::async_write(socket, asio::buffer(request.dump() + "\n"), [&](asio::error_code e, auto) {
      ec = e;
      if (ec) return;
      asio::async_read_until(socket, asio::dynamic_buffer(answer), '\n',
                             [&](asio::error_code e, auto) { ec = e; });
    });
  });
  io.run_for(timeout);
  if (!io.stopped()) {
    ec = asio::error::timed_out;
    return fail("did not answer");
  }
  if (ec) return fail("cannot be reached");
  auto parsed = nlohmann::json::parse(answer, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return fail("answered something that is not JSON");
  return parsed;
}

}  // namespace zerodown::proxy
