// Plain SQL DDL into the engine's operations (the pgroll-format migration the engine runs), so
// that `ALTER TABLE t ALTER COLUMN c TYPE bigint` runs online instead of rewriting the table
// under ACCESS EXCLUSIVE. Statements it cannot run online are refused with the reason, unless
// the caller allows blocking, in which case they run as given (an `sql` operation). It reads the
// parse tree only; it never connects to a database.
#pragma once

#include <string>

#include "zerodown/common/error.hpp"
#include "zerodown/model/operations.hpp"
#include "zerodown/sql/parse.hpp"

namespace zerodown::sql {

struct TranslateOptions {
  // Run statements zerodown cannot make online as they are (they may block the application).
  bool allow_blocking = false;
  // The schema the run migrates (--schema). Operations find their tables by name in it, so a
  // statement that names another schema is refused rather than run against this one.
  std::string schema = "public";
};

// The migration for a parsed SQL file, named after the file (its stem). kInvalidMigration, with
// where = "file:line:column", for a statement that cannot run online when blocking is not
// allowed, naming the statement and what to write instead.
Result<model::Migration> TranslateSql(const ParsedFile& file, const TranslateOptions& options);

// Reads, parses and translates `path`.
Result<model::Migration> TranslateSqlFile(const std::string& path, const TranslateOptions& options);

}  // namespace zerodown::sql
