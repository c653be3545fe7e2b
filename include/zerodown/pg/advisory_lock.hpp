// The session-level advisory lock that keeps two zerodown runs on one database from
// interleaving. It lives as long as the connection that took it; a killed zerodown releases it
// when the server notices the dropped connection.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "zerodown/pg/connection.hpp"

namespace zerodown::pg {

// Takes the zerodown lock for `scope` (the target schema) on `conn`. When another session holds
// it: with `wait`, polls every second, calling `on_wait(holder_pid)` the first time, until it is
// free; without, throws Error(kConflict) naming the holder. Released by Release() or by closing
// the connection.
class AdvisoryLock {
 public:
  AdvisoryLock(Connection& conn, std::string scope, bool wait,
               const std::function<void(int holder_pid)>& on_wait = {});
  AdvisoryLock(const AdvisoryLock&) = delete;
  AdvisoryLock& operator=(const AdvisoryLock&) = delete;
  ~AdvisoryLock();

  void Release();

 private:
  Connection& conn_;
  std::string scope_;
  bool held_ = false;
};

}  // namespace zerodown::pg
