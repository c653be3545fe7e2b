#include "zerodown/pg/connection.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>

namespace zerodown::pg {

std::string Rows::Text(int row, int column) const {
  return {PQgetvalue(result_.get(), row, column),
          static_cast<std::size_t>(PQgetlength(result_.get(), row, column))};
}

std::optional<std::string> Rows::Optional(int row, int column) const {
  if (IsNull(row, column)) return std::nullopt;
  return Text(row, column);
}

std::int64_t Rows::Int(int row, int column) const {
  const char* text = PQgetvalue(result_.get(), row, column);
  std::int64_t value = 0;
  std::from_chars(text, text + PQgetlength(result_.get(), row, column), value);
  return value;
}

double Rows::Double(int row, int column) const {
  return std::strtod(PQgetvalue(result_.get(), row, column), nullptr);
}

bool Rows::Bool(int row, int column) const {
  return PQgetvalue(result_.get(), row, column)[0] == 't';
}

std::int64_t Rows::Affected() const {
  const char* text = PQcmdTuples(result_.get());
  std::int64_t value = 0;
  std::from_chars(text, text + std::char_traits<char>::length(text), value);
  return value;
}

namespace {

std::string Trimmed(const char* text) {
  std::string s = text ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The fix for a failed connection depends on why it failed; libpq only gives text.
std::string ConnectionFix(const std::string& reason) {
  if (reason.find("password") != std::string::npos) {
    return "Check the user and password in --postgres-url, PGPASSWORD or ~/.pgpass.";
  }
  if (reason.find("does not exist") != std::string::npos) {
    return "Create the database or user first, or name an existing one in --postgres-url.";
  }
  if (reason.find("No such file") != std::string::npos ||
      reason.find("Connection refused") != std::string::npos ||
      reason.find("could not translate host") != std::string::npos ||
      reason.find("timeout") != std::string::npos) {
    return "Check that the server is running and that host and port in --postgres-url (or "
           "PGHOST/PGPORT) are right.";
  }
  return "Check --postgres-url (a libpq URL such as postgres://user@host:5432/db, or a conninfo "
         "string) or the PG* environment variables.";
}

void ForwardNotice(void* arg, const char* message) {
  auto* handler = static_cast<std::function<void(std::string_view)>*>(arg);
  if (handler && *handler) (*handler)(Trimmed(message));
}

void DropNotice(void*, const char*) {}

std::vector<const char*> ParamValues(const std::vector<Param>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return values;
}

}  // namespace

Connection Connection::Open(const std::string& conninfo, std::string_view application_name) {
  // Keywords mode lets the application name ride along with any URL or conninfo string.
  std::string app(application_name);
  const char* keywords[] = {"dbname", "fallback_application_name", "connect_timeout", nullptr};
  const char* values[] = {conninfo.c_str(), app.c_str(), "10", nullptr};
  return Established(PQconnectdbParams(keywords, values, /*expand_dbname=*/1),
                     "cannot connect to PostgreSQL");
}

Connection Connection::Established(PGconn* raw, std::string_view failure) {
  Connection conn(raw);
  if (raw == nullptr) throw Error(ErrorKind::kConnection, "out of memory while connecting");
  if (PQstatus(raw) != CONNECTION_OK) {
    std::string reason = Trimmed(PQerrorMessage(raw));
    throw Error(ErrorKind::kConnection, fmt::format("{}: {}", failure, reason),
                ConnectionFix(reason));
  }
  PQsetNoticeProcessor(raw, &DropNotice, nullptr);
  conn.tally_ = TallyOf(raw);
  return conn;
}

Connection Connection::OpenAnother(std::string_view application_name) const {
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(PQconninfo(conn_.get()),
                                                                       &PQconninfoFree);
  if (!options) throw Error(ErrorKind::kConnection, "out of memory while connecting");
  std::string app(application_name);
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::string_view(o->keyword) == "application_name") continue;
    keywords.push_back(o->keyword);
    values.push_back(o->val);
  }
  keywords.push_back("application_name");
  values.push_back(app.c_str());
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  return Established(PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/0),
                     "cannot open another connection to PostgreSQL");
}

void Connection::SetNoticeHandler(std::function<void(std::string_view)> handler) {
  notice_handler_ = std::make_shared<std::function<void(std::string_view)>>(std::move(handler));
  PQsetNoticeProcessor(conn_.get(), &ForwardNotice, notice_handler_.get());
}

Error Connection::ErrorFrom(const PGresult* result, std::string_view sql) const {
  auto field = [&](int code) -> std::string {
    const char* value = result ? PQresultErrorField(result, code) : nullptr;
    return value ? value : "";
  };
  std::string message = field(PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty()) message = Trimmed(PQerrorMessage(conn_.get()));
  std::string detail = field(PG_DIAG_MESSAGE_DETAIL);
  if (!detail.empty()) message += " (" + detail + ")";
  std::string sqlstate = field(PG_DIAG_SQLSTATE);
  ErrorKind kind = sqlstate == kLockNotAvailable ? ErrorKind::kLockTimeout : ErrorKind::kDatabase;
  if (PQstatus(conn_.get()) == CONNECTION_BAD) kind = ErrorKind::kConnection;
  std::string hint = field(PG_DIAG_MESSAGE_HINT);
  Error error(kind, message, hint);
  std::string first_line(sql.substr(0, sql.find('\n')));
  if (first_line.size() > 120) first_line = first_line.substr(0, 117) + "...";
  error = error.WithWhere("while running `" + first_line + "`");
  return sqlstate.empty() ? error : error.WithSqlstate(sqlstate);
}

Result<Rows> Connection::Outcome(PGresult* result, std::string_view sql) const {
  ExecStatusType status = PQresultStatus(result);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Rows(result);
  Error error = ErrorFrom(result, sql);
  PQclear(result);
  return error;
}

void Connection::Tally(PGTransactionStatusType before, PGresult* result) const {
  if (!tally_) return;
  ExecStatusType status = PQresultStatus(result);
  bool failed = status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK;
  tally_->Note(before, PQtransactionStatus(conn_.get()), failed,
               result != nullptr ? PQcmdStatus(result) : nullptr);
}

Result<Rows> Connection::TryExec(std::string_view sql, const std::vector<Param>& params) {
  if (hook_) hook_(sql);
  std::string text(sql);
  std::vector<const char*> values = ParamValues(params);
  PGTransactionStatusType before = PQtransactionStatus(conn_.get());
  PGresult* result = PQexecParams(conn_.get(), text.c_str(), static_cast<int>(params.size()),
                                  nullptr, values.data(), nullptr, nullptr, 0);
  Tally(before, result);
  return Outcome(result, sql);
}

Rows Connection::Exec(std::string_view sql, const std::vector<Param>& params) {
  return TryExec(sql, params).ValueOrThrow();
}

Rows Connection::ExecPrepared(std::string_view sql, const std::vector<Param>& params) {
  auto found = prepared_.find(sql);
  if (found == prepared_.end()) {
    std::string name = "zd_prepared_" + std::to_string(prepared_.size());
    std::string text(sql);
    PGTransactionStatusType before = PQtransactionStatus(conn_.get());
    PGresult* prepared = PQprepare(conn_.get(), name.c_str(), text.c_str(),
                                   static_cast<int>(params.size()), nullptr);
    Tally(before, prepared);
    Outcome(prepared, sql).ValueOrThrow();
    found = prepared_.emplace(std::move(text), std::move(name)).first;
  }
  if (hook_) hook_(sql);
  std::vector<const char*> values = ParamValues(params);
  PGTransactionStatusType before = PQtransactionStatus(conn_.get());
  PGresult* result =
      PQexecPrepared(conn_.get(), found->second.c_str(), static_cast<int>(params.size()),
                     values.data(), nullptr, nullptr, 0);
  Tally(before, result);
  return Outcome(result, sql).ValueOrThrow();
}

Rows Connection::Run(std::string_view sql) {
  if (hook_) hook_(sql);
  std::string text(sql);
  PGTransactionStatusType before = PQtransactionStatus(conn_.get());
  if (PQsendQuery(conn_.get(), text.c_str()) == 0) throw ErrorFrom(nullptr, sql);
  std::optional<Error> first_error;
  std::optional<Rows> last;
  std::string last_tag;
  while (PGresult* result = PQgetResult(conn_.get())) {
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && !first_error) {
      first_error = ErrorFrom(result, sql);
    }
    last_tag = PQcmdStatus(result);
    last.emplace(result);  // owns it, and frees the one before
  }
  // Counted as one transaction at most, as the session stands after the last statement.
  if (tally_) {
    tally_->Note(before, PQtransactionStatus(conn_.get()), first_error.has_value(),
                 last_tag.c_str());
  }
  if (first_error) throw *first_error;
  if (!last) throw ErrorFrom(nullptr, sql);
  return std::move(*last);
}

std::string Connection::Ident(std::string_view name) const {
  char* quoted = PQescapeIdentifier(conn_.get(), name.data(), name.size());
  if (quoted == nullptr) {
    throw Error(ErrorKind::kUsage, "cannot quote identifier '" + std::string(name) + "'",
                "Identifiers must be valid text in the database encoding.");
  }
  std::string result(quoted);
  PQfreemem(quoted);
  return result;
}

std::string Connection::Ident(std::string_view schema, std::string_view name) const {
  return Ident(schema) + "." + Ident(name);
}

std::string Connection::Literal(std::string_view value) const {
  char* quoted = PQescapeLiteral(conn_.get(), value.data(), value.size());
  if (quoted == nullptr) {
    throw Error(ErrorKind::kUsage, "cannot quote literal",
                "Values must be valid text in the database encoding.");
  }
  std::string result(quoted);
  PQfreemem(quoted);
  return result;
}

bool Connection::InTransaction() const { return PQtransactionStatus(conn_.get()) != PQTRANS_IDLE; }

void Connection::Cancel() const {
  PGcancel* cancel = PQgetCancel(conn_.get());
  if (cancel == nullptr) return;
  char buffer[256];
  PQcancel(cancel, buffer, sizeof buffer);
  PQfreeCancel(cancel);
}

Transaction::Transaction(Connection& conn, std::string_view begin) : conn_(conn) {
  conn_.Exec(begin);
}

Transaction::~Transaction() {
  if (!open_) return;
  try {
    conn_.Exec("ROLLBACK");
  } catch (...) {  // NOLINT(bugprone-empty-catch): a failed rollback leaves nothing to undo
  }
}

void Transaction::Commit() {
  open_ = false;
  conn_.Exec("COMMIT");
}

void Transaction::Rollback() {
  open_ = false;
  conn_.Exec("ROLLBACK");
}

void UseReadCommitted(Connection& conn) {
  conn.Exec("SELECT set_config('default_transaction_isolation', 'read committed', false)");
}

}  // namespace zerodown::pg
