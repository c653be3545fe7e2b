// A throwaway local PostgreSQL for `zerodown demo`, the benchmarks and the tests: initdb and
// pg_ctl in a temporary directory, reachable only through a unix socket in that directory. As
// root it runs the server as the `postgres` system user, since initdb refuses root. It is torn
// down by the destructor and, should this process die first (even by SIGKILL), by a watchdog
// process that notices the parent is gone.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace zerodown::pg {

struct ClusterOptions {
  // Server settings passed as -c name=value. The defaults suit tests and demos, never production:
  // fsync off, logical WAL so blue-green and standby tests can replicate.
  std::vector<std::pair<std::string, std::string>> settings = {
      {"fsync", "off"},         {"synchronous_commit", "off"}, {"full_page_writes", "off"},
      {"wal_level", "logical"}, {"max_connections", "200"},    {"shared_buffers", "256MB"},
      {"max_wal_size", "4GB"},  {"listen_addresses", ""},
  };
  // Where initdb, pg_ctl and postgres live; "" means $ZERODOWN_PG_BINDIR, then the compiled-in
  // default (/usr/lib/postgresql/15/bin).
  std::string bindir;
};

class TempCluster {
 public:
  // Creates and starts a cluster. Throws Error(kInternal) with initdb's or the server's log on
  // failure, naming the fix (install postgresql-15, or set ZERODOWN_PG_BINDIR).
  explicit TempCluster(ClusterOptions options = {});
  TempCluster(const TempCluster&) = delete;
  TempCluster& operator=(const TempCluster&) = delete;
  ~TempCluster();

  // conninfo for `database` as the cluster's superuser over the unix socket.
  std::string ConnInfo(const std::string& database = "postgres") const;
  // Creates an empty database and returns its conninfo.
  std::string CreateDatabase(const std::string& name);
  void Stop();

  const std::string& socket_dir() const { return dir_; }
  int port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& bindir() const { return bindir_; }
  const std::string& superuser() const { return superuser_; }

 private:
  std::string bindir_;
  std::string dir_;
  std::string data_dir_;
  std::string superuser_;
  int port_ = 0;
  int watchdog_fd_ = -1;
  bool running_ = false;
};

// Runs `argv` (argv[0] an absolute path) and waits; as root, as the `postgres` system user.
// Returns the exit status; output goes to `log_path` when given.
int RunAsServerUser(const std::vector<std::string>& argv, const std::string& log_path = {});

}  // namespace zerodown::pg
