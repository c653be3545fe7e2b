// What the rules about ALTER TABLE ... ADD CONSTRAINT share: a rule base that holds its fixed
// RuleInfo, the walk over added constraints of some kinds, and the name a rewrite gives a
// constraint the statement left unnamed. Internal to src/sql/rules.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {

// A rule whose id, severity and summary are fixed: it holds them for Info().
class FixedInfoRule : public Rule {
 public:
  explicit FixedInfoRule(RuleInfo info) : info_(std::move(info)) {}
  const RuleInfo& Info() const override { return info_; }

 private:
  RuleInfo info_;
};

// Calls visit(statement, table, constraint) for every ALTER TABLE ... ADD CONSTRAINT (inner
// Constraint) whose contype ("CONSTR_CHECK") is in `contypes`, on a table the file did not create.
template <typename Visit>
void ForEachAddedConstraint(const LintContext& context,
                            std::initializer_list<std::string_view> contypes, Visit&& visit) {
  ForEachAlterOfExistingTable(
      context, [&](const Statement& statement, const std::string& table, const Json& cmd) {
        if (GetString(cmd, "subtype") != "AT_AddConstraint") return;
        const Json& constraint = Get(Get(cmd, "def"), "Constraint");
        const std::string contype = GetString(constraint, "contype");
        for (std::string_view wanted : contypes) {
          if (contype == wanted) return visit(statement, table, constraint);
        }
      });
}

// The constraint's name, or, when it has none, the table's bare name + `suffix` ("_check"), so
// that a rewrite can name it in a later VALIDATE or USING INDEX.
inline std::string ConstraintName(const Json& constraint, const std::string& table,
                                  std::string_view suffix) {
  std::string name = GetString(constraint, "conname");
  if (name.empty()) name = table.substr(table.rfind('.') + 1) + std::string(suffix);
  return name;
}

}  // namespace zerodown::sql::rules
