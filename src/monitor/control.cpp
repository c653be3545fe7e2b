#include "zerodown/monitor/control.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <cstdlib>
#include <utility>

namespace zerodown::monitor {

namespace {

constexpr std::string_view kCreateSql = R"sql(
CREATE SCHEMA IF NOT EXISTS zerodown;
CREATE TABLE IF NOT EXISTS zerodown.control (
  schema text NOT NULL,
  key text NOT NULL,
  value text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (schema, key)
);
)sql";

// Splits "64MB" into 64 and "mb" (lower case, spaces dropped). False if there is no number.
bool SplitNumber(const std::string& text, double* number, std::string* unit) {
  std::string compact;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) compact += c;
  }
  if (compact.empty()) return false;
  char* end = nullptr;
  *number = std::strtod(compact.c_str(), &end);
  if (end == compact.c_str() || *number < 0) return false;
  unit->clear();
  for (const char* p = end; *p; ++p) *unit += static_cast<char>(std::tolower(*p));
  return true;
}

std::optional<double> SecondsPerUnit(const std::string& unit) {
  static const std::array<std::pair<const char*, double>, 8> kUnits = {{{"ms", 0.001},
                                                                        {"s", 1},
                                                                        {"sec", 1},
                                                                        {"secs", 1},
                                                                        {"m", 60},
                                                                        {"min", 60},
                                                                        {"h", 3600},
                                                                        {"hour", 3600}}};
  for (const auto& [name, factor] : kUnits) {
    if (unit == name) return factor;
  }
  return std::nullopt;
}

std::optional<double> BytesPerUnit(const std::string& unit) {
  static const std::array<std::pair<const char*, double>, 9> kUnits = {
      {{"", 1},
       {"b", 1},
       {"kb", 1024.0},
       {"k", 1024.0},
       {"mb", 1024.0 * 1024},
       {"m", 1024.0 * 1024},
       {"gb", 1024.0 * 1024 * 1024},
       {"g", 1024.0 * 1024 * 1024},
       {"tb", 1024.0 * 1024 * 1024 * 1024}}};
  for (const auto& [name, factor] : kUnits) {
    if (unit == name) return factor;
  }
  return std::nullopt;
}

}  // namespace

Result<LagLimit> ParseLagLimit(const std::string& text) {
  double number = 0;
  std::string unit;
  Error bad(ErrorKind::kUsage, fmt::format("\"{}\" is not a replication lag limit", text),
            "Give a size (64MB, 512kB, 1GB, or bytes) or a duration (30s, 500ms, 2min).");
  if (!SplitNumber(text, &number, &unit)) return bad;
  LagLimit limit;
  // "m" alone is ambiguous; it reads as megabytes, as in PostgreSQL's own size settings.
  if (auto bytes = BytesPerUnit(unit)) {
    limit.bytes = static_cast<std::int64_t>(number * *bytes);
  } else if (auto seconds = SecondsPerUnit(unit)) {
    limit.seconds = number * *seconds;
  } else {
    return bad;
  }
  return limit;
}

Result<std::chrono::milliseconds> ParseChunkTime(const std::string& text) {
  double number = 0;
  std::string unit;
  Error bad(ErrorKind::kUsage, fmt::format("\"{}\" is not a chunk time", text),
            "Give milliseconds between 5 and 10000: 200ms, 1s, or 200.");
  if (!SplitNumber(text, &number, &unit)) return bad;
  if (unit.empty()) unit = "ms";
  auto seconds = SecondsPerUnit(unit);
  if (!seconds) return bad;
  auto ms = static_cast<std::int64_t>(number * *seconds * 1000 + 0.5);
  if (ms < 5 || ms > 10000) return bad;
  return std::chrono::milliseconds(ms);
}

namespace {

bool IsTrue(const std::string& value) { return value == "true" || value == "on" || value == "1"; }

}  // namespace

ControlValues ParseControlRows(const std::map<std::string, std::string>& rows) {
  ControlValues values;
  if (auto it = rows.find(std::string(kPausedKey)); it != rows.end()) {
    values.paused = IsTrue(it->second);
  }
  if (auto it = rows.find(std::string(kCutoverPostponedKey)); it != rows.end()) {
    values.cutover_postponed = IsTrue(it->second);
  }
  if (auto it = rows.find(std::string(kChunkTimeKey)); it != rows.end()) {
    if (auto ms = ParseChunkTime(it->second)) values.chunk_time = *ms;
  }
  if (auto it = rows.find(std::string(kMaxLagKey)); it != rows.end()) {
    if (auto limit = ParseLagLimit(it->second)) {
      values.max_lag_bytes = limit->bytes;
      values.max_lag_seconds = limit->seconds;
    }
  }
  return values;
}

void EnsureControlTable(pg::Connection& conn) {
  bool exists = !conn.Exec("SELECT to_regclass('zerodown.control')").IsNull(0, 0);
  if (exists) return;
  conn.Run(kCreateSql);
}

Status SetControl(pg::Connection& conn, const std::string& schema, const std::string& key,
                  const std::string& value) {
  if (key == kPausedKey) {
    if (value != "true" && value != "false") {
      return Error(ErrorKind::kUsage, "paused must be true or false",
                   "Use `zerodown pause` and `zerodown resume`.");
    }
  } else if (key == kCutoverPostponedKey) {
    if (value != "true" && value != "false") {
      return Error(ErrorKind::kUsage, "cutover-postponed must be true or false",
                   "Use `zerodown postpone-cutover` and `zerodown cutover`.");
    }
  } else if (key == kChunkTimeKey) {
    if (auto parsed = ParseChunkTime(value); !parsed) return parsed.error();
  } else if (key == kMaxLagKey) {
    if (auto parsed = ParseLagLimit(value); !parsed) return parsed.error();
  } else {
    return Error(ErrorKind::kUsage, fmt::format("unknown setting \"{}\"", key),
                 "Settings a running migration accepts: chunk-time=…, max-lag=….");
  }
  EnsureControlTable(conn);
  conn.Exec(
      "INSERT INTO zerodown.control (schema, key, value) VALUES ($1, $2, $3) "
      "ON CONFLICT (schema, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
      {schema, key, value});
  return Status::Ok();
}

void ClearControl(pg::Connection& conn, const std::string& schema, const std::string& key) {
  if (conn.Exec("SELECT to_regclass('zerodown.control')").IsNull(0, 0)) return;
  conn.Exec("DELETE FROM zerodown.control WHERE schema = $1 AND key = $2", {schema, key});
}

ControlValues ReadControl(pg::Connection& conn, const std::string& schema) {
  if (conn.Exec("SELECT to_regclass('zerodown.control')").IsNull(0, 0)) return {};
  pg::Rows rows = conn.Exec("SELECT key, value FROM zerodown.control WHERE schema = $1", {schema});
  std::map<std::string, std::string> map;
  for (int i = 0; i < rows.size(); ++i) map[rows.Text(i, 0)] = rows.Text(i, 1);
  return ParseControlRows(map);
}

}  // namespace zerodown::monitor
