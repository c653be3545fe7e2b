// Test support for blue-green: a ledger workload routed the way a proxy would route it, steered
// by files a switch's hooks write. N clients insert one row each per transaction into the side
// `dir/target` names (blue until a hook writes green); `dir/pause` holds them before their next
// transaction and, once none is in flight, `dir/paused` appears; removing both resumes them.
// Every acknowledged insert is kept (id, client, amount), for checking that none was lost.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/database.hpp"

namespace zerodown::testing {

class RoutedLedger {
 public:
  struct Ack {
    std::int64_t id;
    int client;
    int amount;
    bool on_green;
  };

  RoutedLedger(std::string blue, std::string green, int clients, std::string dir)
      : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
    std::filesystem::remove(dir_ + "/pause");
    std::filesystem::remove(dir_ + "/paused");
    std::ofstream(dir_ + "/target") << "blue";
    controller_ = std::thread([this] { Control(); });
    for (int i = 0; i < clients; ++i) {
      clients_.emplace_back([this, blue, green, i] { Client(blue, green, i); });
    }
  }
  ~RoutedLedger() { Stop(); }
  RoutedLedger(const RoutedLedger&) = delete;
  RoutedLedger& operator=(const RoutedLedger&) = delete;

  std::string PauseCommand() const {
    return "touch " + dir_ + "/pause; while [ ! -e " + dir_ + "/paused ]; do sleep 0.002; done";
  }
  std::string SwitchCommand() const {
    return "printf %s \"$ZERODOWN_BLUEGREEN_TO\" > " + dir_ + "/target.new && mv " + dir_ +
           "/target.new " + dir_ + "/target";
  }
  std::string ResumeCommand() const { return "rm -f " + dir_ + "/pause " + dir_ + "/paused"; }

  void Stop() {
    stop_ = true;
    cv_.notify_all();
    for (auto& t : clients_) {
      if (t.joinable()) t.join();
    }
    if (controller_.joinable()) controller_.join();
  }
  std::vector<Ack> acks() {
    std::lock_guard lock(mutex_);
    return acks_;
  }
  std::string last_error() {
    std::lock_guard lock(mutex_);
    return last_error_;
  }
  int AcksOn(bool green) {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (const auto& a : acks_) n += a.on_green == green ? 1 : 0;
    return n;
  }

  std::atomic<int> failed{0};
  std::atomic<std::int64_t> max_ms{0};  // the slowest transaction, waiting in a pause included

 private:
  void Control() {
    while (!stop_) {
      bool pause = std::filesystem::exists(dir_ + "/pause");
      std::string target;
      std::ifstream(dir_ + "/target") >> target;
      {
        std::lock_guard lock(mutex_);
        paused_ = pause;
        if (target == "green" || target == "blue") green_ = target == "green";
        if (pause && in_flight_ == 0 && !std::filesystem::exists(dir_ + "/paused")) {
          std::ofstream(dir_ + "/paused") << "1";
        }
      }
      if (!pause) {
        // A resume that raced the line above must not leave a stale acknowledgement behind.
        std::filesystem::remove(dir_ + "/paused");
        cv_.notify_all();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  void Client(const std::string& blue, const std::string& green, int client) {
    pg::Connection sides[2] = {Connect(blue), Connect(green)};
    for (int n = 0; !stop_; ++n) {
      auto began = std::chrono::steady_clock::now();
      bool on_green = false;
      {
        std::unique_lock lock(mutex_);
        // The wait counts into the transaction's time: it is the pause the application sees.
        cv_.wait(lock, [&] { return !paused_ || stop_; });
        if (stop_) break;
        ++in_flight_;
        on_green = green_;
      }
      int amount = 1 + (client * 7 + n) % 100;
      try {
        auto rows = sides[on_green ? 1 : 0].Exec(
            "INSERT INTO ledger (client, amount) VALUES ($1, $2) RETURNING id",
            {std::to_string(client), std::to_string(amount)});
        std::lock_guard lock(mutex_);
        acks_.push_back({rows.Int(0, 0), client, amount, on_green});
      } catch (const Error& e) {
        ++failed;
        std::lock_guard lock(mutex_);
        last_error_ = e.Describe();
      }
      {
        std::lock_guard lock(mutex_);
        --in_flight_;
      }
      std::int64_t took = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - began)
                              .count();
      std::int64_t seen = max_ms.load();
      while (took > seen && !max_ms.compare_exchange_weak(seen, took)) {
      }
      // An application's steady rate (at most ~1,600 inserts a second from 8 clients), which
      // one apply worker replays as it comes even on two shared cores; unpaced, the writers
      // outrun it and the lag guardrail rightly refuses the switch.
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  std::string dir_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool paused_ = false;
  bool green_ = false;
  int in_flight_ = 0;
  std::vector<Ack> acks_;
  std::string last_error_;
  std::thread controller_;
  std::vector<std::thread> clients_;
};

}  // namespace zerodown::testing
