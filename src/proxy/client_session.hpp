// One client of the proxy, from its startup packet to its Terminate: login (the proxy answers
// SSLRequest with 'N' and, with --auth-file, asks for SCRAM-SHA-256), then two coroutines that
// relay messages, client to server and server to client, while a TransactionTracker follows where
// the conversation stands. Between transactions the session asks the controller before going on
// (PAUSE holds it there), moves to another target after a SWITCH, and in transaction pooling
// gives its server connection back. At each transaction's start it also sets the search_path the
// route flag gives its user (session_route.cpp), and with --read-share runs a read-only
// transaction on the read target when read-your-writes allows (session_read.cpp). It does not
// choose targets or pool connections itself.
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "proxy/async_util.hpp"
#include "proxy/replay_state.hpp"
#include "proxy/scram.hpp"
#include "proxy/server_connection.hpp"
#include "proxy/session_sql.hpp"
#include "proxy/transaction_tracker.hpp"
#include "proxy/wire.hpp"

namespace zerodown::proxy {

class Controller;

class ClientSession : public std::enable_shared_from_this<ClientSession> {
 public:
  ClientSession(asio::ip::tcp::socket socket, Controller& controller);
  // Runs the session on the socket's executor until the client leaves.
  void Start();

  std::uint32_t pid() const { return pid_; }
  std::uint32_t secret() const { return secret_; }
  void SetKey(std::uint32_t pid, std::uint32_t secret) {
    pid_ = pid;
    secret_ = secret;
  }
  const std::string& target() const { return target_; }
  // SWITCH: this session's next transaction runs on `target`. A session idle between
  // transactions gives its old server connection back at once, so nothing it does not ask for
  // (the old server going away, a notice) reaches it from the old target.
  void MoveTo(const std::string& target);
  bool running() const { return running_; }
  bool awaiting_server() const { return tracker_.AwaitingServer(); }

  // Asks the server to cancel the statement this session runs, if any.
  void CancelStatement();
  // Ends the session: its server connection is closed (so an open transaction rolls back) and the
  // client gets a FATAL error saying `why`.
  void Kill(std::string why);

 private:
  // Each coroutine holds `self`: an Asio coroutine starts later than the call that makes it.
  Awaitable<void> Run(std::shared_ptr<ClientSession> self);
  Awaitable<bool> Startup();
  Awaitable<bool> Login(const wire::StartupPacket& packet);
  Awaitable<bool> Authenticate(const std::string& user);
  Awaitable<bool> ReadSaslMessage(const std::string& user, std::string* body);
  Awaitable<bool> RefuseLogin(const std::string& user, const scram::Failure& failure);
  // The client has logged in (or left): the login deadline no longer applies.
  void EndLoginDeadline();
  Awaitable<void> Relay();
  Awaitable<bool> BeginTransaction();
  Awaitable<void> PumpServer(std::shared_ptr<ClientSession> self);
  Awaitable<std::string> Attach(const std::optional<SearchPath>& search_path);
  // Attach's common case without a coroutine: an idle connection of where_ whose settings match.
  // False when there is none (or it needs settings: then it waits in ready_ for Attach).
  bool AttachIdle(const std::optional<SearchPath>& search_path);
  void StartPump();
  Awaitable<void> StopPump();
  void GiveBackServer();
  void ServerLost(const std::string& why);
  Awaitable<void> Close();
  Awaitable<bool> WriteToClient(const std::string& bytes);
  std::string ParameterChanges();
  // Following the user id and search_path (session_route.cpp).
  void InitFollowedSettings();
  void FollowSettings(const std::vector<wire::MessageView>& messages);
  void Follow(const SettingChange& change);
  void SetUserId(std::optional<std::string> user_id);
  void ForgetOnServer();
  std::optional<SearchPath> TransactionSearchPath();
  Awaitable<bool> Reroute(const std::optional<SearchPath>& search_path);
  // Reads on the read target (session_read.cpp).
  // What the messages that begin a transaction say about whether it only reads.
  struct BatchReads {
    bool ok = true;                 // nothing seen that may write
    bool first = true;              // no message seen yet
    bool begins_read_only = false;  // a first Query began with BEGIN READ ONLY
    bool at_boundary = false;       // the last message so far ends a transaction (Query, Sync)
    bool unnamed_read = false;      // the batch's last unnamed Parse is a read
    ReadKind Result() const;
  };
  void ClassifyMessage(const wire::MessageView& message, const SqlFacts& facts, BatchReads& reads);
  void RememberStatement(std::string_view name, std::string_view parse, ReadKind read);
  void NoteNamedParse(const wire::MessageView& message);
  void ForgetStatement(const wire::MessageView& message);
  void ChooseWhere();
  bool MustMoveServer() const;
  Awaitable<void> MoveServer();
  ReadOutcome DecideRead();
  std::unique_ptr<ServerConnection> TakeParked();
  Awaitable<std::unique_ptr<ServerConnection>> AcquireServer(std::string* error);
  const std::map<std::string, std::string>& WantedOn(const ServerConnection& server);
  Awaitable<bool> PrepareStatements();
  void NoteTransactionEnd();
  void GiveBackParked();

  asio::ip::tcp::socket client_;
  // Closes the client's socket when it has not logged in within --login-timeout.
  asio::steady_timer login_deadline_;
  bool login_done_ = false;
  std::string peer_;  // the client's address and port, for the log
  Controller& controller_;
  std::uint32_t pid_ = 0;
  std::uint32_t secret_ = 0;
  std::string target_;
  std::string buffer_;
  // Settings the client asked for at login (startup parameters and -c options), lower-case names.
  std::map<std::string, std::string> wanted_;
  // The user id the route flag buckets by (zerodown.user_id: startup options, then SET/RESET),
  // and the search_path the client would have without routing (its startup one, then SET), with
  // their login values that RESET returns to.
  std::optional<std::string> user_id_;
  std::optional<std::string> login_user_id_;
  std::optional<SearchPath> search_path_;
  std::optional<SearchPath> login_search_path_;
  // Settings the client's last messages changed on the server behind the proxy's back: the next
  // Apply on that connection sets them again.
  struct Forget {
    bool user_id = false;
    bool search_path = false;
    bool all = false;
  } forget_;
  // What the client was told with ParameterStatus.
  std::map<std::string, std::string> reported_;
  // The server parameters_signature() that reported_ matches; empty when unknown.
  std::string reported_signature_;
  std::unique_ptr<ServerConnection> server_;
  TransactionTracker tracker_;
  bool running_ = false;  // between the controller's BeginTransaction and EndTransaction
  bool pinned_ = false;   // transaction pooling: keeps its server (it prepared a statement)
  bool pump_running_ = false;
  bool stopping_pump_ = false;
  Signal pump_stopped_;
  std::vector<char> pump_chunk_;                  // what the pump reads into
  std::vector<wire::MessageView> pump_messages_;  // the messages of one read
  std::string kill_reason_;                       // set: the session ends with this FATAL error
  bool registered_ = false;

  // --read-share (session_read.cpp). A session that keeps its connections (session pooling, or
  // a client with named statements) keeps one on the primary and one on the read target: the one
  // not in use waits in parked_, and the client's named statements (their Parse messages, by
  // name) are prepared again on whichever one lacks their latest version.
  struct Statement {
    std::string parse;  // the whole Parse message
    std::uint64_t version = 0;
    ReadKind read = ReadKind::kOther;
  };
  std::map<std::string, Statement, std::less<>> statements_;
  std::uint64_t statement_versions_ = 0;
  std::unique_ptr<ServerConnection> parked_;
  std::unique_ptr<ServerConnection> ready_;  // parked_ taken out for the transaction to begin
  std::string where_;                        // the pool the running transaction runs on
  ReadKind batch_read_ = ReadKind::kOther;   // the transaction's first messages
  bool transaction_read_only_ = false;
  bool on_read_target_ = false;
  WriterMark writes_;             // read-your-writes: this client's last write
  std::optional<bool> in_share_;  // session pooling: drawn once, at the first read
  std::map<std::string, std::string> read_wanted_;  // wanted_ with default_transaction_read_only
  std::minstd_rand random_{std::random_device{}()};
};

}  // namespace zerodown::proxy
