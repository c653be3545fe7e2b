#include "engine/sync_trigger.hpp"

#include <fmt/format.h>

namespace zerodown::engine {

namespace {

constexpr std::string_view kBodyQuote = "$zd_sync$";

// A nested PL/pgSQL block that binds each column's value to a variable named as the given
// version names it, then assigns `expression` to NEW.<target>.
std::string AssignmentBlock(pg::Connection& conn, const std::vector<VirtualColumn>& columns,
                            const std::string& target, const std::string& expression) {
  std::string block = "DECLARE ";
  for (const auto& c : columns) {
    block += fmt::format("{} {} := NEW.{}; ", conn.Ident(c.name), c.type, conn.Ident(c.physical));
  }
  block += fmt::format("BEGIN NEW.{} := ({}); END;", conn.Ident(target), expression);
  return block;
}

// The part of the trigger body that keeps one column pair in step.
std::string SyncBody(pg::Connection& conn, const SyncSpec& spec) {
  std::string n = "NEW." + conn.Ident(spec.new_column);
  std::string o = "NEW." + conn.Ident(spec.old_column);
  std::string up = spec.mode == SyncMode::kDownOnly
                       ? ""
                       : AssignmentBlock(conn, spec.old_version_columns, spec.new_column, spec.up);
  std::string down =
      spec.mode == SyncMode::kUpOnly
          ? ""
          : AssignmentBlock(conn, spec.new_version_columns, spec.old_column, spec.down);
  std::string body;
  switch (spec.mode) {
    case SyncMode::kBoth:
      // Old version rows never set the new column (it cannot see it); new version rows change it.
      // An insert with both columns NULL may be the new version's NULL (a column made nullable):
      // when up leaves the new column NULL, the old one gets down(NULL), or it would refuse the
      // new version's row.
      body = fmt::format(
          "IF TG_OP = 'INSERT' THEN IF {n} IS NULL THEN {up} IF {n} IS NULL AND {o} IS NULL THEN "
          "{down} END IF; ELSE {down} END IF; "
          "ELSIF {n} IS DISTINCT FROM OLD.{nc} AND {o} IS NOT DISTINCT FROM OLD.{oc} THEN {down} "
          "ELSE {up} END IF;",
          fmt::arg("n", n), fmt::arg("o", o), fmt::arg("up", up), fmt::arg("down", down),
          fmt::arg("nc", conn.Ident(spec.new_column)), fmt::arg("oc", conn.Ident(spec.old_column)));
      break;
    case SyncMode::kUpOnly:
      body = spec.follow_updates ? fmt::format(
                                       "IF TG_OP = 'INSERT' THEN IF {n} IS NULL THEN {up} END IF; "
                                       "ELSIF {n} IS NOT DISTINCT FROM OLD.{nc} THEN {up} END IF;",
                                       fmt::arg("n", n), fmt::arg("up", up),
                                       fmt::arg("nc", conn.Ident(spec.new_column)))
                                 : fmt::format("IF {n} IS NULL THEN {up} END IF;", fmt::arg("n", n),
                                               fmt::arg("up", up));
      break;
    case SyncMode::kDownOnly:
      body = fmt::format("IF TG_OP = 'INSERT' AND {o} IS NULL THEN {down} END IF;",
                         fmt::arg("o", o), fmt::arg("down", down));
      break;
  }
  return body;
}

// A nested block raising a check violation when `check` is false for the row.
std::string CheckBlock(pg::Connection& conn, const VirtualTable& table, const std::string& schema,
                       const TriggerCheck& check) {
  std::string block = "DECLARE ";
  for (const auto& c : check.columns) {
    block += fmt::format("{} {} := NEW.{}; ", conn.Ident(c.name), c.type, conn.Ident(c.physical));
  }
  block += fmt::format(
      "BEGIN IF ({}) IS FALSE THEN RAISE EXCEPTION USING ERRCODE = '23514', MESSAGE = {}, "
      "CONSTRAINT = {}, TABLE = {}, SCHEMA = {}; END IF; END;",
      check.expression,
      conn.Literal(fmt::format("new row for relation \"{}\" violates check constraint \"{}\"",
                               table.physical, check.name)),
      conn.Literal(check.name), conn.Literal(table.physical), conn.Literal(schema));
  return block;
}

}  // namespace

Result<SyncTrigger> BuildSyncTrigger(PlanContext& context, const VirtualTable& table,
                                     const SyncSpec& spec) {
  return BuildSyncTrigger(context, table, std::vector<SyncSpec>{spec}, {});
}

Result<SyncTrigger> BuildSyncTrigger(PlanContext& context, const VirtualTable& table,
                                     const std::vector<SyncSpec>& specs,
                                     const std::vector<TriggerCheck>& checks) {
  if (specs.empty()) {
    return Error(ErrorKind::kInternal, "a sync trigger needs a column pair");
  }
  for (const auto& spec : specs) {
    if (spec.up.find(kBodyQuote) != std::string::npos ||
        spec.down.find(kBodyQuote) != std::string::npos) {
      return Error(ErrorKind::kInvalidMigration,
                   "up/down must not contain " + std::string(kBodyQuote));
    }
  }
  for (const auto& check : checks) {
    if (check.expression.find(kBodyQuote) != std::string::npos) {
      return Error(ErrorKind::kInvalidMigration,
                   "a check must not contain " + std::string(kBodyQuote));
    }
  }
  pg::Connection& conn = context.conn();
  const SyncSpec& first = specs.front();
  std::string scope = context.migration() + "_" + table.physical + "_" +
                      (first.mode == SyncMode::kDownOnly ? first.old_column : first.new_column);
  SyncTrigger sync;
  sync.function = conn.Ident(context.schema(), PlanContext::TempName("_zd_sync_", scope));
  // BEFORE triggers fire in name order: "~" sorts after letters, digits and "_", so a user's
  // trigger that rewrites the row (normalizing a value, say) runs first, and the copy follows
  // what it left.
  sync.trigger = conn.Ident(PlanContext::TempName("~zd_sync_", scope));
  std::string body;
  for (const auto& spec : specs) body += SyncBody(conn, spec) + " ";
  for (const auto& check : checks) body += CheckBlock(conn, table, context.schema(), check) + " ";
  sync.create_sql.push_back(fmt::format(
      "CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS {q} BEGIN {} RETURN "
      "NEW; END {q}",
      sync.function, body, fmt::arg("q", kBodyQuote)));
  sync.create_sql.push_back(
      fmt::format("DROP TRIGGER IF EXISTS {} ON {}", sync.trigger, context.Qualified(table)));
  sync.create_sql.push_back(fmt::format(
      "CREATE TRIGGER {} BEFORE INSERT OR UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION {}()",
      sync.trigger, context.Qualified(table), sync.function));
  // ALWAYS: a logical replication apply worker runs with session_replication_role = replica,
  // under which an ordinary trigger does not fire. On a subscriber (a blue-green pair's green),
  // the rows the publisher writes are the old version's writes and need the copy as much.
  sync.create_sql.push_back(fmt::format("ALTER TABLE {} ENABLE ALWAYS TRIGGER {}",
                                        context.Qualified(table), sync.trigger));
  sync.drop_sql.push_back(
      fmt::format("DROP TRIGGER IF EXISTS {} ON {}", sync.trigger, context.Qualified(table)));
  sync.drop_sql.push_back(fmt::format("DROP FUNCTION IF EXISTS {}()", sync.function));
  sync.complete_drop_sql = {fmt::format("DROP TRIGGER IF EXISTS {} ON {}", sync.trigger,
                                        conn.Ident(context.schema(), table.name)),
                            sync.drop_sql.back()};
  return sync;
}

}  // namespace zerodown::engine
