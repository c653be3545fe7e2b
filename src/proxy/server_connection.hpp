// One connection from the proxy to a target server. libpq opens it (so every authentication
// method libpq knows works, SCRAM-SHA-256 included, with the target URL's credentials); after
// that the proxy speaks the protocol itself on libpq's socket through Asio. TLS to the server is
// turned off, since the proxy reads the raw socket. It does not decide who uses it: the pool does.
#pragma once

#include <libpq-fe.h>

#include <asio.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/async_util.hpp"
#include "proxy/proxy_metrics.hpp"
#include "zerodown/proxy/proxy.hpp"

namespace zerodown::proxy {

// How long a connection may sit idle in the pool and still be handed out without a look at its
// socket (ServerConnection::LooksIdle).
inline constexpr std::chrono::milliseconds kUncheckedIdle{1};

// A search_path the proxy gives a session: the text a client gave at login (`-c
// search_path=…`), as set_config takes it, or schemas by name (a client's SET search_path, a
// routed version), quoted by libpq when set. None (std::nullopt) is the session's default.
struct SearchPath {
  std::string text;
  std::vector<std::string> schemas;
  bool operator==(const SearchPath&) const = default;
};

class ServerConnection {
 public:
  // Opens a connection to `target` on `pool` (libpq blocks); returns nullptr and sets `*error`
  // to libpq's reason when it fails.
  static Awaitable<std::unique_ptr<ServerConnection>> Open(asio::thread_pool& pool,
                                                           const Target& target,
                                                           std::string* error);
  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;
  // Sends Terminate and closes (libpq's PQfinish).
  ~ServerConnection();

  const std::string& target() const { return target_; }
  // Its target's counters (set by the pool that opened it): the relay counts transactions and
  // errors there without looking the target up.
  const TargetMetrics& metrics() const { return *metrics_; }
  void set_metrics(const TargetMetrics* metrics) { metrics_ = metrics; }
  // libpq's socket (TCP or unix-domain) as an Asio socket: sends pass MSG_NOSIGNAL, and ReadSome
  // reaches its reactor state.
  asio::generic::stream_protocol::socket& socket() { return socket_; }
  // Bytes read from the socket past the last complete message.
  std::string& buffer() { return buffer_; }

  // What the server reported with ParameterStatus, by the server's spelling of each name.
  const std::map<std::string, std::string>& parameters() const { return parameters_; }
  // The parameters as one string, equal for two connections exactly when their parameters are:
  // a session compares it with what it last told its client instead of every parameter, at every
  // transaction of transaction pooling.
  const std::string& parameters_signature() const { return signature_; }
  void SetParameter(const std::string& name, const std::string& value);

  // Makes the session's settings match `wanted` (lower-case names; search_path is not among
  // them) and its search_path `search_path`: one round trip of set_config calls for those that
  // differ, none when all match. Returns the server's error.
  Awaitable<std::string> Apply(const std::map<std::string, std::string>& wanted,
                               const std::optional<SearchPath>& search_path);
  // Whether Apply would send nothing: every setting of `wanted` and the search_path are already so.
  bool Matches(const std::map<std::string, std::string>& wanted,
               const std::optional<SearchPath>& search_path) const;
  // Whether Apply would leave the search_path as it is.
  bool HasSearchPath(const std::optional<SearchPath>& search_path) const {
    return search_path_known_ && search_path_ == search_path;
  }
  // A client's own statement changed setting `name` (lower-case), search_path, or every setting
  // (RESET ALL, DISCARD ALL): the next Apply sets it again whatever it last set.
  void Forget(const std::string& name) { applied_.erase(name); }
  void ForgetSearchPath() { search_path_known_ = false; }
  void ForgetAll() {
    applied_.clear();
    search_path_known_ = false;
  }
  // Runs `sql` with the simple-query protocol and reads to ReadyForQuery, keeping any
  // ParameterStatus it reports. Returns "" or the first error.
  Awaitable<std::string> RunInternal(const std::string& sql);
  // Sends `bytes` (whole protocol messages) and reads to the `replies`-th ReadyForQuery, the way
  // RunInternal does. Returns "" or the errors, joined.
  Awaitable<std::string> Exchange(const std::string& bytes, int replies);
  // DISCARD ALL, and forgets the settings Apply made.
  Awaitable<std::string> Reset();

  // The pool keeps it idle from now on (LooksIdle's clock).
  void MarkIdle() { idle_since_ = Clock::now(); }
  // Whether the idle socket still looks usable: nothing to read, not closed by the server. A
  // connection idle for less than kUncheckedIdle is taken as it is, without asking the kernel.
  bool LooksIdle();
  // Asks the server to cancel the running statement (PQcancel on `pool`; returns at once).
  void Cancel(asio::thread_pool& pool);
  int backend_pid() const { return backend_pid_; }
  // A client's named statements prepared on this connection, by name, with the version the
  // session gave each (--read-share moves such clients between two connections). Reset clears it.
  std::map<std::string, std::uint64_t, std::less<>>& statements() { return statements_; }

 private:
  ServerConnection(PGconn* conn, std::string target, asio::any_io_executor executor);
  std::string Literal(std::string_view text) const;
  // The value of setting `name` (lower-case) on the server as far as the proxy knows, or nullptr.
  const std::string* Current(const std::string& name) const;
  std::string SearchPathSql(const std::optional<SearchPath>& search_path) const;

  PGconn* conn_;
  std::string target_;
  const TargetMetrics* metrics_ = nullptr;
  asio::generic::stream_protocol::socket socket_;
  std::string buffer_;
  std::map<std::string, std::string> parameters_;
  std::map<std::string, std::string> reported_lower_;  // parameters_ by lower-case name
  std::string signature_;
  std::map<std::string, std::string> applied_;  // lower-case name -> value set by Apply
  std::optional<SearchPath> search_path_;       // what Apply set; none: the session's default
  bool search_path_known_ = true;               // false once a client's statement changed it
  Clock::time_point idle_since_;
  std::shared_ptr<PGcancel> cancel_;
  int backend_pid_ = 0;
  std::map<std::string, std::uint64_t, std::less<>> statements_;
};

}  // namespace zerodown::proxy
