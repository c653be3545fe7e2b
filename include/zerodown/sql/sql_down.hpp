// The way back for a `sql` operation written without `down`: where every statement of its `up`
// creates one new object that a single DROP removes (CREATE TABLE, TYPE, INDEX, VIEW, SEQUENCE,
// DOMAIN, SCHEMA, EXTENSION; ALTER TABLE … ADD COLUMN / ADD CONSTRAINT with a name), the down is
// those DROPs in reverse order; otherwise what `up` did stays after a rollback, and the caller is
// told which statement and why. Reads the parse tree only; never connects to a database.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "zerodown/common/error.hpp"
#include "zerodown/model/operations.hpp"

namespace zerodown::sql {

// A statement of a `sql` operation that a rollback leaves in place.
struct LeftBehind {
  std::size_t operation = 0;  // 1-based, as messages number operations
  std::string statement;      // its SQL, shortened for messages
  std::string reason;         // why zerodown cannot undo it
};

// Gives every `sql` operation that runs at start and has no `down` the DROPs that undo it, when
// each of its statements has one (SqlLeftBehind lists the others). An `up` that does not parse
// is kInvalidMigration naming the operation; nothing is changed then.
Status InferSqlDowns(model::Migration& migration);

// The statements of `sql` operations that a rollback cannot undo: those that run at start and
// have no `down`, not even an inferred one. For start's warning and rollback's message.
std::vector<LeftBehind> SqlLeftBehind(const model::Migration& migration);

// One indented line per statement: "  operation 2 (sql): `CREATE FUNCTION f() …` (why)".
std::string DescribeLeftBehind(const std::vector<LeftBehind>& left);

}  // namespace zerodown::sql
