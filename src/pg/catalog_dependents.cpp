#include "zerodown/pg/catalog_dependents.hpp"

#include <nlohmann/json.hpp>

namespace zerodown::pg {

std::vector<DependentView> ViewsReading(Connection& conn, const std::string& regclass) {
  Rows rows = conn.ExecPrepared(
      "SELECT DISTINCT n.nspname, v.relname, pg_get_viewdef(v.oid), "
      "coalesce(v.reloptions::text, ''), v.oid::text, pg_get_userbyid(v.relowner), "
      "obj_description(v.oid, 'pg_class') FROM pg_depend d JOIN pg_rewrite r ON r.oid = "
      "d.objid JOIN pg_class v ON v.oid = r.ev_class JOIN pg_namespace n ON n.oid = "
      "v.relnamespace WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = "
      "'pg_class'::regclass AND d.refobjid = $1::regclass AND v.oid <> $1::regclass AND "
      "v.relkind = 'v'",
      {regclass});
  std::vector<DependentView> views;
  for (int r = 0; r < rows.size(); ++r) {
    views.push_back({rows.Text(r, 0), rows.Text(r, 1), rows.Text(r, 2), rows.Text(r, 3),
                     rows.Text(r, 4), rows.Text(r, 5), rows.Optional(r, 6)});
  }
  return views;
}

std::vector<ViewOwner> ViewOwnersReading(Connection& conn, const std::string& regclass) {
  Rows rows = conn.Exec(
      "SELECT DISTINCT n.nspname, v.relname, pg_get_userbyid(v.relowner) FROM pg_depend d "
      "JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class JOIN "
      "pg_namespace n ON n.oid = v.relnamespace WHERE d.classid = 'pg_rewrite'::regclass AND "
      "d.refclassid = 'pg_class'::regclass AND d.refobjid = $1::regclass AND v.oid <> "
      "$1::regclass AND v.relkind = 'v' ORDER BY 1, 2",
      {regclass});
  std::vector<ViewOwner> views;
  for (int r = 0; r < rows.size(); ++r) {
    views.push_back({{rows.Text(r, 0), rows.Text(r, 1)}, rows.Text(r, 2)});
  }
  return views;
}

std::vector<ColumnDefault> ColumnDefaults(Connection& conn, const std::string& oid) {
  Rows rows = conn.ExecPrepared(
      "SELECT a.attname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN "
      "pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = "
      "$1::oid ORDER BY a.attnum",
      {oid});
  std::vector<ColumnDefault> defaults;
  for (int r = 0; r < rows.size(); ++r) defaults.push_back({rows.Text(r, 0), rows.Text(r, 1)});
  return defaults;
}

std::vector<TriggerDefinition> TriggersExcept(Connection& conn, const std::string& regclass,
                                              const std::string& function_schema,
                                              const std::string& function_a,
                                              const std::string& function_b) {
  Rows rows = conn.ExecPrepared(
      "SELECT pg_get_triggerdef(t.oid), t.tgenabled::text, t.tgname FROM pg_trigger t WHERE "
      "t.tgrelid = $1::regclass AND NOT t.tgisinternal AND t.tgfoid NOT IN (SELECT p.oid FROM "
      "pg_proc p WHERE p.pronamespace = $2::regnamespace AND p.proname IN ($3, $4)) "
      "ORDER BY t.tgname",
      {regclass, function_schema, function_a, function_b});
  std::vector<TriggerDefinition> triggers;
  for (int r = 0; r < rows.size(); ++r) {
    std::string enabled = rows.Text(r, 1);
    triggers.push_back({rows.Text(r, 0), enabled.empty() ? 'O' : enabled[0], rows.Text(r, 2)});
  }
  return triggers;
}

std::vector<ForeignKeyDefinition> ForeignKeysOfAndTo(Connection& conn,
                                                     const std::string& regclass) {
  Rows rows = conn.ExecPrepared(
      "SELECT k.conname, n.nspname, t.relname, pg_get_constraintdef(k.oid), k.convalidated, "
      "k.conrelid = $1::regclass FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid "
      "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE k.contype = 'f' AND (k.conrelid = "
      "$1::regclass OR k.confrelid = $1::regclass) ORDER BY k.conname",
      {regclass});
  std::vector<ForeignKeyDefinition> keys;
  for (int r = 0; r < rows.size(); ++r) {
    keys.push_back({rows.Text(r, 0),
                    {rows.Text(r, 1), rows.Text(r, 2)},
                    rows.Text(r, 3),
                    rows.Bool(r, 4),
                    rows.Bool(r, 5)});
  }
  return keys;
}

std::optional<ForeignKeyTarget> ForeignKeyNamed(Connection& conn, const std::string& regclass,
                                                const std::string& name) {
  Rows rows = conn.Exec(
      "SELECT n.nspname, r.relname, array_to_json(ARRAY(SELECT a.attname::text FROM "
      "unnest(k.confkey) WITH ORDINALITY u(attnum, ord) JOIN pg_attribute a ON a.attrelid = "
      "k.confrelid AND a.attnum = u.attnum ORDER BY u.ord)), k.confdeltype, k.confupdtype, "
      "k.confmatchtype, "
      "k.condeferrable, k.condeferred, k.confdelsetcols IS NOT NULL "
      "FROM pg_constraint k JOIN pg_class r ON r.oid = k.confrelid "
      "JOIN pg_namespace n ON n.oid = r.relnamespace "
      "WHERE k.conrelid = $1::regclass AND k.conname = $2",
      {regclass, name});
  if (rows.empty()) return std::nullopt;
  ForeignKeyTarget key;
  key.referenced = {rows.Text(0, 0), rows.Text(0, 1)};
  key.columns = nlohmann::json::parse(rows.Text(0, 2)).get<std::vector<std::string>>();
  key.on_delete = rows.Text(0, 3)[0];
  key.on_update = rows.Text(0, 4)[0];
  key.match = rows.Text(0, 5)[0];
  key.deferrable = rows.Bool(0, 6);
  key.deferred = rows.Bool(0, 7);
  key.sets_some_columns = rows.Bool(0, 8);
  return key;
}

std::vector<QualifiedName> TablesReferencing(Connection& conn, const std::string& regclass) {
  Rows rows = conn.Exec(
      "SELECT DISTINCT n.nspname, t.relname FROM pg_constraint k JOIN pg_class t ON t.oid = "
      "k.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE k.contype = 'f' AND "
      "k.confrelid = $1::regclass AND k.conrelid <> $1::regclass",
      {regclass});
  std::vector<QualifiedName> tables;
  for (int r = 0; r < rows.size(); ++r) tables.push_back({rows.Text(r, 0), rows.Text(r, 1)});
  return tables;
}

}  // namespace zerodown::pg
