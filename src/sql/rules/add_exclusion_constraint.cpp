// add-exclusion-constraint: ADD CONSTRAINT ... EXCLUDE on an existing table builds the
// constraint's index while holding ACCESS EXCLUSIVE (every ADD table_constraint but FOREIGN KEY
// does). Unlike UNIQUE it has no USING INDEX form and no NOT VALID: PostgreSQL has no way to add
// it without that lock. Only an equality-only btree EXCLUDE has an online equivalent, a unique
// index built CONCURRENTLY; for any other the rewrite bounds the wait and the build.
#include <algorithm>
#include <cctype>

#include "sql/rules/added_constraint.hpp"

namespace zerodown::sql::rules {
namespace {

// "email, team_id" when every element of a btree EXCLUDE is a plain column compared WITH = and
// there is no WHERE: then the constraint means exactly UNIQUE (email, team_id). "" otherwise.
std::string EqualityColumns(const Statement& statement, const Json& constraint) {
  const std::string method = GetString(constraint, "access_method");
  if (!method.empty() && method != "btree") return "";
  // The shared parse drops WHERE clauses, so a partial EXCLUDE is found in the text.
  std::string text(TextFrom(statement, LocationOf(constraint)));
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (text.find("WHERE") != std::string::npos) return "";
  std::string columns;
  for (const Json& element : Get(constraint, "exclusions")) {
    const Json& items = Get(Get(element, "List"), "items");
    if (!items.is_array() || items.size() != 2) return "";
    const std::string column = GetString(Get(items[0], "IndexElem"), "name");
    const std::string op = JoinNames(Get(Get(items[1], "List"), "items"));
    if (column.empty() || op != "=") return "";
    columns += (columns.empty() ? "" : ", ") + QuoteIdent(column);
  }
  return columns;
}

class AddExclusionConstraint final : public FixedInfoRule {
 public:
  AddExclusionConstraint()
      : FixedInfoRule({"add-exclusion-constraint", Severity::kError,
                       "ADD CONSTRAINT ... EXCLUDE builds its index under ACCESS EXCLUSIVE"}) {}

  void Check(const LintContext& context, Reporter& reporter) const override {
    ForEachAddedConstraint(
        context, {"CONSTR_EXCLUSION"},
        [&](const Statement& statement, const std::string& table, const Json& constraint) {
          const std::string name = ConstraintName(constraint, table, "_excl");
          const std::string columns = EqualityColumns(statement, constraint);
          std::string fix =
              columns.empty()
                  ? "-- no online form exists in PostgreSQL. Check the rows first, without a "
                    "lock, so\n-- the build cannot fail at the end, then bound the wait and the "
                    "build:\nSET lock_timeout = '2s';\nSET statement_timeout = '30s';  -- the "
                    "build time you measured on a copy\n" +
                        std::string(statement.text) + ";"
                  : "-- an equality-only btree EXCLUDE is a unique index, which builds "
                    "CONCURRENTLY (reads and writes go on):\nCREATE UNIQUE INDEX CONCURRENTLY " +
                        name + " ON " + table + " (" + columns + ");";
          reporter.Add(
              statement, LocationOf(constraint),
              "ADD CONSTRAINT ... EXCLUDE builds the constraint's index on " + table +
                  " while holding an ACCESS EXCLUSIVE lock, which blocks every read and write "
                  "of the table until the build ends; an exclusion constraint cannot be built "
                  "CONCURRENTLY, attached USING INDEX or added NOT VALID.",
              std::move(fix));
        });
  }
};

}  // namespace

std::unique_ptr<Rule> MakeAddExclusionConstraint() {
  return std::make_unique<AddExclusionConstraint>();
}

}  // namespace zerodown::sql::rules
