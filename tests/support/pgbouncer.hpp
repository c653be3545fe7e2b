// Test support: a real PgBouncer (the Debian package's /usr/sbin/pgbouncer) as a child process on
// a free local port, started from a generated ini in a directory of its own: transaction
// pooling, auth_type trust, the cluster's superuser as its admin, and one [databases] entry
// pointed at a throwaway cluster's database (in the ini, or in a file the ini %includes). As root
// it runs as the `postgres` user (PgBouncer refuses root), which owns that directory.
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/proxy.hpp"
#include "zerodown/load/child_process.hpp"

namespace zerodown::testing {

// The keywords of a libpq conninfo (host, port, user, dbname…).
inline std::map<std::string, std::string> ConnInfoFields(const std::string& conninfo) {
  std::map<std::string, std::string> fields;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(conninfo.c_str(), nullptr), &PQconninfoFree);
  for (PQconninfoOption* o = options.get(); o && o->keyword; ++o) {
    if (o->val) fields[o->keyword] = o->val;
  }
  return fields;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class PgBouncerProcess {
 public:
  // Where the [databases] section is written.
  enum class Layout { kOneFile, kDatabasesIncluded };

  // Starts PgBouncer with the entry `entry` pointed at `target` (a throwaway cluster's conninfo)
  // and waits until it listens. kDatabasesIncluded writes the section to databases_ini(), which
  // the ini includes by its absolute path.
  PgBouncerProcess(const std::string& entry, const std::string& target,
                   Layout layout = Layout::kOneFile)
      : entry_(entry), port_(FreePort()) {
    auto fields = ConnInfoFields(target);
    user_ = fields["user"];
    dir_ = "/tmp/zerodown-pgbouncer-" + std::to_string(getpid()) + "-" + std::to_string(port_);
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ + "/userlist.txt") << "\"" << user_ << "\" \"\"\n";
    std::ostringstream databases;
    databases << "[databases]\n"
              << entry << " = host=" << fields["host"] << " port=" << fields["port"]
              << " dbname=" << fields["dbname"] << "\n";
    std::vector<std::string> files = {dir_, ini(), dir_ + "/userlist.txt"};
    if (layout == Layout::kDatabasesIncluded) {
      std::ofstream(databases_ini()) << databases.str();
      databases.str("%include " + databases_ini() + "\n");
      files.push_back(databases_ini());
    }
    std::ofstream(ini()) << databases.str() << "\n[pgbouncer]\n"
                         << "listen_addr = 127.0.0.1\nlisten_port = " << port_
                         << "\nunix_socket_dir =\nauth_type = trust\nauth_file = " << dir_
                         << "/userlist.txt\nadmin_users = " << user_
                         << "\npool_mode = transaction\ndefault_pool_size = 20\n"
                            "max_client_conn = 200\n";
    std::vector<std::string> argv = {Binary()};
    if (::getuid() == 0) {
      const passwd* postgres = ::getpwnam("postgres");
      EXPECT_NE(postgres, nullptr) << "PgBouncer will not run as root; no postgres user";
      if (postgres) {
        for (const auto& path : files) {
          EXPECT_EQ(::chown(path.c_str(), postgres->pw_uid, postgres->pw_gid), 0) << path;
        }
        argv.insert(argv.end(), {"-u", "postgres"});
      }
    }
    argv.push_back(ini());
    child_ = StartListeningChild(argv, port_, &mutex_, &log_);
    EXPECT_TRUE(Listening(port_)) << log();
  }
  ~PgBouncerProcess() {
    child_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  PgBouncerProcess(const PgBouncerProcess&) = delete;
  PgBouncerProcess& operator=(const PgBouncerProcess&) = delete;

  // For the application: the entry through PgBouncer.
  std::string ConnInfo() const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + entry_ + " user=" + user_ +
           " connect_timeout=10";
  }
  // The admin console, as `bluegreen switch --pgbouncer` takes it.
  std::string ConsoleUrl() const {
    return "postgresql://" + user_ + "@127.0.0.1:" + std::to_string(port_) + "/pgbouncer";
  }
  std::string ini() const { return dir_ + "/pgbouncer.ini"; }
  std::string databases_ini() const { return dir_ + "/databases.ini"; }
  const std::string& dir() const { return dir_; }
  std::string log() const {
    std::lock_guard lock(mutex_);
    return log_;
  }
  // The entry's row of the console's SHOW DATABASES, by column name ("host", "port", "paused"…).
  std::map<std::string, std::string> Shown() const {
    pg::Connection console =
        Connect("host=127.0.0.1 port=" + std::to_string(port_) + " dbname=pgbouncer user=" + user_);
    PGresult* result = PQexec(console.raw(), "SHOW DATABASES");
    std::map<std::string, std::string> row;
    for (int r = 0; r < PQntuples(result); ++r) {
      if (PQgetvalue(result, r, PQfnumber(result, "name")) != entry_) continue;
      for (int c = 0; c < PQnfields(result); ++c)
        row[PQfname(result, c)] = PQgetvalue(result, r, c);
    }
    PQclear(result);
    return row;
  }

 private:
  static std::string Binary() {
    for (const char* path : {"/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"}) {
      if (std::filesystem::exists(path)) return path;
    }
    ADD_FAILURE() << "pgbouncer is not installed: run scripts/bootstrap.sh";
    return "pgbouncer";
  }

  std::string entry_;
  int port_;
  std::string user_;
  std::string dir_;
  std::unique_ptr<load::ChildProcess> child_;
  mutable std::mutex mutex_;
  std::string log_;
};

}  // namespace zerodown::testing
