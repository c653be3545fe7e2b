#include "proxy/client_session.hpp"

#include <fmt/format.h>

#include "proxy/controller.hpp"
#include "proxy/read_some.hpp"

namespace zerodown::proxy {
namespace {
constexpr std::size_t kChunk = 16384;
}

ClientSession::ClientSession(asio::ip::tcp::socket socket, Controller& controller)
    : client_(std::move(socket)),
      login_deadline_(client_.get_executor()),
      controller_(controller) {}

void ClientSession::Start() {
  asio::co_spawn(client_.get_executor(), Run(shared_from_this()), asio::detached);
}

Awaitable<void> ClientSession::Run(std::shared_ptr<ClientSession> self) {
  asio::error_code ignored;
  client_.set_option(asio::ip::tcp::no_delay(true), ignored);
  client_.non_blocking(true, ignored);  // for WriteNow
  auto peer = client_.remote_endpoint(ignored);
  peer_ = fmt::format("{}:{}", peer.address().to_string(), peer.port());
  login_deadline_.expires_after(controller_.options().login_timeout);
  login_deadline_.async_wait([this, self](const asio::error_code& ec) {
    // Cancelled (logged in, or gone), or it expired while the login finished: its wait was
    // already queued then, and cancel cannot take it back.
    if (ec || login_done_) return;
    Log(fmt::format("client {}: did not log in within {} ms of connecting; disconnected", peer_,
                    controller_.options().login_timeout.count()));
    asio::error_code ignored;
    client_.close(ignored);  // ends the read it waits on
  });
  bool logged_in = co_await Startup();
  EndLoginDeadline();
  if (logged_in) co_await Relay();
  co_await Close();
}

void ClientSession::EndLoginDeadline() {
  login_done_ = true;
  login_deadline_.cancel();
}

Awaitable<void> ClientSession::Relay() {
  std::array<char, kChunk> chunk;
  std::vector<wire::MessageView> messages;  // reused: no allocation per read
  for (;;) {
    asio::error_code ec;
    std::size_t n = co_await ReadSome(client_, asio::buffer(chunk),
                                      asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !kill_reason_.empty()) co_return;
    buffer_.append(chunk.data(), n);
    messages.clear();
    std::size_t consumed = 0;
    if (!wire::SplitMessages(buffer_, &messages, &consumed)) {
      kill_reason_ = "invalid message length from the client";
      co_return;
    }
    // Everything before a Terminate goes to the server; the Terminate itself ends the session.
    std::size_t forward = 0;
    bool terminate = false;
    for (const auto& message : messages) {
      if (message.type == 'X') {
        terminate = true;
        break;
      }
      forward += message.bytes.size();
    }
    if (forward > 0) {
      // Before the transaction begins, so a user id SET in the same Query already routes it.
      FollowSettings(messages);
      if (!running_ && !co_await BeginTransaction()) co_return;
      ForgetOnServer();
      for (const auto& message : messages) {
        if (message.type == 'X') break;
        tracker_.OnClientMessage(message.type);
        if (message.type == 'P') NoteNamedParse(message);
      }
      if (!server_) co_return;
      asio::const_buffer out(buffer_.data(), forward);
      std::size_t sent = WriteNow(server_->socket(), out, ec);
      if (!ec && sent < forward) {
        co_await asio::async_write(server_->socket(), out + sent,
                                   asio::redirect_error(asio::use_awaitable, ec));
      }
      if (ec) co_return;  // the server pump reports the lost connection
    }
    buffer_.erase(0, consumed);
    if (terminate) co_return;
  }
}

// The first message of a transaction: wait while paused, then make sure the session holds a
// server connection of its current target.
// In transaction pooling this runs at every transaction: what usually has nothing to do (the
// pause, a connection's settings, named statements, parameter changes) is checked before a
// coroutine is called for it.
Awaitable<bool> ClientSession::BeginTransaction() {
  if (!controller_.TryBeginTransaction()) co_await controller_.BeginTransaction(*this);
  running_ = true;
  if (!kill_reason_.empty()) co_return false;
  // Decided once here, so every statement of the transaction runs on one version.
  std::optional<SearchPath> search_path = TransactionSearchPath();
  // The target (or the read target) it runs on; a connection elsewhere is given back or parked.
  ChooseWhere();
  if (MustMoveServer()) co_await MoveServer();
  if (server_) {
    if (server_->HasSearchPath(search_path)) co_return true;
    co_return co_await Reroute(search_path);
  }
  if (!AttachIdle(search_path)) {
    std::string error = co_await Attach(search_path);
    if (!error.empty()) {
      Log(error);
      co_await WriteToClient(wire::ErrorResponse("FATAL", "08006", error));
      co_return false;
    }
  }
  if (!statements_.empty() && !co_await PrepareStatements()) co_return false;
  std::string changes = ParameterChanges();
  if (!changes.empty() && !co_await WriteToClient(changes)) co_return false;
  StartPump();
  co_return true;
}

bool ClientSession::AttachIdle(const std::optional<SearchPath>& search_path) {
  if (ready_ || on_read_target_) return false;
  std::unique_ptr<ServerConnection> server = controller_.Pool(where_).TakeIdle();
  if (!server) return false;
  if (!server->Matches(WantedOn(*server), search_path)) {
    ready_ = std::move(server);  // Attach takes it from there and sets what differs
    return false;
  }
  server_ = std::move(server);
  return true;
}

void ClientSession::MoveTo(const std::string& target) {
  target_ = target;
  if (parked_ && parked_->target() != target_) GiveBackParked();  // idle, of the old target
  if (running_ || !pump_running_ || !server_ || server_->target() == target_) return;
  // The pump ends on the cancelled read and hands the connection back (PumpServer).
  stopping_pump_ = true;
  asio::error_code ignored;
  server_->socket().cancel(ignored);
}

void ClientSession::StartPump() {
  pump_running_ = true;
  stopping_pump_ = false;
  asio::co_spawn(client_.get_executor(), PumpServer(shared_from_this()), asio::detached);
}

Awaitable<void> ClientSession::PumpServer(std::shared_ptr<ClientSession> /*self*/) {
  // The session's, not the coroutine's: in transaction pooling a pump runs per transaction, and a
  // frame holding them would be allocated (and the vector grown) each time. One pump at a time.
  if (pump_chunk_.empty()) pump_chunk_.resize(kChunk);
  std::vector<char>& chunk = pump_chunk_;
  std::vector<wire::MessageView>& messages = pump_messages_;
  ServerConnection* server = server_.get();
  for (;;) {
    asio::error_code ec;
    std::size_t n = co_await ReadSome(server->socket(), asio::buffer(chunk),
                                      asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted && stopping_pump_) break;
    if (ec) {
      ServerLost(ec.message());
      break;
    }
    std::string& buffer = server->buffer();
    buffer.append(chunk.data(), n);
    messages.clear();
    std::size_t consumed = 0;
    if (!wire::SplitMessages(buffer, &messages, &consumed)) {
      ServerLost("it sent an invalid message length");
      break;
    }
    for (const auto& message : messages) {
      if (message.type == 'Z' && message.body().size() == 1) {
        tracker_.OnReadyForQuery(message.body()[0]);
      } else if (message.type == 'S') {
        auto name = wire::FirstString(message.body());
        auto value = wire::FirstString(message.body().substr(name.size() + 1));
        server->SetParameter(std::string(name), std::string(value));
        reported_[std::string(name)] = std::string(value);
        reported_signature_.clear();
      } else if (message.type == 'E') {
        server->metrics().query_errors->Increment();
      }
    }
    if (consumed > 0) {
      asio::const_buffer out(buffer.data(), consumed);
      std::size_t sent = WriteNow(client_, out, ec);
      if (!ec && sent < consumed) {
        co_await asio::async_write(client_, out + sent,
                                   asio::redirect_error(asio::use_awaitable, ec));
      }
      buffer.erase(0, consumed);
      if (ec) break;  // the client left; Relay sees it too and closes the session
    }
    if (running_ && tracker_.BetweenTransactions()) {
      running_ = false;
      NoteTransactionEnd();
      server->metrics().transactions->Increment();
      controller_.EndTransaction();
      if (controller_.options().pool_mode == PoolMode::kTransaction && !pinned_) {
        controller_.Pool(server->target()).Release(std::move(server_), /*reset=*/false);
        break;
      }
    }
    if (stopping_pump_) break;
  }
  // Stopped by a SWITCH while idle: the old target's connection goes back now.
  if (server_ && server_->target() != target_ && !running_) GiveBackServer();
  pump_running_ = false;
  pump_stopped_.Notify();
}

Awaitable<void> ClientSession::StopPump() {
  if (!pump_running_) co_return;
  stopping_pump_ = true;
  asio::error_code ignored;
  if (server_) server_->socket().cancel(ignored);
  while (pump_running_) co_await pump_stopped_.Wait();
}

void ClientSession::GiveBackServer() {
  if (!server_) return;
  ServerPool& pool = controller_.Pool(server_->target());
  if (tracker_.BetweenTransactions()) {
    bool reset = controller_.options().pool_mode == PoolMode::kSession || pinned_;
    pool.Release(std::move(server_), reset);
    return;
  }
  // Closing the connection makes the server roll back whatever this client left open.
  Log(
      fmt::format("a client of target {} left mid-transaction (status {}); its server "
                  "connection (pid {}) is closed, so the server rolls the transaction back",
                  server_->target(), tracker_.status(), server_->backend_pid()));
  if (tracker_.AwaitingServer()) server_->Cancel(controller_.blocking());
  pool.Discard(std::move(server_));
}

void ClientSession::ServerLost(const std::string& why) {
  std::string message =
      fmt::format("the connection to target \"{}\" was lost: {}", server_->target(), why);
  Log(message);
  server_->metrics().lost_connections->Increment();
  controller_.Pool(server_->target()).Discard(std::move(server_));
  if (kill_reason_.empty()) kill_reason_ = message;
  asio::error_code ignored;
  client_.cancel(ignored);
}

void ClientSession::CancelStatement() {
  if (server_ && tracker_.AwaitingServer()) server_->Cancel(controller_.blocking());
}

void ClientSession::Kill(std::string why) {
  if (kill_reason_.empty()) kill_reason_ = std::move(why);
  asio::error_code ignored;
  client_.cancel(ignored);
}

Awaitable<void> ClientSession::Close() {
  co_await StopPump();
  GiveBackServer();
  GiveBackParked();
  if (running_) {
    running_ = false;
    controller_.EndTransaction();
  }
  if (!kill_reason_.empty()) {
    co_await WriteToClient(wire::ErrorResponse("FATAL", "57P01", kill_reason_));
  }
  asio::error_code ignored;
  client_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  client_.close(ignored);
  if (registered_) controller_.Unregister(this);
  registered_ = false;
}

Awaitable<bool> ClientSession::WriteToClient(const std::string& bytes) {
  if (bytes.empty()) co_return true;
  asio::error_code ec;
  co_await asio::async_write(client_, asio::buffer(bytes),
                             asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

}  // namespace zerodown::proxy
