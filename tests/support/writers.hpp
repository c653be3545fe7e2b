// Test support: N client threads that run one transaction after another against a database until
// stopped, counting commits and failures and keeping the slowest transaction, as an application
// would experience a migration.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/database.hpp"

namespace zerodown::testing {

class Writers {
 public:
  // `transaction(conn, client, n)` runs the n-th transaction of client `client` (BEGIN … COMMIT
  // included); an Error thrown from it counts as a failed transaction and is rolled back.
  using Transaction = std::function<void(pg::Connection&, int client, std::uint64_t n)>;

  Writers(const std::string& db, int clients, Transaction transaction) {
    for (int i = 0; i < clients; ++i) {
      threads_.emplace_back([this, db, i, transaction] {
        pg::Connection conn = Connect(db);
        for (std::uint64_t n = 0; !stop_; ++n) {
          auto began = std::chrono::steady_clock::now();
          try {
            transaction(conn, i, n);
            ++done;
          } catch (const Error& e) {
            ++failed;
            {
              std::lock_guard lock(mutex_);
              last_error_ = e.Describe();
            }
            (void)conn.TryExec("ROLLBACK");
          }
          std::int64_t took = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - began)
                                  .count();
          std::int64_t seen = max_ms.load();
          while (took > seen && !max_ms.compare_exchange_weak(seen, took)) {
          }
        }
      });
    }
  }
  ~Writers() { Stop(); }
  Writers(const Writers&) = delete;
  Writers& operator=(const Writers&) = delete;

  void Stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  std::string last_error() {
    std::lock_guard lock(mutex_);
    return last_error_;
  }

  std::atomic<int> done{0};
  std::atomic<int> failed{0};
  std::atomic<std::int64_t> max_ms{0};  // the slowest transaction; a test may reset it

 private:
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::string last_error_;
  std::vector<std::thread> threads_;
};

}  // namespace zerodown::testing
