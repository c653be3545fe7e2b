// Test support for the proxy: a `zerodown proxy` child process on free local ports, its stderr
// kept for failure messages, conninfo strings for clients, and the admin commands through the
// CLI as a user runs them.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/database.hpp"
#include "zerodown/load/child_process.hpp"

namespace zerodown::testing {

// A TCP port nobody listens on right now (the kernel's pick for port 0).
inline int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t size = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

inline bool Listening(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return ok;
}

// Starts `argv` with its stderr appended to `*log` (under `*mutex`, for failure messages) and
// waits up to 5 s until `port` accepts connections. The child is killed when the test binary
// dies (util-linux's setpriv sets its parent-death signal), so that a killed or crashed test
// leaves no server listening and holding files it inherited.
inline std::unique_ptr<load::ChildProcess> StartListeningChild(const std::vector<std::string>& argv,
                                                               int port, std::mutex* mutex,
                                                               std::string* log) {
  std::vector<std::string> guarded = {"setpriv", "--pdeathsig", "KILL", "--"};
  guarded.insert(guarded.end(), argv.begin(), argv.end());
  auto child = load::ChildProcess::Start(guarded, {}, nullptr, [mutex, log](std::string line) {
                 std::lock_guard lock(*mutex);
                 *log += line + "\n";
               }).ValueOrThrow();
  for (int i = 0; i < 200 && !Listening(port); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return child;
}

class ProxyProcess {
 public:
  // Starts `zerodown proxy` with `args` (targets, modes) on free ports and waits until it listens.
  explicit ProxyProcess(const std::vector<std::string>& args)
      : port_(FreePort()), admin_port_(FreePort()) {
    std::vector<std::string> argv = {ZERODOWN_BINARY, "proxy",
                                     "--listen",      "127.0.0.1:" + std::to_string(port_),
                                     "--admin",       admin()};
    argv.insert(argv.end(), args.begin(), args.end());
    child_ = StartListeningChild(argv, port_, &mutex_, &log_);
    EXPECT_TRUE(Listening(port_)) << log();
    // The port accepts before the proxy's first line reaches the log (another thread reads its
    // stderr): a test that reads the log at once waits for that line.
    WaitForLog("listening on");
  }

  int port() const { return port_; }
  // Sends `signal` to the proxy process; Ended() says whether it is gone (reaping it).
  void Signal(int signal) { child_->Signal(signal); }
  bool Ended() { return child_->Ended(); }
  // Waits up to 5 s for `text` to appear in the log; whether it did.
  bool WaitForLog(const std::string& text) const {
    for (int i = 0; i < 200 && log().find(text) == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return log().find(text) != std::string::npos;
  }
  std::string admin() const { return "127.0.0.1:" + std::to_string(admin_port_); }
  // A libpq conninfo through the proxy for `database` (a target name or any name).
  std::string ConnInfo(const std::string& database) const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + database +
           " user=app connect_timeout=10";
  }
  std::string log() const {
    std::lock_guard lock(mutex_);
    return log_;
  }
  // Runs `zerodown --json proxy <command> --admin …` and returns its exit code and answer.
  int Control(const std::string& command, nlohmann::json* answer = nullptr) const {
    std::string out;
    int rc = RunZerodown("--json proxy " + command + " --admin " + admin(), &out);
    if (answer) {
      *answer = nlohmann::json::parse(out.substr(0, out.find('\n')), nullptr, false);
    }
    return rc;
  }

 private:
  int port_;
  int admin_port_;
  std::unique_ptr<load::ChildProcess> child_;
  mutable std::mutex mutex_;
  std::string log_;
};

// Runs a shell command line and returns its exit code; its output (stdout and stderr) in `out`.
inline int Shell(const std::string& command, std::string* out) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  std::array<char, 4096> buffer{};
  out->clear();
  while (std::size_t n = fread(buffer.data(), 1, buffer.size(), pipe))
    out->append(buffer.data(), n);
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

}  // namespace zerodown::testing
