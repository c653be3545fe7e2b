#include "bluegreen/switch_steps.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <thread>

#include "bluegreen/catalog.hpp"
#include "bluegreen/fence.hpp"
#include "bluegreen/replication.hpp"

namespace zerodown::bluegreen {
namespace {

std::string RandomToken() {
  std::random_device device;
  return fmt::format("switch-{:08x}{:08x}", device(), device());
}

}  // namespace

SwitchRun::SwitchRun(Pair& pair, PairState& state, const SwitchOptions& options, Traffic& traffic,
                     const Progress& progress)
    : pair_(pair), state_(state), options_(options), traffic_(traffic), progress_(progress) {}

void SwitchRun::Record(Step step, bool done) {
  auto& steps = state_.switching->done;
  steps.erase(std::remove(steps.begin(), steps.end(), step), steps.end());
  if (done) steps.push_back(step);
  SaveState(pair_, state_);
}

void SwitchRun::Do(Step step) {
  Side from = state_.switching->from;
  Side to = state_.switching->to;
  auto timeout = options_.step_timeout;
  auto began = std::chrono::steady_clock::now();
  // Recorded before it runs, so that a kill in the middle leaves it to be undone (every undo is
  // idempotent); only moving and resuming traffic are recorded once they happened.
  bool intent = step != Step::kMoved && step != Step::kResumed;
  if (step == Step::kTargetUnfenced) state_.switching->target_was_fenced = IsFenced(To());
  if (intent) Record(step, true);
  switch (step) {
    case Step::kReversePrepared:
      // Creating a subscription connects to its sender (tens of milliseconds): done before the
      // pause, disabled, so that the paused window only enables it. A disabled subscription
      // never reads the slot, which the pause creates once T has applied all of S.
      (void)DropSubscription(From(), PathName(pair_, to));
      CreateSubscription(From(), pair_.ConnInfoOf(to), PathName(pair_, to), /*copy_data=*/false,
                         /*enabled=*/false);
      break;
    case Step::kPaused:
      traffic_.Pause(timeout).ThrowIfError();
      break;
    case Step::kFenced:
      token_ = RandomToken();
      Fence(From(), state_.tables, token_, timeout);
      break;
    case Step::kCaughtUp:
      WaitCaughtUp();
      break;
    case Step::kSequences:
      CopySequences();
      break;
    case Step::kSlot:
      DropSlot(To(), PathName(pair_, to), timeout);
      CreateSlot(To(), PathName(pair_, to));
      break;
    case Step::kForwardDisabled:
      EnableSubscription(To(), PathName(pair_, from), false);
      break;
    case Step::kReverseCreated:
      EnableSubscription(From(), PathName(pair_, to), true);
      break;
    case Step::kTargetUnfenced:
      Unfence(To(), state_.tables, timeout);
      break;
    case Step::kMoved:
      traffic_.Move(timeout).ThrowIfError();
      state_.serving = to;
      break;
    case Step::kResumed:
      traffic_.Resume(timeout).ThrowIfError();
      break;
  }
  step_ms_[static_cast<std::size_t>(step)] =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
  if (step == Step::kPaused) paused_at_ = began;
  if (step == Step::kResumed) resumed_at_ = std::chrono::steady_clock::now();
  if (!intent) Record(step, true);
  progress_(fmt::format("{}: {:.1f} ms", StepName(step), StepMs(step)));
}

void SwitchRun::WaitCaughtUp() {
  // Everything committed on the sender before the fence precedes the marker in commit order, and
  // a subscription applies in commit order: once the marker is visible on the receiver, so is
  // every acknowledged write.
  auto deadline = std::chrono::steady_clock::now() + options_.step_timeout;
  for (;;) {
    auto seen = To().Exec("SELECT token FROM zerodown.bluegreen_heartbeat WHERE id = 1");
    if (!seen.empty() && seen.Text(0, 0) == token_) return;
    if (std::chrono::steady_clock::now() > deadline) {
      throw Error(ErrorKind::kMigrationFailed,
                  fmt::format("{} did not apply {}'s last writes within {} ms",
                              SideName(state_.switching->to), SideName(state_.switching->from),
                              options_.step_timeout.count()),
                  "See `zerodown bluegreen status` and the server log of the receiving side "
                  "for why its subscription stopped, fix it, and switch again.");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void SwitchRun::CopySequences() {
  // Logical replication in PostgreSQL 15 does not carry sequences. The sender is fenced, so its
  // values no longer grow through rows; the margin covers values handed out but not yet used.
  for (const auto& seq : UsedSequences(From())) {
    std::int64_t sign = seq.increment < 0 ? -1 : 1;
    std::int64_t value = seq.last_value + sign * options_.sequence_margin;
    auto current =
        To().Exec("SELECT last_value FROM pg_sequences WHERE schemaname = $1 AND sequencename = $2",
                  {seq.sequence.schema, seq.sequence.name});
    // Never move a receiver's sequence back (a value it handed out would come again).
    if (!current.empty() && !current.IsNull(0, 0)) {
      std::int64_t there = current.Int(0, 0);
      if (sign > 0 ? there >= value : there <= value) continue;
    }
    To().Exec("SELECT setval($1::regclass, $2, true)",
              {seq.sequence.Quoted(To()), std::to_string(value)});
  }
}

void SwitchRun::Undo() {
  Side from = state_.switching->from;
  Side to = state_.switching->to;
  auto timeout = options_.step_timeout;
  std::optional<Error> first;
  auto attempt = [&](Step step, const std::function<void()>& undo) {
    if (!state_.switching->Did(step)) return;
    try {
      undo();
      Record(step, false);
      progress_(fmt::format("undone: {}", StepName(step)));
    } catch (const Error& e) {
      if (!first) first = e;
      progress_(fmt::format("could not undo {}: {}", StepName(step), e.Describe()));
    }
  };
  attempt(Step::kTargetUnfenced, [&] {
    if (state_.switching->target_was_fenced) Fence(To(), state_.tables, RandomToken(), timeout);
  });
  attempt(Step::kReverseCreated, [&] { (void)DropSubscription(From(), PathName(pair_, to)); });
  attempt(Step::kForwardDisabled, [&] { EnableSubscription(To(), PathName(pair_, from), true); });
  attempt(Step::kSlot, [&] { DropSlot(To(), PathName(pair_, to), timeout); });
  attempt(Step::kSequences, [] {});  // higher values on the receiver harm nothing
  attempt(Step::kCaughtUp, [] {});
  attempt(Step::kFenced, [&] { Unfence(From(), state_.tables, timeout); });
  attempt(Step::kPaused, [] {});  // traffic restored below
  attempt(Step::kReversePrepared, [&] { (void)DropSubscription(From(), PathName(pair_, to)); });
  if (!first) {
    // Also when the pause failed (it may have paused part of the traffic) or a move answered too
    // late to be recorded: the proxy is sent back to `from` and resumed.
    Status restored = traffic_.Restore(timeout);
    if (!restored) first = restored.error();
  }
  if (first) throw *first;
  state_.serving = from;
  state_.switching.reset();
  SaveState(pair_, state_);
}

void SwitchRun::DropOldPath() {
  Side from = state_.switching->from;
  std::string path = PathName(pair_, from);
  auto prefix = DropSubscription(To(), path);
  DropSlot(From(), path, options_.step_timeout);
  if (prefix) {
    for (const auto& slot : SlotsLike(From(), *prefix)) {
      DropSlot(From(), slot, options_.step_timeout);
    }
  }
}

void SwitchRun::Finish() {
  if (!state_.switching->Did(Step::kResumed)) Do(Step::kResumed);
  // The old direction's slot would keep WAL on the old sender for ever, and re-enabling it would
  // send back what the new direction applied there: the way back builds a fresh one.
  DropOldPath();
  state_.fingerprint = Fingerprint(To());
  state_.switching.reset();
  SaveState(pair_, state_);
}

}  // namespace zerodown::bluegreen
