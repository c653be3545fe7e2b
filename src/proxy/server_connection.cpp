#include "proxy/server_connection.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "proxy/wire.hpp"

namespace zerodown::proxy {
namespace {

// The parameters PostgreSQL 15 reports at login (GUC_REPORT); libpq keeps them but offers no
// list, so the proxy asks for each by name.
constexpr const char* kReportedParameters[] = {
    "application_name",
    "client_encoding",
    "DateStyle",
    "default_transaction_read_only",
    "in_hot_standby",
    "integer_datetimes",
    "IntervalStyle",
    "is_superuser",
    "server_encoding",
    "server_version",
    "session_authorization",
    "standard_conforming_strings",
    "TimeZone",
};

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Opens with the target's settings, with TLS and GSS encryption off: the proxy reads libpq's
// socket itself, so its bytes must be the plain protocol.
PGconn* ConnectBlocking(const std::string& conninfo) {
  const char* keys[] = {"dbname", "sslmode", "gssencmode", "fallback_application_name", nullptr};
  const char* values[] = {conninfo.c_str(), "disable", "disable", "zerodown proxy", nullptr};
  return PQconnectdbParams(keys, values, /*expand_dbname=*/1);
}

}  // namespace

ServerConnection::ServerConnection(PGconn* conn, std::string target, asio::any_io_executor executor)
    : conn_(conn), target_(std::move(target)), socket_(executor) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  ::getsockname(PQsocket(conn_), reinterpret_cast<sockaddr*>(&address), &length);
  int family = address.ss_family;
  // Should the reactor refuse it, the socket stays closed and the first read reports it lost.
  asio::error_code ignored;
  socket_.assign(asio::generic::stream_protocol(family, family == AF_UNIX ? 0 : IPPROTO_TCP),
                 PQsocket(conn_), ignored);
  for (const char* name : kReportedParameters) {
    if (const char* value = PQparameterStatus(conn_, name)) SetParameter(name, value);
  }
  socket_.non_blocking(true, ignored);  // for WriteNow; libpq's socket is non-blocking anyway
  cancel_.reset(PQgetCancel(conn_), &PQfreeCancel);
  backend_pid_ = PQbackendPID(conn_);
}

ServerConnection::~ServerConnection() {
  // libpq owns the descriptor: take it back from Asio before PQfinish closes it.
  asio::error_code ignored;
  socket_.cancel(ignored);
  (void)socket_.release();
  PQfinish(conn_);
}

Awaitable<std::unique_ptr<ServerConnection>> ServerConnection::Open(asio::thread_pool& pool,
                                                                    const Target& target,
                                                                    std::string* error) {
  const std::string* conninfo = &target.conninfo;
  auto executor = co_await asio::this_coro::executor;
  auto connect = [conninfo] { return ConnectBlocking(*conninfo); };
  PGconn* conn = co_await RunBlocking<PGconn*>(pool, executor, connect);
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    *error = conn ? PQerrorMessage(conn) : "out of memory";
    while (!error->empty() && (error->back() == '\n' || error->back() == ' ')) error->pop_back();
    if (conn) PQfinish(conn);
    co_return nullptr;
  }
  co_return std::unique_ptr<ServerConnection>(new ServerConnection(conn, target.name, executor));
}

void ServerConnection::SetParameter(const std::string& name, const std::string& value) {
  std::string lower = Lower(name);
  // The server's own report wins over what Apply remembers setting.
  applied_.erase(lower);
  auto [it, added] = parameters_.try_emplace(name, value);
  if (!added && it->second == value) return;
  it->second = value;
  reported_lower_[lower] = value;
  signature_.clear();
  for (const auto& [key, setting] : parameters_) {
    signature_.append(key).push_back('\0');
    signature_.append(setting).push_back('\0');
  }
}

std::string ServerConnection::Literal(std::string_view text) const {
  char* literal = PQescapeLiteral(conn_, text.data(), text.size());
  std::string out = literal ? literal : "''";
  PQfreemem(literal);
  return out;
}

// The statement that gives the session `search_path`: set_config with the client's text or the
// quoted schemas, or SET … TO DEFAULT for the session's own default.
std::string ServerConnection::SearchPathSql(const std::optional<SearchPath>& search_path) const {
  if (!search_path) return "SET search_path TO DEFAULT;";
  std::string value = search_path->text;
  for (const auto& schema : search_path->schemas) {
    char* quoted = PQescapeIdentifier(conn_, schema.data(), schema.size());
    value += std::string(value.empty() ? "" : ", ") + (quoted ? quoted : "");
    PQfreemem(quoted);
  }
  return "SELECT pg_catalog.set_config('search_path', " + Literal(value) + ", false);";
}

const std::string* ServerConnection::Current(const std::string& name) const {
  auto it = applied_.find(name);
  if (it != applied_.end()) return &it->second;
  it = reported_lower_.find(name);
  return it == reported_lower_.end() ? nullptr : &it->second;
}

bool ServerConnection::Matches(const std::map<std::string, std::string>& wanted,
                               const std::optional<SearchPath>& search_path) const {
  // Runs at the start of every transaction in transaction pooling: look-ups only, no copies.
  if (!HasSearchPath(search_path)) return false;
  for (const auto& [name, value] : wanted) {
    const std::string* now = Current(name);
    if (now == nullptr || *now != value) return false;
  }
  return true;
}

Awaitable<std::string> ServerConnection::Apply(const std::map<std::string, std::string>& wanted,
                                               const std::optional<SearchPath>& search_path) {
  if (Matches(wanted, search_path)) co_return "";
  std::string sql;
  for (const auto& [name, value] : wanted) {
    const std::string* now = Current(name);
    if (now != nullptr && *now == value) continue;
    sql += "SELECT pg_catalog.set_config(" + Literal(name) + ", " + Literal(value) + ", false);";
  }
  bool path = !HasSearchPath(search_path);
  if (path) sql += SearchPathSql(search_path);
  if (sql.empty()) co_return "";
  std::string error = co_await RunInternal(sql);
  if (error.empty()) {
    for (const auto& [name, value] : wanted) applied_[name] = value;
    if (path) {
      search_path_ = search_path;
      search_path_known_ = true;
    }
  } else {
    search_path_known_ = false;
  }
  co_return error;
}

Awaitable<std::string> ServerConnection::RunInternal(const std::string& sql) {
  // Named, not a temporary in the co_await: GCC 12 destroys those twice.
  std::string query = wire::Query(sql);
  co_return co_await Exchange(query, 1);
}

Awaitable<std::string> ServerConnection::Exchange(const std::string& bytes, int replies) {
  asio::error_code ec;
  co_await asio::async_write(socket_, asio::buffer(bytes),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return "the server connection was lost: " + ec.message();
  std::string first_error;
  std::array<char, 8192> chunk;
  for (;;) {
    std::vector<wire::MessageView> messages;
    std::size_t consumed = 0;
    if (!wire::SplitMessages(buffer_, &messages, &consumed)) co_return "the server sent garbage";
    bool ready = false;
    for (const auto& message : messages) {
      if (message.type == 'E') {
        first_error += (first_error.empty() ? "" : "; ") + wire::ParseError(message.body()).message;
      } else if (message.type == 'S') {
        auto name = wire::FirstString(message.body());
        auto value = wire::FirstString(message.body().substr(name.size() + 1));
        SetParameter(std::string(name), std::string(value));
      } else if (message.type == 'Z') {
        ready = --replies == 0;
      }
    }
    buffer_.erase(0, consumed);
    if (ready) co_return first_error;
    std::size_t n = co_await socket_.async_read_some(asio::buffer(chunk),
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return "the server connection was lost: " + ec.message();
    buffer_.append(chunk.data(), n);
  }
}

Awaitable<std::string> ServerConnection::Reset() {
  applied_.clear();
  search_path_.reset();  // DISCARD ALL gives the session its default again
  search_path_known_ = true;
  statements_.clear();
  co_return co_await RunInternal("DISCARD ALL");
}

bool ServerConnection::LooksIdle() {
  if (!buffer_.empty()) return false;
  // The poll costs a system call per transaction, a sixth of the proxy's at 8 clients running
  // one-statement transactions, where the connection was given back a few hundred microseconds
  // before. What it catches is a server that ended the connection while it sat idle: an
  // idle_session_timeout or an administrator's pg_terminate_backend, which hit connections idle
  // for long, not one given back a moment ago.
  if (Clock::now() - idle_since_ < kUncheckedIdle) return true;
  pollfd pfd{socket_.native_handle(), POLLIN, 0};
  // Readable while idle means the server closed it or said something unasked (a FATAL).
  return ::poll(&pfd, 1, 0) == 0;
}

void ServerConnection::Cancel(asio::thread_pool& pool) {
  asio::post(pool, [cancel = cancel_] {
    std::array<char, 256> error{};
    if (cancel) PQcancel(cancel.get(), error.data(), static_cast<int>(error.size()));
  });
}

}  // namespace zerodown::proxy
