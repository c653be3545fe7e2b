// The transactions zerodown's own sessions end, counted per database as the client sees each one
// end, committed or rolled back. pg_stat_database counts every session's transactions; the
// health check takes these away to judge the application's alone. Without that, on a quiet
// database the transactions zerodown rolls back on purpose (a plan's checks of its expressions,
// catalog reads under a local search_path) read as the application's errors, and its own
// commits dilute the application's real ones.
#pragma once

#include <libpq-fe.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace zerodown::pg {

struct TransactionCount {
  std::int64_t commits = 0;
  std::int64_t rollbacks = 0;
};

// One database's count, shared by every session of this process that reaches it.
class TransactionTally {
 public:
  // Notes what one command did, from the session's transaction status before and after it:
  // a transaction that ended (implicit, or explicit with COMMIT or ROLLBACK) is one commit or one
  // rollback; a command that ends none counts nothing.
  void Note(PGTransactionStatusType before, PGTransactionStatusType after, bool failed,
            const char* command_tag);
  TransactionCount Count() const { return {commits_.load(), rollbacks_.load()}; }

 private:
  std::atomic<std::int64_t> commits_{0};
  std::atomic<std::int64_t> rollbacks_{0};
};

// The tally of the database `raw` is connected to (host, port and database name).
std::shared_ptr<TransactionTally> TallyOf(PGconn* raw);

}  // namespace zerodown::pg
