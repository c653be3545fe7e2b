#include "bluegreen/catalog.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace zerodown::bluegreen {
namespace {

// The schemas blue-green leaves alone: the system's and zerodown's own state.
constexpr std::string_view kUserRelations = R"(
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'zerodown')
    AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
    AND c.relpersistence <> 't')";

}  // namespace

std::vector<TableRef> UserTables(pg::Connection& conn) {
  auto rows = conn.Exec(fmt::format(
      "SELECT n.nspname, c.relname {} AND c.relkind = 'r' ORDER BY 1, 2", kUserRelations));
  std::vector<TableRef> tables;
  for (int i = 0; i < rows.size(); ++i) tables.push_back({rows.Text(i, 0), rows.Text(i, 1)});
  return tables;
}

std::vector<std::string> Refusals(pg::Connection& conn) {
  std::vector<std::string> refusals;
  // relreplident: d = the primary key (none may exist), n = nothing, i = an index (which may have
  // been dropped), f = the whole row. UPDATE and DELETE of a table published without one fail on
  // blue itself (SQLSTATE 55000), so such a table must be fixed before anything starts.
  auto rows = conn.Exec(fmt::format(R"(
    SELECT n.nspname, c.relname, c.relpersistence = 'u',
           c.relreplident = 'n'
           OR (c.relreplident = 'd' AND NOT EXISTS (SELECT FROM pg_index i
                                                    WHERE i.indrelid = c.oid AND i.indisprimary))
           OR (c.relreplident = 'i' AND NOT EXISTS (SELECT FROM pg_index i
                                                    WHERE i.indrelid = c.oid AND i.indisreplident))
    {} AND c.relkind = 'r' ORDER BY 1, 2)",
                                    kUserRelations));
  for (int i = 0; i < rows.size(); ++i) {
    std::string table = conn.Ident(rows.Text(i, 0), rows.Text(i, 1));
    if (rows.Bool(i, 2)) {
      refusals.push_back(fmt::format(
          "table {} is UNLOGGED: logical replication reads the WAL, which holds none of its rows. "
          "Fix: ALTER TABLE {} SET LOGGED (rewrites it), or drop it if it holds nothing to keep",
          table, table));
    }
    if (rows.Bool(i, 3)) {
      refusals.push_back(fmt::format(
          "table {} has no primary key and no replica identity: its UPDATEs and DELETEs cannot be "
          "replicated (and would fail on blue once published). Fix: add a primary key, or ALTER "
          "TABLE {} REPLICA IDENTITY USING INDEX <a unique index on NOT NULL columns>, or, "
          "slower on green, REPLICA IDENTITY FULL",
          table, table));
    }
  }
  auto objects = conn.Exec("SELECT count(*) FROM pg_largeobject_metadata");
  if (objects.Int(0, 0) > 0) {
    refusals.push_back(fmt::format(
        "the database holds {} large objects (pg_largeobject): logical replication does not "
        "carry them. Fix: move their contents into bytea columns and lo_unlink them",
        objects.Int(0, 0)));
  }
  return refusals;
}

std::string Fingerprint(pg::Connection& conn) {
  auto rows = conn.Exec(fmt::format(R"(
    SELECT coalesce(md5(string_agg(line, E'\n' ORDER BY line)), md5(''))
    FROM (SELECT format('%I.%I %s %s %s (%s) [%s]', n.nspname, c.relname, c.relkind,
                        c.relpersistence, c.relreplident,
                        (SELECT string_agg(format('%I %s%s', a.attname,
                                                  format_type(a.atttypid, a.atttypmod),
                                                  CASE WHEN a.attnotnull THEN ' not null' END),
                                           ', ' ORDER BY a.attnum)
                         FROM pg_attribute a
                         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
                        (SELECT string_agg(pg_get_indexdef(i.indexrelid), '; ' ORDER BY 1)
                         FROM pg_index i
                         WHERE i.indrelid = c.oid AND (i.indisprimary OR i.indisreplident))) AS line
          {} AND c.relkind IN ('r', 'p')) described)",
                                    kUserRelations));
  return rows.Text(0, 0);
}

bool HasUserTables(pg::Connection& conn) {
  return conn
      .Exec(fmt::format("SELECT EXISTS (SELECT {} AND c.relkind IN ('r', 'p'))", kUserRelations))
      .Bool(0, 0);
}

std::vector<SequenceValue> UsedSequences(pg::Connection& conn) {
  auto rows = conn.Exec(
      "SELECT schemaname, sequencename, last_value, increment_by FROM pg_sequences "
      "WHERE schemaname NOT IN ('zerodown', 'pg_catalog', 'information_schema') "
      "AND last_value IS NOT NULL ORDER BY 1, 2");
  std::vector<SequenceValue> sequences;
  for (int i = 0; i < rows.size(); ++i) {
    sequences.push_back({{rows.Text(i, 0), rows.Text(i, 1)}, rows.Int(i, 2), rows.Int(i, 3)});
  }
  return sequences;
}

std::vector<std::string> LongTransactions(pg::Connection& conn, std::chrono::seconds age) {
  auto rows = conn.Exec(
      "SELECT pid, coalesce(nullif(application_name, ''), usename::text), "
      "round(extract(epoch FROM clock_timestamp() - xact_start)::numeric, 1)::text, "
      "left(query, 60) FROM pg_stat_activity "
      "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() "
      "AND datname = current_database() AND xact_start < clock_timestamp() - $1::interval "
      "ORDER BY xact_start",
      {std::to_string(age.count()) + " seconds"});
  std::vector<std::string> found;
  for (int i = 0; i < rows.size(); ++i) {
    found.push_back(fmt::format("pid {} ({}, {} s): {}", rows.Text(i, 0), rows.Text(i, 1),
                                rows.Text(i, 2), rows.Text(i, 3)));
  }
  return found;
}

std::vector<std::string> MaintenanceLocks(pg::Connection& conn, const std::vector<TableRef>& tables,
                                          bool skip_autovacuum) {
  nlohmann::json names = nlohmann::json::array();
  for (const auto& t : tables) names.push_back(t.Quoted(conn));
  auto rows = conn.Exec(
      "SELECT DISTINCT a.pid, a.backend_type, l.mode, l.relation::regclass::text, "
      "left(coalesce(a.query, ''), 60) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
      "WHERE l.granted AND l.locktype = 'relation' AND l.pid <> pg_backend_pid() "
      "AND l.relation IN (SELECT to_regclass(n) FROM jsonb_array_elements_text($1::jsonb) n) "
      "AND l.mode IN ('ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', "
      "'ExclusiveLock', 'AccessExclusiveLock') "
      "AND NOT ($2::bool AND a.backend_type = 'autovacuum worker') ORDER BY 1",
      {names.dump(), skip_autovacuum ? "true" : "false"});
  std::vector<std::string> found;
  for (int i = 0; i < rows.size(); ++i) {
    found.push_back(fmt::format("pid {} ({}, {} on {}): {}", rows.Text(i, 0), rows.Text(i, 1),
                                rows.Text(i, 2), rows.Text(i, 3), rows.Text(i, 4)));
  }
  return found;
}

}  // namespace zerodown::bluegreen
