#include "zerodown/load/child_process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <thread>

namespace zerodown::load {
namespace {

// Restores this process's SIGINT action when the test ends.
class IgnoredSigint {
 public:
  IgnoredSigint() { previous_ = std::signal(SIGINT, SIG_IGN); }
  ~IgnoredSigint() { std::signal(SIGINT, previous_); }

 private:
  void (*previous_)(int) = nullptr;
};

// A shell's background job inherits SIGINT ignored; the load's child must still stop on it,
// or `zerodown bench … &` waits for pgbench forever.
TEST(ChildProcessTest, SigintStopsAChildEvenWhenThisProcessIgnoresIt) {
  IgnoredSigint ignored;
  auto started = ChildProcess::Start({"sleep", "30"}, {}, nullptr, nullptr);
  ASSERT_TRUE(started.ok());
  std::unique_ptr<ChildProcess> child = std::move(started).value();
  child->Signal(SIGINT);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool ended = false;
  while (!(ended = child->Ended()) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(ended) << "the child ignored SIGINT";
  EXPECT_EQ(child->Wait().status, 128 + SIGINT);
}

}  // namespace
}  // namespace zerodown::load
