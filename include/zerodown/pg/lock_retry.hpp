// The one place where zerodown waits for locks. Every DDL statement runs under a short
// lock_timeout; when the lock is not had in time (SQLSTATE 55P03) the transaction is rolled back,
// the application's queued queries proceed, and the statement is retried after an exponential
// backoff with jitter. A DDL waiting for its lock therefore never holds the application's queries
// in the lock queue for longer than lock_timeout.
#pragma once

#include <chrono>
#include <functional>
#include <random>
#include <string_view>

#include "zerodown/pg/connection.hpp"

namespace zerodown::pg {

struct LockRetryPolicy {
  std::chrono::milliseconds lock_timeout{500};
  int max_attempts = 50;
  std::chrono::milliseconds first_backoff{50};
  std::chrono::milliseconds max_backoff{5000};
  // Each delay is scaled by a random factor in [1 - jitter, 1 + jitter] so that two waiters (or
  // zerodown and a cron job) do not retry in lock step.
  double jitter = 0.5;
};

// The delay before retry number `attempt` (1 for the first retry): first_backoff doubled each
// attempt, capped at max_backoff, then jittered. Pure; exposed for tests.
std::chrono::milliseconds BackoffDelay(const LockRetryPolicy& policy, int attempt,
                                       std::mt19937_64& rng);

// Called before each retry with the attempt number, the delay about to be slept and the error.
using RetryObserver =
    std::function<void(int attempt, std::chrono::milliseconds delay, const Error&)>;

// Called after a retry's delay, before the next attempt and outside its transaction, with the
// number of the attempt about to run: work that makes that attempt likelier to get its lock or
// shorter under it (catching a change log up, so that less is replayed while the lock is held).
// An error it throws ends the retries and is thrown as is.
using BetweenAttempts = std::function<void(int next_attempt)>;

// Runs `body` inside BEGIN … COMMIT with `SET LOCAL lock_timeout`, retrying the whole transaction
// on lock timeout (and on deadlock, which a DDL can cause by upgrading a lock, and on a
// serialization failure, which PostgreSQL asks the client to retry). `what` names the
// step in the error after the last attempt, kind kLockTimeout. Other errors are thrown at once.
// A body that finds its attempt cannot succeed yet may throw an error with SQLSTATE
// kLockNotAvailable itself: the attempt is then retried like a lock timeout.
void RunWithLockRetry(Connection& conn, const LockRetryPolicy& policy, std::string_view what,
                      const std::function<void(Connection&)>& body,
                      const RetryObserver& observer = {}, const BetweenAttempts& between = {});

// For statements that cannot run in a transaction block (CREATE INDEX CONCURRENTLY, …): sets the
// session's lock_timeout around `body`, retries the same way. `body` must be safe to repeat; the
// caller cleans up what a failed attempt left (e.g. an INVALID index) inside `body`.
void RunOutsideTransactionWithLockRetry(Connection& conn, const LockRetryPolicy& policy,
                                        std::string_view what,
                                        const std::function<void(Connection&)>& body,
                                        const RetryObserver& observer = {},
                                        const BetweenAttempts& between = {});

}  // namespace zerodown::pg
