#include "engine/data_failure.hpp"

#include <fmt/format.h>

#include "engine/data_probe.hpp"
#include "engine/key_sql.hpp"

namespace zerodown::engine {

namespace {

// Rows evaluated at once by the pass that looks for the row a fill failed on; a failing chunk is
// then evaluated row by row, so this bounds that second step's round trips.
constexpr int kChunkRows = 1000;

constexpr std::string_view kAgain = "then run `zerodown start` again.";

std::string Shown(pg::Connection& conn, const std::optional<std::string>& value) {
  return value ? conn.Literal(*value) : "NULL";
}

// "id = 3", or "(tenant, id) = (7, 3)" for a composite key.
std::string KeyText(const DataProbe& probe, const pg::Rows& rows, int row, int first) {
  std::size_t width = probe.key_columns.size();
  std::string names;
  std::string values;
  for (std::size_t i = 0; i < width; ++i) {
    names += (i ? ", " : "") + probe.key_columns[i];
    // Keys as text, unquoted: what a user types after WHERE for the usual integer key.
    values += (i ? ", " : "") + rows.Optional(row, first + static_cast<int>(i)).value_or("NULL");
  }
  return width == 1 ? names + " = " + values : "(" + names + ") = (" + values + ")";
}

// "m1.json, operation 2 (alter_column), table "items", column "code"" (or columns "a", "b").
std::string FromFile(const DataProbe& probe, const std::vector<std::string>& columns) {
  std::string names;
  for (const auto& c : columns) names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", c);
  return fmt::format("{}, table \"{}\", column{} {}", probe.where, probe.table_name,
                     columns.size() == 1 ? "" : "s", names);
}

Error UpFails(pg::Connection& conn, const DataProbe& probe, const ProbeCopy& copy,
              const std::string& key, const std::optional<std::string>& old, const Error& cause) {
  return Error(ErrorKind::kInvalidMigration,
               fmt::format("`up` ({}) cannot fill row {} of table \"{}\": its old value {} gives "
                           "\"{}\" (SQLSTATE {})",
                           copy.up, key, probe.table_name, Shown(conn, old), cause.message(),
                           cause.sqlstate()),
               fmt::format("Change `up` so that it handles every value the column holds (a "
                           "CASE that maps the values that do not convert), or correct row {} "
                           "before the migration; {}",
                           key, kAgain))
      .WithWhere(FromFile(probe, {copy.column}));
}

// One row of a kNotNull or kCheck statement: the key, each copy's old value, each new value.
Error FailingRow(pg::Connection& conn, const DataProbe& probe, DataCheckKind kind,
                 std::size_t index, const pg::Rows& rows) {
  int width = static_cast<int>(probe.key_columns.size());
  int copies = static_cast<int>(probe.copies.size());
  std::string key = KeyText(probe, rows, 0, 0);
  if (kind == DataCheckKind::kNotNull) {
    const ProbeCopy& copy = probe.copies.at(index);
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("row {} of table \"{}\" would hold NULL in column \"{}\", which the "
                             "new version declares NOT NULL: `up` ({}) gives NULL for its old "
                             "value {}",
                             key, probe.table_name, copy.column, copy.up,
                             Shown(conn, rows.Optional(0, width + static_cast<int>(index)))),
                 fmt::format("Give `up` a value for such rows (e.g. COALESCE({}, <default>)), or "
                             "fill them before the migration (UPDATE … WHERE {} IS NULL); {}",
                             copy.column, copy.column, kAgain))
        .WithWhere(FromFile(probe, {copy.column}));
  }
  const ProbeCheck& check = probe.checks.at(index);
  std::string values;
  std::vector<std::string> columns;
  for (int j = 0; j < copies; ++j) {
    const std::string& column = probe.copies[j].column;
    values += fmt::format("{}\"{}\" = {} (old value {})", j ? ", " : "", column,
                          Shown(conn, rows.Optional(0, width + copies + j)),
                          Shown(conn, rows.Optional(0, width + j)));
    columns.push_back(column);
  }
  return Error(ErrorKind::kInvalidMigration,
               fmt::format("row {} of table \"{}\" violates check constraint \"{}\" ({}) after "
                           "`up`: {}",
                           key, probe.table_name, check.name, check.expression, values),
               fmt::format("Correct the rows that violate it before the migration, or change "
                           "`up` so that it turns them into values the check allows; {}",
                           kAgain))
      .WithWhere(FromFile(probe, columns));
}

Error SharedValue(pg::Connection& conn, const DataProbe& probe, std::size_t index,
                  const pg::Rows& rows) {
  const ProbeUnique& unique = probe.uniques.at(index);
  int width = static_cast<int>(probe.key_columns.size());
  std::string values;
  for (std::size_t j = 0; j < unique.columns.size(); ++j) {
    values += fmt::format("{}\"{}\" = {}", j ? ", " : "", unique.columns[j],
                          Shown(conn, rows.Optional(0, 2 * width + static_cast<int>(j))));
  }
  return Error(ErrorKind::kInvalidMigration,
               fmt::format("rows {} and {} of table \"{}\" both hold {} after `up`: unique "
                           "constraint \"{}\" cannot hold",
                           KeyText(probe, rows, 0, 0), KeyText(probe, rows, 0, width),
                           probe.table_name, values, unique.name),
               fmt::format("Make the values distinct before the migration (or have `up` make "
                           "them distinct); {}",
                           kAgain))
      .WithWhere(FromFile(probe, unique.columns));
}

Error Describe(pg::Connection& conn, const DataProbe& probe, DataCheckKind kind, std::size_t index,
               const pg::Rows& rows) {
  return kind == DataCheckKind::kUnique ? SharedValue(conn, probe, index, rows)
                                        : FailingRow(conn, probe, kind, index, rows);
}

bool IsDataException(const Error& error) { return error.sqlstate().rfind("22", 0) == 0; }

// The first row, in key order, whose `up` fails for some copy: chunk by chunk, then row by row
// in the first chunk that fails. Read-only; each statement reads one chunk through the key.
std::optional<Error> FindUpFailure(pg::Connection& conn, const DataProbe& probe) {
  std::string table = conn.Ident(probe.schema, probe.table);
  KeySql key = BuildKeySql(conn, table, probe.key_columns);
  std::size_t width = probe.key_columns.size();
  std::string first_keys = fmt::format("SELECT {} FROM {} ORDER BY {} LIMIT {}", key.text_select,
                                       table, key.list, kChunkRows);
  std::string next_keys =
      fmt::format("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT {}", key.text_select, table,
                  key.Compare(">", 1), key.list, kChunkRows);
  std::string copies;
  for (const auto& c : probe.copies) copies += (copies.empty() ? "" : ", ") + conn.Ident(c.column);
  std::string chunk = fmt::format(
      "SELECT {} FROM {}", copies,
      NewRows(conn, probe, key.Compare(">=", 1) + " AND " + key.Compare("<=", width + 1)));
  std::vector<pg::Param> last;
  while (true) {
    pg::Rows keys = last.empty() ? conn.Exec(first_keys) : conn.Exec(next_keys, last);
    if (keys.empty()) return std::nullopt;
    std::vector<pg::Param> range;
    for (int row : {0, keys.size() - 1}) {
      for (std::size_t i = 0; i < width; ++i) range.emplace_back(keys.Text(row, i));
    }
    last.assign(range.begin() + static_cast<long>(width), range.end());
    if (conn.TryExec(chunk, range).ok()) continue;
    for (int row = 0; row < keys.size(); ++row) {
      std::vector<pg::Param> one;
      for (std::size_t i = 0; i < width; ++i) one.emplace_back(keys.Text(row, i));
      for (std::size_t j = 0; j < probe.copies.size(); ++j) {
        const ProbeCopy& copy = probe.copies[j];
        auto result =
            conn.TryExec(fmt::format("SELECT CAST(({}) AS {}), _zd_old_{} FROM {}", copy.up,
                                     copy.type, j, OldRows(conn, probe, key.Compare("=", 1))),
                         one);
        if (result.ok()) continue;
        pg::Rows old = conn.Exec(
            fmt::format("SELECT _zd_old_{} FROM {}", j, OldRows(conn, probe, key.Compare("=", 1))),
            one);
        return UpFails(conn, probe, copy, KeyText(probe, keys, row, 0),
                       old.empty() ? std::nullopt : old.Optional(0, 0), result.error());
      }
    }
  }
}

// The first of the probe's NOT NULL, check and unique statements that finds a row, run to the
// end (no timeout): the fill already failed on one of them.
std::optional<Error> FindConstraintFailure(pg::Connection& conn, const DataProbe& probe) {
  auto run = [&](DataCheckKind kind, std::size_t index) -> std::optional<Error> {
    auto rows = conn.TryExec(DataCheckSql(conn, probe, kind, index));
    if (!rows.ok()) {
      if (IsDataException(rows.error())) return FindUpFailure(conn, probe);
      return std::nullopt;
    }
    if (rows->empty()) return std::nullopt;
    return Describe(conn, probe, kind, index, *rows);
  };
  for (std::size_t j = 0; j < probe.copies.size(); ++j) {
    if (!probe.copies[j].not_null) continue;
    if (auto e = run(DataCheckKind::kNotNull, j)) return e;
  }
  for (std::size_t j = 0; j < probe.checks.size(); ++j) {
    if (auto e = run(DataCheckKind::kCheck, j)) return e;
  }
  for (std::size_t j = 0; j < probe.uniques.size(); ++j) {
    if (auto e = run(DataCheckKind::kUnique, j)) return e;
  }
  return std::nullopt;
}

}  // namespace

DataCheckOutcome RunDataCheck(pg::Connection& conn, const Action& action) {
  DataProbe probe = DataProbe::FromJson(action.detail.at("data_probe"));
  DataCheckKind kind = DataCheckKindFromName(action.detail.at("check").get<std::string>());
  auto index = action.detail.at("index").get<std::size_t>();
  auto rows = [&] {
    // READ ONLY: a check must never change anything, whatever `up` calls.
    pg::Transaction tx(conn, "BEGIN TRANSACTION READ ONLY");
    conn.Exec("SELECT set_config('statement_timeout', $1, true)",
              {fmt::format("{}s", kDataCheckTimeoutSeconds)});
    auto result = conn.TryExec(action.sql.at(0));
    tx.Rollback();
    return result;
  }();
  if (!rows.ok()) {
    if (IsDataException(rows.error())) {
      if (auto failure = FindUpFailure(conn, probe)) throw *failure;
    }
    // Cut off, or `up` calls something a read-only transaction refuses: the fill judges.
    return DataCheckOutcome::kSkipped;
  }
  if (rows->empty()) return DataCheckOutcome::kFits;
  throw Describe(conn, probe, kind, index, *rows);
}

std::optional<Error> ExplainDataFailure(pg::Connection& conn, const Action& failed,
                                        const Error& error) {
  if (!failed.detail.is_object() || !failed.detail.contains("data_probe")) return std::nullopt;
  bool data = IsDataException(error);
  if (!data && error.sqlstate().rfind("23", 0) != 0) return std::nullopt;
  DataProbe probe = DataProbe::FromJson(failed.detail.at("data_probe"));
  if (data) return FindUpFailure(conn, probe);
  return FindConstraintFailure(conn, probe);
}

}  // namespace zerodown::engine
