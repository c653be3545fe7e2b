// The PostgreSQL frontend/backend protocol (version 3.0) as the proxy needs it: splitting a byte
// stream into messages, reading the startup packet, and building the few messages the proxy
// speaks itself (authentication, parameter status, key data, ready-for-query, errors). It does no
// I/O and knows nothing of sessions or pools.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zerodown::proxy::wire {

// Codes of the packets a client may send before its first typed message.
inline constexpr std::uint32_t kProtocol3 = 196608;  // 3.0
inline constexpr std::uint32_t kSslRequest = 80877103;
inline constexpr std::uint32_t kGssEncRequest = 80877104;
inline constexpr std::uint32_t kCancelRequest = 80877102;
// Longest startup packet the server itself accepts (MAX_STARTUP_PACKET_LENGTH).
inline constexpr std::uint32_t kMaxStartupLength = 10000;
// Longest SASL message a client may send (the server's PG_MAX_AUTH_TOKEN_LENGTH).
inline constexpr std::uint32_t kMaxSaslLength = 65535;
// Longest typed message the proxy buffers; the server's own limit for most is 1 GB.
inline constexpr std::uint32_t kMaxMessageLength = 1u << 30;

enum class StartupKind { kStartup, kSslRequest, kGssEncRequest, kCancel };

// A parsed packet from before the session starts.
struct StartupPacket {
  StartupKind kind = StartupKind::kStartup;
  std::uint32_t protocol = 0;
  std::map<std::string, std::string> parameters;  // user, database, options, application_name…
  std::uint32_t cancel_pid = 0;                   // kCancel
  std::uint32_t cancel_secret = 0;
};

// Parses the body of a startup-phase packet (after its 4-byte length). Returns the reason it is
// malformed instead when it is.
struct StartupParse {
  std::optional<StartupPacket> packet;
  std::string error;
};
StartupParse ParseStartup(std::string_view body);

std::uint32_t ReadUint32(const char* p);
void AppendUint32(std::string& out, std::uint32_t value);

// One complete typed message inside a buffer: its type byte and its whole extent (type, length
// and body), so it can be forwarded without copying.
struct MessageView {
  char type = 0;
  std::string_view bytes;  // the whole message
  std::string_view body() const { return bytes.substr(5); }
};

// Splits the complete messages at the front of `buffer`; `*consumed` is how many bytes they
// take. Returns false when a length is impossible (below 4 or above kMaxMessageLength).
bool SplitMessages(std::string_view buffer, std::vector<MessageView>* messages,
                   std::size_t* consumed);

// The first NUL-terminated string of a message body ("" when there is none): the statement name
// of Parse, the portal of Bind, the parameter name of ParameterStatus.
std::string_view FirstString(std::string_view body);

// A SASLInitialResponse ('p' during authentication): the mechanism the client chose and its
// first message. nullopt when the body is not a name, a length and that many bytes.
struct SaslInitialResponse {
  std::string mechanism;
  std::string data;
};
std::optional<SaslInitialResponse> ParseSaslInitialResponse(std::string_view body);

// Messages the proxy builds.
std::string AuthenticationOk();
// AuthenticationSASL offering one mechanism, then AuthenticationSASLContinue and
// AuthenticationSASLFinal carrying the mechanism's messages.
std::string AuthenticationSasl(std::string_view mechanism);
std::string AuthenticationSaslContinue(std::string_view data);
std::string AuthenticationSaslFinal(std::string_view data);
std::string ParameterStatus(std::string_view name, std::string_view value);
std::string BackendKeyData(std::uint32_t pid, std::uint32_t secret);
std::string ReadyForQuery(char status);
std::string Query(std::string_view sql);
std::string Terminate();

// An ErrorResponse with severity (ERROR or FATAL), SQLSTATE, message and an optional hint: the
// fields every client shows.
std::string ErrorResponse(std::string_view severity, std::string_view sqlstate,
                          std::string_view message, std::string_view hint = {});

// The message (M) and SQLSTATE (C) fields of an ErrorResponse body.
struct ErrorFields {
  std::string sqlstate;
  std::string message;
};
ErrorFields ParseError(std::string_view body);

}  // namespace zerodown::proxy::wire
