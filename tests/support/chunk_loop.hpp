// A stand-in for a copy's chunk loop in throttle tests: a thread that asks the throttler before
// each chunk (10 ms of sleep) and counts the chunks, until stopped. Stop cancels the throttler's
// wait, as a finished copy does.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

#include "zerodown/monitor/throttler.hpp"

namespace zerodown::testing {

class ChunkLoop {
 public:
  explicit ChunkLoop(monitor::Throttler& throttler)
      : throttler_(throttler), thread_([this] { Loop(); }) {}
  ~ChunkLoop() { Stop(); }
  ChunkLoop(const ChunkLoop&) = delete;
  ChunkLoop& operator=(const ChunkLoop&) = delete;

  int chunks() const { return chunks_; }
  void Stop() {
    if (!thread_.joinable()) return;
    stop_ = true;
    throttler_.Cancel();
    thread_.join();
  }

 private:
  void Loop() {
    while (!stop_) {
      throttler_.WaitIfNeeded();
      ++chunks_;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  monitor::Throttler& throttler_;
  std::atomic<int> chunks_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: it starts once the members it reads are made
};

}  // namespace zerodown::testing
