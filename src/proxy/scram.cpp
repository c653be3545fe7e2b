#include "proxy/scram.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <charconv>
#include <stdexcept>

namespace zerodown::proxy::scram {
namespace {

constexpr std::size_t kKeyLength = SHA256_DIGEST_LENGTH;
constexpr std::string_view kPrefix = "SCRAM-SHA-256$";

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string Sha256(std::string_view data) {
  std::string out(kKeyLength, '\0');
  SHA256(Bytes(data), data.size(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string Hmac(std::string_view key, std::string_view data) {
  std::string out(kKeyLength, '\0');
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), Bytes(data), data.size(),
       reinterpret_cast<unsigned char*>(out.data()), &length);
  return out;
}

std::string Xor(std::string_view a, std::string_view b) {
  std::string out(a);
  for (std::size_t i = 0; i < out.size() && i < b.size(); ++i) out[i] ^= b[i];
  return out;
}

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// RFC 5802: a nonce is printable ASCII other than ','.
bool ValidNonce(std::string_view nonce) {
  if (nonce.empty()) return false;
  for (char c : nonce) {
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

// Takes "<name>=<value>" from the front of `rest`, up to the next ',' (consumed) or the end.
std::optional<std::string_view> TakeAttribute(std::string_view* rest, char name) {
  if (rest->size() < 2 || (*rest)[0] != name || (*rest)[1] != '=') return std::nullopt;
  auto end = rest->find(',');
  std::string_view value = rest->substr(2, end == std::string_view::npos ? end : end - 2);
  rest->remove_prefix(end == std::string_view::npos ? rest->size() : end + 1);
  return value;
}

Reply Protocol(std::string reason) { return {"", Failure{FailureKind::kProtocol, reason}}; }

Error BadSecret(std::string what) {
  return Error(ErrorKind::kUsage, "the SCRAM secret " + what,
               "Copy the whole rolpassword value from pg_authid: "
               "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>.");
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out((bytes.size() + 2) / 3 * 4 + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), Bytes(bytes),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  // EVP_DecodeBlock skips whitespace and keeps the padding's zero bytes: check the form here.
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') {
    ++padding;
  }
  for (std::size_t i = 0; i + padding < text.size(); ++i) {
    if (!IsBase64Char(text[i])) return std::nullopt;
  }
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), Bytes(text),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

std::string RandomNonce() {
  unsigned char bytes[18];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    throw std::runtime_error("OpenSSL's RAND_bytes failed to give a SCRAM nonce");
  }
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

Result<Secret> ParseSecret(std::string_view text) {
  if (text.substr(0, kPrefix.size()) != kPrefix) {
    return BadSecret("does not begin with SCRAM-SHA-256$");
  }
  std::string_view rest = text.substr(kPrefix.size());
  auto dollar = rest.find('$');
  auto colon = rest.find(':');
  auto keys_colon = rest.find(':', dollar == std::string_view::npos ? rest.size() : dollar);
  if (colon > dollar || dollar == std::string_view::npos || keys_colon == std::string_view::npos) {
    return BadSecret(
        "is not of the form SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>");
  }
  Secret secret;
  auto digits = rest.substr(0, colon);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), secret.iterations);
  if (ec != std::errc() || end != digits.data() + digits.size() || secret.iterations <= 0) {
    return BadSecret(
        fmt::format("has an iteration count \"{}\" that is not a positive number", digits));
  }
  auto salt = Base64Decode(rest.substr(colon + 1, dollar - colon - 1));
  auto stored_key = Base64Decode(rest.substr(dollar + 1, keys_colon - dollar - 1));
  auto server_key = Base64Decode(rest.substr(keys_colon + 1));
  if (!salt || salt->empty()) return BadSecret("has a salt that is not base64");
  if (!stored_key || !server_key || stored_key->size() != kKeyLength ||
      server_key->size() != kKeyLength) {
    return BadSecret("has keys that are not 32 bytes of base64 each");
  }
  secret.salt = std::move(*salt);
  secret.stored_key = std::move(*stored_key);
  secret.server_key = std::move(*server_key);
  return secret;
}

std::string FormatSecret(const Secret& secret) {
  return fmt::format("{}{}:{}${}:{}", kPrefix, secret.iterations, Base64Encode(secret.salt),
                     Base64Encode(secret.stored_key), Base64Encode(secret.server_key));
}

Secret MakeSecret(std::string_view password, std::string_view salt, int iterations) {
  std::string salted(kKeyLength, '\0');
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), Bytes(salt),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(),
                    static_cast<int>(kKeyLength), reinterpret_cast<unsigned char*>(salted.data()));
  return Secret{iterations, std::string(salt), Sha256(Hmac(salted, "Client Key")),
                Hmac(salted, "Server Key")};
}

ServerExchange::ServerExchange(Secret secret, std::string server_nonce)
    : secret_(std::move(secret)), server_nonce_(std::move(server_nonce)) {}

Reply ServerExchange::OnClientFirst(std::string_view message) {
  if (state_ != State::kExpectFirst) return Protocol("a second client-first-message");
  std::string_view rest = message;
  if (rest.substr(0, 2) == "p=") {
    return Protocol(
        "the client asks for channel binding (SCRAM-SHA-256-PLUS), which zerodown proxy does "
        "not offer: it does not speak TLS");
  }
  if (rest.size() < 2 || (rest[0] != 'n' && rest[0] != 'y') || rest[1] != ',') {
    return Protocol("the client-first-message does not begin with a channel binding flag");
  }
  rest.remove_prefix(2);
  if (rest.substr(0, 2) == "a=") {
    return Protocol(
        "the client-first-message names an authorization identity (a=), which is "
        "not supported");
  }
  if (rest.empty() || rest[0] != ',')
    return Protocol("the client-first-message's header is malformed");
  rest.remove_prefix(1);
  gs2_header_ = std::string(message.substr(0, message.size() - rest.size()));
  client_first_bare_ = std::string(rest);
  if (rest.substr(0, 2) == "m=") {
    return Protocol(
        "the client-first-message has a mandatory extension (m=), which is not "
        "supported");
  }
  if (!TakeAttribute(&rest, 'n')) return Protocol("the client-first-message has no user (n=)");
  auto client_nonce = TakeAttribute(&rest, 'r');
  if (!client_nonce || !ValidNonce(*client_nonce)) {
    return Protocol("the client-first-message has no valid nonce (r=)");
  }
  nonce_ = std::string(*client_nonce) + server_nonce_;
  server_first_ =
      fmt::format("r={},s={},i={}", nonce_, Base64Encode(secret_.salt), secret_.iterations);
  state_ = State::kExpectFinal;
  return {server_first_, std::nullopt};
}

Reply ServerExchange::OnClientFinal(std::string_view message) {
  if (state_ != State::kExpectFinal) return Protocol("a client-final-message out of turn");
  state_ = State::kDone;
  auto proof_at = message.rfind(",p=");
  if (proof_at == std::string_view::npos) {
    return Protocol("the client-final-message has no proof (p=)");
  }
  std::string_view without_proof = message.substr(0, proof_at);
  std::string_view rest = without_proof;
  auto binding = TakeAttribute(&rest, 'c');
  auto header = binding ? Base64Decode(*binding) : std::nullopt;
  if (!header || *header != gs2_header_) {
    return Protocol("the client-final-message's channel binding (c=) does not repeat its header");
  }
  auto nonce = TakeAttribute(&rest, 'r');
  if (!nonce || *nonce != nonce_) {
    return Protocol("the client-final-message's nonce (r=) is not the one the proxy sent");
  }
  auto proof = Base64Decode(message.substr(proof_at + 3));
  if (!proof || proof->size() != kKeyLength) {
    return Protocol("the client-final-message's proof (p=) is not 32 bytes of base64");
  }
  std::string auth_message =
      client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  std::string client_key = Xor(*proof, Hmac(secret_.stored_key, auth_message));
  std::string stored_key = Sha256(client_key);
  if (secret_.stored_key.size() != kKeyLength ||
      CRYPTO_memcmp(stored_key.data(), secret_.stored_key.data(), kKeyLength) != 0) {
    return {"", Failure{FailureKind::kRefused, "the password is wrong (its proof does not match)"}};
  }
  return {"v=" + Base64Encode(Hmac(secret_.server_key, auth_message)), std::nullopt};
}

}  // namespace zerodown::proxy::scram
