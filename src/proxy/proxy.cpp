#include "zerodown/proxy/proxy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <asio.hpp>
#include <cctype>
#include <memory>
#include <optional>
#include <set>

#include "proxy/admin_server.hpp"
#include "proxy/auth_file.hpp"
#include "proxy/client_session.hpp"
#include "proxy/controller.hpp"
#include "proxy/proxy_metrics.hpp"
#include "proxy/read_target.hpp"
#include "proxy/router.hpp"

namespace zerodown::proxy {

Result<Target> ParseTarget(std::string_view spec) {
  auto eq = spec.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == spec.size()) {
    return Error(ErrorKind::kUsage, fmt::format("--target \"{}\" is not NAME=URL", spec),
                 "Write e.g. --target blue=postgresql://app@db1/shop.");
  }
  return Target{std::string(spec.substr(0, eq)), std::string(spec.substr(eq + 1))};
}

Result<PoolMode> ParsePoolMode(std::string_view name) {
  if (name == "session") return PoolMode::kSession;
  if (name == "transaction") return PoolMode::kTransaction;
  return Error(ErrorKind::kUsage, fmt::format("--pool-mode \"{}\" is not a pool mode", name),
               "Use --pool-mode session or --pool-mode transaction.");
}

Result<ReadShare> ParseReadShare(std::string_view spec) {
  auto eq = spec.find('=');
  std::string_view share = eq == std::string_view::npos ? "" : spec.substr(eq + 1);
  if (!share.empty() && share.back() == '%') share.remove_suffix(1);
  int percent = -1;
  bool digits =
      !share.empty() && share.size() <= 3 &&
      std::all_of(share.begin(), share.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
  if (digits) percent = std::stoi(std::string(share));
  if (eq == std::string_view::npos || eq == 0 || percent < 0 || percent > 100) {
    return Error(ErrorKind::kUsage,
                 fmt::format("--read-share \"{}\" is not TARGET=PERCENT with a whole percentage "
                             "from 0 to 100",
                             spec),
                 "Write e.g. --read-share green=50: half of the read-only transactions of the "
                 "primary's clients run on target green.");
  }
  return ReadShare{std::string(spec.substr(0, eq)), percent};
}

Result<std::string> ReadSharePrimary(const ProxyOptions& options) {
  if (!options.default_target.empty()) return options.default_target;
  std::vector<std::string> others;
  for (const auto& target : options.targets) {
    if (!options.read_share || target.name != options.read_share->target) {
      others.push_back(target.name);
    }
  }
  if (others.size() == 1) return others[0];
  return Error(ErrorKind::kUsage,
               fmt::format("--read-share: with targets {} the proxy cannot tell which one is the "
                           "primary whose reads it moves",
                           fmt::join(others, ", ")),
               "Add --default NAME naming the primary.");
}

std::string ReadPoolName(const std::string& read_target) { return read_target + " (reads)"; }

Result<std::chrono::milliseconds> ParseDuration(std::string_view text, std::string_view what) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  std::string_view unit = text.substr(digits);
  long long factor = unit.empty() || unit == "ms" ? 1
                     : unit == "s"                ? 1000
                     : unit == "min"              ? 60000
                                                  : 0;
  if (digits == 0 || digits > 9 || factor == 0) {
    return Error(ErrorKind::kUsage, fmt::format("{} \"{}\" is not a duration", what, text),
                 "Write e.g. 500ms, 10s or 2min.");
  }
  return std::chrono::milliseconds(std::stoll(std::string(text.substr(0, digits))) * factor);
}

namespace {

Status CheckReadShare(const ProxyOptions& options, const std::set<std::string>& names) {
  const ReadShare& share = *options.read_share;
  if (!names.count(share.target)) {
    return Error(ErrorKind::kUsage,
                 fmt::format("--read-share {}={}: \"{}\" is not one of the targets ({})",
                             share.target, share.percent, share.target, fmt::join(names, ", ")),
                 "Name a --target: add --target NAME=URL for the replica or green database, "
                 "then --read-share NAME=PERCENT.");
  }
  auto primary = ReadSharePrimary(options);
  if (!primary) return primary.error();
  if (*primary == share.target) {
    return Error(ErrorKind::kUsage,
                 fmt::format("--read-share {}={}: \"{}\" is the target the clients are served "
                             "by (the primary), so there is no other target to send reads to",
                             share.target, share.percent, share.target),
                 "Name the replica or green database's target instead, or another --default.");
  }
  if (share.percent < 0 || share.percent > 100) {
    return Error(ErrorKind::kUsage,
                 fmt::format("--read-share {}={}: the share is not from 0 to 100", share.target,
                             share.percent),
                 "Write a whole percentage, e.g. --read-share green=50.");
  }
  return Status::Ok();
}

Status CheckOptions(const ProxyOptions& options) {
  if (options.targets.empty()) {
    return Error(ErrorKind::kUsage, "zerodown proxy needs at least one --target",
                 "Add --target NAME=postgresql://user@host/db.");
  }
  std::set<std::string> names;
  for (const auto& target : options.targets) {
    if (!names.insert(target.name).second) {
      return Error(ErrorKind::kUsage, fmt::format("target \"{}\" is named twice", target.name),
                   "Give each --target its own name.");
    }
  }
  if (!options.default_target.empty() && !names.count(options.default_target)) {
    return Error(ErrorKind::kUsage,
                 fmt::format("--default \"{}\" is not one of the targets", options.default_target),
                 "Name one of the --target names.");
  }
  if (options.read_share) return CheckReadShare(options, names);
  return Status::Ok();
}

// The route flags' watchers, on the database of the default target (or the only one).
Result<std::unique_ptr<Router>> StartRouter(asio::io_context& io, const ProxyOptions& options) {
  std::string name = options.default_target;
  if (name.empty() && options.targets.size() == 1) name = options.targets[0].name;
  if (name.empty()) {
    return Error(ErrorKind::kUsage,
                 fmt::format("--route-flag \"{}\": with several targets the proxy reads the flag "
                             "from the --default target, and none is given",
                             options.route_flags.front()),
                 "Add --default NAME naming the target whose database holds the flags.");
  }
  for (const auto& target : options.targets) {
    if (target.name == name) return Router::Start(io, name, target.conninfo, options.route_flags);
  }
  return Error(ErrorKind::kInternal, "the default target vanished");
}

// The read target's watcher, sampling from now on; nullptr without --read-share.
std::unique_ptr<ReadTarget> StartReadTarget(asio::io_context& io, const ProxyOptions& options,
                                            ProxyMetrics& metrics) {
  if (!options.read_share) return nullptr;
  std::string primary = ReadSharePrimary(options).ValueOrThrow();  // checked already
  auto find = [&options](const std::string& name) {
    return *std::find_if(options.targets.begin(), options.targets.end(),
                         [&name](const Target& t) { return t.name == name; });
  };
  const ReadShare& share = *options.read_share;
  Log(
      fmt::format("read share: {}% of the read-only transactions of {}'s clients run on {}, "
                  "each once {} has replayed its client's last write",
                  share.percent, primary, share.target, share.target));
  return std::make_unique<ReadTarget>(io, find(primary), find(share.target), share.percent,
                                      metrics.AddRead(share.target));
}

Result<std::unique_ptr<asio::ip::tcp::acceptor>> Bind(asio::io_context& io,
                                                      const std::string& address,
                                                      std::string_view what) {
  auto endpoint = ParseEndpoint(address, what);
  if (!endpoint) return endpoint.error();
  auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(io);
  asio::error_code ec;
  acceptor->open(endpoint->protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(*endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error(ErrorKind::kUsage,
                 fmt::format("cannot listen on {} ({}): {}", address, what, ec.message()),
                 "Pick a free port, or stop what listens there.");
  }
  return acceptor;
}

Awaitable<void> AcceptClients(asio::ip::tcp::acceptor& acceptor, Controller& controller) {
  for (;;) {
    asio::error_code ec;
    auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      Log("accepting a client failed: " + ec.message());
      continue;
    }
    std::make_shared<ClientSession>(std::move(socket), controller)->Start();
  }
}

Awaitable<void> ReloadOnHangup(asio::signal_set& hangups, Controller& controller) {
  for (;;) {
    asio::error_code ec;
    co_await hangups.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    (void)controller.ReloadAuth();  // it logs what happened
  }
}

// "listening on 127.0.0.1:6432 (targets: blue green; session pooling); admin on …; metrics on …"
std::string ListeningLine(const ProxyOptions& options, const std::vector<std::string>& targets,
                          const Router* route, const AuthFile* auth, int metrics_port) {
  std::string clients =
      auth ? fmt::format("SCRAM-SHA-256, {} user(s) in {}", auth->size(), auth->path())
           : std::string("trust, no --auth-file");
  std::string line = fmt::format(
      "listening on {} (targets: {}; {} pooling{}; clients: {})", options.listen,
      fmt::join(targets, " "), options.pool_mode == PoolMode::kSession ? "session" : "transaction",
      route ? fmt::format("; route flag{} {}", route->flags().size() > 1 ? "s" : "",
                          fmt::join(route->flags(), " "))
            : "",
      clients);
  if (options.read_share) {
    line +=
        fmt::format("; read share {}={}%", options.read_share->target, options.read_share->percent);
  }
  if (!options.admin.empty()) line += fmt::format("; admin on {}", options.admin);
  if (!options.metrics_addr.empty()) {
    // The port bound, not the one asked for: port 0 picks a free one.
    std::string host = options.metrics_addr.substr(0, options.metrics_addr.rfind(':'));
    line += fmt::format("; metrics on http://{}:{}/metrics", host, metrics_port);
  }
  return line;
}

}  // namespace

Status RunProxy(const ProxyOptions& options,
                const std::function<void(int port, int admin_port)>& on_listening) {
  if (auto checked = CheckOptions(options); !checked) return checked;
  std::shared_ptr<const AuthFile> auth;
  if (!options.auth_file.empty()) {
    auto loaded = AuthFile::Load(options.auth_file);
    if (!loaded) return loaded.error();
    auth = std::make_shared<const AuthFile>(std::move(loaded).ValueOrThrow());
  }
  // One thread runs every socket: Asio may skip the per-socket locks (a tenth of the work of
  // relaying a message). Other threads only post work to it, which stays locked.
  asio::io_context io(ASIO_CONCURRENCY_HINT_UNSAFE_IO);
  // libpq's connect and cancel block; they run here, off the event loop.
  asio::thread_pool blocking(4);
  std::unique_ptr<Router> route;
  if (!options.route_flags.empty()) {
    auto started = StartRouter(io, options);
    if (!started) return started.error();
    route = std::move(started).ValueOrThrow();
  }
  std::vector<std::string> names;
  for (const auto& target : options.targets) names.push_back(target.name);
  std::vector<std::string> pools = names;
  if (options.read_share) pools.push_back(ReadPoolName(options.read_share->target));
  ProxyMetrics metrics(pools, route ? route->flags() : std::vector<std::string>{});
  if (route) route->SetMetrics(metrics);
  std::unique_ptr<ReadTarget> read = StartReadTarget(io, options, metrics);
  // Served before the client port listens: whoever sees the proxy listening can scrape it.
  if (!options.metrics_addr.empty()) {
    if (auto served = metrics.Serve(options.metrics_addr); !served) return served;
  }
  auto listener = Bind(io, options.listen, "--listen");
  if (!listener) return listener.error();
  std::unique_ptr<asio::ip::tcp::acceptor> admin;
  if (!options.admin.empty()) {
    auto bound = Bind(io, options.admin, "--admin");
    if (!bound) return bound.error();
    admin = std::move(bound).ValueOrThrow();
  }
  Controller controller(io, blocking, options, metrics);
  controller.SetRoute(route.get());
  controller.SetRead(read.get());
  controller.SetAuth(auth);
  asio::co_spawn(io, AcceptClients(**listener, controller), asio::detached);
  if (admin) asio::co_spawn(io, ServeAdmin(*admin, controller), asio::detached);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](asio::error_code, int signal) {
    Log(fmt::format("signal {}: stopping", signal));
    io.stop();
  });
  // SIGHUP reloads the user list, as it makes PgBouncer reload its own (and no longer ends us).
  asio::signal_set hangups(io, SIGHUP);
  asio::co_spawn(io, ReloadOnHangup(hangups, controller), asio::detached);
  Log(ListeningLine(options, names, route.get(), auth.get(), metrics.port()));
  if (on_listening) {
    on_listening((*listener)->local_endpoint().port(), admin ? admin->local_endpoint().port() : 0);
  }
  io.run();
  blocking.join();
  return Status::Ok();
}

}  // namespace zerodown::proxy
