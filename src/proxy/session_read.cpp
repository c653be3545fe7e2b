// Reads on the read target (docs/proxy.md, "Read-only transactions on another target"): which
// transactions only read (from the messages that begin them), where each runs (the share, then
// read-your-writes, then whether the read target's position is known), the second kept
// connection of a session that keeps its connections, its named statements prepared again where
// they are missing, and the end of a write transaction, which read-your-writes remembers.
#include <fmt/format.h>

#include "proxy/client_session.hpp"
#include "proxy/controller.hpp"
#include "proxy/read_target.hpp"

namespace zerodown::proxy {
namespace {

// The statement name of a Bind (after its portal name), or of a Describe or Close of a statement
// ('S'); none for a portal.
std::optional<std::string_view> StatementOf(const wire::MessageView& message) {
  std::string_view body = message.body();
  if (message.type == 'B') {
    auto portal = wire::FirstString(body);
    return wire::FirstString(body.substr(std::min(body.size(), portal.size() + 1)));
  }
  if ((message.type == 'D' || message.type == 'C') && !body.empty() && body[0] == 'S') {
    return wire::FirstString(body.substr(1));
  }
  return std::nullopt;
}

std::string CloseStatement(std::string_view name) {
  std::string out = "C";
  wire::AppendUint32(out, static_cast<std::uint32_t>(4 + 1 + name.size() + 1));
  out += 'S';
  out.append(name);
  out += '\0';
  return out;
}

const std::string kSync("S\0\0\0\4", 5);

}  // namespace

ReadKind ClientSession::BatchReads::Result() const {
  if (!ok || first) return ReadKind::kOther;
  if (begins_read_only) return ReadKind::kBeginsReadOnly;
  // Messages after the last Sync would run in a transaction nobody classified as a whole.
  return at_boundary ? ReadKind::kReadOnly : ReadKind::kOther;
}

void ClientSession::ClassifyMessage(const wire::MessageView& message, const SqlFacts& facts,
                                    BatchReads& reads) {
  bool first = reads.first;
  reads.first = false;
  if (!reads.ok) return;
  switch (message.type) {
    case 'Q':
      if (facts.read == ReadKind::kBeginsReadOnly && first) {
        reads.begins_read_only = true;  // the server refuses writes until the transaction ends
      } else if (facts.read != ReadKind::kReadOnly) {
        reads.ok = false;
      }
      reads.at_boundary = true;
      return;
    case 'P':
      if (wire::FirstString(message.body()).empty()) {
        reads.unnamed_read = facts.read == ReadKind::kReadOnly;
      }
      break;
    case 'B': {
      std::string_view name = *StatementOf(message);
      if (name.empty()) {
        reads.ok = reads.unnamed_read;  // only a read parsed in this batch
      } else {
        auto it = statements_.find(name);
        reads.ok = it != statements_.end() && it->second.read == ReadKind::kReadOnly;
      }
      break;
    }
    case 'S':
      reads.at_boundary = true;
      return;
    case 'D':
    case 'E':
    case 'H':
    case 'C':
      break;
    default:  // FunctionCall, COPY data: anything else may write
      reads.ok = false;
  }
  reads.at_boundary = false;
}

void ClientSession::RememberStatement(std::string_view name, std::string_view parse,
                                      ReadKind read) {
  Statement& statement = statements_[std::string(name)];
  statement.parse.assign(parse);
  statement.version = ++statement_versions_;
  statement.read = read;
}

// A Close of a named statement: it is not prepared again anywhere (a new Parse of the name is a
// new version, which replaces whatever a connection still has under it).
void ClientSession::ForgetStatement(const wire::MessageView& message) {
  auto name = StatementOf(message);
  if (!name || name->empty() || statements_.empty()) return;
  if (auto it = statements_.find(*name); it != statements_.end()) statements_.erase(it);
}

// A named Parse on its way to server_: that connection has this version of the statement.
void ClientSession::NoteNamedParse(const wire::MessageView& message) {
  std::string_view name = wire::FirstString(message.body());
  if (name.empty()) return;
  // A named prepared statement lives on one server connection: in transaction pooling the
  // session keeps its connection from then on (docs/proxy.md, "Transaction pooling").
  pinned_ = true;
  if (auto it = statements_.find(name); it != statements_.end() && server_) {
    server_->statements()[std::string(name)] = it->second.version;
  }
}

ReadOutcome ClientSession::DecideRead() {
  if (batch_read_ == ReadKind::kOther) return ReadOutcome::kNotReadOnly;
  ReadTarget& read = *controller_.read();
  auto draw = [&] { return static_cast<int>(random_() % 100) < read.percent(); };
  bool in = true;
  if (controller_.options().pool_mode == PoolMode::kSession) {
    if (!in_share_) in_share_ = draw();  // drawn once: a session reads in one place
    in = *in_share_;
  } else {
    in = draw();
  }
  if (!in) return ReadOutcome::kShare;
  switch (read.Judge(writes_)) {
    case ReplayVerdict::kLagUnknown:
      return ReadOutcome::kLagUnknown;
    case ReplayVerdict::kReadYourWrites:
      return ReadOutcome::kReadYourWrites;
    case ReplayVerdict::kReadTarget:
      break;
  }
  return read.failing() ? ReadOutcome::kTargetError : ReadOutcome::kReadTarget;
}

// Where the transaction that begins now runs: where_, the session's target or, for a read, the
// read target's pool. Counts the decision.
void ClientSession::ChooseWhere() {
  where_ = target_;
  on_read_target_ = false;
  // Only a transaction classified whole: one begun with BEGIN READ ONLY may go on, after its
  // COMMIT in a later message, with statements nobody looked at.
  transaction_read_only_ = batch_read_ == ReadKind::kReadOnly;
  ReadTarget* read = controller_.read();
  if (read != nullptr && target_ == read->primary()) {
    ReadOutcome outcome = DecideRead();
    if (outcome == ReadOutcome::kReadTarget) {
      where_ = controller_.read_pool();
      on_read_target_ = true;
      // Counted once a connection there is in hand (AcquireServer), unless it is already.
      if (server_ && server_->target() == where_) read->Count(outcome);
    } else {
      read->Count(outcome);
    }
  }
  batch_read_ = ReadKind::kOther;
}

// Whether MoveServer has anything to do: server_ is elsewhere, or a connection is parked.
bool ClientSession::MustMoveServer() const {
  return (server_ && server_->target() != where_) || parked_ != nullptr;
}

// Leaves server_ only when it is on where_; otherwise the connection on where_ that the session
// kept (parked) waits in ready_ for Attach, and server_ is parked in its place, when the session
// keeps its connections, or given back. A parked connection of neither the target nor the read
// target (the old target after a SWITCH) goes back.
Awaitable<void> ClientSession::MoveServer() {
  ReadTarget* read = controller_.read();
  auto useful = [&](const ServerConnection& c) {
    return c.target() == target_ || (read != nullptr && c.target() == controller_.read_pool());
  };
  if (parked_ && !useful(*parked_)) GiveBackParked();
  if (server_ && server_->target() == where_) co_return;
  if (!server_) {
    ready_ = TakeParked();
    co_return;
  }
  co_await StopPump();
  std::unique_ptr<ServerConnection> next = TakeParked();
  bool keep = controller_.options().pool_mode == PoolMode::kSession || pinned_;
  if (server_ && keep && useful(*server_) && tracker_.BetweenTransactions()) {
    GiveBackParked();
    parked_ = std::move(server_);
  } else {
    // Moved by SWITCH: the old connection goes back reset; session state set on it is lost.
    GiveBackServer();
  }
  ready_ = std::move(next);
}

std::unique_ptr<ServerConnection> ClientSession::TakeParked() {
  if (parked_ && parked_->target() == where_) return std::move(parked_);
  return nullptr;
}

// A connection for where_: the parked one, else one from its pool. A read target that cannot be
// reached sends the transaction to the primary instead, without a word to the client.
Awaitable<std::unique_ptr<ServerConnection>> ClientSession::AcquireServer(std::string* error) {
  std::unique_ptr<ServerConnection> server = std::move(ready_);
  if (!server) server = co_await controller_.Pool(where_).Acquire(error);
  if (on_read_target_) {
    ReadTarget& read = *controller_.read();
    if (server) {
      read.Connected();
      read.Count(ReadOutcome::kReadTarget);
    } else {
      read.ConnectFailed(*error);
      read.Count(ReadOutcome::kTargetError);
      error->clear();
      where_ = target_;
      on_read_target_ = false;
      server = TakeParked();
      if (!server) server = co_await controller_.Pool(where_).Acquire(error);
    }
  }
  co_return server;
}

const std::map<std::string, std::string>& ClientSession::WantedOn(const ServerConnection& server) {
  if (controller_.read() == nullptr || server.target() != controller_.read_pool()) return wanted_;
  // The read target runs only reads: a statement taken for one by mistake fails there instead
  // of writing to a replica or a green database.
  read_wanted_ = wanted_;
  read_wanted_["default_transaction_read_only"] = "on";
  return read_wanted_;
}

// The client's named statements that server_ lacks (or has in an older version), prepared there
// before the transaction's first message: Close, then Parse, with a Sync each, their answers
// read here. A statement the server refuses is left out, as it was where the client prepared it.
Awaitable<bool> ClientSession::PrepareStatements() {
  if (statements_.empty() || !server_) co_return true;
  std::string messages;
  int replies = 0;
  auto& prepared = server_->statements();
  for (const auto& [name, statement] : statements_) {
    auto it = prepared.find(name);
    if (it != prepared.end() && it->second == statement.version) continue;
    messages += CloseStatement(name) + statement.parse + kSync;
    prepared[name] = statement.version;
    ++replies;
  }
  if (replies == 0) co_return true;
  std::string error = co_await server_->Exchange(messages, replies);
  if (error.find("connection was lost") != std::string::npos) co_return false;
  if (!error.empty()) {
    Log(fmt::format("a named statement could not be prepared again on target {}: {}",
                    server_->target(), error));
  }
  co_return true;
}

void ClientSession::NoteTransactionEnd() {
  // A transaction not known to only read, on the primary, may have written: the client's next
  // reads wait for the read target to replay it.
  if (controller_.read() != nullptr && !on_read_target_ && !transaction_read_only_) {
    writes_.wrote_at = Clock::now();
  }
}

void ClientSession::GiveBackParked() {
  if (parked_) controller_.Pool(parked_->target()).Release(std::move(parked_), /*reset=*/true);
  if (ready_) controller_.Pool(ready_->target()).Release(std::move(ready_), /*reset=*/true);
}

}  // namespace zerodown::proxy
