// prefer-identity: serial columns own a sequence with separate permissions and ownership that
// dump/restore and ALTER TABLE handle awkwardly; identity columns (PostgreSQL 10+) are the
// standard form.
#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

class PreferIdentity final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    if (context.pg_version() < 10) return;
    for (const StatementFacts& facts : context.statements()) {
      for (const ColumnSite& site : facts.columns) {
        const std::string& name = site.type.name;
        if (name.find("serial") == std::string::npos) continue;
        const bool small = name == "smallserial" || name == "serial2";
        reporter.Add(*facts.statement, site.location,
                     QuoteIdent(site.column) + " " + name +
                         " creates a separately owned sequence; identity columns are the "
                         "SQL-standard form, keep the sequence tied to the column and refuse "
                         "stray explicit values with GENERATED ALWAYS.",
                     WithColumnType(facts, site,
                                    std::string(small ? "smallint" : "bigint") +
                                        " GENERATED ALWAYS AS IDENTITY"));
      }
    }
  }

 private:
  RuleInfo info_{"prefer-identity", Severity::kInfo,
                 "serial columns: prefer GENERATED ALWAYS AS IDENTITY (PG 10+)"};
};

}  // namespace

std::unique_ptr<Rule> MakePreferIdentity() { return std::make_unique<PreferIdentity>(); }

}  // namespace zerodown::sql::rules
