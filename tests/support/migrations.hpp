// Test support for engine tests: the engine options every integration test runs with, a
// migration built from the JSON of its operations, and the smallest table to migrate.
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <string>

#include "support/database.hpp"
#include "zerodown/engine/engine.hpp"
#include "zerodown/engine/state.hpp"
#include "zerodown/model/migration_reader.hpp"

namespace zerodown::testing {

// A short lock_timeout and small batches: lock waits show quickly and backfills take many
// batches even on small tables.
inline engine::EngineOptions FastEngineOptions() {
  engine::EngineOptions options;
  options.lock.lock_timeout = std::chrono::milliseconds(200);
  options.backfill.chunk_time = std::chrono::milliseconds(20);
  return options;
}

// The migration `name` whose operations are `operations` (comma-separated JSON objects).
inline model::Migration ParseOperations(const std::string& name, const std::string& operations) {
  std::string json = fmt::format(R"zd({{"name": "{}", "operations": [{}]}})zd", name, operations);
  return model::ParseMigration(json, model::Format::kJson, name + ".json").ValueOrThrow();
}

// A fresh database holding `accounts (id int PRIMARY KEY, balance int NOT NULL)` with ids 1 to
// `rows` at balance 0, analyzed, and zerodown's state tables.
inline std::string ZeroBalanceAccounts(int rows) {
  std::string db = FreshDatabase();
  pg::Connection conn = Connect(db);
  conn.Run(fmt::format(
      "CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);"
      "INSERT INTO accounts SELECT g, 0 FROM generate_series(1, {}) g; ANALYZE accounts;",
      rows));
  engine::State(conn).Init();
  return db;
}

}  // namespace zerodown::testing
