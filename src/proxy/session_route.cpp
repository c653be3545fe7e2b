// Routing one client's transactions by the route flag (docs/proxy.md, "Rolling a version out by
// user"): the user id and search_path the session follows from its startup options and its SET
// and RESET statements, the search_path each transaction gets when it begins (the flag's version
// for users in, the client's own otherwise), and setting it on a server connection the session
// keeps between transactions.
#include <fmt/format.h>

#include "proxy/client_session.hpp"
#include "proxy/controller.hpp"
#include "proxy/router.hpp"

namespace zerodown::proxy {

void ClientSession::InitFollowedSettings() {
  if (auto it = wanted_.find(std::string(kUserIdSetting)); it != wanted_.end()) {
    login_user_id_ = it->second;
  }
  user_id_ = login_user_id_;
  // The search_path is set apart from the other settings: routing replaces it per transaction.
  if (auto it = wanted_.find("search_path"); it != wanted_.end()) {
    login_search_path_ = SearchPath{it->second, {}};
    wanted_.erase(it);
  }
  search_path_ = login_search_path_;
}

void ClientSession::FollowSettings(const std::vector<wire::MessageView>& messages) {
  // With --read-share, the messages that begin a transaction are classified too, from the same
  // parse (session_read.cpp), and so is every named statement, for the Binds that run it later.
  bool classify = controller_.read() != nullptr && !running_;
  BatchReads reads;
  for (const auto& message : messages) {
    std::string_view sql;
    std::string_view name;
    if (message.type == 'X') break;
    if (message.type == 'Q') {
      sql = wire::FirstString(message.body());
    } else if (message.type == 'P') {
      // Parse: statement name, then the query text.
      name = wire::FirstString(message.body());
      sql = wire::FirstString(message.body().substr(name.size() + 1));
    } else {
      if (message.type == 'C') ForgetStatement(message);
      if (classify) ClassifyMessage(message, SqlFacts{}, reads);
      continue;
    }
    bool named = controller_.read() != nullptr && !name.empty();
    SqlFacts facts = AnalyzeSql(sql, classify || named);
    for (const auto& change : facts.changes) Follow(change);
    if (named) RememberStatement(name, message.bytes, facts.read);
    if (classify) ClassifyMessage(message, facts, reads);
  }
  if (classify) batch_read_ = reads.Result();
}

void ClientSession::Follow(const SettingChange& change) {
  switch (change.setting) {
    case SettingKind::kUserId:
      forget_.user_id = true;
      // SET LOCAL ends with its transaction, whose route was chosen already.
      if (!change.local) {
        SetUserId(change.reset ? login_user_id_ : std::optional<std::string>(change.value));
      }
      break;
    case SettingKind::kSearchPath:
      forget_.search_path = true;
      if (!change.local) {
        search_path_ = change.reset ? login_search_path_
                                    : std::optional<SearchPath>(SearchPath{"", change.schemas});
      }
      break;
    case SettingKind::kAll:
      forget_.all = true;
      SetUserId(login_user_id_);
      search_path_ = login_search_path_;
      break;
  }
}

void ClientSession::SetUserId(std::optional<std::string> user_id) {
  user_id_ = std::move(user_id);
  // Kept among the session's settings, so that in transaction pooling every server connection
  // the client runs on says the same current_setting('zerodown.user_id').
  if (user_id_) {
    wanted_[std::string(kUserIdSetting)] = *user_id_;
  } else {
    wanted_.erase(std::string(kUserIdSetting));
  }
}

void ClientSession::ForgetOnServer() {
  if (server_) {
    if (forget_.all) server_->ForgetAll();
    if (forget_.user_id) server_->Forget(std::string(kUserIdSetting));
    if (forget_.search_path) server_->ForgetSearchPath();
  }
  forget_ = {};
}

std::optional<SearchPath> ClientSession::TransactionSearchPath() {
  Router* route = controller_.route();
  if (route == nullptr) return search_path_;
  auto version = route->Route(user_id_);
  if (!version) return search_path_;
  return SearchPath{"", {*version}};
}

// A session that kept its server connection (session pooling, or a client with prepared
// statements): the new transaction's search_path is set on it first, when it differs. The pump
// reads that socket between transactions, so it pauses for the round trip.
Awaitable<bool> ClientSession::Reroute(const std::optional<SearchPath>& search_path) {
  if (server_->HasSearchPath(search_path)) co_return true;
  bool pump = pump_running_;
  if (pump) co_await StopPump();
  // No co_await inside a conditional expression: GCC 12 destroys such temporaries twice.
  std::string error = "the server connection was lost";
  if (server_) error = co_await server_->Apply(WantedOn(*server_), search_path);
  if (!error.empty()) {
    std::string message =
        fmt::format("target \"{}\" refused the transaction's search_path: {}", target_, error);
    Log(message);
    co_await WriteToClient(wire::ErrorResponse("FATAL", "08006", message));
    co_return false;
  }
  if (pump) StartPump();
  co_return true;
}

}  // namespace zerodown::proxy
