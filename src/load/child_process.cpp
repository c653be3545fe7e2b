#include "zerodown/load/child_process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string_view>

extern char** environ;

namespace zerodown::load {
namespace {

// Our environment with `extra` ("NAME=value") added or replacing ours.
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry; ++entry) {
    std::string_view text(*entry);
    bool replaced = false;
    for (const auto& e : extra)
      replaced = replaced || text.starts_with(e.substr(0, e.find('=') + 1));
    if (!replaced) env.emplace_back(text);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

void ReadLines(int fd, const ChildProcess::LineHandler& on_line) {
  FILE* in = fdopen(fd, "r");
  char* line = nullptr;
  size_t capacity = 0;
  ssize_t length;
  while ((length = getline(&line, &capacity, in)) >= 0) {
    std::string text(line, static_cast<std::size_t>(length));
    if (!text.empty() && text.back() == '\n') text.pop_back();
    on_line(std::move(text));
  }
  free(line);
  fclose(in);
}

}  // namespace

Result<std::unique_ptr<ChildProcess>> ChildProcess::Start(const std::vector<std::string>& args,
                                                          const std::vector<std::string>& extra_env,
                                                          LineHandler on_stdout,
                                                          LineHandler on_stderr) {
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = ChildEnvironment(extra_env);
  std::vector<char*> envp;
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  struct Stream {
    int target;
    LineHandler* handler;
    int fds[2] = {-1, -1};
  };
  Stream streams[] = {{STDOUT_FILENO, &on_stdout}, {STDERR_FILENO, &on_stderr}};
  for (auto& stream : streams) {
    if (!*stream.handler) continue;
    if (pipe2(stream.fds, O_CLOEXEC) != 0) {
      posix_spawn_file_actions_destroy(&actions);
      return Error(ErrorKind::kInternal, "cannot create a pipe for " + args.front());
    }
    posix_spawn_file_actions_adddup2(&actions, stream.fds[1], stream.target);
  }
  // A shell starts a background job (`zerodown bench … &` in a script) with SIGINT and SIGQUIT
  // ignored, and exec keeps that: the child's SIGINT stop would then never end pgbench. The
  // child starts with the default actions and no signal blocked, whatever ours are.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int signal : {SIGINT, SIGQUIT, SIGTERM}) sigaddset(&defaults, signal);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::unique_ptr<ChildProcess> child(new ChildProcess());
  int rc = posix_spawnp(&child->pid_, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  for (auto& stream : streams) {
    if (stream.fds[1] >= 0) close(stream.fds[1]);
    if (rc != 0 && stream.fds[0] >= 0) close(stream.fds[0]);
  }
  if (rc != 0) {
    child->waited_ = true;
    return Error(ErrorKind::kNotFound, "cannot start " + args.front(),
                 "Check that it is installed and on PATH.");
  }
  for (auto& stream : streams) {
    if (stream.fds[0] < 0) continue;
    child->readers_.emplace_back(ReadLines, stream.fds[0], std::move(*stream.handler));
  }
  return child;
}

ChildProcess::~ChildProcess() {
  if (!waited_) {
    Signal(SIGKILL);
    Wait();
  }
}

void ChildProcess::Signal(int signal) {
  if (!waited_ && pid_ > 0) kill(pid_, signal);
}

bool ChildProcess::Ended() {
  if (waited_) return true;
  int status = 0;
  struct rusage usage {};
  pid_t rc;
  while ((rc = wait4(pid_, &status, WNOHANG, &usage)) < 0 && errno == EINTR) {
  }
  if (rc != pid_) return false;
  waited_ = true;
  exit_.max_rss_kb = usage.ru_maxrss;
  if (WIFEXITED(status))
    exit_.status = WEXITSTATUS(status);
  else
    exit_.status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
  return true;
}

ChildExit ChildProcess::Wait() {
  for (auto& reader : readers_) reader.join();
  readers_.clear();
  while (!Ended()) {
    // Blocks until it ends; Ended() then reaps it (waitid with WNOWAIT leaves it reapable).
    siginfo_t info{};
    while (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
    }
  }
  return exit_;
}

}  // namespace zerodown::load
