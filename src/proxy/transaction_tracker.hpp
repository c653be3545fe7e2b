// Where one client's conversation with its server stands, from the message types that pass
// through: how many ReadyForQuery replies are still owed (one per Query, Sync and FunctionCall),
// whether extended-protocol messages were sent without their Sync yet, and the transaction
// status of the last ReadyForQuery (I idle, T in a transaction, E in a failed one). A session is
// between transactions exactly when nothing is owed, nothing is unsynced and the status is I:
// the only moment the proxy may hold it (PAUSE), move it (SWITCH) or hand its server connection
// to another client (transaction pooling).
#pragma once

namespace zerodown::proxy {

class TransactionTracker {
 public:
  void OnClientMessage(char type) {
    switch (type) {
      case 'Q':  // Query
      case 'F':  // FunctionCall
        ++owed_;
        break;
      case 'S':  // Sync ends an extended-protocol batch
        ++owed_;
        unsynced_ = false;
        break;
      case 'd':  // CopyData, CopyDone, CopyFail belong to the Query that started the COPY
      case 'c':
      case 'f':
        break;
      default:  // Parse, Bind, Describe, Execute, Close, Flush
        unsynced_ = true;
    }
  }
  void OnReadyForQuery(char status) {
    if (owed_ > 0) --owed_;
    status_ = status;
  }

  bool BetweenTransactions() const { return owed_ == 0 && !unsynced_ && status_ == 'I'; }
  // A statement is running (as opposed to a transaction left open by an idle client).
  bool AwaitingServer() const { return owed_ > 0; }
  char status() const { return status_; }

 private:
  int owed_ = 0;
  bool unsynced_ = false;
  char status_ = 'I';
};

}  // namespace zerodown::proxy
