// The load runner: N client threads, each with its own libpq connection, run a workload (the
// pgbench TPC-B-like transaction or weighted user scripts) against a live database, open loop or
// rate-limited, and tally every attempt per second and per phase. A failed transaction is counted
// by SQLSTATE and the client goes on (reconnecting if its connection dropped): failures are what
// it exists to count. The per-second timeline counts a transaction in the second it finished;
// the before / during / after windows in the phase it started in, so a transaction a change held
// up belongs to the change even when it finishes after the change's last mark. Memory is flat:
// counts and histograms, and each client's five slowest transactions, never a record per
// transaction. It does not change the schema or create tables (`zerodown bench --init` calls
// pgbench for that).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "zerodown/common/error.hpp"
#include "zerodown/load/report.hpp"
#include "zerodown/load/workload.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::load {

struct LoadOptions {
  std::string conninfo;  // libpq URL or conninfo; "" uses the PG* environment variables
  int clients = 8;
  // Scripts picked at random by weight for each transaction; empty means the built-in "tpcb"
  // (pgbench_accounts / branches / tellers / history, as `pgbench -b tpcb-like`).
  std::vector<ScriptSource> scripts;
  // Total transactions per second over all clients; 0 runs open loop. With a rate, latency is
  // measured from each transaction's scheduled start, so a stall is not hidden by the schedule.
  double rate = 0;
  // Seconds until the run stops by itself; 0 runs until Stop().
  double duration_s = 0;
  // :scale for the scripts; 0 reads it from pgbench_branches (as pgbench does), or 1 if absent.
  std::int64_t scale = 0;
  std::string application_name = "zerodown-load";
  std::uint64_t seed = 0;  // 0 picks a random seed
};

class LoadRunner {
 public:
  explicit LoadRunner(LoadOptions options);
  LoadRunner(const LoadRunner&) = delete;
  LoadRunner& operator=(const LoadRunner&) = delete;
  // Stops the run if it is still going.
  ~LoadRunner();

  // Parses the scripts, opens every client connection, then starts the clients and the clock.
  // Fails (nothing left running) on a script error (kUsage) or a connection error (kConnection).
  Status Start();
  // Puts a mark named `name` on the timeline at the current instant (e.g. "start", "expand",
  // "backfill", "cutover", "complete", "end"). Thread-safe; ignored before Start or after Stop.
  void MarkPhase(std::string name);
  // Stops the clients after their current transaction (one blocked on a lock finishes or fails
  // first) and closes the last partial second. Idempotent.
  void Stop();
  // Blocks until the duration has elapsed (then stops) or Stop() was called elsewhere.
  void Wait();

  bool running() const { return running_.load(); }
  // Seconds since Start (frozen at Stop).
  double elapsed_s() const;
  // The last finished second, for a live progress line; nullopt before the first second ends.
  std::optional<SecondStats> LastSecond() const;
  // A snapshot of everything so far (while running: up to the last flush, at most one second
  // old). Fails only when `choice` names a mark that does not exist.
  Result<LoadReport> Report(const WindowChoice& choice = {}) const;

 private:
  struct Client;
  struct Slow;
  static void KeepIfSlowest(std::vector<Slow>& kept, const Slow& slow);
  void RunClient(Client& client);
  // RunClient's parts. Reconnect opens the client's connection again; false after a failed
  // attempt, recorded as a failed transaction and followed by a backoff. RunScript runs one
  // transaction of `script`: its SQLSTATE, empty when it committed. Record counts a transaction
  // in the client's current segment and keeps it when it is among the slowest.
  bool Reconnect(Client& client, std::chrono::milliseconds& backoff, Slow& slowest_part);
  std::string RunScript(Client& client, const Script& script, Variables& variables,
                        std::vector<pg::Param>& params, Slow& slowest_part);
  void Record(Client& client, Slow& slowest_part, std::chrono::steady_clock::time_point began,
              std::size_t segment, const std::string& sqlstate);
  void RunTicker();
  // Moves every client's counts into the current second and segment. Caller holds state_mutex_.
  void CollectLocked();
  void CloseSecondLocked(int index);
  double Now() const;

  LoadOptions options_;
  std::vector<Script> scripts_;
  std::int64_t scale_ = 1;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<std::thread> threads_;
  std::thread ticker_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};
  std::chrono::steady_clock::time_point start_time_;
  std::atomic<double> stopped_at_s_{-1};
  std::atomic<std::size_t> mark_count_{0};  // read by clients at each transaction's start

  mutable std::mutex state_mutex_;  // guards everything below
  std::mutex stop_mutex_;           // serialises Stop()
  std::mutex wait_mutex_;           // with stop_signal_: wakes Wait() and the ticker on stop
  std::condition_variable stop_signal_;
  Tally second_;  // counts of the current, unfinished second
  int second_index_ = 0;
  Tally segment_;  // counts since the last mark
  double segment_begin_s_ = 0;
  std::vector<Segment> segments_;
  std::vector<PhaseMark> marks_;
  std::vector<SecondStats> timeline_;
};

}  // namespace zerodown::load
