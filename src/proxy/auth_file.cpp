#include "proxy/auth_file.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <fstream>
#include <sstream>

namespace zerodown::proxy {
namespace {

constexpr std::string_view kLineForm =
    "Each line is \"user\" \"SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>\" (a \" "
    "inside a field is written \"\"); blank lines and lines starting with ; or # are skipped. "
    "docs/proxy.md shows how to make the file from pg_authid.";

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// Takes one "quoted" field (with "" for a quote inside) from the front of `rest`.
std::optional<std::string> TakeQuoted(std::string_view* rest) {
  *rest = TrimLeft(*rest);
  if (rest->empty() || rest->front() != '"') return std::nullopt;
  std::string value;
  for (std::size_t i = 1; i < rest->size(); ++i) {
    char c = (*rest)[i];
    if (c != '"') {
      value.push_back(c);
    } else if (i + 1 < rest->size() && (*rest)[i + 1] == '"') {
      value.push_back('"');
      ++i;
    } else {
      rest->remove_prefix(i + 1);
      return value;
    }
  }
  return std::nullopt;  // no closing quote
}

// Why `secret` of `user` cannot serve SCRAM, or nothing when it can.
std::optional<Error> CheckKind(const std::string& user, const std::string& secret) {
  if (secret.rfind("md5", 0) == 0 && secret.size() == 35) {
    return Error(
        ErrorKind::kUsage,
        fmt::format("user \"{}\" has an md5 secret, which cannot serve SCRAM-SHA-256", user),
        "Set the user's password again with password_encryption = 'scram-sha-256' "
        "(\\password in psql does) and copy its new rolpassword from pg_authid.");
  }
  if (secret.rfind("SCRAM-SHA-256$", 0) != 0) {
    return Error(ErrorKind::kUsage,
                 fmt::format("user \"{}\" has a plaintext password; the proxy keeps only "
                             "SCRAM-SHA-256 secrets, so the file never holds a password",
                             user),
                 "Replace it with the user's rolpassword from pg_authid (set with "
                 "password_encryption = 'scram-sha-256').");
  }
  return std::nullopt;
}

std::string RandomBytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw Error(ErrorKind::kInternal, "OpenSSL's RAND_bytes failed");
  }
  return out;
}

// The key of the mock secrets: random, drawn once per process, so that a reload of the file does
// not change an unknown user's salt (a change would tell that the user is unknown).
const std::string& MockKey() {
  static const std::string key = RandomBytes(32);
  return key;
}

}  // namespace

Result<AuthFile> AuthFile::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(ErrorKind::kUsage, fmt::format("--auth-file {}: cannot read the file", path),
                 "Name a readable file of users and SCRAM secrets (docs/proxy.md).");
  }
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

Result<AuthFile> AuthFile::Parse(std::string_view text, const std::string& path) {
  AuthFile file;
  file.path_ = path;
  int number = 0;
  while (!text.empty()) {
    ++number;
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    line = TrimLeft(line);
    if (line.empty() || line.front() == ';' || line.front() == '#') continue;
    std::string where = fmt::format("--auth-file {}, line {}", path, number);
    std::string_view rest = line;
    auto user = TakeQuoted(&rest);
    auto secret = user ? TakeQuoted(&rest) : std::nullopt;
    if (!user || !secret || !TrimLeft(rest).empty() || user->empty()) {
      return Error(ErrorKind::kUsage, "the line is not two quoted fields, a user and its secret",
                   std::string(kLineForm))
          .WithWhere(where);
    }
    if (auto wrong = CheckKind(*user, *secret)) return wrong->WithWhere(where);
    auto parsed = scram::ParseSecret(*secret);
    if (!parsed) {
      return Error(ErrorKind::kUsage,
                   fmt::format("user \"{}\": {}", *user, parsed.error().message()),
                   parsed.error().fix())
          .WithWhere(where);
    }
    if (!file.users_.emplace(*user, *parsed).second) {
      return Error(ErrorKind::kUsage, fmt::format("user \"{}\" is named a second time", *user),
                   "Keep one line per user.")
          .WithWhere(where);
    }
  }
  if (file.users_.empty()) {
    return Error(ErrorKind::kUsage, fmt::format("--auth-file {} names no user", path),
                 "Every client would be refused. " + std::string(kLineForm));
  }
  return file;
}

const scram::Secret* AuthFile::Find(const std::string& user) const {
  auto it = users_.find(user);
  return it == users_.end() ? nullptr : &it->second;
}

scram::Secret AuthFile::MockSecret(const std::string& user) const {
  // The salt is a keyed hash of the name, so two attempts for one unknown user see the same salt
  // (as they would for a real user); the keys are the random key itself, which no proof matches.
  const std::string& key = MockKey();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(user.data()), user.size(), digest, &length);
  scram::Secret secret;
  secret.iterations = 4096;
  secret.salt.assign(reinterpret_cast<const char*>(digest), 16);
  secret.stored_key = key;
  secret.server_key = key;
  return secret;
}

}  // namespace zerodown::proxy
