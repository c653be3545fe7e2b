// A thin RAII layer over libpq: connections, results, transactions and quoting. Every value goes
// to the server as a parameter and every identifier through PQescapeIdentifier; there is no
// function here that pastes a value into SQL text. It knows nothing of migrations.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zerodown/common/error.hpp"
#include "zerodown/pg/own_transactions.hpp"

namespace zerodown::pg {

// A query parameter: std::nullopt is SQL NULL; everything else is sent as text.
using Param = std::optional<std::string>;

// The rows of a finished statement. Owns the PGresult.
class Rows {
 public:
  explicit Rows(PGresult* result) : result_(result, &PQclear) {}

  int size() const { return PQntuples(result_.get()); }
  bool empty() const { return size() == 0; }
  int columns() const { return PQnfields(result_.get()); }
  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  // Text of a field; "" for NULL (use IsNull or Optional when the difference matters).
  std::string Text(int row, int column) const;
  std::optional<std::string> Optional(int row, int column) const;
  std::int64_t Int(int row, int column) const;
  double Double(int row, int column) const;
  bool Bool(int row, int column) const;  // PostgreSQL's 't' / 'f'
  // Rows affected by INSERT/UPDATE/DELETE/COPY, 0 otherwise.
  std::int64_t Affected() const;

 private:
  std::shared_ptr<PGresult> result_;
};

// One libpq connection. Movable, not copyable; closes on destruction.
class Connection {
 public:
  // Connects with a libpq URL or conninfo; "" uses the PG* environment variables and .pgpass, as
  // psql does. Throws Error(kConnection) with the server's reason and a fix.
  static Connection Open(const std::string& conninfo,
                         std::string_view application_name = "zerodown");

  // A second session to the same server and database as this one, with the same user and
  // options (read back from libpq, password included), for work that runs beside it.
  Connection OpenAnother(std::string_view application_name) const;

  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;
  ~Connection() = default;

  // Runs one statement with parameters ($1, $2…). Throws Error(kDatabase) carrying the SQLSTATE,
  // the server's message, detail and hint.
  Rows Exec(std::string_view sql, const std::vector<Param>& params = {});
  // Exec through a statement this connection prepares the first time it sees `sql` (named,
  // kept for the session): the parse happens once, and under plan_cache_mode =
  // force_generic_plan so does the planning, which is most of a catalog query's time. For the
  // reads a swap repeats under its lock after a first run before it.
  Rows ExecPrepared(std::string_view sql, const std::vector<Param>& params = {});
  // Runs one or more statements without parameters (the simple-query protocol), in one round
  // trip; returns what the last one returned.
  Rows Run(std::string_view sql);
  // Like Exec but returns the Error instead of throwing; for callers that expect failures.
  Result<Rows> TryExec(std::string_view sql, const std::vector<Param>& params = {});

  // "name" quoted as an identifier by libpq; "schema"."name" for the two-argument form.
  std::string Ident(std::string_view name) const;
  std::string Ident(std::string_view schema, std::string_view name) const;
  // A string literal quoted by libpq, for the few places SQL takes no parameters (DDL options,
  // COMMENT ON, function bodies).
  std::string Literal(std::string_view value) const;

  int ServerVersionNum() const { return PQserverVersion(conn_.get()); }
  int BackendPid() const { return PQbackendPID(conn_.get()); }
  std::string Database() const { return PQdb(conn_.get()); }
  bool InTransaction() const;
  // Asks the server to cancel the statement this connection is running (thread-safe).
  void Cancel() const;

  // Every statement text is passed to `hook` before it is sent (for --verbose).
  void SetStatementHook(std::function<void(std::string_view)> hook) { hook_ = std::move(hook); }
  // NOTICE and WARNING messages from the server go to `handler` (default: dropped).
  void SetNoticeHandler(std::function<void(std::string_view)> handler);

  // The transactions this process's own sessions ended on this connection's database
  // (own_transactions.hpp).
  TransactionCount OwnTransactions() const { return tally_ ? tally_->Count() : TransactionCount{}; }
  // This session stands in for the application (a load runner's client), not zerodown's own
  // work: its transactions are not counted as zerodown's.
  void CountAsApplication() { tally_.reset(); }

  PGconn* raw() const { return conn_.get(); }

 private:
  explicit Connection(PGconn* conn) : conn_(conn, &PQfinish) {}
  // Owns `raw`; throws Error(kConnection) "<failure>: <libpq's reason>" unless it connected.
  static Connection Established(PGconn* raw, std::string_view failure);
  Error ErrorFrom(const PGresult* result, std::string_view sql) const;
  // The rows of a statement that succeeded (owning `result`), or its error.
  Result<Rows> Outcome(PGresult* result, std::string_view sql) const;
  // Notes in the tally whether the command that answered `result` ended the session's
  // transaction, and how; `before` is the session's transaction status before it was sent.
  void Tally(PGTransactionStatusType before, PGresult* result) const;

  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
  std::function<void(std::string_view)> hook_;
  std::map<std::string, std::string, std::less<>> prepared_;  // statement text -> name
  std::shared_ptr<std::function<void(std::string_view)>> notice_handler_;
  std::shared_ptr<TransactionTally> tally_;
};

// BEGIN on construction; ROLLBACK on destruction unless Commit() ran.
class Transaction {
 public:
  explicit Transaction(Connection& conn, std::string_view begin = "BEGIN");
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  void Commit();
  void Rollback();

 private:
  Connection& conn_;
  bool open_ = true;
};

// Makes the session's transactions READ COMMITTED whatever the database's
// default_transaction_isolation says, so that each statement sees what committed before it. A
// zerodown transaction that waits for a lock relies on this: under REPEATABLE READ its snapshot,
// taken before the lock, would miss what committed while it waited (a swap would miss the last
// change-log entries). Statements that want a snapshot of their own BEGIN with one.
void UseReadCommitted(Connection& conn);

// SQLSTATE values zerodown reacts to.
inline constexpr std::string_view kLockNotAvailable = "55P03";
inline constexpr std::string_view kQueryCanceled = "57014";
inline constexpr std::string_view kDeadlockDetected = "40P01";
inline constexpr std::string_view kSerializationFailure = "40001";
inline constexpr std::string_view kReadOnlyTransaction = "25006";
inline constexpr std::string_view kUndefinedTable = "42P01";
inline constexpr std::string_view kUndefinedColumn = "42703";
inline constexpr std::string_view kUndefinedObject = "42704";
inline constexpr std::string_view kDuplicateObject = "42710";

}  // namespace zerodown::pg
