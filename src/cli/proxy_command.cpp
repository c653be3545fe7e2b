// zerodown proxy: runs the PostgreSQL proxy (docs/proxy.md), and its live controls pause, resume,
// switch, warm, status and reload, which talk to a running proxy's --admin endpoint.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/command.hpp"
#include "zerodown/proxy/admin_client.hpp"
#include "zerodown/proxy/config_file.hpp"
#include "zerodown/proxy/proxy.hpp"

namespace zerodown::cli {
namespace {

struct ProxyFlags {
  std::string config;
  std::vector<std::string> targets;
  std::string pool_mode = "session";
  std::string pause_timeout = "10s";
  std::string max_hold = "60s";
  std::string server_wait_timeout = "30s";
  std::string login_timeout = "60s";
  std::string read_share;
  proxy::ProxyOptions options;  // the flags CLI11 fills in directly
};

// A --target given on the command line replaces the file's target of that name, or adds one.
void OverrideTarget(proxy::Target target, std::vector<proxy::Target>* targets) {
  for (auto& existing : *targets) {
    if (existing.name == target.name) {
      existing = std::move(target);
      return;
    }
  }
  targets->push_back(std::move(target));
}

// The proxy's options: the defaults, then what the --config file says, then each flag given on
// the command line.
proxy::ProxyOptions Options(const ProxyFlags& flags, const CLI::App& cmd) {
  proxy::ProxyOptions options;
  if (!flags.config.empty()) {
    proxy::ApplyConfig(proxy::ReadProxyConfig(flags.config).ValueOrThrow(), &options);
  }
  auto given = [&cmd](const std::string& name) { return cmd.count(name) > 0; };
  const proxy::ProxyOptions& typed = flags.options;
  if (given("--listen")) options.listen = typed.listen;
  if (given("--admin")) options.admin = typed.admin;
  if (given("--default")) options.default_target = typed.default_target;
  if (given("--max-server-connections")) {
    options.max_server_connections = typed.max_server_connections;
  }
  if (given("--route-flag")) options.route_flags = typed.route_flags;
  if (given("--metrics-addr")) options.metrics_addr = typed.metrics_addr;
  if (given("--auth-file")) options.auth_file = typed.auth_file;
  if (given("--pool-mode"))
    options.pool_mode = proxy::ParsePoolMode(flags.pool_mode).ValueOrThrow();
  auto duration = [&](const std::string& name, const std::string& text, auto* field) {
    if (given(name)) *field = proxy::ParseDuration(text, name).ValueOrThrow();
  };
  duration("--pause-timeout", flags.pause_timeout, &options.pause_timeout);
  duration("--max-hold", flags.max_hold, &options.max_hold);
  duration("--server-wait-timeout", flags.server_wait_timeout, &options.server_wait_timeout);
  duration("--login-timeout", flags.login_timeout, &options.login_timeout);
  for (const auto& spec : flags.targets) {
    OverrideTarget(proxy::ParseTarget(spec).ValueOrThrow(), &options.targets);
  }
  if (given("--read-share"))
    options.read_share = proxy::ParseReadShare(flags.read_share).ValueOrThrow();
  return options;
}

// Sends one admin request and prints the answer: JSON with --json, else `text(answer)`. A
// refused request ("ok": false) exits 1 after printing the proxy's reason.
void Control(const GlobalOptions& global, const std::string& admin, const nlohmann::json& request,
             std::chrono::milliseconds timeout,
             const std::function<std::string(const nlohmann::json&)>& text) {
  if (admin.empty()) {
    throw Error(ErrorKind::kUsage, "zerodown proxy control commands need --admin HOST:PORT",
                "Name the --admin address the proxy was started with.");
  }
  auto answer = proxy::SendAdminCommand(admin, request, timeout).ValueOrThrow();
  bool ok = answer.value("ok", false);
  if (global.json) {
    std::cout << answer.dump() << "\n";
  } else if (ok) {
    std::cout << text(answer) << "\n";
  } else {
    std::cerr << "zerodown proxy: " << answer.value("error", std::string("refused")) << "\n";
  }
  if (!ok) throw CommandExit{1};
}

// "  read share: 50% of blue's read-only transactions to green, lag 0 bytes (sampled 12 ms ago);
//   412 ran there; on blue: 398 share, 3 read-your-writes, 0 lag unknown, 0 target error, 10 not
//   read-only"
std::string ReadShareText(const nlohmann::json& r) {
  auto number = [&r](const char* key) {
    return r[key].is_null() ? std::string("unknown") : std::to_string(r[key].get<long long>());
  };
  std::string lag = r.value("known", false)
                        ? fmt::format("lag {} bytes (sampled {} ms ago)", number("lag_bytes"),
                                      number("sample_age_ms"))
                        : fmt::format("lag unknown (last sample {} ms ago): every read runs on {}",
                                      number("sample_age_ms"), r["primary"].get<std::string>());
  const auto& d = r["decisions"];
  auto count = [&d](const char* key) { return d.value(key, 0LL); };
  return fmt::format(
      "  read share: {}% of {}'s read-only transactions to {}, {}; {} ran there; on {}: {} share, "
      "{} read-your-writes, {} lag unknown, {} target error, {} not read-only\n",
      r["percent"].get<int>(), r["primary"].get<std::string>(), r["target"].get<std::string>(), lag,
      count("read_target"), r["primary"].get<std::string>(), count("share"),
      count("read_your_writes"), count("lag_unknown"), count("target_error"),
      count("not_read_only"));
}

std::string StatusText(const nlohmann::json& s) {
  std::string out = fmt::format(
      "{} ({} pooling), default target {}; {} client(s): {} in a transaction, {} held\n",
      s["paused"].get<bool>() ? "PAUSED" : "running", s["pool_mode"].get<std::string>(),
      s["default"].get<std::string>().empty() ? "none" : s["default"].get<std::string>(),
      s["clients"].get<int>(), s["running"].get<int>(), s["held"].get<int>());
  for (const auto& t : s["targets"]) {
    out += fmt::format("  {}: {} client(s), {} server connection(s), {} idle\n",
                       t["name"].get<std::string>(), t["clients"].get<int>(),
                       t["server_connections"].get<int>(), t["idle_server_connections"].get<int>());
  }
  if (s.contains("read_share")) out += ReadShareText(s["read_share"]);
  if (s.contains("auth")) {
    out += fmt::format("  clients log in as one of {} user(s) of {}\n",
                       s["auth"]["users"].get<int>(), s["auth"]["file"].get<std::string>());
  }
  for (const auto& r : s.value("routes", nlohmann::json::array())) {
    out += fmt::format("  route flag {}: {}; {} transaction(s) ran on the version, {} not",
                       r["flag"].get<std::string>(), r["state"].get<std::string>(),
                       r["to_version"].get<long long>(), r["not_to_version"].get<long long>());
    long long earlier = r.value("earlier_flag", 0LL);
    out += earlier > 0 ? fmt::format(", {} by an earlier flag\n", earlier) : "\n";
  }
  out.pop_back();
  return out;
}

void AddControls(CLI::App* cmd, GlobalOptions& global) {
  auto admin = std::make_shared<std::string>();
  auto timeout = std::make_shared<std::string>("10s");
  auto cancel = std::make_shared<bool>(false);
  auto to = std::make_shared<std::string>();
  auto add_admin = [admin](CLI::App* sub) {
    sub->add_option("--admin", *admin, "the proxy's admin endpoint, host:port")->required();
  };
  auto* pause = cmd->add_subcommand(
      "pause",
      "Hold new transactions once the running ones end; returns when none runs. After --timeout "
      "it resumes instead (exit 1), or cancels the blockers with --cancel-blockers.");
  add_admin(pause);
  pause->add_option("--timeout", *timeout, "longest wait for running transactions")
      ->capture_default_str();
  pause->add_flag("--cancel-blockers", *cancel,
                  "at the timeout, cancel running statements and end sessions idle in a "
                  "transaction, instead of resuming");
  pause->callback([&global, admin, timeout, cancel] {
    auto ms = proxy::ParseDuration(*timeout, "--timeout").ValueOrThrow();
    nlohmann::json request{
        {"command", "pause"}, {"timeout_ms", ms.count()}, {"cancel_blockers", *cancel}};
    Control(global, *admin, request, ms + std::chrono::seconds(10), [](const nlohmann::json& a) {
      return fmt::format(
          "paused after {} ms: new transactions are held until `zerodown proxy "
          "resume`",
          a["waited_ms"].get<long long>());
    });
  });
  auto* resume = cmd->add_subcommand("resume", "Let held transactions go on.");
  add_admin(resume);
  resume->callback([&global, admin] {
    Control(global, *admin, {{"command", "resume"}}, std::chrono::seconds(10),
            [](const nlohmann::json& a) {
              return a.contains("released")
                         ? fmt::format("resumed: {} held client(s) go on after {} ms paused",
                                       a["released"].get<int>(), a["paused_ms"].get<long long>())
                         : std::string("resumed (it was not paused)");
            });
  });
  auto* sw = cmd->add_subcommand(
      "switch",
      "While paused: every client, idle ones too, runs its next transaction on --to (its session "
      "settings are set again there; other session state is lost), and so do new clients.");
  add_admin(sw);
  sw->add_option("--to", *to, "target name")->required();
  sw->callback([&global, admin, to] {
    Control(global, *admin, {{"command", "switch"}, {"to", *to}}, std::chrono::seconds(10),
            [](const nlohmann::json& a) {
              return fmt::format("switched to {}: {} client(s) move on their next transaction",
                                 a["target"].get<std::string>(), a["moved"].get<int>());
            });
  });
  auto* warm = cmd->add_subcommand(
      "warm",
      "Before a pause: open --to's server connections (as many as the current target's pool "
      "holds, or --connections), so the clients a switch moves there find their logins done. "
      "Each connection it opens also warms its catalog caches before it joins the pool: it "
      "opens the target's 200 busiest tables (by scans and rows written, from "
      "pg_stat_user_tables) and their indexes with pg_relation_size, under a 100 ms "
      "lock_timeout. Best effort: a lock it cannot get in time (a migration's) ends that "
      "connection's warm-up, and the connection is kept and the failure logged.");
  add_admin(warm);
  auto connections = std::make_shared<int>(0);
  warm->add_option("--to", *to, "target name")->required();
  warm->add_option("--connections", *connections,
                   "how many connections its pool should hold (default: as many as the current "
                   "default target's)");
  warm->callback([&global, admin, to, connections] {
    Control(global, *admin, {{"command", "warm"}, {"target", *to}, {"connections", *connections}},
            std::chrono::seconds(60), [](const nlohmann::json& a) {
              return fmt::format(
                  "warmed {}: opened {} server connection(s) in {} ms, {} in its pool",
                  a["target"].get<std::string>(), a["opened"].get<int>(),
                  a["took_ms"].get<long long>(), a["total"].get<int>());
            });
  });
  auto* status = cmd->add_subcommand("status", "Clients, server connections per target, paused.");
  add_admin(status);
  status->callback([&global, admin] {
    Control(global, *admin, {{"command", "status"}}, std::chrono::seconds(10), StatusText);
  });
  auto* reload = cmd->add_subcommand(
      "reload",
      "Read --auth-file again (as SIGHUP does): new logins use the new users and secrets, "
      "clients logged in already are not touched. A file that cannot be read or parsed leaves "
      "the old list serving (exit 1, the file, line and fix printed).");
  add_admin(reload);
  reload->callback([&global, admin] {
    Control(global, *admin, {{"command", "reload"}}, std::chrono::seconds(10),
            [](const nlohmann::json& a) {
              return fmt::format("reloaded {}: {} user(s); new logins use them",
                                 a["file"].get<std::string>(), a["users"].get<int>());
            });
  });
}

const CommandRegistration kProxy{
    90, [](CLI::App& app, GlobalOptions& global) {
      auto flags = std::make_shared<ProxyFlags>();
      auto* cmd = app.add_subcommand(
          "proxy",
          "A PostgreSQL proxy applications connect to instead of the server: pools server "
          "connections per target and pauses, switches and resumes traffic live "
          "(docs/proxy.md). With --route-flag it rolls a schema version out by user: each "
          "transaction runs on the version the flag gives its user.\n\nExamples:\n"
          "  zerodown proxy --listen 127.0.0.1:6432 --admin 127.0.0.1:6433 \\\n"
          "      --target blue=postgresql://app@db1/shop --target green=postgresql://app@db2/shop "
          "--default blue\n"
          "  zerodown proxy pause --admin 127.0.0.1:6433\n"
          "  zerodown proxy switch --to green --admin 127.0.0.1:6433\n"
          "  zerodown proxy resume --admin 127.0.0.1:6433\n"
          "  zerodown flag set new_balance --rollout 10% --version public_004_balance\n"
          "  zerodown proxy --target shop=postgresql://app@db1/shop --auth-file userlist.txt\n"
          "  zerodown proxy --target shop=postgresql://app@db1/shop --route-flag new_balance\n"
          "  zerodown proxy --config proxy.yaml --pool-mode transaction\n"
          "  zerodown proxy --target blue=postgresql://app@db1/shop --target "
          "green=postgresql://app@db2/shop --default blue --read-share green=50\n"
          "  psql 'host=127.0.0.1 port=6432 dbname=shop options=-czerodown.user_id=42'");
      cmd->add_option("--config", flags->config,
                      "a YAML file saying what these flags say (docs/proxy.md, \"Config "
                      "file\"); a flag given here as well overrides the file");
      cmd->add_option("--listen", flags->options.listen,
                      "host:port for clients; without --auth-file every client that "
                      "reaches it is let in (trust)")
          ->capture_default_str();
      cmd->add_option("--target", flags->targets,
                      "NAME=URL, a server and the credentials the proxy logs in with; repeat for "
                      "more. Clients pick one by using NAME as their database name");
      cmd->add_option("--default", flags->options.default_target,
                      "target for clients whose database name is not a target");
      cmd->add_option(
          "--admin", flags->options.admin,
          "host:port of the admin endpoint (pause, resume, switch, warm, status, reload)");
      cmd->add_option("--pool-mode", flags->pool_mode, "session or transaction")
          ->capture_default_str();
      cmd->add_option("--max-server-connections", flags->options.max_server_connections,
                      "per target")
          ->capture_default_str()
          ->check(CLI::Range(1, 10000));
      cmd->add_option("--pause-timeout", flags->pause_timeout, "default of `proxy pause --timeout`")
          ->capture_default_str();
      cmd->add_option("--max-hold", flags->max_hold,
                      "longest time clients stay held after a PAUSE before the proxy resumes by "
                      "itself")
          ->capture_default_str();
      cmd->add_option("--server-wait-timeout", flags->server_wait_timeout,
                      "longest wait of a client for a connection of a full pool")
          ->capture_default_str();
      cmd->add_option("--login-timeout", flags->login_timeout,
                      "a client that has not sent its startup packet and passed authentication "
                      "this long after connecting is disconnected")
          ->capture_default_str();
      cmd->add_option(
          "--route-flag", flags->options.route_flags,
          "a feature flag with a version (`zerodown flag set NAME --rollout 10% --version "
          "SCHEMA`): each transaction of a user in its rollout runs with search_path = that "
          "version schema, the others' with their own. Clients give their user id with "
          "options=-c zerodown.user_id=ID or SET zerodown.user_id; changes to the flag apply "
          "within a second. Read from the --default target's database. Repeat for more flags: "
          "a user in several rollouts gets the version of the first flag given");
      cmd->add_option("--metrics-addr", flags->options.metrics_addr,
                      "host:port serving Prometheus metrics at /metrics: clients, server "
                      "connections, transactions and errors per target, pauses, route decisions");
      cmd->add_option(
          "--auth-file", flags->options.auth_file,
          "a file of \"user\" \"SCRAM-SHA-256$…\" lines (pg_authid.rolpassword values, the format "
          "of PgBouncer's userlist.txt): clients must log in with SCRAM-SHA-256 as one of its "
          "users. Read again on SIGHUP or `zerodown proxy reload` (a file that does not parse "
          "leaves the old list serving). Without it the proxy trusts every client that reaches "
          "--listen (docs/proxy.md, \"Client authentication\")");
      cmd->add_option(
          "--read-share", flags->read_share,
          "TARGET=PERCENT: that share of the read-only transactions of the primary's clients (the "
          "--default target's) runs on TARGET, a replica or a green database, with "
          "read-your-writes: a client that wrote reads on the primary until TARGET has replayed "
          "its write. Read-only: a lone SELECT without FOR UPDATE/SHARE, INTO, data-modifying "
          "WITH or functions other than pure built-ins, or a transaction begun with BEGIN READ "
          "ONLY. Drawn per transaction in transaction pooling, per session in session pooling "
          "(docs/proxy.md, \"Read-only transactions on another target\")");
      AddControls(cmd, global);
      cmd->callback([cmd, flags] {
        if (!cmd->get_subcommands().empty()) return;  // a control command ran
        proxy::RunProxy(Options(*flags, *cmd)).ThrowIfError();
      });
    }};

}  // namespace
}  // namespace zerodown::cli
