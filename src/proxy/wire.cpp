#include "proxy/wire.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace zerodown::proxy::wire {

std::uint32_t ReadUint32(const char* p) {
  std::uint32_t value;
  std::memcpy(&value, p, 4);
  return ntohl(value);
}

void AppendUint32(std::string& out, std::uint32_t value) {
  std::uint32_t net = htonl(value);
  out.append(reinterpret_cast<const char*>(&net), 4);
}

namespace {

// A typed message: type byte, length (counting itself), body.
std::string Message(char type, std::string_view body) {
  std::string out(1, type);
  AppendUint32(out, static_cast<std::uint32_t>(body.size() + 4));
  out.append(body);
  return out;
}

// An Authentication message ('R'): its code, then the mechanism's data, if any.
std::string Authentication(std::uint32_t code, std::string_view data) {
  std::string body;
  AppendUint32(body, code);
  body.append(data);
  return Message('R', body);
}

std::string CString(std::string_view s) {
  std::string out(s);
  out.push_back('\0');
  return out;
}

// Reads the name/value pairs of a StartupMessage, which end with an empty name.
bool ReadParameters(std::string_view rest, std::map<std::string, std::string>* parameters) {
  while (!rest.empty()) {
    auto name_end = rest.find('\0');
    if (name_end == std::string_view::npos) return false;
    if (name_end == 0) return rest.size() == 1;  // the terminator, and nothing after it
    auto value_end = rest.find('\0', name_end + 1);
    if (value_end == std::string_view::npos) return false;
    (*parameters)[std::string(rest.substr(0, name_end))] =
        std::string(rest.substr(name_end + 1, value_end - name_end - 1));
    rest.remove_prefix(value_end + 1);
  }
  return false;  // no terminator
}

}  // namespace

StartupParse ParseStartup(std::string_view body) {
  if (body.size() < 4) return {std::nullopt, "the packet is shorter than its protocol code"};
  StartupPacket packet;
  std::uint32_t code = ReadUint32(body.data());
  packet.protocol = code;
  if (code == kSslRequest || code == kGssEncRequest) {
    packet.kind = code == kSslRequest ? StartupKind::kSslRequest : StartupKind::kGssEncRequest;
    return {packet, ""};
  }
  if (code == kCancelRequest) {
    if (body.size() != 12) return {std::nullopt, "a CancelRequest must be 16 bytes long"};
    packet.kind = StartupKind::kCancel;
    packet.cancel_pid = ReadUint32(body.data() + 4);
    packet.cancel_secret = ReadUint32(body.data() + 8);
    return {packet, ""};
  }
  if (code >> 16 != 3) {
    return {std::nullopt, "unsupported protocol version " + std::to_string(code >> 16) + "." +
                              std::to_string(code & 0xffff) + " (the proxy speaks 3.0)"};
  }
  if (!ReadParameters(body.substr(4), &packet.parameters)) {
    return {std::nullopt, "the startup parameters are not NUL-terminated name/value pairs"};
  }
  if (packet.parameters.count("user") == 0) {
    return {std::nullopt, "the startup packet names no user"};
  }
  return {packet, ""};
}

bool SplitMessages(std::string_view buffer, std::vector<MessageView>* messages,
                   std::size_t* consumed) {
  std::size_t offset = 0;
  while (buffer.size() - offset >= 5) {
    std::uint32_t length = ReadUint32(buffer.data() + offset + 1);
    if (length < 4 || length > kMaxMessageLength) return false;
    if (buffer.size() - offset < length + 1) break;
    messages->push_back({buffer[offset], buffer.substr(offset, length + 1)});
    offset += length + 1;
  }
  *consumed = offset;
  return true;
}

std::string_view FirstString(std::string_view body) {
  auto end = body.find('\0');
  return end == std::string_view::npos ? std::string_view{} : body.substr(0, end);
}

std::string AuthenticationOk() { return Authentication(0, ""); }

std::optional<SaslInitialResponse> ParseSaslInitialResponse(std::string_view body) {
  auto name_end = body.find('\0');
  if (name_end == std::string_view::npos || body.size() - name_end - 1 < 4) return std::nullopt;
  SaslInitialResponse response{std::string(body.substr(0, name_end)), ""};
  std::string_view rest = body.substr(name_end + 5);
  std::uint32_t length = ReadUint32(body.data() + name_end + 1);
  if (length == 0xffffffff) length = 0;  // -1: no initial response
  if (length != rest.size()) return std::nullopt;
  response.data = std::string(rest);
  return response;
}

std::string AuthenticationSasl(std::string_view mechanism) {
  return Authentication(10, CString(mechanism) + std::string(1, '\0'));
}

std::string AuthenticationSaslContinue(std::string_view data) { return Authentication(11, data); }

std::string AuthenticationSaslFinal(std::string_view data) { return Authentication(12, data); }

std::string ParameterStatus(std::string_view name, std::string_view value) {
  return Message('S', CString(name) + CString(value));
}

std::string BackendKeyData(std::uint32_t pid, std::uint32_t secret) {
  std::string body;
  AppendUint32(body, pid);
  AppendUint32(body, secret);
  return Message('K', body);
}

std::string ReadyForQuery(char status) { return Message('Z', std::string(1, status)); }

std::string Query(std::string_view sql) { return Message('Q', CString(sql)); }

std::string Terminate() { return Message('X', ""); }

std::string ErrorResponse(std::string_view severity, std::string_view sqlstate,
                          std::string_view message, std::string_view hint) {
  std::string body;
  body += 'S' + CString(severity);
  body += 'V' + CString(severity);
  body += 'C' + CString(sqlstate);
  body += 'M' + CString(message);
  if (!hint.empty()) body += 'H' + CString(hint);
  body.push_back('\0');
  return Message('E', body);
}

ErrorFields ParseError(std::string_view body) {
  ErrorFields fields;
  while (!body.empty() && body.front() != '\0') {
    char code = body.front();
    auto end = body.find('\0', 1);
    if (end == std::string_view::npos) break;
    std::string value(body.substr(1, end - 1));
    if (code == 'C') fields.sqlstate = value;
    if (code == 'M') fields.message = value;
    body.remove_prefix(end + 1);
  }
  return fields;
}

}  // namespace zerodown::proxy::wire
