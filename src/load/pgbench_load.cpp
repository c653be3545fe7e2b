#include "zerodown/load/pgbench_load.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "zerodown/load/pgbench_log.hpp"

namespace zerodown::load {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(60);
// pgbench reports progress every second (its first line says the clients run); one in this many
// is shown.
constexpr int kProgressShown = 5;
// Long enough for a thread's log buffer (4 kB, about 100 transactions) to fill and be written
// at 50 transactions a second.
constexpr auto kStopGrace = std::chrono::seconds(2);

double SecondsSinceEpoch(std::chrono::system_clock::time_point at) {
  return std::chrono::duration<double>(at.time_since_epoch()).count();
}

}  // namespace

PgbenchLoad::PgbenchLoad(PgbenchOptions options) : options_(std::move(options)) {}

PgbenchLoad::~PgbenchLoad() {
  Stop();
  if (!log_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(log_dir_, ignored);
  }
}

std::vector<std::string> PgbenchLoad::Arguments() const {
  int threads =
      options_.threads > 0
          ? options_.threads
          : std::min<int>(options_.clients, std::max(1u, std::thread::hardware_concurrency()));
  // -n: no vacuum first (the tables may be a user's own); -T: longer than any benchmark, which
  // stops it; -P 1: the first progress line says the clients are connected and running.
  std::vector<std::string> args = {options_.pgbench,
                                   "-n",
                                   "-T",
                                   "86400",
                                   "-P",
                                   "1",
                                   "-l",
                                   "--log-prefix",
                                   log_dir_ + "/tx",
                                   "-c",
                                   std::to_string(options_.clients),
                                   "-j",
                                   std::to_string(threads)};
  if (options_.rate > 0) args.insert(args.end(), {"-R", fmt::format("{}", options_.rate)});
  if (!options_.protocol.empty()) args.insert(args.end(), {"-M", options_.protocol});
  if (options_.scripts.empty()) args.insert(args.end(), {"-b", "tpcb-like"});
  for (const auto& script : options_.scripts) args.insert(args.end(), {"-f", script});
  if (!options_.conninfo.empty()) args.push_back(options_.conninfo);
  return args;
}

void PgbenchLoad::OnStderr(std::string line) {
  std::lock_guard lock(mutex_);
  if (line.starts_with("progress:")) {
    running_ = true;
    if (options_.show_progress && progress_lines_++ % kProgressShown == 0)
      std::cerr << "pgbench: " << line << "\n";
    return;
  }
  // A client that hit an error stops ("client 3 script 0 aborted in command 4 query 0: ERROR:
  // …"): a failed transaction, and a client fewer from then on.
  if (line.find(" aborted in command ") != std::string::npos)
    aborted_at_s_.push_back(SecondsSinceEpoch(std::chrono::system_clock::now()) -
                            SecondsSinceEpoch(origin_));
  errors_.push_back(line);
  std::cerr << "pgbench: " << line << "\n";
}

Status PgbenchLoad::Start() {
  char pattern[] = "/tmp/zerodown-pgbench.XXXXXX";
  if (mkdtemp(pattern) == nullptr)
    return Error(ErrorKind::kInternal, "cannot create a directory for pgbench's logs in /tmp");
  log_dir_ = pattern;
  origin_ = std::chrono::system_clock::now();
  // Its stdout (a version line; its summary, which a stopped run never prints) goes to our
  // stderr: our stdout may be a report in JSON.
  auto child = ChildProcess::Start(
      Arguments(), {}, [](std::string line) { std::cerr << "pgbench: " << line << "\n"; },
      [this](std::string line) { OnStderr(std::move(line)); });
  if (!child.ok()) return child.error();
  child_ = std::move(child).value();
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(mutex_);
      if (running_) return Status::Ok();
    }
    if (child_->Ended()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ChildExit exit = child_->Wait();
  std::lock_guard lock(mutex_);
  std::string said = errors_.empty() ? "nothing" : errors_.back();
  return Error(ErrorKind::kConnection,
               fmt::format("pgbench did not start its clients (exit {}): {}", exit.status, said),
               "Check the database URL, that the pgbench tables exist (zerodown bench --init), "
               "and that the server accepts as many connections as --clients.");
}

void PgbenchLoad::MarkPhase(std::string name) { marks_.push_back({std::move(name), elapsed_s()}); }

double PgbenchLoad::elapsed_s() const {
  if (stopped_at_s_ >= 0) return stopped_at_s_;
  return std::chrono::duration<double>(std::chrono::system_clock::now() - origin_).count();
}

void PgbenchLoad::Stop() {
  if (!child_ || stopped_at_s_ >= 0) return;
  stopped_at_s_ = elapsed_s();
  // pgbench buffers its logs and a signal ends it without writing them out: it runs on for a
  // moment, so that what is lost is what began after the end, which the report leaves out.
  std::this_thread::sleep_for(kStopGrace);
  child_->Signal(SIGINT);
  child_->Wait();
}

Result<LoadReport> PgbenchLoad::Report(const WindowChoice& choice) const {
  PgbenchTally tally(SecondsSinceEpoch(origin_), marks_, elapsed_s());
  std::vector<std::string> logs;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(log_dir_, error))
    logs.push_back(entry.path().string());
  Status read = ReadPgbenchLogs(logs, tally);
  if (!read.ok()) return read.error();
  {
    std::lock_guard lock(mutex_);
    for (double at : aborted_at_s_) tally.AddAborted(at);
  }
  auto report = tally.Report(choice);
  if (!report.ok()) return report;
  LoadReport out = std::move(report).value();
  out.clients = options_.clients;
  out.workload = options_.scripts.empty() ? "pgbench tpcb-like" : "pgbench scripts";
  return out;
}

}  // namespace zerodown::load
