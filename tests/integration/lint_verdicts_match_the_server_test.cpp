// The lint corpus's labels are what PostgreSQL 15 does, so a verdict built on them is right for
// the table it names: every 15 case runs on a copy of tests/lint/corpus/schema.sql with rows, and
// its `effect` and `lock` must match what the server does. `fails`: a statement errors on the
// seeded rows. `rewrite`: a seeded table's relfilenode changes. `lock`: the strongest lock held on
// a seeded table, read from pg_locks before COMMIT. And `zerodown lint --postgres-url` judges a
// type change or a domain column by what the server holds, exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "support/database.hpp"
#include "support/lint_corpus.hpp"
#include "zerodown/sql/parse.hpp"

namespace zerodown::sql {
namespace {

using zerodown::testing::ReadText;
std::filesystem::path CorpusDir() { return zerodown::testing::LintCorpusDir(); }

// pg_locks mode -> the corpus's lock name, strongest last.
constexpr std::array<std::pair<const char*, const char*>, 8> kModes = {{
    {"AccessShareLock", "ACCESS SHARE"},
    {"RowShareLock", "ROW SHARE"},
    {"RowExclusiveLock", "ROW EXCLUSIVE"},
    {"ShareUpdateExclusiveLock", "SHARE UPDATE EXCLUSIVE"},
    {"ShareLock", "SHARE"},
    {"ShareRowExclusiveLock", "SHARE ROW EXCLUSIVE"},
    {"ExclusiveLock", "EXCLUSIVE"},
    {"AccessExclusiveLock", "ACCESS EXCLUSIVE"},
}};

// The seeded tables (relkind 'r') or indexes ('i'): oid -> relfilenode.
std::map<std::string, std::string> FileNodes(pg::Connection& conn, const char* relkind = "r") {
  auto rows = conn.Exec(
      "SELECT oid::text, relfilenode::text FROM pg_class "
      "WHERE relkind = $1::\"char\" AND relnamespace = 'public'::regnamespace",
      {std::string(relkind)});
  std::map<std::string, std::string> nodes;
  for (int i = 0; i < rows.size(); ++i) nodes[rows.Text(i, 0)] = rows.Text(i, 1);
  return nodes;
}

// The strongest lock this session holds on one of `tables`, "none" without one.
std::string StrongestLock(pg::Connection& conn, const std::map<std::string, std::string>& tables) {
  std::string oids = "{";
  for (const auto& [oid, node] : tables) oids += (oids.size() > 1 ? "," : "") + oid;
  auto rows = conn.Exec(
      "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND granted "
      "AND relation = ANY($1::oid[])",
      {oids + "}"});
  int strongest = -1;
  for (int i = 0; i < rows.size(); ++i) {
    for (int m = 0; m < static_cast<int>(kModes.size()); ++m) {
      if (rows.Text(i, 0) == kModes[m].first) strongest = std::max(strongest, m);
    }
  }
  return strongest < 0 ? "none" : kModes[strongest].second;
}

// True when some relation in `after` is new or has a new relfilenode.
bool Rebuilt(const std::map<std::string, std::string>& before,
             const std::map<std::string, std::string>& after) {
  for (const auto& [oid, node] : after) {
    auto it = before.find(oid);
    if (it == before.end() || it->second != node) return true;
  }
  return false;
}

// A case that may run inside one BEGIN ... COMMIT (no transaction control, nothing CONCURRENTLY,
// no VACUUM), so its locks can be read before they are released.
bool Wrappable(const ParsedFile& file) {
  for (const Statement& statement : file.statements) {
    std::string text(statement.text);
    std::transform(text.begin(), text.end(), text.begin(), ::toupper);
    if (statement.kind == "TransactionStmt" || statement.kind == "VacuumStmt" ||
        text.find("CONCURRENTLY") != std::string::npos) {
      return false;
    }
  }
  return true;
}

TEST(LintCorpusOnServer, LockAndEffectLabelsAreWhatPostgresDoes) {
  const std::string template_info = testing::FreshDatabase();
  {
    pg::Connection conn = testing::Connect(template_info);
    conn.Run(ReadText(CorpusDir() / "schema.sql"));
  }
  const std::string template_name = testing::Connect(template_info).Database();
  pg::Connection admin = testing::Connect(testing::SharedCluster().ConnInfo("postgres"));
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CorpusDir())) {
    if (entry.path().extension() != ".sql" || entry.path().stem() == "schema") continue;
    const std::string text = ReadText(entry.path());
    const auto header = zerodown::testing::CorpusHeader(text);
    if (header.at("pg-version") != "15") continue;  // the server is PostgreSQL 15
    const std::string name = entry.path().stem().string();
    SCOPED_TRACE(name);
    auto parsed = ParseSql(name + ".sql", text);
    ASSERT_TRUE(parsed.ok());

    admin.Exec("DROP DATABASE IF EXISTS lint_case WITH (FORCE)");
    admin.Exec("CREATE DATABASE lint_case TEMPLATE " + admin.Ident(template_name));
    pg::Connection conn = testing::Connect(testing::SharedCluster().ConnInfo("lint_case"));
    const auto before = FileNodes(conn);
    const bool wrapped = Wrappable(*parsed);
    if (wrapped) conn.Exec("BEGIN");
    bool failed = false;
    for (const Statement& statement : parsed->statements) {
      if (!conn.TryExec(statement.text).ok()) {
        failed = true;
        break;
      }
    }
    std::string lock = "?";
    if (wrapped && !failed) {
      lock = StrongestLock(conn, before);
    }
    if (conn.InTransaction()) conn.Exec(failed ? "ROLLBACK" : "COMMIT");
    // Only the seeded tables count: a table the case creates is new, not rewritten.
    std::map<std::string, std::string> after;
    for (const auto& [oid, node] : FileNodes(conn)) {
      if (before.count(oid)) after[oid] = node;
    }
    const bool rewritten = Rebuilt(before, after);

    const std::string effect = header.at("effect");
    EXPECT_EQ(failed, effect == "fails") << "effect " << effect;
    if (!failed) {
      EXPECT_EQ(rewritten, effect == "rewrite") << "effect " << effect;
    }
    if (lock != "?") {
      EXPECT_EQ(lock, header.at("lock"));
    }
    ++checked;
  }
  EXPECT_GE(checked, 80);
}

// `zerodown --postgres-url URL lint FILE`: the finding for `sql` on the seeded schema, as
// "severity rule-id" lines, and the exit code.
int LintAgainst(const std::string& conninfo, const std::string& sql, std::string* out) {
  const auto path = std::filesystem::temp_directory_path() / "zerodown_lint_server_case.sql";
  std::ofstream(path) << sql;
  return testing::RunZerodown(
      "--postgres-url " + testing::Quoted(conninfo) + " lint " + testing::Quoted(path.string()),
      out);
}

TEST(LintWithPostgresUrl, TheCurrentColumnTypeDecidesExactly) {
  const std::string conninfo = testing::FreshDatabase();
  testing::Connect(conninfo).Run(ReadText(CorpusDir() / "schema.sql"));
  std::string out;
  // orders.note is varchar(50): longer is catalog-only, shorter rewrites.
  EXPECT_EQ(LintAgainst(conninfo, "ALTER TABLE orders ALTER COLUMN note TYPE varchar(100);", &out),
            0)
      << out;
  EXPECT_EQ(out.find("column-type-rewrite"), std::string::npos) << out;
  EXPECT_EQ(LintAgainst(conninfo, "ALTER TABLE orders ALTER COLUMN note TYPE text;", &out), 0)
      << out;
  EXPECT_EQ(
      LintAgainst(conninfo, "ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2);", &out), 0)
      << out;
  EXPECT_EQ(LintAgainst(conninfo, "ALTER TABLE orders ALTER COLUMN note TYPE varchar(20);", &out),
            1)
      << out;
  EXPECT_NE(out.find("error column-type-rewrite"), std::string::npos) << out;
  EXPECT_EQ(
      LintAgainst(conninfo, "ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,4);", &out), 1)
      << out;
  // Without the server the same widening depends on a type zerodown has not seen: info only.
  const auto path = std::filesystem::temp_directory_path() / "zerodown_lint_no_server.sql";
  std::ofstream(path) << "ALTER TABLE orders ALTER COLUMN note TYPE varchar(100);";
  EXPECT_EQ(testing::RunZerodown("lint " + testing::Quoted(path.string()), &out), 0) << out;
  EXPECT_NE(out.find("info column-type-rewrite"), std::string::npos) << out;
}

TEST(LintWithPostgresUrl, KnowsWhichDomainsHaveConstraints) {
  const std::string conninfo = testing::FreshDatabase();
  testing::Connect(conninfo).Run(ReadText(CorpusDir() / "schema.sql"));
  std::string out;
  EXPECT_EQ(LintAgainst(conninfo, "ALTER TABLE orders ADD COLUMN points positive_int;", &out), 1)
      << out;
  EXPECT_NE(out.find("error add-column-constrained-domain"), std::string::npos) << out;
  EXPECT_EQ(LintAgainst(conninfo, "ALTER TABLE orders ADD COLUMN label plain_label;", &out), 0)
      << out;
  EXPECT_EQ(out.find("add-column-constrained-domain"), std::string::npos) << out;
}

}  // namespace
}  // namespace zerodown::sql
