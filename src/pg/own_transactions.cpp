#include "zerodown/pg/own_transactions.hpp"

#include <cstring>
#include <map>
#include <mutex>

namespace zerodown::pg {

void TransactionTally::Note(PGTransactionStatusType before, PGTransactionStatusType after,
                            bool failed, const char* command_tag) {
  if (after != PQTRANS_IDLE) return;  // still in a transaction, or the status is unknown
  bool ended_explicit = before == PQTRANS_INTRANS || before == PQTRANS_INERROR;
  if (!ended_explicit && before != PQTRANS_IDLE) return;
  // COMMIT of a failed transaction answers ROLLBACK, and the server counts it so.
  bool rolled_back = failed || (ended_explicit && command_tag != nullptr &&
                                std::strcmp(command_tag, "ROLLBACK") == 0);
  (rolled_back ? rollbacks_ : commits_).fetch_add(1, std::memory_order_relaxed);
}

std::shared_ptr<TransactionTally> TallyOf(PGconn* raw) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<TransactionTally>> tallies;
  auto text = [](const char* value) { return std::string(value != nullptr ? value : ""); };
  std::string key = text(PQhost(raw)) + ":" + text(PQport(raw)) + "/" + text(PQdb(raw));
  std::lock_guard lock(mutex);
  auto& tally = tallies[key];
  if (!tally) tally = std::make_shared<TransactionTally>();
  return tally;
}

}  // namespace zerodown::pg
