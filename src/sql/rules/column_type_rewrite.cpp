// column-type-rewrite: ALTER COLUMN ... TYPE rewrites the table and rebuilds its indexes under
// ACCESS EXCLUSIVE unless the old type is binary-coercible to the new one (PostgreSQL 9.2+):
// varchar(n) -> varchar(m >= n) / varchar / text, text <-> varchar, numeric(p,s) ->
// numeric(q >= p, s) / numeric, varbit(n) -> varbit(m >= n), timestamp/timestamptz/interval
// precision increase, cidr -> inet; and since PostgreSQL 12 timestamp -> timestamptz when the
// session TimeZone is UTC. The current type comes from earlier statements or files, or from the
// server (--postgres-url), which decides exactly; when it is unknown and the new type could be a
// no-rewrite target, the finding is info ("depends on the current type").
#include <cctype>

#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

enum class Outcome { kNoRewrite, kRewrite, kRewriteUnlessUtc };

// Types whose typmod is a length or precision that can grow without touching rows.
bool WidensWithoutRewrite(const std::string& name) {
  return name == "varchar" || name == "varbit" || name == "timestamp" || name == "timestamptz" ||
         name == "interval" || name == "time" || name == "timetz";
}

Outcome Compare(const TypeRef& from, const TypeRef& to, int pg_version) {
  if (from.array != to.array) return Outcome::kRewrite;
  if (from.name == to.name) {
    if (from.mods == to.mods) return Outcome::kNoRewrite;
    if (to.mods.empty()) {
      // Removing the limit: varchar(n) -> varchar, numeric(p,s) -> numeric.
      return WidensWithoutRewrite(to.name) || to.name == "numeric" ? Outcome::kNoRewrite
                                                                   : Outcome::kRewrite;
    }
    if (from.mods.empty()) return Outcome::kRewrite;  // adding a limit checks every row
    if (WidensWithoutRewrite(to.name)) {
      return to.mods[0] >= from.mods[0] ? Outcome::kNoRewrite : Outcome::kRewrite;
    }
    if (to.name == "numeric") {
      // Same scale, no lower precision: the stored digits do not change.
      const int from_scale = from.mods.size() > 1 ? from.mods[1] : 0;
      const int to_scale = to.mods.size() > 1 ? to.mods[1] : 0;
      return to.mods[0] >= from.mods[0] && from_scale == to_scale ? Outcome::kNoRewrite
                                                                  : Outcome::kRewrite;
    }
    return Outcome::kRewrite;
  }
  if ((from.name == "varchar" || from.name == "text") && to.name == "text") {
    return Outcome::kNoRewrite;
  }
  if (from.name == "text" && to.name == "varchar" && to.mods.empty()) return Outcome::kNoRewrite;
  if (from.name == "cidr" && to.name == "inet") return Outcome::kNoRewrite;
  if (from.name == "xml" && to.name == "text") return Outcome::kNoRewrite;
  if (from.name == "timestamp" && to.name == "timestamptz" && pg_version >= 12 &&
      (to.mods.empty() || (!from.mods.empty() && to.mods[0] >= from.mods[0]))) {
    return Outcome::kRewriteUnlessUtc;
  }
  return Outcome::kRewrite;
}

// New types that some old type reaches without a rewrite.
bool MaybeNoRewriteTarget(const TypeRef& to) {
  return to.name == "text" || to.name == "varchar" || to.name == "numeric" || to.name == "varbit" ||
         to.name == "inet" || to.name == "timestamptz" || to.name == "timestamp" ||
         to.name == "interval";
}

// True for `SET TimeZone = 'UTC'` (or SET TIME ZONE 'UTC', Etc/UTC, GMT...); false for another zone
// or RESET. nullopt when the statement does not set the zone.
std::optional<bool> SetsUtc(const Statement& statement) {
  if (statement.kind != "VariableSetStmt") return std::nullopt;
  const Json& node = Inner(statement.node);
  if (GetString(node, "name") != "timezone") return std::nullopt;
  const Json& args = Get(node, "args");
  if (!args.is_array() || args.empty()) return false;
  std::string zone = GetString(Get(Get(args[0], "A_Const"), "sval"), "sval");
  for (char& c : zone) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return zone == "UTC" || zone == "ETC/UTC" || zone == "GMT" || zone == "ZULU" || zone == "UCT";
}

class ColumnTypeRewrite final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    ColumnTypes types = context.known_columns();
    bool utc = false;  // PostgreSQL 12+ converts timestamp to timestamptz in place only in UTC
    for (std::size_t i = 0; i < context.statements().size(); ++i) {
      const Statement& statement = *context.statements()[i].statement;
      if (auto sets = SetsUtc(statement)) utc = *sets;
      if (statement.kind == "AlterTableStmt") {
        for (const ColumnSite& site : context.statements()[i].columns) {
          if (site.kind != ColumnSite::Kind::kAlterType) continue;
          if (context.CreatedBefore(site.table, i)) continue;
          auto it = types.find(site.table + "." + QuoteIdent(site.column));
          CheckSite(context, statement, site, it == types.end() ? nullptr : &it->second, utc,
                    reporter);
        }
      }
      RecordColumnTypes(statement, types);
    }
  }

 private:
  void CheckSite(const LintContext& context, const Statement& statement, const ColumnSite& site,
                 const TypeRef* old_type, bool utc, Reporter& reporter) const {
    const bool has_using = Get(*site.definition, "raw_default").is_object();
    const std::string target = site.type.Display();
    const std::string column = QuoteIdent(site.column);
    const std::string lock =
        " under an ACCESS EXCLUSIVE lock, which blocks every read and write of it until the "
        "rewrite ends.";
    const std::string fix =
        "-- run it with zerodown (expand/contract): `zerodown start` runs this statement as a new "
        "column\n-- kept in step by triggers and a throttled backfill, while old and new "
        "application versions both work:\n" +
        std::string(statement.text) + ";\n-- by hand: ALTER TABLE " + site.table + " ADD COLUMN " +
        site.column + "_new " + target + "; a trigger copying " + column +
        "; batched UPDATEs; then swap the names in one short "
        "transaction";
    Severity severity = Severity::kError;
    std::string message;
    if (old_type != nullptr && !has_using) {
      switch (Compare(*old_type, site.type, context.pg_version())) {
        case Outcome::kNoRewrite:
          return;  // binary-coercible: a catalog change under a brief lock
        case Outcome::kRewriteUnlessUtc:
          if (utc) return;  // the file set TimeZone to UTC before it
          severity = Severity::kWarning;
          message = "ALTER COLUMN " + column + " TYPE " + target + " (from " + old_type->Display() +
                    ") rewrites " + site.table +
                    " unless the session TimeZone is UTC (PostgreSQL 12+ skips the rewrite only "
                    "then)," +
                    lock;
          reporter.Add(severity, statement, site.location, message,
                       "SET TimeZone = 'UTC';\n" + std::string(statement.text) + ";");
          return;
        case Outcome::kRewrite:
          message = "ALTER COLUMN " + column + " TYPE " + target + " (from " + old_type->Display() +
                    ") rewrites the whole table " + site.table + " and rebuilds its indexes" + lock;
          break;
      }
    } else if (has_using) {
      message = "ALTER COLUMN " + column + " TYPE " + target +
                " USING ... rewrites the whole "
                "table " +
                site.table + " and rebuilds its indexes" + lock;
    } else if (MaybeNoRewriteTarget(site.type)) {
      // Whether this rewrites depends on a type zerodown has not seen: not an error to act on.
      severity = Severity::kInfo;
      message = "ALTER COLUMN " + column + " TYPE " + target + " on " + site.table +
                " depends on the column's current type: it is a catalog change when that type is "
                "binary-coercible to " +
                target +
                " (varchar(n) to a longer varchar or text, numeric(p,s) to a higher precision "
                "with the same scale, a higher timestamp/interval precision, cidr to inet), and "
                "otherwise rewrites the table and its indexes" +
                lock +
                " zerodown has not seen the current type: lint with --postgres-url, or lint the "
                "file that creates the column first.";
    } else {
      message = "ALTER COLUMN " + column + " TYPE " + target + " rewrites the whole table " +
                site.table + " and rebuilds its indexes" + lock;
    }
    reporter.Add(severity, statement, site.location, std::move(message), fix);
  }

  RuleInfo info_{"column-type-rewrite", Severity::kError,
                 "ALTER COLUMN TYPE rewrites the table under ACCESS EXCLUSIVE unless the change "
                 "is binary-coercible"};
};

}  // namespace

std::unique_ptr<Rule> MakeColumnTypeRewrite() { return std::make_unique<ColumnTypeRewrite>(); }

}  // namespace zerodown::sql::rules
