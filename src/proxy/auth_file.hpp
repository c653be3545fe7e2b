// The users clients of `zerodown proxy --auth-file PATH` log in as: a file of
// `"user" "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>"` lines, the format of
// PgBouncer's userlist.txt with the secrets of pg_authid.rolpassword (docs/proxy.md says how to
// make one). It reads and checks the file before the proxy listens, and again at each reload
// (SIGHUP or `zerodown proxy reload`, controller.hpp); it holds no passwords
// (plaintext and md5 entries are refused) and does not speak to clients (session_login.cpp does).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "proxy/scram.hpp"
#include "zerodown/common/error.hpp"

namespace zerodown::proxy {

class AuthFile {
 public:
  // Reads `path`. Fails with kUsage naming the file, the line and the fix for an unreadable file,
  // a line that is not two quoted fields, a plaintext or md5 secret, a malformed SCRAM secret, a
  // user named twice, or a file that names no user.
  static Result<AuthFile> Load(const std::string& path);
  // Parses the text of a file called `path` (for messages), as Load does.
  static Result<AuthFile> Parse(std::string_view text, const std::string& path);

  // The secret of `user`, or nullptr when the file does not name it.
  const scram::Secret* Find(const std::string& user) const;
  // A secret for a user the file does not name: the exchange runs through with it (its salt the
  // same at every attempt, and across reloads) and fails at the proof, as PostgreSQL's does, so a
  // client cannot tell which users exist.
  scram::Secret MockSecret(const std::string& user) const;

  const std::string& path() const { return path_; }
  std::size_t size() const { return users_.size(); }

 private:
  std::string path_;
  std::map<std::string, scram::Secret> users_;
};

}  // namespace zerodown::proxy
