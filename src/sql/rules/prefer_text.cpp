// prefer-text: varchar(n) is stored exactly like text; the only difference is the length check,
// and lowering the limit later rewrites the table. A CHECK constraint can be changed online
// (NOT VALID + VALIDATE).
#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

class PreferText final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    for (const StatementFacts& facts : context.statements()) {
      for (const ColumnSite& site : facts.columns) {
        if (site.type.name != "varchar" || site.type.mods.empty()) continue;
        const std::string column = QuoteIdent(site.column);
        reporter.Add(*facts.statement, site.location,
                     column + " " + site.type.Display() +
                         ": varchar(n) is stored like text; only the limit differs, and "
                         "changing that limit later (other than raising it) rewrites the table "
                         "under ACCESS EXCLUSIVE.",
                     WithColumnType(facts, site,
                                    site.type.array
                                        ? std::string("text[]")
                                        : "text CHECK (char_length(" + column +
                                              ") <= " + std::to_string(site.type.mods[0]) + ")"));
      }
    }
  }

 private:
  RuleInfo info_{"prefer-text", Severity::kInfo,
                 "varchar(n): prefer text with a CHECK, whose limit can change online"};
};

}  // namespace

std::unique_ptr<Rule> MakePreferText() { return std::make_unique<PreferText>(); }

}  // namespace zerodown::sql::rules
