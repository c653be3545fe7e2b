#include "zerodown/monitor/alert_hook.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

extern char** environ;

namespace zerodown::monitor {

AlertHook::~AlertHook() { Wait(); }

void AlertHook::Fire(const HealthVerdict& verdict) {
  if (command_.empty()) return;
  std::string checks;
  for (const auto& c : verdict.checks) {
    if (c.state == HealthState::kOk) continue;
    if (!checks.empty()) checks += ",";
    checks += c.check;
  }
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry = *e;
    if (entry.rfind("ZERODOWN_HEALTH_", 0) != 0) env.push_back(std::move(entry));
  }
  env.push_back("ZERODOWN_HEALTH_STATE=" + std::string(HealthStateName(verdict.state)));
  env.push_back("ZERODOWN_HEALTH_CHECKS=" + checks);
  env.push_back("ZERODOWN_HEALTH_MESSAGE=" + verdict.Summary());
  std::string command = command_;
  // posix_spawn, not fork: this runs beside threads holding libpq connections.
  std::lock_guard lock(mutex_);
  running_.emplace_back([command, env = std::move(env)] {
    std::vector<char*> envp;
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
                               const_cast<char*>(command.c_str()), nullptr};
    pid_t pid = 0;
    if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv.data(), envp.data()) != 0) return;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  });
}

void AlertHook::Wait() {
  std::vector<std::thread> running;
  {
    std::lock_guard lock(mutex_);
    running.swap(running_);
  }
  for (auto& t : running) t.join();
}

}  // namespace zerodown::monitor
