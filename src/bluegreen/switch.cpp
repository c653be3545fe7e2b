// bluegreen::Switch: the guardrails, then the steps in the order that loses nothing (see
// docs/bluegreen.md), undone on the first failure; a switch found interrupted is finished or
// undone first.
#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "bluegreen/switch_steps.hpp"

namespace zerodown::bluegreen {
namespace {

constexpr Step kOrder[] = {
    Step::kReversePrepared, Step::kPaused, Step::kFenced,          Step::kCaughtUp,
    Step::kSequences,       Step::kSlot,   Step::kForwardDisabled, Step::kReverseCreated,
    Step::kTargetUnfenced,  Step::kMoved};

// Every SQL statement of the switch ends within a step's timeout.
void LimitStatements(Pair& pair, std::chrono::milliseconds timeout) {
  for (Side side : {Side::kBlue, Side::kGreen}) {
    pair.Of(side).Exec(fmt::format("SET statement_timeout = {}", timeout.count()));
  }
}

std::string Failed(const StatusReport& inspected) {
  std::string failed;
  for (const auto& g : inspected.guardrails) {
    if (!g.ok) failed += fmt::format("\n  - {}: {}", g.name, g.detail);
  }
  return failed;
}

// Looks until every guardrail passes, waiting up to `guardrail_wait` while only transient ones
// fail (a burst of writes lags the subscriber for a moment on a busy machine).
Status CheckGuardrails(Pair& pair, const SwitchOptions& options, Side from, SwitchReport& report,
                       const Progress& progress) {
  auto deadline = std::chrono::steady_clock::now() + options.guardrail_wait;
  auto said = std::chrono::steady_clock::time_point{};
  for (;;) {
    auto inspected = Inspect(pair, options.guardrails);
    if (!inspected) return inspected.error();
    if (inspected->serving != from) {
      return Error(ErrorKind::kConflict, fmt::format("{} serves already", SideName(Other(from))),
                   from == Side::kBlue ? "Use `switch --back` to go back to blue."
                                       : "Use `switch` (without --back) to move to green.");
    }
    std::string failed = Failed(*inspected);
    if (failed.empty()) {
      report.lag_seconds_before = inspected->lag_seconds.value_or(0);
      return Status::Ok();
    }
    bool transient = std::all_of(inspected->guardrails.begin(), inspected->guardrails.end(),
                                 [](const Guardrail& g) { return g.ok || g.transient; });
    auto now = std::chrono::steady_clock::now();
    if (!transient || now >= deadline) {
      return Error(ErrorKind::kConflict,
                   "the switch was refused before it changed anything:" + failed,
                   transient ? fmt::format("These did not clear within {} s: wait for lag to "
                                           "drop or the transaction to end, or raise "
                                           "--guardrail-wait, and run switch again.",
                                           options.guardrail_wait.count() / 1000.0)
                             : "Fix what is listed and run switch again.");
    }
    if (now - said >= std::chrono::seconds(1)) {
      progress("waiting for the guardrails:" + failed);
      said = now;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

// A switch found in the state: killed after traffic moved, it is finished; before, undone.
Result<SwitchReport> Recover(Pair& pair, PairState& state, const SwitchOptions& options,
                             const Progress& progress) {
  SwitchReport report;
  report.from = state.switching->from;
  report.to = state.switching->to;
  auto traffic = MakeTraffic(options, pair, report.from, report.to);
  if (!traffic) return traffic.error();
  SwitchRun run(pair, state, options, **traffic, progress);
  bool moved = state.switching->Did(Step::kMoved);
  progress(fmt::format("a switch from {} to {} was interrupted; {} it", SideName(report.from),
                       SideName(report.to), moved ? "finishing" : "undoing"));
  if (moved) {
    run.Finish();
    report.switched = true;
  } else {
    run.Undo();
  }
  return report;
}

}  // namespace

Result<SwitchReport> Switch(Pair& pair, const SwitchOptions& options, const Progress& progress) {
  Side from = options.back ? Side::kGreen : Side::kBlue;
  auto traffic = MakeTraffic(options, pair, from, Other(from));
  if (!traffic) return traffic.error();
  auto state = LoadState(pair);
  if (!state) {
    return Error(ErrorKind::kNotFound, "no blue-green pair exists for these databases",
                 "Run `zerodown bluegreen create --green URL` first.");
  }
  LimitStatements(pair, options.step_timeout);
  if (state->switching) return Recover(pair, *state, options, progress);

  SwitchReport report;
  report.from = from;
  report.to = Other(from);
  if (auto checked = CheckGuardrails(pair, options, from, report, progress); !checked) {
    return checked.error();
  }
  // Outside the pause: logins to the target take tens of milliseconds each.
  if (Status ready = (*traffic)->Prepare(options.step_timeout); !ready) {
    return Error(ready.error().kind(),
                 fmt::format("the switch could not ready the way to {}: {}. Nothing was changed",
                             SideName(Other(from)), ready.error().message()),
                 ready.error().fix());
  }
  state->switching = SwitchProgress{from, Other(from), {}, false};
  SwitchRun run(pair, *state, options, **traffic, progress);
  for (Step step : kOrder) {
    try {
      run.Do(step);
    } catch (const Error& e) {
      progress(fmt::format("{} failed: {}; undoing", StepName(step), e.Describe()));
      run.Undo();
      return Error(ErrorKind::kMigrationFailed,
                   fmt::format("the switch from {} to {} failed at step {} and was undone: {} "
                               "serves, as before. Cause: {}",
                               SideName(from), SideName(Other(from)), StepName(step),
                               SideName(from), e.message()),
                   e.fix());
    }
  }
  try {
    run.Finish();
  } catch (const Error& e) {
    // Traffic is on the new side already: a rerun finishes the cleanup.
    return Error(ErrorKind::kMigrationFailed,
                 fmt::format("switched to {}, but the cleanup after it failed: {}",
                             SideName(Other(from)), e.message()),
                 "Run `zerodown bluegreen switch` again to finish it.");
  }
  report.pause_ms = run.PauseMs();
  for (Step step : kOrder) report.steps_ms.emplace_back(StepName(step), run.StepMs(step));
  report.steps_ms.emplace_back(StepName(Step::kResumed), run.StepMs(Step::kResumed));
  report.switched = true;
  return report;
}

}  // namespace zerodown::bluegreen
