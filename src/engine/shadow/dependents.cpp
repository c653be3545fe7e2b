#include "engine/shadow/dependents.hpp"

#include <fmt/format.h>

#include <string_view>

namespace zerodown::engine::shadow {

namespace {

// "fillfactor=70" from pg_class.reloptions as `"fillfactor" = '70'`.
std::string RelOptions(pg::Connection& conn, const std::string& options_text) {
  // reloptions::text is "{a=1,b=2}"; values never hold commas or braces for table and view
  // options (numbers, booleans, local/cascaded).
  std::string inner = options_text.substr(1, options_text.size() - 2);
  std::string out;
  std::size_t start = 0;
  while (start < inner.size()) {
    std::size_t end = inner.find(',', start);
    if (end == std::string::npos) end = inner.size();
    std::string item = inner.substr(start, end - start);
    std::size_t eq = item.find('=');
    if (eq != std::string::npos) {
      out += fmt::format("{}{} = {}", out.empty() ? "" : ", ", conn.Ident(item.substr(0, eq)),
                         conn.Literal(item.substr(eq + 1)));
    }
    start = end + 1;
  }
  return out;
}

// The grants on `relation` (a regclass or oid, as text) to anyone but its owner, table- and
// column-level, as GRANT statements on `target` (quoted).
std::vector<std::string> GrantSql(pg::Connection& c, const std::string& relation,
                                  const std::string& target) {
  pg::Rows grants = c.ExecPrepared(
      "SELECT a.privilege_type, a.is_grantable, coalesce(r.rolname, ''), '' FROM pg_class c "
      "CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee "
      "WHERE c.oid = $1::regclass AND a.grantee <> c.relowner "
      "UNION ALL SELECT a.privilege_type, a.is_grantable, coalesce(r.rolname, ''), "
      "att.attname FROM pg_attribute att CROSS JOIN LATERAL aclexplode(att.attacl) a LEFT JOIN "
      "pg_roles r ON r.oid = a.grantee WHERE att.attrelid = $1::regclass AND att.attnum > 0 "
      "AND NOT att.attisdropped",
      {relation});
  std::vector<std::string> out;
  for (int r = 0; r < grants.size(); ++r) {
    std::string grantee = grants.Text(r, 2).empty() ? "PUBLIC" : c.Ident(grants.Text(r, 2));
    std::string column = grants.Text(r, 3).empty() ? "" : " (" + c.Ident(grants.Text(r, 3)) + ")";
    // Privilege names come from aclexplode: a fixed set of keywords.
    out.push_back(fmt::format("GRANT {}{} ON TABLE {} TO {}{}", grants.Text(r, 0), column, target,
                              grantee, grants.Bool(r, 1) ? " WITH GRANT OPTION" : ""));
  }
  return out;
}

void Append(std::vector<std::string>& to, const std::vector<std::string>& more) {
  to.insert(to.end(), more.begin(), more.end());
}

// A view dropped and created again for a column type that changes, with its owner, grants,
// comment and column defaults.
void RecreateView(pg::Connection& c, Dependent& d, const pg::Rows& views, int r,
                  const std::string& view, const std::string& options,
                  const std::string& definition) {
  std::string oid = views.Text(r, 4);
  d.statements.push_back(fmt::format("DROP VIEW {}", view));
  d.statements.push_back(fmt::format("CREATE VIEW {}{} AS {}", view, options, definition));
  d.statements.push_back(fmt::format("ALTER VIEW {} OWNER TO {}", view, c.Ident(views.Text(r, 5))));
  Append(d.statements, GrantSql(c, oid, view));
  if (auto comment = views.Optional(r, 6)) {
    d.statements.push_back(fmt::format("COMMENT ON VIEW {} IS {}", view, c.Literal(*comment)));
  }
  pg::Rows defaults = c.ExecPrepared(
      "SELECT a.attname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN "
      "pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = "
      "$1::oid ORDER BY a.attnum",
      {oid});
  for (int i = 0; i < defaults.size(); ++i) {
    d.statements.push_back(fmt::format("ALTER VIEW {} ALTER COLUMN {} SET DEFAULT {}", view,
                                       c.Ident(defaults.Text(i, 0)), defaults.Text(i, 1)));
  }
}

// Views over the table: CREATE OR REPLACE with the same text binds them to the new heap. A
// view column keeps its type under CREATE OR REPLACE, so where a column's type changes the
// view is dropped and created again.
void ReadViews(pg::Connection& c, const std::string& live, bool types_change, Dependent& d) {
  pg::Rows views = c.ExecPrepared(
      "SELECT DISTINCT n.nspname, v.relname, pg_get_viewdef(v.oid), "
      "coalesce(v.reloptions::text, ''), v.oid::text, pg_get_userbyid(v.relowner), "
      "obj_description(v.oid, 'pg_class') FROM pg_depend d JOIN pg_rewrite r ON r.oid = "
      "d.objid JOIN pg_class v ON v.oid = r.ev_class JOIN pg_namespace n ON n.oid = "
      "v.relnamespace WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = "
      "'pg_class'::regclass AND d.refobjid = $1::regclass AND v.oid <> $1::regclass AND "
      "v.relkind = 'v'",
      {live});
  for (int r = 0; r < views.size(); ++r) {
    std::string definition = views.Text(r, 2);
    while (!definition.empty() && (definition.back() == ';' || definition.back() == ' ')) {
      definition.pop_back();
    }
    std::string view = c.Ident(views.Text(r, 0), views.Text(r, 1));
    std::string options =
        views.Text(r, 3).empty() ? "" : " WITH (" + RelOptions(c, views.Text(r, 3)) + ")";
    if (!types_change) {
      d.statements.push_back(
          fmt::format("CREATE OR REPLACE VIEW {}{} AS {}", view, options, definition));
      continue;
    }
    RecreateView(c, d, views, r, view, options, definition);
  }
}

// The user's triggers (and those of earlier operations of this migration), not the logs'.
void ReadTriggers(pg::Connection& c, const Context& ctx, Dependent& d) {
  pg::Rows triggers = c.ExecPrepared(
      "SELECT pg_get_triggerdef(t.oid), t.tgenabled::text, t.tgname FROM pg_trigger t WHERE "
      "t.tgrelid = $1::regclass AND NOT t.tgisinternal AND t.tgfoid NOT IN (SELECT p.oid FROM "
      "pg_proc p WHERE p.pronamespace = 'zerodown'::regnamespace AND p.proname IN ($2, $3)) "
      "ORDER BY t.tgname",
      {ctx.live, ctx.spec.log_function, ctx.spec.reverse_log_function});
  for (int r = 0; r < triggers.size(); ++r) {
    d.statements.push_back(triggers.Text(r, 0));
    d.triggers.push_back(triggers.Text(r, 2));
    std::string state = triggers.Text(r, 1);
    std::string how = state == "D"   ? "DISABLE"
                      : state == "R" ? "ENABLE REPLICA"
                      : state == "A" ? "ENABLE ALWAYS"
                                     : "";
    if (!how.empty()) {
      d.statements.push_back(
          fmt::format("ALTER TABLE {} {} TRIGGER {}", ctx.live, how, c.Ident(triggers.Text(r, 2))));
    }
  }
}

// Foreign keys: from the table (and to itself) re-created on the new heap; from other tables
// dropped and re-created to point at it. NOT VALID keeps the swap free of scans; they are
// validated right after it, without blocking writes.
void ReadForeignKeys(pg::Connection& c, const std::string& live, Dependent& d) {
  pg::Rows keys = c.ExecPrepared(
      "SELECT k.conname, n.nspname, t.relname, pg_get_constraintdef(k.oid), k.convalidated, "
      "k.conrelid = $1::regclass FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid "
      "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE k.contype = 'f' AND (k.conrelid = "
      "$1::regclass OR k.confrelid = $1::regclass) ORDER BY k.conname",
      {live});
  for (int r = 0; r < keys.size(); ++r) {
    std::string name = c.Ident(keys.Text(r, 0));
    std::string table = c.Ident(keys.Text(r, 1), keys.Text(r, 2));
    std::string definition = keys.Text(r, 3);
    constexpr std::string_view kNotValid = " NOT VALID";
    if (definition.size() > kNotValid.size() &&
        definition.compare(definition.size() - kNotValid.size(), kNotValid.size(), kNotValid) ==
            0) {
      definition.resize(definition.size() - kNotValid.size());
    }
    bool outgoing = keys.Bool(r, 5);
    if (outgoing) d.outgoing_keys.push_back(keys.Text(r, 0));
    if (!outgoing) {
      d.statements.push_back(fmt::format("ALTER TABLE {} DROP CONSTRAINT {}", table, name));
    }
    d.statements.push_back(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} {} NOT VALID",
                                       outgoing ? live : table, name, definition));
    if (keys.Bool(r, 4)) d.to_validate.emplace_back(outgoing ? live : table, name);
  }
}

// Sequences the table's columns own (serial): re-owned, or dropping the old heap drops them.
void ReadOwnedSequences(pg::Connection& c, const std::string& live, Dependent& d) {
  pg::Rows sequences = c.ExecPrepared(
      "SELECT n.nspname, s.relname, a.attname FROM pg_depend d JOIN pg_class s ON s.oid = "
      "d.objid AND s.relkind = 'S' JOIN pg_namespace n ON n.oid = s.relnamespace JOIN "
      "pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid WHERE d.classid "
      "= 'pg_class'::regclass AND d.refobjid = $1::regclass AND d.deptype = 'a'",
      {live});
  for (int r = 0; r < sequences.size(); ++r) {
    d.statements.push_back(fmt::format("ALTER SEQUENCE {} OWNED BY {}.{}",
                                       c.Ident(sequences.Text(r, 0), sequences.Text(r, 1)), live,
                                       c.Ident(sequences.Text(r, 2))));
  }
}

// Owner, grants (table and column), comment, replica identity, storage options.
void ReadTableProperties(pg::Connection& c, const std::string& live, Dependent& d) {
  pg::Rows table = c.ExecPrepared(
      "SELECT pg_get_userbyid(c.relowner), coalesce(obj_description(c.oid, 'pg_class'), ''), "
      "obj_description(c.oid, 'pg_class') IS NOT NULL, c.relreplident::text, "
      "coalesce(c.reloptions::text, ''), coalesce((SELECT ic.relname FROM pg_index i JOIN "
      "pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid AND i.indisreplident), "
      "'') FROM pg_class c WHERE c.oid = $1::regclass",
      {live});
  d.statements.push_back(
      fmt::format("ALTER TABLE {} OWNER TO {}", live, c.Ident(table.Text(0, 0))));
  Append(d.statements, GrantSql(c, live, live));
  if (table.Bool(0, 2)) {
    d.statements.push_back(
        fmt::format("COMMENT ON TABLE {} IS {}", live, c.Literal(table.Text(0, 1))));
  }
  std::string identity = table.Text(0, 3);
  if (identity == "f")
    d.statements.push_back(fmt::format("ALTER TABLE {} REPLICA IDENTITY FULL", live));
  if (identity == "n") {
    d.statements.push_back(fmt::format("ALTER TABLE {} REPLICA IDENTITY NOTHING", live));
  }
  if (identity == "i" && !table.Text(0, 5).empty()) {
    d.statements.push_back(fmt::format("ALTER TABLE {} REPLICA IDENTITY USING INDEX {}", live,
                                       c.Ident(table.Text(0, 5))));
  }
  if (!table.Text(0, 4).empty()) {
    d.statements.push_back(
        fmt::format("ALTER TABLE {} SET ({})", live, RelOptions(c, table.Text(0, 4))));
  }
}

}  // namespace

std::vector<std::string> ReferencingTables(pg::Connection& c, const std::string& live) {
  pg::Rows rows = c.Exec(
      "SELECT DISTINCT n.nspname, t.relname FROM pg_constraint k JOIN pg_class t ON t.oid = "
      "k.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE k.contype = 'f' AND "
      "k.confrelid = $1::regclass AND k.conrelid <> $1::regclass",
      {live});
  std::vector<std::string> tables;
  for (int r = 0; r < rows.size(); ++r) tables.push_back(c.Ident(rows.Text(r, 0), rows.Text(r, 1)));
  return tables;
}

std::vector<std::string> ViewLocks(pg::Connection& c, const std::string& live) {
  pg::Rows rows = c.Exec(
      "SELECT DISTINCT n.nspname, v.relname, pg_get_userbyid(v.relowner) FROM pg_depend d "
      "JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class JOIN "
      "pg_namespace n ON n.oid = v.relnamespace WHERE d.classid = 'pg_rewrite'::regclass AND "
      "d.refclassid = 'pg_class'::regclass AND d.refobjid = $1::regclass AND v.oid <> "
      "$1::regclass AND v.relkind = 'v' ORDER BY 1, 2",
      {live});
  std::vector<std::string> locks;
  for (int r = 0; r < rows.size(); ++r) {
    locks.push_back(fmt::format("ALTER VIEW {} OWNER TO {}",
                                c.Ident(rows.Text(r, 0), rows.Text(r, 1)),
                                c.Ident(rows.Text(r, 2))));
  }
  return locks;
}

Dependent ReadDependents(pg::Connection& c, const Context& ctx, bool types_change) {
  Dependent d;
  // Generic plans for the prepared reads: planned before the lock, not under it.
  c.Exec(
      "SELECT set_config('search_path', 'pg_catalog', true), set_config('plan_cache_mode', "
      "'force_generic_plan', true)");
  ReadViews(c, ctx.live, types_change, d);
  ReadTriggers(c, ctx, d);
  ReadForeignKeys(c, ctx.live, d);
  ReadOwnedSequences(c, ctx.live, d);
  ReadTableProperties(c, ctx.live, d);
  return d;
}

void ValidateKeys(Context& ctx) {
  for (const auto& item : ctx.checkpoint.value("validate", nlohmann::json::array())) {
    std::string table = item.at(0).get<std::string>();
    std::string name = item.at(1).get<std::string>();
    ctx.Retry("validate foreign key " + name, [&](pg::Connection& c) {
      c.Exec(fmt::format("ALTER TABLE {} VALIDATE CONSTRAINT {}", table, name));
    });
  }
}

}  // namespace zerodown::engine::shadow
