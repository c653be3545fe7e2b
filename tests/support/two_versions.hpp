// Test support for expand/contract tests: the old and the new application version as two
// connections (the old on the physical tables, the new on the migration's views), steps run
// through either with the result they must give, a database of its own per case, and one case's
// migration driven through start and complete or rollback.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/database.hpp"
#include "support/migrations.hpp"
#include "zerodown/common/progress.hpp"
#include "zerodown/engine/engine.hpp"
#include "zerodown/engine/state.hpp"

namespace zerodown::testing {

enum class Who { kOld, kNew };
constexpr Who kOld = Who::kOld;
constexpr Who kNew = Who::kNew;

// SQL run through one version; `expect` is the result as "a|b;c|d" (NULL for null), "*" to only
// require success, or "!SQLSTATE" / "!SQLSTATE name" when it must fail with that code (and a
// message naming `name`).
struct Step {
  Who who;
  std::string sql;
  std::string expect = "*";
};

// A database of its own per (case, phase): the cases share one cluster, and FreshDatabase()
// derives names from the test name, which parameterised names would truncate into collisions.
inline std::string Database(const std::string& name) {
  auto& cluster = testing::SharedCluster();
  pg::Connection admin = testing::Connect(cluster.ConnInfo("postgres"));
  admin.Exec("DROP DATABASE IF EXISTS " + admin.Ident(name) + " WITH (FORCE)");
  return cluster.CreateDatabase(name);
}

inline std::string RowsText(const pg::Rows& rows) {
  std::string text;
  for (int r = 0; r < rows.size(); ++r) {
    if (r) text += ";";
    for (int c = 0; c < rows.columns(); ++c) {
      if (c) text += "|";
      text += rows.IsNull(r, c) ? "NULL" : rows.Text(r, c);
    }
  }
  return text;
}

// The two application versions: the old one on the physical tables, the new one on the views.
struct Versions {
  Versions(const std::string& db, const std::string& version)
      : old_app(testing::Connect(db)), new_app(testing::Connect(db)) {
    old_app.Exec("SELECT set_config('search_path', 'public', false)");
    new_app.Exec("SELECT set_config('search_path', $1, false)", {version});
  }
  void Run(const std::vector<Step>& steps, const std::string& phase) {
    for (const auto& step : steps) {
      pg::Connection& conn = step.who == kOld ? old_app : new_app;
      std::string where =
          fmt::format("{}, {} version: {}", phase, step.who == kOld ? "old" : "new", step.sql);
      auto result = conn.TryExec(step.sql);
      if (!step.expect.empty() && step.expect[0] == '!') {
        std::string state = step.expect.substr(1, 5);
        std::string name = step.expect.size() > 7 ? step.expect.substr(7) : "";
        EXPECT_FALSE(result.ok()) << where << " should fail with " << step.expect;
        if (result.ok()) continue;
        EXPECT_EQ(result.error().sqlstate(), state) << where << ": " << result.error().Describe();
        EXPECT_NE(result.error().Describe().find(name), std::string::npos)
            << where << ": the error names the constraint: " << result.error().Describe();
        continue;
      }
      if (!result.ok()) {
        ADD_FAILURE() << where << " failed: " << result.error().Describe();
        continue;
      }
      if (step.expect != "*") {
        EXPECT_EQ(RowsText(*result), step.expect) << where;
      }
    }
  }
  pg::Connection old_app;
  pg::Connection new_app;
};

// A database of its own named `name`, with `setup` run in it and zerodown's state tables.
inline std::string PreparedDatabase(const std::string& name, const std::string& setup) {
  std::string db = Database(name);
  pg::Connection conn = testing::Connect(db);
  conn.Run(setup);
  engine::State(conn).Init();
  return db;
}

// The database of a parameterised case `c` (its `name` and its `setup`, run after the file's
// `base_setup`), named for what the test does with it: "_c" to complete, "_r" to roll back.
template <typename Case>
std::string CaseDatabase(const Case& c, std::string_view base_setup, const std::string& suffix) {
  return PreparedDatabase(c.name + suffix, std::string(base_setup) + c.setup);
}

// One case's migration on its database, with the options every integration test runs with:
// started with steps through both versions, then completed (the versions stay open for the
// steps after it) or rolled back (their connections closed first, as an application leaves a
// version it no longer uses).
class CaseRun {
 public:
  explicit CaseRun(const std::string& db,
                   const engine::EngineOptions& options = FastEngineOptions())
      : db_(db), conn_(testing::Connect(db)), engine_(conn_, options, progress_) {}

  // Starts `operations` as migration `name`, checks it is active, and runs `after_start`.
  void Start(const std::string& name, const std::string& operations,
             const std::vector<Step>& after_start = {}) {
    auto record = engine_.Start(ParseOperations(name, operations));
    EXPECT_EQ(record.phase, engine::MigrationPhase::kActive) << name;
    version_ = record.plan.version_schema;
    apps_.emplace(db_, version_);
    apps_->Run(after_start, "after start");
  }
  // Starts a parameterised case: its `operations` as migration `name`, then its `after_start`.
  template <typename Case>
  void Start(const Case& c) {
    Start(c.name, c.operations, c.after_start);
  }
  // Completes, then runs `after` through both versions.
  void Complete(const std::vector<Step>& after = {}) {
    engine_.Complete();
    Steps(after, "after complete");
  }
  // Runs `steps` through both versions, as they are after start or complete.
  void Steps(const std::vector<Step>& steps, const std::string& phase) { apps_->Run(steps, phase); }
  // Rolls back, then runs `after` through the old version on the physical tables.
  void Rollback(const std::vector<Step>& after = {}) {
    apps_.reset();
    engine_.Rollback();
    Versions(db_, "public").Run(after, "after rollback");
  }

  pg::Connection& conn() { return conn_; }
  const std::string& version() const { return version_; }

 private:
  std::string db_;
  pg::Connection conn_;
  SilentProgress progress_;
  engine::Engine engine_;
  std::string version_;
  std::optional<Versions> apps_;
};

}  // namespace zerodown::testing
