// prefer-timestamptz: timestamp without time zone stores wall-clock time with no zone, so values
// written from servers or sessions in different zones do not compare; converting the column
// later rewrites the table (before PG 12, or when the session TimeZone is not UTC).
#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

class PreferTimestamptz final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    for (const StatementFacts& facts : context.statements()) {
      for (const ColumnSite& site : facts.columns) {
        if (site.type.name != "timestamp") continue;
        TypeRef better = site.type;
        better.name = "timestamptz";
        reporter.Add(*facts.statement, site.location,
                     QuoteIdent(site.column) + " " + site.type.Display() +
                         " (without time zone) stores wall-clock time with no zone: values "
                         "from sessions in different zones do not compare, and converting "
                         "the column later rewrites the table.",
                     WithColumnType(facts, site, better.Display()));
      }
    }
  }

 private:
  RuleInfo info_{"prefer-timestamptz", Severity::kWarning,
                 "timestamp without time zone: prefer timestamptz"};
};

}  // namespace

std::unique_ptr<Rule> MakePreferTimestamptz() { return std::make_unique<PreferTimestamptz>(); }

}  // namespace zerodown::sql::rules
