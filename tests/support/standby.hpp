// Test support for streaming replication: a hot standby of the shared cluster, cloned with
// pg_basebackup -R and started on its own socket, stopped and removed on destruction.
#pragma once

#include <pwd.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "support/database.hpp"
#include "zerodown/pg/cluster.hpp"

namespace zerodown::testing {

// A hot standby of the shared cluster in a temporary directory; stopped and removed on
// destruction.
class Standby {
 public:
  Standby() {
    auto& primary = SharedCluster();
    std::string templ =
        (std::filesystem::temp_directory_path() / "zerodown-standby-XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = templ;
    if (geteuid() == 0) {
      // The server runs as `postgres`; it must own the directory it writes its socket in.
      const passwd* pg = getpwnam("postgres");
      if (pg == nullptr || chown(dir_.c_str(), pg->pw_uid, pg->pw_gid) != 0) {
        throw std::runtime_error("cannot hand " + dir_ + " to postgres");
      }
    }
    data_ = dir_ + "/data";
    bindir_ = primary.bindir();
    // Written by the server itself (as postgres), so not opened by us first.
    log_ = dir_ + "/standby.log";
    int rc = pg::RunAsServerUser(
        {bindir_ + "/pg_basebackup", "-D", data_, "-R", "-X", "stream", "-c", "fast", "-h",
         primary.socket_dir(), "-p", std::to_string(primary.port()), "-U", primary.superuser()},
        dir_ + "/basebackup.log");
    if (rc != 0) throw std::runtime_error("pg_basebackup failed, see " + dir_ + "/basebackup.log");
    port_ = primary.port() + 1;
    // A hot standby needs max_connections and friends at least as high as the primary's.
    std::string options = "-p " + std::to_string(port_) + " -k " + dir_;
    for (const auto& [name, value] : pg::ClusterOptions{}.settings) {
      options += " -c " + name + "=" + (value.empty() ? "''" : value);
    }
    // Report replay progress every second, not every ten, so a resumed standby shows at once.
    options += " -c hot_standby=on -c wal_receiver_status_interval=1 -c cluster_name=standby1";
    options_ = options;
    Start();
  }
  // Starts the standby again after Stop (the constructor starts it first).
  void Start() {
    int rc = pg::RunAsServerUser(
        {bindir_ + "/pg_ctl", "-D", data_, "-o", options_, "-l", log_, "-w", "-t", "60", "start"},
        dir_ + "/pg_ctl.log");
    if (rc != 0) throw std::runtime_error("the standby did not start, see " + log_);
    running_ = true;
  }
  // Stops it (fast shutdown): its port and socket refuse connections until Start.
  void Stop() {
    int rc = pg::RunAsServerUser({bindir_ + "/pg_ctl", "-D", data_, "-m", "fast", "-w", "stop"},
                                 dir_ + "/pg_ctl.log");
    if (rc != 0) throw std::runtime_error("the standby did not stop, see " + log_);
    running_ = false;
  }
  ~Standby() {
    if (running_) {
      pg::RunAsServerUser({bindir_ + "/pg_ctl", "-D", data_, "-m", "immediate", "-w", "stop"},
                          "/dev/null");
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  // conninfo for `database` (a database of the shared cluster, which the standby copies).
  std::string ConnInfo(const std::string& database = "postgres") const {
    return "host=" + dir_ + " port=" + std::to_string(port_) +
           " user=" + SharedCluster().superuser() + " dbname=" + database;
  }

 private:
  std::string dir_, data_, bindir_, log_, options_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace zerodown::testing
