#include "zerodown/pg/catalog.hpp"

#include <algorithm>

namespace zerodown::pg {

namespace {

template <typename T>
const T* FindByName(const std::vector<T>& items, std::string_view name) {
  auto it = std::find_if(items.begin(), items.end(), [&](const T& t) { return t.name == name; });
  return it == items.end() ? nullptr : &*it;
}

// Postgres arrays of names come back as text; array_to_json gives a parseable form without a
// hand-written array parser, but the names here are simple enough to fetch as rows instead.
std::vector<std::string> NamesOf(Connection& conn, std::string_view sql, std::uint32_t oid,
                                 const std::string& extra) {
  Rows rows = conn.Exec(sql, {std::to_string(oid), extra});
  std::vector<std::string> names;
  for (int i = 0; i < rows.size(); ++i) names.push_back(rows.Text(i, 0));
  return names;
}

}  // namespace

const ColumnInfo* TableInfo::FindColumn(std::string_view column) const {
  return FindByName(columns, column);
}
const ConstraintInfo* TableInfo::FindConstraint(std::string_view constraint) const {
  return FindByName(constraints, constraint);
}
const IndexInfo* TableInfo::FindIndex(std::string_view index) const {
  return FindByName(indexes, index);
}

namespace {

void ReadColumns(Connection& conn, const std::string& oid, TableInfo& table) {
  Rows cols = conn.Exec(
      "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
      "pg_get_expr(d.adbin, d.adrelid), a.attidentity <> '', a.attgenerated <> '', a.attnum "
      "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
      "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
      {oid});
  for (int i = 0; i < cols.size(); ++i) {
    table.columns.push_back({cols.Text(i, 0), cols.Text(i, 1), cols.Bool(i, 2), cols.Optional(i, 3),
                             cols.Bool(i, 4), cols.Bool(i, 5), static_cast<int>(cols.Int(i, 6))});
  }
}

void ReadConstraints(Connection& conn, const std::string& oid, TableInfo& table) {
  constexpr std::string_view kConstraintColumns =
      "SELECT a.attname FROM pg_constraint c, unnest(c.conkey) WITH ORDINALITY k(attnum, ord) "
      "JOIN pg_attribute a ON a.attnum = k.attnum "
      "WHERE c.conrelid = $1::oid AND a.attrelid = $1::oid AND c.conname = $2 ORDER BY k.ord";
  Rows cons = conn.Exec(
      "SELECT conname, contype, pg_get_constraintdef(oid), convalidated, "
      "coalesce(pg_get_expr(conbin, conrelid), ''), connoinherit FROM pg_constraint "
      "WHERE conrelid = $1::oid ORDER BY conname",
      {oid});
  for (int i = 0; i < cons.size(); ++i) {
    ConstraintInfo c{cons.Text(i, 0), cons.Text(i, 1)[0], cons.Text(i, 2), cons.Bool(i, 3), {},
                     cons.Text(i, 4), cons.Bool(i, 5)};
    c.columns = NamesOf(conn, kConstraintColumns, table.oid, c.name);
    if (c.type == 'p') table.primary_key = c.columns;
    table.constraints.push_back(std::move(c));
  }
}

void ReadIndexes(Connection& conn, const std::string& oid, TableInfo& table) {
  constexpr std::string_view kIndexColumns =
      "SELECT a.attname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid, "
      "unnest(i.indkey) WITH ORDINALITY k(attnum, ord) "
      "JOIN pg_attribute a ON a.attnum = k.attnum "
      "WHERE i.indrelid = $1::oid AND a.attrelid = $1::oid AND ic.relname = $2 ORDER BY k.ord";
  Rows idx = conn.Exec(
      "SELECT ic.relname, pg_get_indexdef(i.indexrelid), i.indisvalid, i.indisunique, "
      "i.indisprimary FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
      "WHERE i.indrelid = $1::oid ORDER BY ic.relname",
      {oid});
  for (int i = 0; i < idx.size(); ++i) {
    IndexInfo index{idx.Text(i, 0), idx.Text(i, 1), idx.Bool(i, 2),
                    idx.Bool(i, 3), idx.Bool(i, 4), {}};
    index.columns = NamesOf(conn, kIndexColumns, table.oid, index.name);
    table.indexes.push_back(std::move(index));
  }
}

void ReadTriggers(Connection& conn, const std::string& oid, TableInfo& table) {
  Rows trg = conn.Exec(
      "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
      "WHERE tgrelid = $1::oid AND NOT tgisinternal ORDER BY tgname",
      {oid});
  for (int i = 0; i < trg.size(); ++i) table.triggers.push_back({trg.Text(i, 0), trg.Text(i, 1)});
}

}  // namespace

std::optional<TableInfo> DescribeTable(Connection& conn, const std::string& schema,
                                       const std::string& name) {
  Rows rel = conn.Exec(
      "SELECT c.oid, c.relkind, c.reltuples::bigint, pg_table_size(c.oid), "
      "pg_indexes_size(c.oid) "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v')",
      {schema, name});
  if (rel.empty()) return std::nullopt;
  TableInfo table;
  table.oid = static_cast<std::uint32_t>(rel.Int(0, 0));
  table.schema = schema;
  table.name = name;
  table.kind = rel.Text(0, 1)[0];
  table.estimated_rows = rel.Int(0, 2);
  table.table_bytes = rel.Int(0, 3);
  table.index_bytes = rel.Int(0, 4);
  std::string oid = std::to_string(table.oid);
  ReadColumns(conn, oid, table);
  ReadConstraints(conn, oid, table);
  ReadIndexes(conn, oid, table);
  ReadTriggers(conn, oid, table);
  return table;
}

std::vector<std::string> ListTables(Connection& conn, const std::string& schema) {
  Rows rows = conn.Exec(
      "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname",
      {schema});
  std::vector<std::string> names;
  for (int i = 0; i < rows.size(); ++i) names.push_back(rows.Text(i, 0));
  return names;
}

bool SchemaExists(Connection& conn, const std::string& schema) {
  return !conn.Exec("SELECT 1 FROM pg_namespace WHERE nspname = $1", {schema}).empty();
}

std::optional<std::string> CanonicalType(Connection& conn, const std::string& type) {
  Result<Rows> rows = conn.TryExec("SELECT format_type(to_regtype($1), NULL)", {type});
  if (!rows.ok() || rows->IsNull(0, 0)) return std::nullopt;
  // format_type without a typmod drops "(20)"; keep what the user wrote when it resolved.
  return type;
}

std::optional<bool> IndexIsValid(Connection& conn, const std::string& schema,
                                 const std::string& index) {
  Rows rows = conn.Exec(
      "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
      "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
      {schema, index});
  if (rows.empty()) return std::nullopt;
  return rows.Bool(0, 0);
}

bool IsInRecovery(Connection& conn) { return conn.Exec("SELECT pg_is_in_recovery()").Bool(0, 0); }

std::optional<std::string> SelfAssignableColumn(Connection& conn, const std::string& schema,
                                                const std::string& table) {
  Rows rows = conn.Exec(
      "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
      "JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped "
      "AND a.attidentity <> 'a' AND a.attgenerated = '' "
      "ORDER BY EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary "
      "AND a.attnum = ANY (i.indkey::int2[])), "
      "EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal "
      "AND a.attnum = ANY (t.tgattr::int2[])), a.attnum LIMIT 1",
      {schema, table});
  if (rows.empty()) return std::nullopt;
  return rows.Text(0, 0);
}

std::int64_t EstimatedRows(Connection& conn, const std::string& regclass) {
  return conn
      .Exec("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = $1::regclass",
            {regclass})
      .Int(0, 0);
}

std::vector<std::string> OwnedSequences(Connection& conn, const std::string& schema,
                                        const std::string& table) {
  Rows rows = conn.Exec(
      "SELECT quote_ident(sn.nspname) || '.' || quote_ident(s.relname) FROM pg_depend d "
      "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
      "JOIN pg_namespace sn ON sn.oid = s.relnamespace "
      "JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace "
      "WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass "
      "AND tn.nspname = $1 AND t.relname = $2",
      {schema, table});
  std::vector<std::string> names;
  for (int i = 0; i < rows.size(); ++i) names.push_back(rows.Text(i, 0));
  return names;
}

bool RelationExists(Connection& conn, const std::string& qualified) {
  return conn.Exec("SELECT to_regclass($1) IS NOT NULL", {qualified}).Bool(0, 0);
}

bool RelationNamed(Connection& conn, const std::string& schema, const std::string& name) {
  return !conn.Exec(
                  "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
                  "n.nspname = $1 AND c.relname = $2",
                  {schema, name})
              .empty();
}

bool ColumnNamed(Connection& conn, const std::string& relation, const std::string& column) {
  return !conn.Exec(
                  "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2 "
                  "AND attnum > 0 AND NOT attisdropped",
                  {relation, column})
              .empty();
}

bool ConstraintNamed(Connection& conn, const std::string& relation, const std::string& name) {
  return !conn.Exec("SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2",
                    {relation, name})
              .empty();
}

std::string ColumnType(Connection& conn, const std::string& regclass, const std::string& column) {
  return conn
      .Exec(
          "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
          "WHERE a.attrelid = $1::regclass AND a.attname = $2",
          {regclass, column})
      .Text(0, 0);
}

std::vector<RelationColumn> RelationColumns(Connection& conn, const std::string& regclass) {
  Rows rows = conn.Exec(
      "SELECT attname, format_type(atttypid, atttypmod), attgenerated <> '' FROM pg_attribute "
      "WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
      {regclass});
  std::vector<RelationColumn> columns;
  for (int r = 0; r < rows.size(); ++r) {
    columns.push_back({rows.Text(r, 0), rows.Text(r, 1), rows.Bool(r, 2)});
  }
  return columns;
}

TableProperties ReadTableProperties(Connection& conn, const std::string& regclass) {
  Rows rows = conn.ExecPrepared(
      "SELECT pg_get_userbyid(c.relowner), coalesce(obj_description(c.oid, 'pg_class'), ''), "
      "obj_description(c.oid, 'pg_class') IS NOT NULL, c.relreplident::text, "
      "coalesce(c.reloptions::text, ''), coalesce((SELECT ic.relname FROM pg_index i JOIN "
      "pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid AND i.indisreplident), "
      "'') FROM pg_class c WHERE c.oid = $1::regclass",
      {regclass});
  TableProperties p;
  p.owner = rows.Text(0, 0);
  if (rows.Bool(0, 2)) p.comment = rows.Text(0, 1);
  std::string identity = rows.Text(0, 3);
  p.replica_identity = identity.empty() ? 'd' : identity[0];
  p.options = rows.Text(0, 4);
  p.replica_identity_index = rows.Text(0, 5);
  return p;
}

std::string QualifiedText(Connection& conn, const std::string& regclass) {
  return conn
      .Exec(
          "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c JOIN "
          "pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::regclass",
          {regclass})
      .Text(0, 0);
}

bool IsUnlogged(Connection& conn, const std::string& regclass) {
  return conn.Exec("SELECT relpersistence = 'u' FROM pg_class WHERE oid = $1::regclass", {regclass})
      .Bool(0, 0);
}

std::optional<CopyObstacles> ReadCopyObstacles(Connection& conn, const std::string& regclass) {
  Rows rows = conn.Exec(
      "SELECT c.relkind = 'p', "
      "EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = c.oid OR inhparent = c.oid), "
      "c.relrowsecurity OR EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = c.oid), "
      "EXISTS (SELECT 1 FROM pg_publication_rel WHERE prrelid = c.oid), "
      "EXISTS (SELECT 1 FROM pg_rewrite WHERE ev_class = c.oid), "
      "EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = c.oid AND contype = 'x'), "
      "EXISTS (SELECT 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class m ON "
      "m.oid = r.ev_class WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = c.oid AND "
      "m.relkind = 'm'), "
      "EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.refobjid = "
      "c.oid) FROM pg_class c WHERE c.oid = $1::regclass",
      {regclass});
  if (rows.empty()) return std::nullopt;
  return CopyObstacles{rows.Bool(0, 0), rows.Bool(0, 1), rows.Bool(0, 2), rows.Bool(0, 3),
                       rows.Bool(0, 4), rows.Bool(0, 5), rows.Bool(0, 6), rows.Bool(0, 7)};
}

std::optional<RelationSize> ReadRelationSize(Connection& conn, const std::string& regclass) {
  Rows rows = conn.Exec(
      "SELECT greatest(c.reltuples, 0)::bigint, pg_table_size(c.oid), pg_indexes_size(c.oid), "
      "(SELECT count(*) FROM pg_index WHERE indrelid = c.oid) FROM pg_class c WHERE c.oid = "
      "$1::regclass",
      {regclass});
  if (rows.empty()) return std::nullopt;
  return RelationSize{rows.Int(0, 0), rows.Int(0, 1), rows.Int(0, 2),
                      static_cast<int>(rows.Int(0, 3))};
}

std::vector<ReferencingKey> KeysReferencingColumn(Connection& conn, const std::string& regclass,
                                                  const std::string& column) {
  Rows rows = conn.Exec(
      "SELECT k.conname, k.conrelid::regclass::text FROM pg_constraint k "
      "JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = ANY (k.confkey) "
      "WHERE k.contype = 'f' AND k.confrelid = $1::regclass AND a.attname = $2",
      {regclass, column});
  std::vector<ReferencingKey> keys;
  for (int r = 0; r < rows.size(); ++r) keys.push_back({rows.Text(r, 0), rows.Text(r, 1)});
  return keys;
}

std::optional<std::string> ColumnComment(Connection& conn, const std::string& regclass,
                                         const std::string& column) {
  Rows rows = conn.Exec(
      "SELECT col_description($1::regclass, attnum) FROM pg_attribute "
      "WHERE attrelid = $1::regclass AND attname = $2",
      {regclass, column});
  if (rows.empty()) return std::nullopt;
  return rows.Optional(0, 0);
}

std::vector<std::string> SequencesOwnedByColumn(Connection& conn, const std::string& regclass,
                                                const std::string& column) {
  Rows rows = conn.Exec(
      "SELECT s.oid::regclass::text FROM pg_depend d "
      "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
      "JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
      "WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass "
      "AND d.deptype = 'a' AND d.refobjid = $1::regclass AND a.attname = $2",
      {regclass, column});
  std::vector<std::string> names;
  for (int r = 0; r < rows.size(); ++r) names.push_back(rows.Text(r, 0));
  return names;
}

std::vector<std::string> ViewsOverViews(Connection& conn, const std::string& regclass) {
  Rows rows = conn.Exec(
      "SELECT DISTINCT outer_view.oid::regclass::text FROM pg_depend d "
      "JOIN pg_rewrite r ON r.oid = d.objid "
      "JOIN pg_class v ON v.oid = r.ev_class AND v.relkind = 'v' "
      "JOIN pg_depend d2 ON d2.classid = 'pg_rewrite'::regclass "
      "AND d2.refclassid = 'pg_class'::regclass AND d2.refobjid = v.oid "
      "JOIN pg_rewrite r2 ON r2.oid = d2.objid "
      "JOIN pg_class outer_view ON outer_view.oid = r2.ev_class AND outer_view.oid <> v.oid "
      "WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass "
      "AND d.refobjid = $1::regclass AND v.oid <> $1::regclass",
      {regclass});
  std::vector<std::string> names;
  for (int r = 0; r < rows.size(); ++r) names.push_back(rows.Text(r, 0));
  return names;
}

}  // namespace zerodown::pg
