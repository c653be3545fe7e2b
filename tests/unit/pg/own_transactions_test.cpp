// What counts as one of zerodown's own transactions ending, from the session's transaction
// status before and after each command.
#include "zerodown/pg/own_transactions.hpp"

#include <gtest/gtest.h>

namespace zerodown::pg {
namespace {

TEST(TransactionTally, AStatementOutsideATransactionIsOneCommitOrOneRollback) {
  TransactionTally tally;
  tally.Note(PQTRANS_IDLE, PQTRANS_IDLE, false, "SELECT 1");
  tally.Note(PQTRANS_IDLE, PQTRANS_IDLE, true, "");
  EXPECT_EQ(tally.Count().commits, 1);
  EXPECT_EQ(tally.Count().rollbacks, 1);
}

TEST(TransactionTally, AnExplicitTransactionCountsWhenItEnds) {
  TransactionTally tally;
  tally.Note(PQTRANS_IDLE, PQTRANS_INTRANS, false, "BEGIN");
  tally.Note(PQTRANS_INTRANS, PQTRANS_INTRANS, false, "EXPLAIN");
  EXPECT_EQ(tally.Count().commits + tally.Count().rollbacks, 0);
  tally.Note(PQTRANS_INTRANS, PQTRANS_IDLE, false, "ROLLBACK");
  tally.Note(PQTRANS_IDLE, PQTRANS_INTRANS, false, "BEGIN");
  tally.Note(PQTRANS_INTRANS, PQTRANS_IDLE, false, "COMMIT");
  EXPECT_EQ(tally.Count().commits, 1);
  EXPECT_EQ(tally.Count().rollbacks, 1);
}

TEST(TransactionTally, ACommitOfAFailedTransactionIsARollback) {
  TransactionTally tally;
  tally.Note(PQTRANS_INTRANS, PQTRANS_INERROR, true, "");
  tally.Note(PQTRANS_INERROR, PQTRANS_IDLE, false, "ROLLBACK");  // what COMMIT answers then
  EXPECT_EQ(tally.Count().commits, 0);
  EXPECT_EQ(tally.Count().rollbacks, 1);
}

TEST(TransactionTally, AnUnknownStatusCountsNothing) {
  TransactionTally tally;
  tally.Note(PQTRANS_UNKNOWN, PQTRANS_IDLE, true, "");
  tally.Note(PQTRANS_IDLE, PQTRANS_UNKNOWN, true, "");
  EXPECT_EQ(tally.Count().commits + tally.Count().rollbacks, 0);
}

}  // namespace
}  // namespace zerodown::pg
