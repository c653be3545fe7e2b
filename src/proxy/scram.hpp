// SCRAM-SHA-256 (RFC 5802 with RFC 7677's hash) as a PostgreSQL server speaks it, for the proxy's
// client authentication: the stored secret in pg_authid.rolpassword's format, and the server side
// of one exchange as functions of the client's messages. SHA-256, HMAC, PBKDF2, random bytes and
// base64 come from OpenSSL's libcrypto. It does no I/O and knows nothing of the protocol messages
// around SCRAM (session_login.cpp wraps them). It offers no channel binding (SCRAM-SHA-256-PLUS):
// the proxy does not speak TLS, so there is no channel to bind to.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "zerodown/common/error.hpp"

namespace zerodown::proxy::scram {

inline constexpr std::string_view kMechanism = "SCRAM-SHA-256";

// What a server keeps instead of a password. All fields but `iterations` are raw bytes.
struct Secret {
  int iterations = 0;
  std::string salt;
  std::string stored_key;  // SHA-256(ClientKey)
  std::string server_key;  // HMAC(SaltedPassword, "Server Key")
};

// Parses "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>" (base64 fields), the format
// of pg_authid.rolpassword and PgBouncer's userlist.txt. Fails with kUsage saying what is wrong.
Result<Secret> ParseSecret(std::string_view text);
// The inverse of ParseSecret.
std::string FormatSecret(const Secret& secret);
// The secret of `password` (PBKDF2-HMAC-SHA-256 over `salt`, `iterations` rounds), as PostgreSQL
// stores it for a password that SASLprep leaves as it is (any ASCII one).
Secret MakeSecret(std::string_view password, std::string_view salt, int iterations);

// Standard base64 with padding; Base64Decode returns nullopt for anything else.
std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);

// 18 random bytes in base64: a server nonce (printable, no ',').
std::string RandomNonce();

enum class FailureKind {
  kProtocol,  // the message is not SCRAM as RFC 5802 defines it (SQLSTATE 08P01)
  kRefused,   // well-formed, but the proof does not match the secret (SQLSTATE 28P01)
};
struct Failure {
  FailureKind kind;
  std::string reason;  // for the log and, for kProtocol, for the client
};

// The server's answer to one client message: its next message, or why the exchange ends.
struct Reply {
  std::string message;
  std::optional<Failure> failure;
  bool ok() const { return !failure.has_value(); }
};

// One exchange, on the server's side. As PostgreSQL does, the user name in the client-first
// message is ignored (the startup packet's user is the one authenticated).
class ServerExchange {
 public:
  // `server_nonce`: printable ASCII without ',' (RandomNonce(), or a test vector's).
  ServerExchange(Secret secret, std::string server_nonce);

  // client-first-message ("n,,n=user,r=<nonce>") -> server-first-message ("r=…,s=…,i=…").
  Reply OnClientFirst(std::string_view message);
  // client-final-message ("c=…,r=…,p=<proof>") -> server-final-message ("v=<signature>") when
  // the proof shows the client knows the password. Proofs are compared in constant time.
  Reply OnClientFinal(std::string_view message);

 private:
  enum class State { kExpectFirst, kExpectFinal, kDone };

  Secret secret_;
  std::string server_nonce_;
  State state_ = State::kExpectFirst;
  std::string gs2_header_;         // "n,," or "y,,": what c= must carry back
  std::string client_first_bare_;  // "n=…,r=…[,…]"
  std::string server_first_;
  std::string nonce_;  // client nonce + server nonce
};

}  // namespace zerodown::proxy::scram
