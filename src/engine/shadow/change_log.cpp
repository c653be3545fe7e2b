#include "engine/shadow/change_log.hpp"

#include <fmt/format.h>

#include <string_view>

#include "zerodown/engine/operation.hpp"

namespace zerodown::engine::shadow {

namespace {
constexpr std::string_view kLogQuote = "$zd_log$";
}  // namespace

std::string TruncateTriggerName(const std::string& function) {
  return PlanContext::TempName("_t", function);
}

std::vector<std::string> DropLogTriggersSql(pg::Connection& conn, const std::string& function,
                                            const std::string& table) {
  return {fmt::format("DROP TRIGGER IF EXISTS {} ON {}", conn.Ident(function), table),
          fmt::format("DROP TRIGGER IF EXISTS {} ON {}", conn.Ident(TruncateTriggerName(function)),
                      table)};
}

namespace {

// The drops of the triggers an interrupted run left, for the attach's round trip: DROP TRIGGER
// locks the table ACCESS EXCLUSIVE, so nothing is sent when there are none (the usual case).
// The catalog read takes no lock.
std::string DropLeftTriggers(pg::Connection& conn, const std::string& table,
                             const std::string& row_trigger_name,
                             const std::string& truncate_trigger_name) {
  pg::Rows left = conn.Exec(
      "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname IN ($2, $3)",
      {table, row_trigger_name, truncate_trigger_name});
  std::string sql;
  for (int r = 0; r < left.size(); ++r) {
    sql += fmt::format("DROP TRIGGER {} ON {}; ", conn.Ident(left.Text(r, 0)), table);
  }
  return sql;
}

}  // namespace

ChangeLogDdl ChangeLogSql(pg::Connection& conn, const std::vector<std::string>& key_columns,
                          const std::string& log, const std::string& function,
                          const std::string& table, const std::vector<std::string>& key_types) {
  std::string key_list;
  std::string new_key;
  std::string old_key;
  std::string log_columns;
  for (std::size_t i = 0; i < key_columns.size(); ++i) {
    std::string sep = i ? ", " : "";
    std::string name = conn.Ident(key_columns[i]);
    key_list += sep + name;
    new_key += sep + "NEW." + name;
    old_key += sep + "OLD." + name;
    log_columns += fmt::format(", {} {}", name, key_types[i]);
  }
  std::string qualified = conn.Ident("zerodown", function);
  std::string row_trigger = conn.Ident(function);
  std::string truncate_trigger = conn.Ident(TruncateTriggerName(function));
  ChangeLogDdl ddl;
  ddl.prepare = {
      // No truncation by autovacuum either: it would lock the application's inserts out.
      fmt::format("CREATE TABLE IF NOT EXISTS {} (_zd_seq bigserial PRIMARY KEY{}) WITH "
                  "(vacuum_truncate = false)",
                  log, log_columns),
      fmt::format(
          "CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
          "SET search_path = pg_catalog, pg_temp AS {q} BEGIN "
          "IF TG_OP = 'TRUNCATE' THEN INSERT INTO {log} DEFAULT VALUES; RETURN NULL; END IF; "
          "IF TG_OP <> 'INSERT' THEN INSERT INTO {log} ({k}) VALUES ({old}); END IF; "
          "IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND ROW({new})::text IS DISTINCT FROM "
          "ROW({old})::text) THEN INSERT INTO {log} ({k}) VALUES ({new}); END IF; RETURN NULL; "
          "END {q}",
          fmt::arg("fn", qualified), fmt::arg("q", kLogQuote), fmt::arg("log", log),
          fmt::arg("k", key_list), fmt::arg("old", old_key), fmt::arg("new", new_key)),
      // Nobody needs to call it: a trigger fires whatever its function's privileges, and a
      // role that could attach it to a table of its own could write into the log as its owner.
      fmt::format("REVOKE ALL ON FUNCTION {}() FROM PUBLIC", qualified),
  };
  ddl.attach = DropLeftTriggers(conn, table, function, TruncateTriggerName(function)) +
               fmt::format(
                   "CREATE TRIGGER {row} AFTER INSERT OR UPDATE OR DELETE ON {t} FOR EACH ROW "
                   "EXECUTE FUNCTION {fn}(); CREATE TRIGGER {trunc} AFTER TRUNCATE ON {t} FOR "
                   "EACH STATEMENT EXECUTE FUNCTION {fn}(); ALTER TABLE {t} ENABLE ALWAYS "
                   "TRIGGER {row}, ENABLE ALWAYS TRIGGER {trunc}",
                   fmt::arg("row", row_trigger), fmt::arg("trunc", truncate_trigger),
                   fmt::arg("t", table), fmt::arg("fn", qualified));
  return ddl;
}

void LogPruner::PrunePast(const std::vector<std::string>& copied_up_to) {
  Prune(ctx_.conn, ctx_.key.Compare(">", 1),
        std::vector<pg::Param>(copied_up_to.begin(), copied_up_to.end()));
}

void LogPruner::Prune(pg::Connection& c, const std::string& not_reached,
                      std::vector<pg::Param> params) {
  std::size_t seq = params.size() + 1;
  params.emplace_back(std::to_string(pruned_through_));
  // One snapshot: the watermark is the newest entry this statement saw.
  pruned_through_ =
      c.Exec(fmt::format("WITH d AS (DELETE FROM {log} WHERE _zd_seq > ${seq} AND ({past})) "
                         "SELECT coalesce(max(_zd_seq), ${seq}) FROM {log} WHERE _zd_seq > "
                         "${seq}",
                         fmt::arg("log", ctx_.log), fmt::arg("seq", seq),
                         fmt::arg("past", not_reached)),
             params)
          .Int(0, 0);
}

}  // namespace zerodown::engine::shadow
