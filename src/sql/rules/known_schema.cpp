// What the linter knows about the database before a file: column types and constrained domains,
// from earlier files (CREATE TABLE / ALTER TABLE / CREATE DOMAIN / ALTER DOMAIN) and, with
// --postgres-url, from the server's catalog. The catalog's format_type() strings are read with
// the same parser as the migration, so "character varying(20)" and `varchar(20)` compare equal.
#include <algorithm>
#include <cctype>

#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

// The TypeRef of a format_type() string, parsed as a column definition (ParseSql keeps the full
// tree of DDL only).
std::optional<TypeRef> ParseTypeText(const std::string& type) {
  auto parsed = ParseSql("catalog", "CREATE TABLE t (c " + type + ")");
  if (!parsed.ok() || parsed->statements.size() != 1) return std::nullopt;
  const auto columns = CreateTableColumns(parsed->statements[0].node);
  if (columns.size() != 1) return std::nullopt;
  return ReadType(Get(*columns[0], "typeName"));
}

// A name as the rules key it: bare inside the migration's schema, qualified elsewhere.
std::vector<std::string> Keys(const std::string& schema, const std::string& name,
                              const std::string& default_schema) {
  std::vector<std::string> keys = {QuoteIdent(schema) + "." + QuoteIdent(name)};
  if (schema == default_schema) keys.push_back(QuoteIdent(name));
  return keys;
}

// "CHECK (VALUE > 0)" from a CREATE DOMAIN / ALTER DOMAIN constraint, "" when not a lone CHECK.
std::string CheckText(const Statement& statement, const Json& constraint) {
  if (GetString(constraint, "contype") != "CONSTR_CHECK") return {};
  std::string text(TextFrom(statement, LocationOf(constraint)));
  const auto upper = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
  };
  const std::size_t check = upper(text).find("CHECK");
  return check == std::string::npos ? std::string() : text.substr(check);
}

void RecordDomain(const Statement& statement, KnownSchema& known) {
  const Json& node = Inner(statement.node);
  if (statement.kind == "CreateDomainStmt") {
    const Json& constraints = Get(node, "constraints");
    ConstrainedDomain domain;
    domain.constrained = constraints.is_array() && !constraints.empty();
    if (auto base = ReadType(Get(node, "typeName"))) domain.base_type = base->Display();
    if (domain.constrained && constraints.size() == 1) {
      domain.check = CheckText(statement, Get(constraints[0], "Constraint"));
    }
    known.domains[QualifiedName(Get(node, "domainname"))] = domain;
  } else if (statement.kind == "AlterDomainStmt") {
    const std::string subtype = GetString(node, "subtype");
    if (subtype != "C" && subtype != "O") return;  // ADD CONSTRAINT, SET NOT NULL
    auto& domain = known.domains[QualifiedName(Get(node, "typeName"))];
    // One constraint more: a single CHECK to copy only when it is the domain's first.
    domain.check = domain.constrained || subtype != "C"
                       ? std::string()
                       : CheckText(statement, Get(Get(node, "def"), "Constraint"));
    domain.constrained = true;
  }
}

}  // namespace

KnownSchema SeedKnownSchema(const LintOptions& options) {
  KnownSchema known;
  if (!options.database) return known;
  const DatabaseSchema& database = *options.database;
  known.from_database = true;
  std::map<std::string, std::optional<TypeRef>> parsed;  // format_type text -> type
  for (const auto& column : database.columns) {
    auto [it, inserted] = parsed.try_emplace(column.type);
    if (inserted) it->second = ParseTypeText(column.type);
    if (!it->second) continue;
    for (const auto& table : Keys(column.schema, column.table, database.schema)) {
      known.columns[table + "." + QuoteIdent(column.column)] = *it->second;
    }
  }
  for (const auto& [name, base_type] : database.constrained_domains) {
    const std::size_t dot = name.find('.');
    const std::string schema = dot == std::string::npos ? database.schema : name.substr(0, dot);
    const std::string bare = dot == std::string::npos ? name : name.substr(dot + 1);
    for (const auto& key : Keys(schema, bare, database.schema)) {
      known.domains[key] = ConstrainedDomain{base_type, ""};
    }
  }
  return known;
}

void RecordDefinitions(const Statement& statement, KnownSchema& known) {
  RecordColumnTypes(statement, known.columns);
  RecordDomain(statement, known);
}

}  // namespace zerodown::sql::rules
