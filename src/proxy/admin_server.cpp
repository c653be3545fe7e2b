#include "proxy/admin_server.hpp"

#include <fmt/format.h>

namespace zerodown::proxy {
namespace {

Awaitable<nlohmann::json> Answer(const std::string& line, Controller& controller) {
  auto request = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!request.is_object() || !request.contains("command") || !request["command"].is_string()) {
    co_return nlohmann::json{{"ok", false},
                             {"error", "a request is one JSON object with a \"command\""}};
  }
  std::string command = request["command"];
  if (command == "pause") {
    PauseRequest pause{controller.options().pause_timeout, request.value("cancel_blockers", false)};
    if (request.contains("timeout_ms") && request["timeout_ms"].is_number_integer()) {
      pause.timeout = std::chrono::milliseconds(request["timeout_ms"].get<long long>());
    }
    co_return co_await controller.Pause(pause);
  }
  if (command == "resume") co_return controller.Resume("admin command");
  if (command == "switch") {
    co_return controller.Switch(request.value("to", std::string()));
  }
  if (command == "warm") {
    int connections = request.contains("connections") && request["connections"].is_number_integer()
                          ? request["connections"].get<int>()
                          : 0;
    co_return co_await controller.Warm(request.value("target", std::string()), connections);
  }
  if (command == "status") co_return controller.Status();
  if (command == "reload") co_return controller.ReloadAuth();
  co_return nlohmann::json{
      {"ok", false},
      {"error", fmt::format("unknown command \"{}\" (pause, resume, switch, warm, status, reload)",
                            command)}};
}

Awaitable<void> ServeConnection(asio::ip::tcp::socket socket, Controller& controller) {
  std::string buffer;
  for (;;) {
    asio::error_code ec;
    std::size_t n = co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer), '\n',
                                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    std::string line = buffer.substr(0, n - 1);
    buffer.erase(0, n);
    nlohmann::json answer = co_await Answer(line, controller);
    co_await asio::async_write(socket, asio::buffer(answer.dump() + "\n"),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

}  // namespace

Awaitable<void> ServeAdmin(asio::ip::tcp::acceptor& acceptor, Controller& controller) {
  for (;;) {
    asio::error_code ec;
    auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    asio::co_spawn(acceptor.get_executor(), ServeConnection(std::move(socket), controller),
                   asio::detached);
  }
}

}  // namespace zerodown::proxy
