// The reference client as the load: runs `pgbench` (its TPC-B-like transaction, or scripts) with
// per-transaction logging for as long as a benchmark lasts, marks phases on the same clock, and
// turns the logs into the load runner's report. With a rate (-R), pgbench measures each
// transaction from its scheduled start, so when the server falls behind the offered rate the
// queue shows in the latency, as a web application's users feel it.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "zerodown/common/error.hpp"
#include "zerodown/load/child_process.hpp"
#include "zerodown/load/report.hpp"

namespace zerodown::load {

struct PgbenchOptions {
  std::string pgbench = "pgbench";  // the binary
  std::string conninfo;             // passed as pgbench's last argument; "" uses PG* variables
  int clients = 8;
  int threads = 0;       // pgbench -j; 0: min(clients, cores)
  double rate = 0;       // pgbench -R, total transactions per second; 0: as fast as it can
  std::string protocol;  // pgbench -M: simple, extended or prepared; "" = pgbench's default
  std::vector<std::string> scripts;  // pgbench -f FILE[@WEIGHT]; empty: -b tpcb-like
  bool show_progress = true;         // pgbench's -P 5 lines to our stderr
};

class PgbenchLoad {
 public:
  explicit PgbenchLoad(PgbenchOptions options);
  PgbenchLoad(const PgbenchLoad&) = delete;
  PgbenchLoad& operator=(const PgbenchLoad&) = delete;
  ~PgbenchLoad();  // stops pgbench and removes its logs

  // Starts pgbench and waits (up to 60 s) until its clients are connected and running. Fails
  // with kConnection, quoting pgbench, when it exits first.
  Status Start();
  // A mark on the timeline now (seconds since Start).
  void MarkPhase(std::string name);
  double elapsed_s() const;
  // Closes the timeline now and stops pgbench two seconds later (SIGINT, which loses what its
  // logs still buffer: transactions that began after the end, left out anyway). Idempotent.
  void Stop();
  // The report of the whole run. Call after Stop. Fails with kUsage when a log cannot be read.
  Result<LoadReport> Report(const WindowChoice& choice = {}) const;

 private:
  std::vector<std::string> Arguments() const;
  void OnStderr(std::string line);

  PgbenchOptions options_;
  std::string log_dir_;
  std::unique_ptr<ChildProcess> child_;
  std::chrono::system_clock::time_point origin_;
  double stopped_at_s_ = -1;
  std::vector<PhaseMark> marks_;

  mutable std::mutex mutex_;  // guards the fields below, written by the stderr reader
  bool running_ = false;      // pgbench printed its first progress line
  int progress_lines_ = 0;
  std::vector<std::string> errors_;  // pgbench's error lines (a client that aborted)
  std::vector<double> aborted_at_s_;
};

}  // namespace zerodown::load
