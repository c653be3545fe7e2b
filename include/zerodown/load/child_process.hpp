// A child process for the bench: started with posix_spawnp on our environment plus some
// variables, its stdout and stderr either inherited or read line by line on threads of its own,
// and waited for with its peak memory. The benchmarked command and the pgbench client both run
// through it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "zerodown/common/error.hpp"

namespace zerodown::load {

struct ChildExit {
  int status = 0;  // exit status, 128 + signal when killed
  // Peak RSS of the largest process among the child and the children it waited for, in KiB
  // (Linux's wait4 rusage).
  std::int64_t max_rss_kb = 0;
};

class ChildProcess {
 public:
  // Called with each line (without its newline) on the reading thread; must not throw.
  using LineHandler = std::function<void(std::string)>;

  // Starts args[0], looked up in PATH, with `extra_env` ("NAME=value") added to or replacing our
  // environment. A null handler leaves that stream inherited. Fails with kNotFound when it cannot
  // be started.
  static Result<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& args,
                                                     const std::vector<std::string>& extra_env,
                                                     LineHandler on_stdout, LineHandler on_stderr);
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Kills a child still running (SIGKILL) and reaps it.
  ~ChildProcess();

  void Signal(int signal);
  // Whether the child ended (reaping it); does not wait.
  bool Ended();
  // Waits for the child to end and for its output to be read to the end.
  ChildExit Wait();

 private:
  ChildProcess() = default;

  pid_t pid_ = -1;
  bool waited_ = false;  // reaped: exit_ holds how it ended
  ChildExit exit_;
  std::vector<std::thread> readers_;
};

}  // namespace zerodown::load
