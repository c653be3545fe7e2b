// One connection from the proxy to a target server. libpq opens it (so every authentication
// method libpq knows works, SCRAM-SHA-256 included, with the target URL's credentials); after
// that the proxy speaks the protocol itself on libpq's socket through Asio. TLS to the server is
// turned off, since the proxy reads the raw socket. It does not decide who uses it: the pool does.
#pragma once

#include <libpq-fe.h>

#include <asio.hpp>
#include <map>
#include <memory>
#include <string>

#include "proxy/async_util.hpp"
#include "zerodown/proxy/proxy.hpp"

namespace zerodown::proxy {

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
  asio::posix::stream_descriptor& socket() { return socket_; }
  // Bytes read from the socket past the last complete message.
  std::string& buffer() { return buffer_; }

  // What the server reported with ParameterStatus, by the server's spelling of each name.
  const std::map<std::string, std::string>& parameters() const { return parameters_; }
  void SetParameter(const std::string& name, const std::string& value);

  // Makes the session's settings match `wanted` (lower-case names): one round trip of
  // set_config calls for those that differ, none when all match. Returns the server's error.
  Awaitable<std::string> Apply(const std::map<std::string, std::string>& wanted);
  // Runs `sql` with the simple-query protocol and reads to ReadyForQuery, keeping any
  // ParameterStatus it reports. Returns "" or the first error.
  Awaitable<std::string> RunInternal(const std::string& sql);
  // DISCARD ALL, and forgets the settings Apply made.
  Awaitable<std::string> Reset();

  // Whether the idle socket still looks usable: nothing to read, not closed by the server.
  bool LooksIdle();
  // Asks the server to cancel the running statement (PQcancel on `pool`; returns at once).
  void Cancel(asio::thread_pool& pool);
  int backend_pid() const { return backend_pid_; }

 private:
  ServerConnection(PGconn* conn, std::string target, asio::any_io_executor executor);

  PGconn* conn_;
  std::string target_;
  asio::posix::stream_descriptor socket_;
  std::string buffer_;
  std::map<std::string, std::string> parameters_;
  std::map<std::string, std::string> applied_;  // lower-case name -> value set by Apply
  std::shared_ptr<PGcancel> cancel_;
  int backend_pid_ = 0;
};

}  // namespace zerodown::proxy
