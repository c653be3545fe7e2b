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

}  // namespace

Result<SyncTrigger> BuildSyncTrigger(PlanContext& context, const VirtualTable& table,
                                     const SyncSpec& spec) {
  if (spec.up.find(kBodyQuote) != std::string::npos ||
      spec.down.find(kBodyQuote) != std::string::npos) {
    return Error(ErrorKind::kInvalidMigration,
                 "up/down must not contain " + std::string(kBodyQuote));
  }
  pg::Connection& conn = context.conn();
  std::string base = PlanContext::TempName(
      "_zd_sync_", context.migration() + "_" + table.physical + "_" +
                       (spec.mode == SyncMode::kDownOnly ? spec.old_column : spec.new_column));
  SyncTrigger sync;
  sync.function = conn.Ident(context.schema(), base);
  sync.trigger = conn.Ident(base);
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
      body = fmt::format(
          "IF TG_OP = 'INSERT' THEN IF {n} IS NULL THEN {up} ELSE {down} END IF; "
          "ELSIF {n} IS DISTINCT FROM OLD.{nc} AND {o} IS NOT DISTINCT FROM OLD.{oc} THEN {down} "
          "ELSE {up} END IF;",
          fmt::arg("n", n), fmt::arg("o", o), fmt::arg("up", up), fmt::arg("down", down),
          fmt::arg("nc", conn.Ident(spec.new_column)), fmt::arg("oc", conn.Ident(spec.old_column)));
      break;
    case SyncMode::kUpOnly:
      body = fmt::format("IF {n} IS NULL THEN {up} END IF;", fmt::arg("n", n), fmt::arg("up", up));
      break;
    case SyncMode::kDownOnly:
      body = fmt::format("IF TG_OP = 'INSERT' AND {o} IS NULL THEN {down} END IF;",
                         fmt::arg("o", o), fmt::arg("down", down));
      break;
  }
  sync.create_sql.push_back(fmt::format(
      "CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS {q} BEGIN {} RETURN "
      "NEW; END {q}",
      sync.function, body, fmt::arg("q", kBodyQuote)));
  sync.create_sql.push_back(
      fmt::format("DROP TRIGGER IF EXISTS {} ON {}", sync.trigger, context.Qualified(table)));
  sync.create_sql.push_back(fmt::format(
      "CREATE TRIGGER {} BEFORE INSERT OR UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION {}()",
      sync.trigger, context.Qualified(table), sync.function));
  sync.drop_sql.push_back(
      fmt::format("DROP TRIGGER IF EXISTS {} ON {}", sync.trigger, context.Qualified(table)));
  sync.drop_sql.push_back(fmt::format("DROP FUNCTION IF EXISTS {}()", sync.function));
  return sync;
}

}  // namespace zerodown::engine
