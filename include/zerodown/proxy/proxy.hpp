// zerodown proxy: a PostgreSQL wire-protocol proxy that applications connect to instead of the
// server. It pools server connections per named target (session or transaction pooling), and
// takes live commands on an admin endpoint: PAUSE holds new transactions once running ones end,
// SWITCH moves every client to another target, RESUME lets them go on. With an auth file clients
// log in with SCRAM-SHA-256; without one every client is let in. It does not speak TLS (see
// docs/proxy.md). With a route flag it runs each transaction of a user in the flag's rollout on
// the flag's version schema.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zerodown/common/error.hpp"

namespace zerodown::proxy {

// A server the proxy sends sessions to: a name clients and commands use, and the libpq URL or
// conninfo whose credentials the proxy logs in with.
struct Target {
  std::string name;
  std::string conninfo;
};

// "name=postgresql://…" or "name=host=… dbname=…". Fails with kUsage naming the fix.
Result<Target> ParseTarget(std::string_view spec);

enum class PoolMode {
  kSession,      // a client keeps one server connection from login to logout
  kTransaction,  // a client holds a server connection only while a transaction runs
};
Result<PoolMode> ParsePoolMode(std::string_view name);
// --read-share TARGET=PERCENT: that share of the read-only transactions of the primary's clients
// runs on TARGET (docs/proxy.md, "Read-only transactions on another target").
struct ReadShare {
  std::string target;
  int percent = 0;  // 0 to 100
  bool operator==(const ReadShare&) const = default;
};
// "green=50" or "green=50%". Fails with kUsage naming the fix.
Result<ReadShare> ParseReadShare(std::string_view spec);

// "250ms", "10s", "2min" or a plain number of milliseconds; kUsage naming `what` otherwise.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text, std::string_view what);

struct ProxyOptions {
  std::string listen = "127.0.0.1:6432";  // host:port for clients
  std::string admin;                      // host:port for the admin endpoint; "" for none
  std::vector<Target> targets;
  // Where a client whose database name is not a target goes; "" refuses such clients.
  std::string default_target;
  PoolMode pool_mode = PoolMode::kSession;
  int max_server_connections = 50;  // per target
  // How long PAUSE waits for running transactions before it gives up and resumes (or cancels
  // them, when asked), and how long clients stay held after that before the proxy resumes by
  // itself, so a lost operator never stalls the application for good.
  std::chrono::milliseconds pause_timeout{10000};
  std::chrono::milliseconds max_hold{60000};
  // A client that waits this long for a server connection of a full pool gets an error.
  std::chrono::milliseconds server_wait_timeout{30000};
  // Feature flags (docs/flags.md) that route each transaction: a user in a flag's rollout runs it
  // with search_path set to that flag's version schema, the first such flag in this order when
  // the user is in several; users in none with their own. Read from the default target's
  // database (or the only target's); empty routes nothing.
  std::vector<std::string> route_flags;
  // host:port serving the Prometheus metrics at /metrics (docs/proxy.md, "Metrics"); "" for none.
  std::string metrics_addr;
  // A file of "user" "SCRAM-SHA-256$…" lines (docs/proxy.md, "Client authentication"): clients
  // must pass SCRAM-SHA-256 as one of its users. "" lets every client in (trust).
  std::string auth_file;
  // A client that has not sent its startup packet and passed authentication this long after it
  // connected is disconnected (PostgreSQL's authentication_timeout), so silent or stalled
  // connections cannot pile up.
  std::chrono::milliseconds login_timeout{60000};
  // A share of the read-only transactions of the primary's clients (the primary: the --default
  // target, or the only other one) to another target, with read-your-writes; none for none.
  std::optional<ReadShare> read_share;
};

// The target whose clients' reads --read-share moves: the default target, else the only target
// that is not the read target. kUsage when there is none.
Result<std::string> ReadSharePrimary(const ProxyOptions& options);
// The name of the pool of the read target's connections that run reads: "green (reads)".
std::string ReadPoolName(const std::string& read_target);

// Serves clients until SIGINT or SIGTERM. `on_listening` is called once every endpoint is bound,
// with the client and admin ports (0 for no admin endpoint). Fails with kUsage when an address
// (clients, admin, metrics) cannot be bound, a target or route flag is named twice or the auth
// file is unreadable or malformed, a --read-share names an unknown target, the primary itself or
// a share outside 0–100, and before listening when a route flag does not exist or
// names a version schema that does not exist (kNotFound).
Status RunProxy(const ProxyOptions& options,
                const std::function<void(int port, int admin_port)>& on_listening = {});

}  // namespace zerodown::proxy
