// The startup phase of a ClientSession: the startup packet (with SSLRequest, GSSENCRequest and
// CancelRequest before it), authentication (SCRAM-SHA-256 against --auth-file, or none), the
// choice of target and the first server connection, whose parameters the client is told.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "proxy/auth_file.hpp"
#include "proxy/client_session.hpp"
#include "proxy/controller.hpp"
#include "proxy/scram.hpp"

namespace zerodown::proxy {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The words of a startup `options` value, split as the server splits them (whitespace, with a
// backslash escaping the next character).
std::vector<std::string> OptionWords(const std::string& options) {
  std::vector<std::string> words;
  std::string word;
  bool escaped = false;
  for (char c : options) {
    if (escaped) {
      word.push_back(c);
      escaped = false;
    } else if (c == '\\') {
      escaped = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word.push_back(c);
    }
  }
  if (!word.empty()) words.push_back(word);
  return words;
}

// `-c name=value` and `--name=value` pairs of `options` into `settings`; false for anything else.
bool ParseOptions(const std::string& options, std::map<std::string, std::string>* settings) {
  auto words = OptionWords(options);
  for (std::size_t i = 0; i < words.size(); ++i) {
    std::string pair;
    if (words[i] == "-c" && i + 1 < words.size()) {
      pair = words[++i];
    } else if (words[i].rfind("-c", 0) == 0 && words[i].size() > 2) {
      pair = words[i].substr(2);
    } else if (words[i].rfind("--", 0) == 0) {
      pair = words[i].substr(2);
    } else {
      return false;
    }
    auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) return false;
    std::string name = Lower(pair.substr(0, eq));
    std::replace(name.begin(), name.end(), '-', '_');
    (*settings)[name] = pair.substr(eq + 1);
  }
  return true;
}

std::string Fatal(std::string_view sqlstate, std::string_view message, std::string_view hint = {}) {
  Log(message);
  return wire::ErrorResponse("FATAL", sqlstate, message, hint);
}

}  // namespace

Awaitable<bool> ClientSession::Startup() {
  // A client may ask for TLS and for GSS encryption before its startup packet; both get 'N'.
  for (int packet_number = 0; packet_number < 3; ++packet_number) {
    std::array<char, 4> length_bytes;
    asio::error_code ec;
    co_await asio::async_read(client_, asio::buffer(length_bytes),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;  // connected and left: a health check, not an error
    std::uint32_t length = wire::ReadUint32(length_bytes.data());
    if (length < 8 || length > wire::kMaxStartupLength) {
      co_await WriteToClient(
          Fatal("08P01",
                fmt::format("malformed startup packet: length {} is outside 8-{} bytes", length,
                            wire::kMaxStartupLength),
                "Connect with a PostgreSQL client (libpq, psql, a driver) speaking protocol 3.0."));
      co_return false;
    }
    std::string body(length - 4, '\0');
    co_await asio::async_read(client_, asio::buffer(body),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
    auto parsed = wire::ParseStartup(body);
    if (!parsed.packet) {
      co_await WriteToClient(
          Fatal("08P01", "malformed startup packet: " + parsed.error,
                "Connect with a PostgreSQL client (libpq, psql, a driver) speaking protocol 3.0."));
      co_return false;
    }
    switch (parsed.packet->kind) {
      case wire::StartupKind::kSslRequest:
      case wire::StartupKind::kGssEncRequest:
        if (!co_await WriteToClient("N")) co_return false;
        continue;
      case wire::StartupKind::kCancel:
        controller_.Cancel(parsed.packet->cancel_pid, parsed.packet->cancel_secret);
        co_return false;
      case wire::StartupKind::kStartup:
        co_return co_await Login(*parsed.packet);
    }
  }
  co_await WriteToClient(Fatal("08P01", "malformed startup: too many encryption requests"));
  co_return false;
}

Awaitable<bool> ClientSession::Login(const wire::StartupPacket& packet) {
  const auto& parameters = packet.parameters;
  // First of all, so a client that cannot log in learns nothing of targets or settings.
  if (!co_await Authenticate(parameters.at("user"))) co_return false;
  // What follows waits on the proxy (a pause, a full pool), not on the client.
  EndLoginDeadline();
  if (parameters.count("replication")) {
    co_await WriteToClient(Fatal("08P01", "zerodown proxy does not relay replication connections",
                                 "Connect replication clients to the server directly."));
    co_return false;
  }
  std::string database =
      parameters.count("database") ? parameters.at("database") : parameters.at("user");
  auto target = controller_.Resolve(database);
  if (!target) {
    co_await WriteToClient(Fatal("3D000", target.error().message(), target.error().fix()));
    co_return false;
  }
  target_ = *target;
  where_ = target_;  // the login's connection is the primary's
  for (const auto& [name, value] : parameters) {
    if (name != "user" && name != "database" && name != "options") wanted_[Lower(name)] = value;
  }
  if (parameters.count("options") && !ParseOptions(parameters.at("options"), &wanted_)) {
    co_await WriteToClient(Fatal(
        "08P01", fmt::format("startup options \"{}\" are not understood", parameters.at("options")),
        "The proxy passes on options of the form -c name=value."));
    co_return false;
  }
  InitFollowedSettings();
  std::string out = wire::AuthenticationOk();
  std::string error = co_await Attach(search_path_);
  if (!error.empty()) {
    co_await WriteToClient(out + Fatal("08006", error,
                                       "Check that the target's server is up and that its URL "
                                       "(--target) names a database and user that can log in."));
    co_return false;
  }
  controller_.Register(this);
  registered_ = true;
  out += ParameterChanges();
  out += wire::BackendKeyData(pid_, secret_);
  out += wire::ReadyForQuery('I');
  if (!co_await WriteToClient(out)) co_return false;
  if (controller_.options().pool_mode == PoolMode::kTransaction) {
    controller_.Pool(target_).Release(std::move(server_), /*reset=*/false);
  } else {
    StartPump();
  }
  co_return true;
}

// The SASL exchange of PostgreSQL's protocol (AuthenticationSASL, SASLInitialResponse,
// AuthenticationSASLContinue, SASLResponse, AuthenticationSASLFinal) carrying SCRAM-SHA-256;
// the caller sends AuthenticationOk with the messages that follow. Without --auth-file every
// client is let in (trust, docs/proxy.md). False when the client was refused or left.
Awaitable<bool> ClientSession::Authenticate(const std::string& user) {
  std::shared_ptr<const AuthFile> auth = controller_.auth();
  if (auth == nullptr) co_return true;
  const scram::Secret* secret = auth->Find(user);
  scram::ServerExchange exchange(secret ? *secret : auth->MockSecret(user), scram::RandomNonce());
  std::string out = wire::AuthenticationSasl(scram::kMechanism);
  std::string body;
  if (!co_await WriteToClient(out)) co_return false;
  if (!co_await ReadSaslMessage(user, &body)) co_return false;
  auto initial = wire::ParseSaslInitialResponse(body);
  scram::Reply reply;
  if (!initial) {
    reply.failure = scram::Failure{scram::FailureKind::kProtocol,
                                   "the SASLInitialResponse is not a mechanism, a length and data"};
  } else if (initial->mechanism != scram::kMechanism) {
    reply.failure = scram::Failure{
        scram::FailureKind::kProtocol,
        fmt::format("the client chose SASL mechanism \"{}\"; the proxy offers only {}",
                    initial->mechanism, scram::kMechanism)};
  } else {
    reply = exchange.OnClientFirst(initial->data);
  }
  if (!reply.ok()) co_return co_await RefuseLogin(user, *reply.failure);
  out = wire::AuthenticationSaslContinue(reply.message);
  if (!co_await WriteToClient(out)) co_return false;
  if (!co_await ReadSaslMessage(user, &body)) co_return false;
  reply = exchange.OnClientFinal(body);
  // An unknown user fails here, after the same exchange as a known one with a wrong password.
  if (secret == nullptr && (reply.ok() || reply.failure->kind == scram::FailureKind::kRefused)) {
    reply.failure = scram::Failure{scram::FailureKind::kRefused,
                                   fmt::format("the user is not in --auth-file {}", auth->path())};
  }
  if (!reply.ok()) co_return co_await RefuseLogin(user, *reply.failure);
  out = wire::AuthenticationSaslFinal(reply.message);
  co_return co_await WriteToClient(out);
}

// Reads the client's next SASL message ('p') into `body`. False when the client left (libpq
// does when it has no password to give: not an error) or sent something else (it is refused).
Awaitable<bool> ClientSession::ReadSaslMessage(const std::string& user, std::string* body) {
  std::array<char, 5> header;
  asio::error_code ec;
  co_await asio::async_read(client_, asio::buffer(header),
                            asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return false;
  std::uint32_t length = wire::ReadUint32(header.data() + 1);
  if (header[0] != 'p' || length < 4 || length - 4 > wire::kMaxSaslLength) {
    scram::Failure failure{
        scram::FailureKind::kProtocol,
        fmt::format("expected a SASL response ('p', at most {} bytes), got a message of type "
                    "0x{:02x} and length {}",
                    wire::kMaxSaslLength, static_cast<unsigned char>(header[0]), length)};
    co_return co_await RefuseLogin(user, failure);
  }
  body->assign(length - 4, '\0');
  co_await asio::async_read(client_, asio::buffer(*body),
                            asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

// Logs why `user` was refused, with the client's address, and tells the client: for a wrong
// password or an unknown user only what PostgreSQL says, so it cannot tell the two apart.
// Returns false, for the caller to return.
Awaitable<bool> ClientSession::RefuseLogin(const std::string& user, const scram::Failure& failure) {
  Log(fmt::format("client {}: authentication of user \"{}\" failed: {}", peer_, user,
                  failure.reason));
  bool refused = failure.kind == scram::FailureKind::kRefused;
  std::string message = refused
                            ? fmt::format("password authentication failed for user \"{}\"", user)
                            : "SCRAM authentication failed: " + failure.reason;
  std::string error = wire::ErrorResponse("FATAL", refused ? "28P01" : "08P01", message);
  co_await WriteToClient(error);
  co_return false;
}

std::string ClientSession::ParameterChanges() {
  std::string out;
  // In transaction pooling this runs at every transaction; most find nothing changed.
  if (server_->parameters_signature() == reported_signature_) return out;
  for (const auto& [name, value] : server_->parameters()) {
    auto it = reported_.find(name);
    if (it != reported_.end() && it->second == value) continue;
    out += wire::ParameterStatus(name, value);
    reported_[name] = value;
  }
  reported_signature_ = server_->parameters_signature();
  return out;
}

Awaitable<std::string> ClientSession::Attach(const std::optional<SearchPath>& search_path) {
  std::string error;
  // where_: the target, or the read target's pool for a read (session_read.cpp).
  auto server = co_await AcquireServer(&error);
  if (!server) co_return fmt::format("cannot reach target \"{}\": {}", where_, error);
  error = co_await server->Apply(WantedOn(*server), search_path);
  if (!error.empty()) {
    controller_.Pool(where_).Release(std::move(server), /*reset=*/true);
    co_return fmt::format("target \"{}\" refused the session's settings: {}", where_, error);
  }
  server_ = std::move(server);
  co_return "";
}

}  // namespace zerodown::proxy
