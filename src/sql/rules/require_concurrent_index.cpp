// require-concurrent-index: CREATE INDEX, DROP INDEX and REINDEX without CONCURRENTLY lock the
// table for as long as the index takes to build or drop.
#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

class RequireConcurrentIndex final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    for (std::size_t i = 0; i < context.statements().size(); ++i) {
      const Statement& statement = *context.statements()[i].statement;
      const Json& node = Inner(statement.node);
      if (statement.kind == "IndexStmt" && !GetBool(node, "concurrent")) {
        const std::string table = RelationName(Get(node, "relation"));
        if (context.CreatedBefore(table, i)) continue;  // a new, empty table: nothing waits
        reporter.Add(statement, LocationOf(Get(node, "relation")),
                     "CREATE INDEX takes a SHARE lock on " + table +
                         " for the whole index build, which blocks INSERT, UPDATE and DELETE "
                         "(reads go on); on a large table that is minutes of failed writes.",
                     InsertAfterWord(statement.text, "INDEX", "CONCURRENTLY") +
                         ";\n-- outside any transaction block; if it fails it leaves an INVALID "
                         "index: DROP INDEX CONCURRENTLY it and run again");
      } else if (statement.kind == "DropStmt" && GetString(node, "removeType") == "OBJECT_INDEX" &&
                 !GetBool(node, "concurrent")) {
        reporter.Add(statement, -1,
                     "DROP INDEX takes an ACCESS EXCLUSIVE lock on the index's table, which "
                     "blocks every read and write of it, and waits behind every running query "
                     "on it while holding up the ones that arrive after.",
                     InsertAfterWord(statement.text, "INDEX", "CONCURRENTLY") +
                         ";\n-- one index per statement, no CASCADE, outside any transaction "
                         "block");
      } else if (statement.kind == "ReindexStmt") {
        CheckReindex(context, statement, node, reporter);
      }
    }
  }

 private:
  static void CheckReindex(const LintContext& context, const Statement& statement, const Json& node,
                           Reporter& reporter) {
    const bool concurrent = HasOption(Get(node, "params"), "concurrently");
    if (concurrent && context.pg_version() >= 12) return;
    std::string kind = GetString(node, "kind");  // REINDEX_OBJECT_TABLE
    if (kind.rfind("REINDEX_OBJECT_", 0) == 0) kind = kind.substr(15);
    const std::string target = Get(node, "relation").is_object()
                                   ? RelationName(Get(node, "relation"))
                                   : GetString(node, "name");
    const std::string message =
        concurrent ? "REINDEX CONCURRENTLY needs PostgreSQL 12; on " +
                         std::to_string(context.pg_version()) + " it is a syntax error."
                   : "REINDEX takes a SHARE lock on the table, which blocks INSERT, UPDATE and "
                     "DELETE, and an ACCESS EXCLUSIVE lock on each index it rebuilds, which "
                     "blocks every query that would use that index, for the whole rebuild.";
    std::string fix;
    if (context.pg_version() >= 12) {
      fix = "REINDEX " + kind + " CONCURRENTLY " + target + ";";
    } else {
      // Without the server zerodown does not know the index's definition: the copy's table
      // and columns are left for the user to fill in.
      const bool one = kind == "INDEX";
      const std::string old_index = one ? target : "<index>";
      fix = "-- before PostgreSQL 12, build a copy and swap it in" +
            std::string(one ? "" : " (for each index of " + target + ")") +
            ":\nCREATE INDEX CONCURRENTLY " + old_index + "_new ON " +
            (one ? std::string("<its table>") : target) +
            " (<its columns>);\nDROP INDEX CONCURRENTLY " + old_index + ";\nALTER INDEX " +
            old_index + "_new RENAME TO " + old_index + ";";
    }
    reporter.Add(statement, -1, message, fix);
  }

  RuleInfo info_{"require-concurrent-index", Severity::kError,
                 "CREATE INDEX / DROP INDEX / REINDEX without CONCURRENTLY block writes or reads "
                 "for the whole build"};
};

}  // namespace

std::unique_ptr<Rule> MakeRequireConcurrentIndex() {
  return std::make_unique<RequireConcurrentIndex>();
}

}  // namespace zerodown::sql::rules
