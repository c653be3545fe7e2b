// prefer-bigint-primary-key: an int4 key runs out at 2,147,483,647 rows, and changing the key's
// type later is a rewrite of the table and of every referencing table.
#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

bool IsSmallInteger(const std::string& name) {
  return name == "int4" || name == "int2" || name == "serial" || name == "serial4" ||
         name == "smallserial" || name == "serial2";
}

class PreferBigintPrimaryKey final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    for (const StatementFacts& facts : context.statements()) {
      for (const ColumnSite& site : facts.columns) {
        if (!site.primary_key || !IsSmallInteger(site.type.name)) continue;
        const bool serial = site.type.name.find("serial") != std::string::npos;
        reporter.Add(
            *facts.statement, site.location,
            "primary key " + QuoteIdent(site.column) + " is " + site.type.Display() +
                ": it runs out at " +
                (site.type.name == "int2" || site.type.name == "smallserial" ||
                         site.type.name == "serial2"
                     ? std::string("32,767")
                     : std::string("2,147,483,647")) +
                " values, and changing a key's type later rewrites this table and "
                "every table that references it.",
            // A serial's sequence becomes an identity (bigserial before PG 10, which has none);
            // a plain key keeps how it gets its values.
            WithColumnType(facts, site,
                           !serial                      ? "bigint"
                           : context.pg_version() >= 10 ? "bigint GENERATED ALWAYS AS IDENTITY"
                                                        : "bigserial"));
      }
    }
  }

 private:
  RuleInfo info_{"prefer-bigint-primary-key", Severity::kWarning,
                 "int / serial primary keys overflow; use bigint (identity)"};
};

}  // namespace

std::unique_ptr<Rule> MakePreferBigintPrimaryKey() {
  return std::make_unique<PreferBigintPrimaryKey>();
}

}  // namespace zerodown::sql::rules
