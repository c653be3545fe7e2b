#include "zerodown/common/error.hpp"

namespace zerodown {

int ExitCode(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUsage:
    case ErrorKind::kInvalidMigration:
    case ErrorKind::kNotFound:
    case ErrorKind::kConflict:
      return 2;
    case ErrorKind::kConnection:
      return 3;
    case ErrorKind::kLockTimeout:
    case ErrorKind::kDatabase:
    case ErrorKind::kMigrationFailed:
    case ErrorKind::kInternal:
    case ErrorKind::kVerifyFailed:
      return 1;
  }
  return 1;
}

std::string_view KindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUsage:
      return "usage";
    case ErrorKind::kInvalidMigration:
      return "invalid_migration";
    case ErrorKind::kNotFound:
      return "not_found";
    case ErrorKind::kConnection:
      return "connection";
    case ErrorKind::kLockTimeout:
      return "lock_timeout";
    case ErrorKind::kDatabase:
      return "database";
    case ErrorKind::kConflict:
      return "conflict";
    case ErrorKind::kMigrationFailed:
      return "migration_failed";
    case ErrorKind::kInternal:
      return "internal";
    case ErrorKind::kVerifyFailed:
      return "verify_failed";
  }
  return "unknown";
}

Error Error::WithSqlstate(std::string sqlstate) const {
  Error copy = *this;
  copy.sqlstate_ = std::move(sqlstate);
  return copy;
}

Error Error::WithWhere(std::string where) const {
  Error copy = *this;
  copy.where_ = where_.empty() ? std::move(where) : std::move(where) + ", " + where_;
  return copy;
}

Error Error::WithFix(std::string fix) const {
  Error copy = *this;
  copy.fix_ = std::move(fix);
  return copy;
}

std::string Error::Describe() const {
  std::string text;
  if (!where_.empty()) text += where_ + ": ";
  text += message_;
  if (!text.empty() && text.back() != '.') text += '.';
  if (!sqlstate_.empty()) text += " (SQLSTATE " + sqlstate_ + ")";
  if (!fix_.empty()) text += " " + fix_;
  return text;
}

}  // namespace zerodown
