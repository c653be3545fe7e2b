#include "proxy/async_util.hpp"

#include <fmt/format.h>

#include <iostream>

namespace zerodown::proxy {

Awaitable<void> Signal::WaitUntil(Clock::time_point deadline) {
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  auto it = waiters_.insert(waiters_.end(), &timer);
  asio::error_code ignored;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  waiters_.erase(it);
}

void Signal::Notify() {
  for (auto* timer : waiters_) timer->cancel();
}

Result<asio::ip::tcp::endpoint> ParseEndpoint(std::string_view address, std::string_view what) {
  auto colon = address.rfind(':');
  auto bad = [&](std::string why) {
    return Error(ErrorKind::kUsage, fmt::format("{} \"{}\" {}", what, address, why),
                 "Write host:port, e.g. 127.0.0.1:6432.");
  };
  if (colon == std::string_view::npos) return bad("has no :port");
  std::string host(address.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "127.0.0.1";
  int port = 0;
  try {
    std::size_t used = 0;
    port = std::stoi(std::string(address.substr(colon + 1)), &used);
    if (used != address.size() - colon - 1) return bad("has a port that is not a number");
  } catch (const std::exception&) {
    return bad("has a port that is not a number");
  }
  if (port < 0 || port > 65535) return bad("has a port outside 0-65535");
  if (host == "localhost") host = "127.0.0.1";
  asio::error_code ec;
  auto ip = asio::ip::make_address(host, ec);
  if (ec) return bad("has a host that is not an IP address");
  return asio::ip::tcp::endpoint(ip, static_cast<unsigned short>(port));
}

void Log(std::string_view text) { std::cerr << "zerodown proxy: " << text << std::endl; }

}  // namespace zerodown::proxy
