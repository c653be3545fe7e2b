#include "bluegreen/hooks.hpp"

#include <fmt/format.h>

#include <csignal>
#include <thread>

#include "zerodown/load/child_process.hpp"

namespace zerodown::bluegreen {

Status RunHook(std::string_view hook, const std::string& command, Side from, Side to,
               std::chrono::milliseconds timeout) {
  if (command.empty()) return Status::Ok();
  auto started = std::chrono::steady_clock::now();
  auto child = load::ChildProcess::Start({"/bin/sh", "-c", "exec 1>&2\n" + command},
                                         {fmt::format("ZERODOWN_BLUEGREEN_FROM={}", SideName(from)),
                                          fmt::format("ZERODOWN_BLUEGREEN_TO={}", SideName(to)),
                                          fmt::format("ZERODOWN_BLUEGREEN_HOOK={}", hook)},
                                         nullptr, nullptr);
  if (!child.ok()) return child.error();
  auto& process = *child.value();
  std::string fix =
      fmt::format("Check the --{}-command: it must exit 0 within --step-timeout.", hook);
  while (!process.Ended()) {
    if (std::chrono::steady_clock::now() - started > timeout) {
      process.Signal(SIGKILL);
      process.Wait();
      return Error(
          ErrorKind::kMigrationFailed,
          fmt::format("the {} hook ({}) did not end within {} ms", hook, command, timeout.count()),
          fix);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  int status = process.Wait().status;
  if (status != 0) {
    return Error(ErrorKind::kMigrationFailed,
                 fmt::format("the {} hook ({}) exited with status {}", hook, command, status), fix);
  }
  return Status::Ok();
}

}  // namespace zerodown::bluegreen
