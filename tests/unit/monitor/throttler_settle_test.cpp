// Throttler::Settle: after a step every application session pays for (new triggers on its table),
// the work waits until the application's active sessions are back under the headroom line.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "zerodown/monitor/throttler.hpp"

namespace zerodown::monitor {
namespace {

using namespace std::chrono_literals;

// An application of 8 connections, 1 active before the migration (headroom line 2), whose
// active sessions right now the test steers.
class SettleSignals final : public SignalSource {
 public:
  ThrottleSignals Sample() override { return {}; }
  ControlValues ReadControl(const std::string&) override { return {}; }
  std::optional<ApplicationLevel> ApplicationBaseline() const override { return level; }
  std::optional<int> ApplicationActiveNow() override {
    ++looks;
    if (fail) throw Error(ErrorKind::kConnection, "gone");
    return active.load();
  }
  std::optional<ApplicationLevel> level = ApplicationLevel{1.0, 8};
  std::atomic<int> active{0};
  std::atomic<int> looks{0};
  bool fail = false;
};

TEST(ThrottlerSettle, WaitsWhileTheApplicationIsAboveItsLineThenForAQuietStretch) {
  auto source = std::make_unique<SettleSignals>();
  SettleSignals* s = source.get();
  s->active = 8;  // every session is compiling the new trigger
  Throttler t(std::move(source), ThrottlerOptions{});
  std::thread calm([s] {
    std::this_thread::sleep_for(200ms);
    s->active = 2;  // at the line: settled
  });
  auto waited = t.Settle();
  calm.join();
  EXPECT_GE(waited, 200ms);
  EXPECT_LT(waited, 600ms);
  EXPECT_GE(s->looks.load(), 3);
}

TEST(ThrottlerSettle, AQuietApplicationCostsOnlyTheQuietStretch) {
  auto source = std::make_unique<SettleSignals>();
  SettleSignals* s = source.get();
  Throttler t(std::move(source), ThrottlerOptions{});
  auto waited = t.Settle();
  EXPECT_EQ(s->looks.load(), 3);
  EXPECT_LT(waited, 200ms);
}

TEST(ThrottlerSettle, IsBoundedWhenTheApplicationNeverCalmsDown) {
  auto source = std::make_unique<SettleSignals>();
  source->active = 8;
  Throttler t(std::move(source), ThrottlerOptions{});
  auto waited = t.Settle();
  EXPECT_GE(waited, 1000ms);
  EXPECT_LT(waited, 1500ms);
}

TEST(ThrottlerSettle, ReturnsAtOnceWithoutHeadroomToKeepTo) {
  for (int variant = 0; variant < 3; ++variant) {
    auto source = std::make_unique<SettleSignals>();
    SettleSignals* s = source.get();
    s->active = 8;
    ThrottlerOptions options;
    if (variant == 0) options.limits.headroom_slack = 0;    // --headroom 0
    if (variant == 1) s->level.reset();                     // not measured
    if (variant == 2) s->level = ApplicationLevel{5.0, 8};  // keeps every connection busy
    Throttler t(std::move(source), options);
    EXPECT_EQ(t.Settle(), 0ms) << "variant " << variant;
    EXPECT_EQ(s->looks.load(), 0) << "variant " << variant;
  }
}

TEST(ThrottlerSettle, AFailedLookEndsTheWaitAndIsReported) {
  class Errors final : public ThrottleObserver {
   public:
    void OnThrottle(const std::string&) override {}
    void OnResume(std::chrono::duration<double>) override {}
    void OnSampleError(const Error&) override { ++count; }
    int count = 0;
  } errors;
  auto source = std::make_unique<SettleSignals>();
  source->fail = true;
  Throttler t(std::move(source), ThrottlerOptions{});
  t.AddObserver(&errors);
  EXPECT_LT(t.Settle(), 200ms);
  EXPECT_EQ(errors.count, 1);
}

}  // namespace
}  // namespace zerodown::monitor
