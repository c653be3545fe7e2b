// Errors and results shared by every module: one registry of error kinds with stable codes and
// exit codes, an Error value that carries what failed and how to fix it, and Result<T> for
// failures a caller is expected to handle. It does not print or log anything.
#pragma once

#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace zerodown {

// Stable kinds; the numeric code is part of `--json` output and must never be renumbered.
enum class ErrorKind {
  kUsage = 1,             // bad command line
  kInvalidMigration = 2,  // the migration file is malformed or names something that is wrong
  kNotFound = 3,          // a table, column, schema or migration does not exist
  kConnection = 4,        // cannot reach or log in to the server
  kLockTimeout = 5,       // a lock could not be had within lock_timeout after every retry
  kDatabase = 6,          // the server refused a statement
  kConflict = 7,          // another zerodown holds the database, or the state forbids the action
  kMigrationFailed = 8,   // a migration step failed and was rolled back
  kInternal = 9,          // a bug in zerodown
  kVerifyFailed = 10,     // `verify` found rows whose copy differs from what it should hold
};

// Exit codes documented in docs/cli.md: 0 ok, 1 migration failed (or verify found differences),
// 2 bad input, 3 cannot connect.
int ExitCode(ErrorKind kind);
std::string_view KindName(ErrorKind kind);

// A failure with enough context for a one-paragraph message: what failed, where, and the fix.
// Thrown (it is an exception) when it ends the command; returned inside Result<T> otherwise.
class Error : public std::exception {
 public:
  Error(ErrorKind kind, std::string message, std::string fix = {})
      : kind_(kind), message_(std::move(message)), fix_(std::move(fix)) {}

  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  const std::string& fix() const { return fix_; }
  const std::string& sqlstate() const { return sqlstate_; }
  const std::string& where() const { return where_; }

  // Builders that return a copy with one more piece of context.
  Error WithSqlstate(std::string sqlstate) const;
  Error WithWhere(std::string where) const;  // "file.yaml, operation 2 (alter_column)"
  Error WithFix(std::string fix) const;

  // "where: message. fix" in one paragraph, as shown to the user.
  std::string Describe() const;
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  ErrorKind kind_;
  std::string message_;
  std::string fix_;
  std::string sqlstate_;
  std::string where_;
};

// A value or the Error that prevented it. Expected failures are values, not exceptions.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return Get(); }
  T& value() & { return Get(); }
  T&& value() && { return std::move(Get()); }
  const T& operator*() const& { return Get(); }
  const T* operator->() const { return &Get(); }
  const Error& error() const { return std::get<Error>(state_); }

  // The value, or throws the error: for callers where this failure ends the command.
  T ValueOrThrow() && {
    if (!ok()) throw std::get<Error>(state_);
    return std::move(std::get<T>(state_));
  }

 private:
  T& Get() {
    if (!ok()) throw std::get<Error>(state_);
    return std::get<T>(state_);
  }
  const T& Get() const {
    if (!ok()) throw std::get<Error>(state_);
    return std::get<T>(state_);
  }
  std::variant<T, Error> state_;
};

// Result<void>: success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static Status Ok() { return {}; }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }
  void ThrowIfError() const {
    if (!ok_) throw error_;
  }

 private:
  Error error_{ErrorKind::kInternal, ""};
  bool ok_ = true;
};

}  // namespace zerodown
