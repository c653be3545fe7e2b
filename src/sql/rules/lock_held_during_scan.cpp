// lock-held-during-scan: a transaction keeps every lock until COMMIT. VALIDATE CONSTRAINT scans
// the table under SHARE UPDATE EXCLUSIVE only, which is the point of NOT VALID; but after an
// earlier statement of the same transaction took a stronger lock on that table (the ADD
// CONSTRAINT ... NOT VALID itself: ACCESS EXCLUSIVE for a CHECK, SHARE ROW EXCLUSIVE for a
// foreign key), the scan runs under that lock and NOT VALID buys nothing. The same holds for a
// backfill (UPDATE or DELETE of every row) after an ALTER TABLE in the same transaction.
#include <cctype>

#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {

struct Held {
  LockLevel level = LockLevel::kNone;
  const Statement* statement = nullptr;
};

// True when `sql` has the keyword WHERE. The parser drops WHERE clauses (rules read DDL, not
// queries), so an UPDATE's bound is read from its text; a WHERE inside a string counts too, which
// errs toward silence.
bool HasWhere(std::string_view sql) {
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (std::size_t i = 0; i + 5 <= sql.size(); ++i) {
    if ((i > 0 && is_word(sql[i - 1])) || (i + 5 < sql.size() && is_word(sql[i + 5]))) continue;
    std::string word(sql.substr(i, 5));
    for (char& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (word == "WHERE") return true;
  }
  return false;
}

// The table a statement scans in full, and what the scan is, or "" when it does not.
std::pair<std::string, std::string> FullScan(const Statement& statement) {
  const Json& node = Inner(statement.node);
  if (statement.kind == "AlterTableStmt") {
    for (const Json* cmd : AlterTableCommands(statement.node)) {
      if (GetString(*cmd, "subtype") == "AT_ValidateConstraint") {
        return {RelationName(Get(node, "relation")),
                "VALIDATE CONSTRAINT " + QuoteIdent(GetString(*cmd, "name"))};
      }
    }
  }
  if ((statement.kind == "UpdateStmt" || statement.kind == "DeleteStmt") &&
      !HasWhere(statement.text)) {
    return {RelationName(Get(node, "relation")),
            statement.kind == "UpdateStmt" ? "an UPDATE of every row" : "a DELETE of every row"};
  }
  return {};
}

class LockHeldDuringScan final : public Rule {
 public:
  const RuleInfo& Info() const override { return info_; }

  void Check(const LintContext& context, Reporter& reporter) const override {
    int transaction = -1;
    std::map<std::string, Held> held;  // table -> strongest lock this transaction holds on it
    for (const StatementFacts& facts : context.statements()) {
      if (facts.transaction != transaction) {
        transaction = facts.transaction;
        held.clear();
      }
      if (transaction < 0) continue;
      const auto [table, scan] = FullScan(*facts.statement);
      if (!scan.empty()) {
        auto it = held.find(table);
        if (it != held.end() && it->second.level >= LockLevel::kShare) {
          Report(*facts.statement, table, scan, it->second, reporter);
        }
      }
      if (facts.lock.level == LockLevel::kNone) continue;
      Held& entry = held[facts.lock.table];
      if (facts.lock.level > entry.level) entry = {facts.lock.level, facts.statement};
    }
  }

 private:
  void Report(const Statement& statement, const std::string& table, const std::string& scan,
              const Held& lock, Reporter& reporter) const {
    std::string message = scan + " reads all of " + table + " while this transaction still holds " +
                          std::string(LockName(lock.level)) + " on it (taken on line " +
                          std::to_string(lock.statement->start.line) + "), which " +
                          std::string(LockBlocks(lock.level)) +
                          " until COMMIT: the scan runs under that lock.";
    std::string fix =
        "-- commit the statement that takes the lock first; run the scan in a "
        "transaction of its own:\n" +
        std::string(lock.statement->text) + ";\nCOMMIT;\n" + std::string(statement.text) + ";";
    // A whole-table UPDATE or DELETE is data work, not a schema change: after the COMMIT it runs
    // in batches, each its own short transaction (zerodown's backfill does that for UPDATEs).
    if (statement.kind == "UpdateStmt") {
      fix = "-- commit the ALTER first, then fill in batches, each its own short transaction:\n" +
            std::string(lock.statement->text) + ";\nCOMMIT;\n-- " + std::string(statement.text) +
            " WHERE <key> BETWEEN ... AND ...;";
    } else if (statement.kind == "DeleteStmt") {
      fix = "-- commit the ALTER first, then delete in batches, each its own short transaction:\n" +
            std::string(lock.statement->text) + ";\nCOMMIT;\n-- " + std::string(statement.text) +
            " WHERE <key> IN (SELECT <key> FROM " + table +
            " LIMIT 10000);  -- again until it deletes no row";
    }
    reporter.Add(statement, -1, std::move(message), std::move(fix));
  }

  RuleInfo info_{"lock-held-during-scan", Severity::kError,
                 "VALIDATE CONSTRAINT or a full-table UPDATE in the transaction that already "
                 "locked the table (NOT VALID + VALIDATE together) scans under that lock"};
};

}  // namespace

std::unique_ptr<Rule> MakeLockHeldDuringScan() { return std::make_unique<LockHeldDuringScan>(); }

}  // namespace zerodown::sql::rules
