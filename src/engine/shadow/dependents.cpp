#include "engine/shadow/dependents.hpp"

#include <fmt/format.h>

#include <string_view>

#include "zerodown/pg/catalog.hpp"
#include "zerodown/pg/catalog_dependents.hpp"
#include "zerodown/pg/catalog_grants.hpp"
#include "zerodown/pg/catalog_sequences.hpp"

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
  std::vector<std::string> out;
  for (const pg::Grant& g : pg::RelationGrants(c, relation)) {
    std::string grantee = g.grantee.empty() ? "PUBLIC" : c.Ident(g.grantee);
    std::string column = g.column.empty() ? "" : " (" + c.Ident(g.column) + ")";
    // Privilege names come from aclexplode: a fixed set of keywords.
    out.push_back(fmt::format("GRANT {}{} ON TABLE {} TO {}{}", g.privilege, column, target,
                              grantee, g.grantable ? " WITH GRANT OPTION" : ""));
  }
  return out;
}

void Append(std::vector<std::string>& to, const std::vector<std::string>& more) {
  to.insert(to.end(), more.begin(), more.end());
}

// A view dropped and created again for a column type that changes, with its owner, grants,
// comment and column defaults.
void RecreateView(pg::Connection& c, Dependent& d, const pg::DependentView& v,
                  const std::string& view, const std::string& options,
                  const std::string& definition) {
  d.statements.push_back(fmt::format("DROP VIEW {}", view));
  d.statements.push_back(fmt::format("CREATE VIEW {}{} AS {}", view, options, definition));
  d.statements.push_back(fmt::format("ALTER VIEW {} OWNER TO {}", view, c.Ident(v.owner)));
  Append(d.statements, GrantSql(c, v.oid, view));
  if (v.comment) {
    d.statements.push_back(fmt::format("COMMENT ON VIEW {} IS {}", view, c.Literal(*v.comment)));
  }
  for (const pg::ColumnDefault& def : pg::ColumnDefaults(c, v.oid)) {
    d.statements.push_back(fmt::format("ALTER VIEW {} ALTER COLUMN {} SET DEFAULT {}", view,
                                       c.Ident(def.column), def.expression));
  }
}

// Views over the table: CREATE OR REPLACE with the same text binds them to the new heap. A
// view column keeps its type under CREATE OR REPLACE, so where a column's type changes the
// view is dropped and created again.
void ReadViews(pg::Connection& c, const std::string& live, bool types_change, Dependent& d) {
  for (const pg::DependentView& v : pg::ViewsReading(c, live)) {
    std::string definition = v.definition;
    while (!definition.empty() && (definition.back() == ';' || definition.back() == ' ')) {
      definition.pop_back();
    }
    std::string view = c.Ident(v.schema, v.name);
    std::string options = v.options.empty() ? "" : " WITH (" + RelOptions(c, v.options) + ")";
    if (!types_change) {
      d.statements.push_back(
          fmt::format("CREATE OR REPLACE VIEW {}{} AS {}", view, options, definition));
      continue;
    }
    RecreateView(c, d, v, view, options, definition);
  }
}

// The user's triggers (and those of earlier operations of this migration), not the logs'.
void ReadTriggers(pg::Connection& c, const Context& ctx, Dependent& d) {
  for (const pg::TriggerDefinition& t : pg::TriggersExcept(
           c, ctx.live, "zerodown", ctx.spec.log_function, ctx.spec.reverse_log_function)) {
    d.statements.push_back(t.definition);
    d.triggers.push_back(t.name);
    std::string how = t.enabled == 'D'   ? "DISABLE"
                      : t.enabled == 'R' ? "ENABLE REPLICA"
                      : t.enabled == 'A' ? "ENABLE ALWAYS"
                                         : "";
    if (!how.empty()) {
      d.statements.push_back(
          fmt::format("ALTER TABLE {} {} TRIGGER {}", ctx.live, how, c.Ident(t.name)));
    }
  }
}

// Foreign keys: from the table (and to itself) re-created on the new heap; from other tables
// dropped and re-created to point at it. NOT VALID keeps the swap free of scans; they are
// validated right after it, without blocking writes.
void ReadForeignKeys(pg::Connection& c, const std::string& live, Dependent& d) {
  for (const pg::ForeignKeyDefinition& key : pg::ForeignKeysOfAndTo(c, live)) {
    std::string name = c.Ident(key.name);
    std::string table = c.Ident(key.table.schema, key.table.name);
    std::string definition = key.definition;
    constexpr std::string_view kNotValid = " NOT VALID";
    if (definition.size() > kNotValid.size() &&
        definition.compare(definition.size() - kNotValid.size(), kNotValid.size(), kNotValid) ==
            0) {
      definition.resize(definition.size() - kNotValid.size());
    }
    if (key.outgoing) d.outgoing_keys.push_back(key.name);
    if (!key.outgoing) {
      d.statements.push_back(fmt::format("ALTER TABLE {} DROP CONSTRAINT {}", table, name));
    }
    d.statements.push_back(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} {} NOT VALID",
                                       key.outgoing ? live : table, name, definition));
    if (key.validated) d.to_validate.emplace_back(key.outgoing ? live : table, name);
  }
}

// Sequences the table's columns own (serial): re-owned, or dropping the old heap drops them.
void ReadOwnedSequences(pg::Connection& c, const std::string& live, Dependent& d) {
  for (const pg::ColumnSequence& s : pg::SequencesOwnedByColumns(c, live)) {
    d.statements.push_back(fmt::format("ALTER SEQUENCE {} OWNED BY {}.{}",
                                       c.Ident(s.sequence.schema, s.sequence.name), live,
                                       c.Ident(s.column)));
  }
}

// Owner, grants (table and column), comment, replica identity, storage options.
void ReadTableProperties(pg::Connection& c, const std::string& live, Dependent& d) {
  pg::TableProperties table = pg::ReadTableProperties(c, live);
  d.statements.push_back(fmt::format("ALTER TABLE {} OWNER TO {}", live, c.Ident(table.owner)));
  Append(d.statements, GrantSql(c, live, live));
  if (table.comment) {
    d.statements.push_back(
        fmt::format("COMMENT ON TABLE {} IS {}", live, c.Literal(*table.comment)));
  }
  if (table.replica_identity == 'f')
    d.statements.push_back(fmt::format("ALTER TABLE {} REPLICA IDENTITY FULL", live));
  if (table.replica_identity == 'n') {
    d.statements.push_back(fmt::format("ALTER TABLE {} REPLICA IDENTITY NOTHING", live));
  }
  if (table.replica_identity == 'i' && !table.replica_identity_index.empty()) {
    d.statements.push_back(fmt::format("ALTER TABLE {} REPLICA IDENTITY USING INDEX {}", live,
                                       c.Ident(table.replica_identity_index)));
  }
  if (!table.options.empty()) {
    d.statements.push_back(
        fmt::format("ALTER TABLE {} SET ({})", live, RelOptions(c, table.options)));
  }
}

}  // namespace

std::vector<std::string> ReferencingTables(pg::Connection& c, const std::string& live) {
  std::vector<std::string> tables;
  for (const pg::QualifiedName& t : pg::TablesReferencing(c, live)) {
    tables.push_back(c.Ident(t.schema, t.name));
  }
  return tables;
}

std::vector<std::string> ViewLocks(pg::Connection& c, const std::string& live) {
  std::vector<std::string> locks;
  for (const pg::ViewOwner& v : pg::ViewOwnersReading(c, live)) {
    locks.push_back(fmt::format("ALTER VIEW {} OWNER TO {}", c.Ident(v.view.schema, v.view.name),
                                c.Ident(v.owner)));
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
