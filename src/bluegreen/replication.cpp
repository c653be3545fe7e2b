#include "bluegreen/replication.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "bluegreen/state.hpp"

namespace zerodown::bluegreen {

std::string PathName(const Pair& pair, Side sender) {
  return fmt::format("zerodown_bluegreen_{}_from_{}", pair.DatabaseOid(sender), SideName(sender));
}

void CreatePublication(pg::Connection& conn, const std::vector<TableRef>& tables) {
  auto exists = conn.Exec("SELECT EXISTS (SELECT FROM pg_publication WHERE pubname = $1)",
                          {std::string(kPublication)});
  if (exists.Bool(0, 0)) return;
  std::string list = conn.Ident(kHeartbeatSchema, kHeartbeatTable);
  for (const auto& t : tables) list += ", " + t.Quoted(conn);
  conn.Exec(fmt::format("CREATE PUBLICATION {} FOR TABLE {}", conn.Ident(kPublication), list));
}

void DropPublication(pg::Connection& conn) {
  conn.Exec(fmt::format("DROP PUBLICATION IF EXISTS {}", conn.Ident(kPublication)));
}

namespace {

// The columns replication carries: PostgreSQL 15 publishes no generated column (the subscriber
// computes its own) and refuses one in a column list.
std::vector<std::string> ColumnsOf(pg::Connection& conn, const TableRef& table) {
  auto rows = conn.Exec(
      "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 "
      "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
      {table.Quoted(conn)});
  std::vector<std::string> columns;
  for (int i = 0; i < rows.size(); ++i) columns.push_back(rows.Text(i, 0));
  return columns;
}

// `table`, or `table` (a, b) with the columns `peer` has too when it lacks some of them.
std::string PublishedTable(pg::Connection& publisher, pg::Connection& peer, const TableRef& table) {
  std::vector<std::string> theirs = ColumnsOf(peer, table);
  std::string list;
  bool all = true;
  for (const auto& column : ColumnsOf(publisher, table)) {
    if (std::find(theirs.begin(), theirs.end(), column) == theirs.end()) {
      all = false;
      continue;
    }
    list += (list.empty() ? "" : ", ") + publisher.Ident(column);
  }
  return all ? table.Quoted(publisher) : fmt::format("{} ({})", table.Quoted(publisher), list);
}

}  // namespace

void SetPublishedColumns(pg::Connection& publisher, pg::Connection& peer,
                         const std::vector<TableRef>& tables, bool shared_only) {
  std::string list = publisher.Ident(kHeartbeatSchema, kHeartbeatTable);
  for (const auto& t : tables) {
    list += ", " + (shared_only ? PublishedTable(publisher, peer, t) : t.Quoted(publisher));
  }
  publisher.Exec(
      fmt::format("ALTER PUBLICATION {} SET TABLE {}", publisher.Ident(kPublication), list));
}

void CreateSlot(pg::Connection& conn, const std::string& name) {
  conn.Exec("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", {name});
}

void DropSlot(pg::Connection& conn, const std::string& name, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto rows =
        conn.Exec("SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1", {name});
    if (rows.empty()) return;
    if (rows.IsNull(0, 0)) {
      auto dropped = conn.TryExec("SELECT pg_drop_replication_slot($1)", {name});
      // A walsender may take the slot again between the check and the drop (55006): retry.
      if (dropped.ok() || dropped.error().sqlstate() == pg::kUndefinedObject) return;
      if (dropped.error().sqlstate() != "55006") throw dropped.error();
    } else {
      // A disabled subscription's walsender exits on its own once the apply worker hangs up;
      // ending it saves waiting for wal_sender_timeout when the receiver is gone.
      conn.Exec("SELECT pg_terminate_backend($1)", {rows.Text(0, 0)});
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw Error(
          ErrorKind::kDatabase,
          fmt::format("replication slot \"{}\" stayed in use for {} ms", name, timeout.count()),
          fmt::format("End the session holding it (pg_replication_slots.active_pid) and "
                      "run SELECT pg_drop_replication_slot('{}')",
                      name));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void CreateSubscription(pg::Connection& receiver, const std::string& sender_conninfo,
                        const std::string& name, bool copy_data, bool enabled) {
  receiver.Exec(fmt::format(
      "CREATE SUBSCRIPTION {} CONNECTION {} PUBLICATION {} WITH (create_slot = false, "
      "slot_name = {}, copy_data = {}, enabled = {})",
      receiver.Ident(name), receiver.Literal(sender_conninfo), receiver.Ident(kPublication),
      receiver.Literal(name), copy_data ? "true" : "false", enabled ? "true" : "false"));
}

void EnableSubscription(pg::Connection& receiver, const std::string& name, bool enabled) {
  receiver.Exec(fmt::format("ALTER SUBSCRIPTION {} {}", receiver.Ident(name),
                            enabled ? "ENABLE" : "DISABLE"));
}

std::optional<std::string> DropSubscription(pg::Connection& receiver, const std::string& name) {
  auto rows = receiver.Exec(
      "SELECT oid FROM pg_subscription WHERE subname = $1 AND subdbid = "
      "(SELECT oid FROM pg_database WHERE datname = current_database())",
      {name});
  if (rows.empty()) return std::nullopt;
  std::string oid = rows.Text(0, 0);
  // Without a slot name DROP SUBSCRIPTION does not connect to the sender: it works while the
  // sender is down, and the caller drops the slots there itself.
  std::string sub = receiver.Ident(name);
  receiver.Exec(fmt::format("ALTER SUBSCRIPTION {} DISABLE", sub));
  receiver.Exec(fmt::format("ALTER SUBSCRIPTION {} SET (slot_name = NONE)", sub));
  receiver.Exec(fmt::format("DROP SUBSCRIPTION {}", sub));
  return "pg_" + oid + "_sync_";
}

std::vector<std::string> SlotsLike(pg::Connection& sender, const std::string& prefix) {
  auto rows = sender.Exec(
      "SELECT slot_name FROM pg_replication_slots WHERE starts_with(slot_name::text, $1)",
      {prefix});
  std::vector<std::string> names;
  for (int i = 0; i < rows.size(); ++i) names.push_back(rows.Text(i, 0));
  return names;
}

SubscriptionHealth Health(pg::Connection& receiver, const std::string& name) {
  SubscriptionHealth health;
  auto sub = receiver.Exec(
      "SELECT s.subenabled, EXISTS (SELECT FROM pg_stat_subscription w WHERE w.subid = s.oid "
      "AND w.relid IS NULL AND w.pid IS NOT NULL) FROM pg_subscription s WHERE s.subname = $1",
      {name});
  if (sub.empty()) return health;
  health.exists = true;
  health.enabled = sub.Bool(0, 0);
  health.worker_running = sub.Bool(0, 1);
  auto rels = receiver.Exec(
      "SELECT n.nspname, c.relname, r.srsubstate FROM pg_subscription_rel r "
      "JOIN pg_subscription s ON s.oid = r.srsubid JOIN pg_class c ON c.oid = r.srrelid "
      "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE s.subname = $1 ORDER BY 1, 2",
      {name});
  health.tables_total = rels.size();
  for (int i = 0; i < rels.size(); ++i) {
    std::string state = rels.Text(i, 2);
    if (state == "r") {
      ++health.tables_ready;
      continue;
    }
    // i: waiting to start, d: copying its rows, f/s: copied, catching up with the stream.
    std::string what = state == "i" ? "waiting" : state == "d" ? "copying" : "catching up";
    health.tables_copying.push_back(
        fmt::format("{}.{} ({}: {})", rels.Text(i, 0), rels.Text(i, 1), state, what));
  }
  return health;
}

std::optional<std::int64_t> LagBytes(pg::Connection& sender, const std::string& name) {
  auto rows = sender.Exec(
      "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint "
      "FROM pg_replication_slots WHERE slot_name = $1 AND confirmed_flush_lsn IS NOT NULL",
      {name});
  if (rows.empty()) return std::nullopt;
  return std::max<std::int64_t>(0, rows.Int(0, 0));
}

std::string PasswordOf(const pg::Connection& conn) {
  const char* password = PQpass(conn.raw());
  return password ? password : "";
}

std::string ConnInfoOf(const pg::Connection& conn, bool with_password) {
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(PQconninfo(conn.raw()),
                                                                       &PQconninfoFree);
  std::string conninfo;
  for (auto* o = options.get(); o && o->keyword; ++o) {
    std::string_view keyword = o->keyword;
    if (!o->val || !*o->val) continue;
    if (keyword != "host" && keyword != "hostaddr" && keyword != "port" && keyword != "dbname" &&
        keyword != "user" && (keyword != "password" || !with_password) && keyword != "sslmode" &&
        keyword != "sslrootcert" && keyword != "sslcert" && keyword != "sslkey") {
      continue;
    }
    // conninfo values in single quotes, with \ and ' escaped (libpq's rule).
    std::string value;
    for (char c : std::string_view(o->val)) {
      if (c == '\\' || c == '\'') value += '\\';
      value += c;
    }
    conninfo += fmt::format("{}{}='{}'", conninfo.empty() ? "" : " ", keyword, value);
  }
  return conninfo;
}

}  // namespace zerodown::bluegreen
