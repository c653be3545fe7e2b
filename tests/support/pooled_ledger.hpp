// Test support for blue-green switches through a pooler (`zerodown proxy`, PgBouncer): N clients
// writing the ledger through one conninfo, each insert acknowledged with its id and the port of
// the server that took it, so that a test tells which side took each write. The longest insert (a
// wait in a pause included) is what the application sees of a switch.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/database.hpp"
#include "support/writers.hpp"

namespace zerodown::testing {

class PooledLedger {
 public:
  struct Ack {
    std::int64_t id;
    int client;
    int amount;
    std::string port;  // the server's, telling which cluster took the write
  };

  PooledLedger(const std::string& conninfo, int clients)
      : writers_(conninfo, clients, [this](pg::Connection& conn, int client, std::uint64_t n) {
          Insert(conn, client, n);
        }) {}

  void Stop() { writers_.Stop(); }
  int failed() const { return writers_.failed; }
  std::string last_error() { return writers_.last_error(); }
  std::int64_t TakeLongestMs() { return longest_ms_.exchange(0); }
  std::vector<Ack> acks() {
    std::lock_guard lock(mutex_);
    return acks_;
  }
  int AcksOn(const std::string& port) {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (const auto& a : acks_) n += a.port == port ? 1 : 0;
    return n;
  }

 private:
  void Insert(pg::Connection& conn, int client, std::uint64_t n) {
    int amount = 1 + static_cast<int>((client * 7 + n) % 100);
    auto began = std::chrono::steady_clock::now();
    auto rows = conn.Exec(
        "INSERT INTO ledger (client, amount) VALUES ($1, $2) RETURNING id, current_setting('port')",
        {std::to_string(client), std::to_string(amount)});
    std::int64_t took = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - began)
                            .count();
    {
      std::lock_guard lock(mutex_);
      acks_.push_back({rows.Int(0, 0), client, amount, rows.Text(0, 1)});
    }
    std::int64_t seen = longest_ms_.load();
    while (took > seen && !longest_ms_.compare_exchange_weak(seen, took)) {
    }
    // An application's steady rate, which one apply worker replays as it comes on two shared
    // cores; unpaced, the writers outrun it and the lag guardrail rightly refuses the switch.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  std::mutex mutex_;
  std::vector<Ack> acks_;
  std::atomic<std::int64_t> longest_ms_{0};
  Writers writers_;  // last: its threads stop before the fields above go
};

// The port `conninfo`'s server listens on (what PooledLedger's acks record).
inline std::string Port(const std::string& conninfo) {
  return Connect(conninfo).Exec("SHOW port").Text(0, 0);
}

}  // namespace zerodown::testing
