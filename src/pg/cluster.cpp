#include "zerodown/pg/cluster.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "zerodown/common/error.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::pg {

namespace {

namespace fs = std::filesystem;

struct ServerUser {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
};

ServerUser FindServerUser() {
  ServerUser user;
  if (geteuid() != 0) {
    const passwd* self = getpwuid(geteuid());
    user.name = self ? self->pw_name : "postgres";
    return user;
  }
  const passwd* pg = getpwnam("postgres");
  if (pg == nullptr) {
    throw Error(ErrorKind::kInternal, "running as root and there is no 'postgres' system user",
                "initdb refuses to run as root; install postgresql-15 (it creates the user) or "
                "run zerodown as an ordinary user.");
  }
  user.switch_user = true;
  user.uid = pg->pw_uid;
  user.gid = pg->pw_gid;
  user.name = pg->pw_name;
  return user;
}

std::string ReadTail(const std::string& path, std::size_t max_bytes = 2000) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  return text.size() > max_bytes ? text.substr(text.size() - max_bytes) : text;
}

std::string ResolveBindir(const std::string& requested) {
  if (!requested.empty()) return requested;
  if (const char* env = std::getenv("ZERODOWN_PG_BINDIR"); env && *env) return env;
  return ZERODOWN_PG_BINDIR;
}

// The watchdog: a child that blocks reading a pipe whose write end only the parent holds. When
// the parent exits for any reason the read returns, and the child stops the server and removes
// the directory if the parent did not.
int StartWatchdog(const std::string& pg_ctl, const std::string& data_dir, const std::string& dir) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (pid == 0) {
    signal(SIGINT, SIG_IGN);  // Ctrl-C reaches the whole process group; outlive the parent.
    signal(SIGTERM, SIG_IGN);
    close(fds[1]);
    setsid();
    char byte;
    while (read(fds[0], &byte, 1) > 0) {
    }
    if (fs::exists(data_dir + "/postmaster.pid")) {
      RunAsServerUser({pg_ctl, "-D", data_dir, "-m", "immediate", "-w", "stop"}, "/dev/null");
    }
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    _exit(0);
  }
  close(fds[0]);
  fcntl(fds[1], F_SETFD, FD_CLOEXEC);  // servers and tools we spawn must not hold it open
  return fds[1];
}

}  // namespace

int RunAsServerUser(const std::vector<std::string>& argv, const std::string& log_path) {
  ServerUser user = FindServerUser();
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (!log_path.empty()) {
      int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
      }
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    if (user.switch_user) {
      if (setgid(user.gid) != 0 || setuid(user.uid) != 0) _exit(126);
      setenv("HOME", "/tmp", 1);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

TempCluster::TempCluster(ClusterOptions options) : bindir_(ResolveBindir(options.bindir)) {
  if (!fs::exists(bindir_ + "/initdb") || !fs::exists(bindir_ + "/pg_ctl")) {
    throw Error(ErrorKind::kInternal, "PostgreSQL server binaries not found in " + bindir_,
                "Install postgresql-15 (scripts/bootstrap.sh does) or set ZERODOWN_PG_BINDIR to "
                "the directory holding initdb and pg_ctl.");
  }
  ServerUser user = FindServerUser();
  superuser_ = user.name;
  std::string templ = (fs::temp_directory_path() / "zerodown-pg-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) {
    throw Error(ErrorKind::kInternal, "cannot create a temporary directory for the cluster");
  }
  dir_ = templ;
  data_dir_ = dir_ + "/data";
  if (user.switch_user && chown(dir_.c_str(), user.uid, user.gid) != 0) {
    throw Error(ErrorKind::kInternal, "cannot hand " + dir_ + " to the postgres user");
  }
  chmod(dir_.c_str(), 0755);
  watchdog_fd_ = StartWatchdog(bindir_ + "/pg_ctl", data_dir_, dir_);

  std::string log = dir_ + "/initdb.log";
  if (RunAsServerUser({bindir_ + "/initdb", "-D", data_dir_, "--auth=trust", "--no-sync",
                       "--encoding=UTF8", "--locale=C", "-U", superuser_},
                      log) != 0) {
    std::string tail = ReadTail(log);
    Stop();
    throw Error(ErrorKind::kInternal, "initdb failed: " + tail,
                "Check that " + bindir_ + " holds a working PostgreSQL 15.");
  }

  // Any port works, since the socket lives in our own directory; a random one keeps the socket
  // name distinct in logs.
  std::random_device rd;
  port_ = 20000 + static_cast<int>(rd() % 30000);
  std::string server_options = "-p " + std::to_string(port_) + " -k " + dir_;
  for (const auto& [name, value] : options.settings) {
    server_options += " -c " + name + "=" + (value.empty() ? "''" : value);
  }
  std::string server_log = dir_ + "/server.log";
  if (RunAsServerUser({bindir_ + "/pg_ctl", "-D", data_dir_, "-o", server_options, "-l", server_log,
                       "-w", "-t", "60", "start"},
                      dir_ + "/pg_ctl.log") != 0) {
    std::string tail = ReadTail(server_log);
    Stop();
    throw Error(ErrorKind::kInternal, "the temporary PostgreSQL did not start: " + tail,
                "See the server log above; a full /tmp or too little shared memory are the "
                "usual causes.");
  }
  running_ = true;
}

TempCluster::~TempCluster() { Stop(); }

void TempCluster::Stop() {
  if (running_) {
    RunAsServerUser({bindir_ + "/pg_ctl", "-D", data_dir_, "-m", "fast", "-w", "-t", "30", "stop"},
                    "/dev/null");
    running_ = false;
  }
  if (!dir_.empty()) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  if (watchdog_fd_ >= 0) {
    close(watchdog_fd_);
    watchdog_fd_ = -1;
  }
}

std::string TempCluster::ConnInfo(const std::string& database) const {
  return "host=" + dir_ + " port=" + std::to_string(port_) + " user=" + superuser_ +
         " dbname=" + database;
}

std::string TempCluster::CreateDatabase(const std::string& name) {
  Connection conn = Connection::Open(ConnInfo("postgres"));
  conn.Exec("CREATE DATABASE " + conn.Ident(name));
  return ConnInfo(name);
}

}  // namespace zerodown::pg
