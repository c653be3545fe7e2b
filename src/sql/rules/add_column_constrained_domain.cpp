// add-column-constrained-domain: ADD COLUMN of a domain type that has a CHECK or NOT NULL makes
// PostgreSQL evaluate the domain's constraints for every existing row, which rewrites the table
// under ACCESS EXCLUSIVE even with no default (the ALTER TABLE docs list it with volatile
// defaults). zerodown knows a domain's constraints from CREATE DOMAIN in this or an earlier file,
// or from the server with --postgres-url; another type name it cannot place is reported as info.
#include <cctype>

#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

// Type names the parser leaves unqualified although they are built in (the SQL-standard ones
// come back as pg_catalog.*), and extension types common enough to know.
bool IsBuiltinType(const std::string& name) {
  // clang-format off
  static const std::set<std::string, std::less<>> kBuiltin = {
    "text", "uuid", "jsonb", "json", "date", "bytea", "inet", "cidr", "macaddr", "macaddr8",
    "money", "tsvector", "tsquery", "xml", "point", "line", "lseg", "box", "path", "polygon",
    "circle", "int4range", "int8range", "numrange", "tsrange", "tstzrange", "daterange",
    "int4multirange", "int8multirange", "nummultirange", "tsmultirange", "tstzmultirange",
    "datemultirange", "oid", "regclass", "citext", "hstore", "ltree", "geometry", "geography",
    "vector", "serial", "bigserial", "smallserial", "serial2", "serial4", "serial8", "name",
    "pg_lsn", "txid_snapshot", "pg_snapshot", "tid", "xid", "xid8", "cid", "char", "bit",
    "varbit"};
  // clang-format on
  return kBuiltin.count(name) > 0;
}

// `check` (from CREATE DOMAIN, with the keyword VALUE) over `column` instead.
std::string ForColumn(const std::string& check, const std::string& column) {
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  std::string out;
  for (std::size_t i = 0; i < check.size();) {
    const bool starts = (i == 0 || !is_word(check[i - 1])) && i + 5 <= check.size() &&
                        (i + 5 == check.size() || !is_word(check[i + 5]));
    std::string word = starts ? check.substr(i, 5) : std::string();
    for (char& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (word == "VALUE") {
      out += column;
      i += 5;
    } else {
      out += check[i++];
    }
  }
  return out;
}

class AddColumnConstrainedDomain final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    KnownSchema known = context.known();
    for (std::size_t i = 0; i < context.statements().size(); ++i) {
      const Statement& statement = *context.statements()[i].statement;
      for (const ColumnSite& site : context.statements()[i].columns) {
        if (site.kind != ColumnSite::Kind::kAddColumn || context.CreatedBefore(site.table, i)) {
          continue;
        }
        CheckSite(known, statement, site, reporter);
      }
      RecordDefinitions(statement, known);
    }
  }

 private:
  void CheckSite(const KnownSchema& known, const Statement& statement, const ColumnSite& site,
                 Reporter& reporter) const {
    const Json& names = Get(Get(*site.definition, "typeName"), "names");
    if (!names.is_array() || names.empty()) return;
    if (GetString(Get(names[0], "String"), "sval") == "pg_catalog") return;
    const std::string type = QualifiedName(names);
    const std::string column = QuoteIdent(site.column);
    auto it = known.domains.find(type);
    if (it == known.domains.end()) {
      if (known.from_database || IsBuiltinType(site.type.name) || names.size() > 1) return;
      // Not a type zerodown knows: a domain defined outside the linted files, an enum, an
      // extension's type. Only a constrained domain rewrites.
      reporter.Add(Severity::kInfo, statement, site.location,
                   "ADD COLUMN " + column + " " + type + ": if " + type +
                       " is a domain with a CHECK or NOT NULL, PostgreSQL checks it against "
                       "every existing row of " +
                       site.table +
                       " by rewriting the table under ACCESS EXCLUSIVE; zerodown cannot see "
                       "the type's definition (lint with --postgres-url, or lint the file that "
                       "creates it first).",
                   "");
      return;
    }
    const ConstrainedDomain& domain = it->second;
    if (!domain.constrained) return;
    const std::string base = domain.base_type.empty() ? "<base type>" : domain.base_type;
    const std::string bare = site.table.substr(site.table.rfind('.') + 1);
    const std::string check = bare + "_" + site.column + "_check";
    std::string fix =
        "-- the domain's base type and a table CHECK: added NOT VALID, validated "
        "without blocking writes\nALTER TABLE " +
        site.table + " ADD COLUMN " + column + " " + base + ";\n";
    if (!domain.check.empty()) {
      fix += "ALTER TABLE " + site.table + " ADD CONSTRAINT " + check + " " +
             ForColumn(domain.check, column) +
             " NOT VALID;\n"
             "-- in its own transaction (SHARE UPDATE EXCLUSIVE: reads and writes go on):\n"
             "ALTER TABLE " +
             site.table + " VALIDATE CONSTRAINT " + check + ";";
    } else {
      fix +=
          "-- then the domain's rules as CHECK (...) NOT VALID, and VALIDATE CONSTRAINT in its "
          "own transaction";
    }
    reporter.Add(statement, site.location,
                 "ADD COLUMN " + column + " " + type + " rewrites the whole table " + site.table +
                     " under an ACCESS EXCLUSIVE lock, which blocks every read and write of it "
                     "until the rewrite ends: " +
                     type +
                     " is a domain with constraints, which PostgreSQL evaluates for every "
                     "existing row (even with no DEFAULT).",
                 std::move(fix));
  }

  RuleInfo info_{"add-column-constrained-domain", Severity::kError,
                 "ADD COLUMN of a domain with a CHECK or NOT NULL rewrites the table under "
                 "ACCESS EXCLUSIVE"};
};

}  // namespace

std::unique_ptr<Rule> MakeAddColumnConstrainedDomain() {
  return std::make_unique<AddColumnConstrainedDomain>();
}

}  // namespace zerodown::sql::rules
