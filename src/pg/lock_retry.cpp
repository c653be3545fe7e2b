#include "zerodown/pg/lock_retry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

namespace zerodown::pg {

std::chrono::milliseconds BackoffDelay(const LockRetryPolicy& policy, int attempt,
                                       std::mt19937_64& rng) {
  double base = static_cast<double>(policy.first_backoff.count());
  for (int i = 1; i < attempt && base < static_cast<double>(policy.max_backoff.count()); ++i) {
    base *= 2;
  }
  base = std::min(base, static_cast<double>(policy.max_backoff.count()));
  std::uniform_real_distribution<double> factor(1.0 - policy.jitter, 1.0 + policy.jitter);
  return std::chrono::milliseconds(static_cast<std::int64_t>(base * factor(rng)));
}

namespace {

bool IsRetryable(const Error& error) {
  return error.sqlstate() == kLockNotAvailable || error.sqlstate() == kDeadlockDetected ||
         error.sqlstate() == kSerializationFailure;
}

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

void RetryLoop(const LockRetryPolicy& policy, std::string_view what,
               const std::function<void()>& attempt_once, const RetryObserver& observer,
               const BetweenAttempts& between) {
  for (int attempt = 1;; ++attempt) {
    try {
      attempt_once();
      return;
    } catch (const Error& error) {
      if (!IsRetryable(error)) throw;
      if (attempt >= policy.max_attempts) {
        throw Error(ErrorKind::kLockTimeout,
                    fmt::format("{}: could not get the lock within {} ms after {} attempts", what,
                                policy.lock_timeout.count(), attempt),
                    "A long transaction is holding a conflicting lock; find it in "
                    "pg_stat_activity (state, xact_start) and let it finish, or raise "
                    "--lock-timeout. The command can be run again: it resumes.")
            .WithSqlstate(error.sqlstate());
      }
      auto delay = BackoffDelay(policy, attempt, Rng());
      if (observer) observer(attempt, delay, error);
      std::this_thread::sleep_for(delay);
      if (between) between(attempt + 1);
    }
  }
}

std::string TimeoutSetting(const LockRetryPolicy& policy) {
  return fmt::format("{}ms", policy.lock_timeout.count());
}

}  // namespace

void RunWithLockRetry(Connection& conn, const LockRetryPolicy& policy, std::string_view what,
                      const std::function<void(Connection&)>& body, const RetryObserver& observer,
                      const BetweenAttempts& between) {
  RetryLoop(
      policy, what,
      [&] {
        Transaction tx(conn);
        conn.Exec("SELECT set_config('lock_timeout', $1, true)", {TimeoutSetting(policy)});
        body(conn);
        tx.Commit();
      },
      observer, between);
}

void RunOutsideTransactionWithLockRetry(Connection& conn, const LockRetryPolicy& policy,
                                        std::string_view what,
                                        const std::function<void(Connection&)>& body,
                                        const RetryObserver& observer,
                                        const BetweenAttempts& between) {
  std::string previous = conn.Exec("SHOW lock_timeout").Text(0, 0);
  conn.Exec("SELECT set_config('lock_timeout', $1, false)", {TimeoutSetting(policy)});
  try {
    RetryLoop(
        policy, what, [&] { body(conn); }, observer, between);
  } catch (...) {
    (void)conn.TryExec("SELECT set_config('lock_timeout', $1, false)", {previous});
    throw;
  }
  conn.Exec("SELECT set_config('lock_timeout', $1, false)", {previous});
}

}  // namespace zerodown::pg
