#include "zerodown/pg/advisory_lock.hpp"

#include <fmt/format.h>

#include <thread>

namespace zerodown::pg {

namespace {

// Two-key form: the first key marks the lock as zerodown's so it cannot collide with an
// application's own single-key advisory locks.
constexpr std::string_view kClassKey = "2053401710";  // 'zdln' as an int4

int HolderPid(Connection& conn, const std::string& scope) {
  Rows rows = conn.Exec(
      "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
      "AND classid = $1::int::oid AND objid = hashtext($2)::oid AND objsubid = 2 "
      "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      {std::string(kClassKey), scope});
  return rows.empty() ? 0 : static_cast<int>(rows.Int(0, 0));
}

}  // namespace

AdvisoryLock::AdvisoryLock(Connection& conn, std::string scope, bool wait,
                           const std::function<void(int)>& on_wait)
    : conn_(conn), scope_(std::move(scope)) {
  bool told = false;
  while (true) {
    Rows rows = conn_.Exec("SELECT pg_try_advisory_lock($1::int, hashtext($2))",
                           {std::string(kClassKey), scope_});
    if (rows.Bool(0, 0)) {
      held_ = true;
      return;
    }
    int holder = HolderPid(conn_, scope_);
    if (!wait) {
      throw Error(ErrorKind::kConflict,
                  fmt::format("another zerodown (server pid {}) is working on schema \"{}\"",
                              holder, scope_),
                  "Wait for it to finish (run without --no-wait to queue behind it), or stop it; "
                  "two runs never interleave.");
    }
    if (!told && on_wait) on_wait(holder);
    told = true;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

AdvisoryLock::~AdvisoryLock() {
  try {
    Release();
  } catch (...) {  // NOLINT(bugprone-empty-catch): the lock goes with the connection anyway
  }
}

void AdvisoryLock::Release() {
  if (!held_) return;
  held_ = false;
  conn_.Exec("SELECT pg_advisory_unlock($1::int, hashtext($2))", {std::string(kClassKey), scope_});
}

}  // namespace zerodown::pg
