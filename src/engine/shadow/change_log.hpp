// The change log of a shadow copy: a table of keys in write order, the triggers that fill it
// from the table being copied, and its pruning while the copy runs. Replaying it is the
// replayer's (replayer.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/shadow/context.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::engine::shadow {

// The statement-level trigger that logs a TRUNCATE beside the row trigger named `function`.
std::string TruncateTriggerName(const std::string& function);

// Drops the two triggers that fill the change log of `function` on `table` (quoted).
std::vector<std::string> DropLogTriggersSql(pg::Connection& conn, const std::string& function,
                                            const std::string& table);

// A change log: a table of keys in write order and the triggers on `table` that fill it.
// An update that keeps the key logs it once; one that moves it logs both keys, so the replay
// removes the row under the old key and copies it under the new one. A TRUNCATE logs an entry
// without a key, whose replay removes every row of the target the table no longer has.
// The function runs as its owner, so the application's roles need no privilege on the log,
// with nothing but pg_catalog on its search path, and it compares keys by their text, so that
// no operator of a user's type is looked up as that owner. ENABLE ALWAYS: writes made under
// session_replication_role = replica, such as a logical replication subscriber's, are logged.
// `prepare` makes the log table and the function and takes no lock on `table`. `attach` adds
// the triggers: one string, run in one round trip, so that the lock they take on `table` (SHARE
// ROW EXCLUSIVE: the application's writes wait, its reads go on) is held for the server's work
// alone until the transaction commits. Triggers of the same names left by an interrupted run
// are dropped first (that one statement locks the table ACCESS EXCLUSIVE).
struct ChangeLogDdl {
  std::vector<std::string> prepare;
  std::string attach;
};
// `log` is quoted, `function` the function's bare name (its row trigger's too), `table` quoted;
// `key_columns` are the key's bare names, `key_types` their SQL types.
ChangeLogDdl ChangeLogSql(pg::Connection& conn, const std::vector<std::string>& key_columns,
                          const std::string& log, const std::string& function,
                          const std::string& table, const std::vector<std::string>& key_types);

// Drops the entries of the forward log for keys the copy has not reached: the chunk that reaches
// them starts after the prune and reads those committed writes. What is left to replay after
// the copy is what was written behind it.
// Only the entries logged since the last prune are looked at: the older ones it kept are
// behind an earlier chunk's end, so behind this one's. Scanning the whole log after every
// chunk cost the copy a pass over everything written behind it so far (hundreds of thousands
// of entries per chunk at 20 M rows). An entry logged before the last prune but committed
// after it escapes pruning; replaying it later is harmless (its key is copied again).
class LogPruner {
 public:
  explicit LogPruner(Context& ctx) : ctx_(ctx) {}

  // The entries past `copied_up_to` (a key, as text) on the run's connection.
  void PrunePast(const std::vector<std::string>& copied_up_to);
  // The entries for which `not_reached`, a condition on the log's key over `params`, holds: the
  // keys no chunk has read or is reading yet. Not thread-safe: the copy's sessions call it under
  // their lock.
  void Prune(pg::Connection& c, const std::string& not_reached, std::vector<pg::Param> params);

 private:
  Context& ctx_;
  std::int64_t pruned_through_ = 0;  // the log's newest entry at the last prune
};

}  // namespace zerodown::engine::shadow
