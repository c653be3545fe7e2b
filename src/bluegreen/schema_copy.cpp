#include "bluegreen/schema_copy.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <mutex>

#include "bluegreen/replication.hpp"
#include "zerodown/load/child_process.hpp"

namespace zerodown::bluegreen {
namespace {

std::string PgDump(const std::string& bindir) {
  if (!bindir.empty()) return bindir + "/pg_dump";
  if (const char* env = std::getenv("ZERODOWN_PG_BINDIR"); env && *env) {
    return std::string(env) + "/pg_dump";
  }
  // The tests and demo clusters use the same default; pg_dump refuses a newer server.
  return "/usr/lib/postgresql/15/bin/pg_dump";
}

// pg_dump's output gathered from its reading threads.
class DumpReader {
 public:
  // Not inlined: GCC 12 warns of a maybe-uninitialized string inlined through std::function.
  [[gnu::noinline]] void OnStdout(std::string line) {
    // psql meta-commands (\restrict, \connect) mean nothing to the server.
    if (line.rfind("\\", 0) == 0) return;
    std::lock_guard lock(mutex_);
    sql_ += line;
    sql_ += '\n';
  }
  [[gnu::noinline]] void OnStderr(std::string line) {
    std::lock_guard lock(mutex_);
    errors_ += line;
    errors_ += '\n';
  }
  std::string sql() {
    std::lock_guard lock(mutex_);
    return sql_;
  }
  std::string errors() {
    std::lock_guard lock(mutex_);
    return errors_;
  }

 private:
  std::mutex mutex_;
  std::string sql_;
  std::string errors_;
};

}  // namespace

void CopySchema(const pg::Connection& source, pg::Connection& target, const std::string& bindir) {
  DumpReader reader;
  // The password goes through the environment, not the command line other users can read.
  std::vector<std::string> env;
  if (std::string password = PasswordOf(source); !password.empty()) {
    env.push_back("PGPASSWORD=" + password);
  }
  auto child = load::ChildProcess::Start(
      {PgDump(bindir), "--schema-only", "--exclude-schema=zerodown", "--no-publications",
       "--no-subscriptions", "--dbname", ConnInfoOf(source, false)},
      env, [&reader](std::string line) { reader.OnStdout(std::move(line)); },
      [&reader](std::string line) { reader.OnStderr(std::move(line)); });
  if (!child.ok()) throw child.error();
  int status = child.value()->Wait().status;
  if (status != 0) {
    throw Error(ErrorKind::kDatabase,
                fmt::format("pg_dump --schema-only of blue failed (status {}): {}", status,
                            reader.errors()),
                "Check that pg_dump 15 is installed (ZERODOWN_PG_BINDIR) and can read blue.");
  }
  // A session of its own: the dump sets search_path to '' for the session it runs in.
  pg::Connection copy = target.OpenAnother("zerodown bluegreen schema copy");
  try {
    copy.Run("BEGIN;\n" + reader.sql() + "\nCOMMIT;");
  } catch (const Error& e) {
    throw Error(
        ErrorKind::kDatabase,
        "copying blue's schema into green failed, and green was left as it was: " + e.message(),
        "Create on green what the statement needs first (roles: pg_dumpall --roles-only "
        "| psql; extensions: install their packages), then run create again.")
        .WithSqlstate(e.sqlstate());
  }
}

}  // namespace zerodown::bluegreen
