// Test support for engine tests: the engine options every integration test runs with, and a
// migration built from the JSON of its operations.
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <string>

#include "zerodown/engine/engine.hpp"
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

}  // namespace zerodown::testing
