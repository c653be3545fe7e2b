// Live control of a running migration through the database it changes: `zerodown pause`,
// `resume`, `set`, `postpone-cutover` and `cutover` write rows of zerodown.control (schema, key,
// value, updated_at), and the throttler of the running migration reads them back (at most once a
// second). The database is the channel because it is the one thing the operator's shell and the
// migrating process are sure to share, on whatever host either runs. This module only reads and
// writes those rows; acting on them is throttler.hpp's job.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "zerodown/common/error.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::monitor {

// Keys of zerodown.control rows.
inline constexpr std::string_view kPausedKey = "paused";
inline constexpr std::string_view kChunkTimeKey = "chunk-time";
inline constexpr std::string_view kMaxLagKey = "max-lag";
// "true" while `zerodown postpone-cutover` holds the cut-over back (see cutover.hpp).
inline constexpr std::string_view kCutoverPostponedKey = "cutover-postponed";

// What the control rows of one schema ask for. Empty: not set, the command-line value holds.
struct ControlValues {
  bool paused = false;
  std::optional<std::chrono::milliseconds> chunk_time;
  std::optional<std::int64_t> max_lag_bytes;
  std::optional<double> max_lag_seconds;
  bool cutover_postponed = false;
};

// A `max-lag=` value: a size ("64MB", "512kB", "1GB", plain bytes) or a duration ("30s",
// "500ms", "2min"). Exactly one of the two is set.
struct LagLimit {
  std::optional<std::int64_t> bytes;
  std::optional<double> seconds;
};

// Parses "64MB" / "10s" style limits. Returns kUsage naming the accepted forms on bad input.
Result<LagLimit> ParseLagLimit(const std::string& text);
// Parses "200ms", "2s" or a plain number of milliseconds, within 5 ms .. 10 s (the range
// --chunk-time accepts).
Result<std::chrono::milliseconds> ParseChunkTime(const std::string& text);

// Turns rows (key → value) into ControlValues; unknown keys and values that do not parse are
// ignored, since a bad row must never stop a running migration (`set` validates before writing).
ControlValues ParseControlRows(const std::map<std::string, std::string>& rows);

// Creates schema zerodown and table zerodown.control if they are missing. Idempotent; takes
// the catalog locks of CREATE TABLE only when the table does not exist yet.
void EnsureControlTable(pg::Connection& conn);

// Upserts (schema, key) = value. Ensures the table first. `value` is checked by `key`'s parser
// and an unknown key or bad value is returned as kUsage before anything is written.
Status SetControl(pg::Connection& conn, const std::string& schema, const std::string& key,
                  const std::string& value);
// Deletes (schema, key): the command-line value holds again. No-op when absent.
void ClearControl(pg::Connection& conn, const std::string& schema, const std::string& key);

// The control values of `schema`; all empty when zerodown.control does not exist (it is never
// created by reading).
ControlValues ReadControl(pg::Connection& conn, const std::string& schema);

}  // namespace zerodown::monitor
