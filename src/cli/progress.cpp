#include "cli/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "zerodown/load/report.hpp"

namespace zerodown::cli {

namespace {

class TextProgress final : public ProgressSink {
 public:
  explicit TextProgress(bool tty) : tty_(tty) {}
  ~TextProgress() override { EndLine(); }

  void OnAction(const ActionEvent& a) override {
    EndLine();
    std::cerr << fmt::format("{} [{}/{}] {}{}\n", PlanPhaseName(a.phase), a.index, a.total,
                             a.description, a.skipped ? " (done before, skipped)" : "");
  }

  void OnBackfill(const BackfillProgress& p) override {
    double pct = p.rows_total > 0 ? 100.0 * p.rows_done / p.rows_total : 100.0;
    std::string line = fmt::format(
        "  backfill {}: {} / ~{} rows ({:.0f}%), {:.0f} rows/s, ETA {:.0f}s, batch {} ({:.0f} ms)",
        p.table, p.rows_done, p.rows_total, std::min(pct, 100.0), p.rows_per_second, p.eta_seconds,
        p.batch_size, p.last_chunk_ms);
    if (tty_) {
      std::cerr << "\r\033[K" << line << std::flush;
      open_line_ = true;
    } else {
      auto now = std::chrono::steady_clock::now();
      if (now - last_plain_ >= std::chrono::seconds(2) || p.rows_done >= p.rows_total) {
        std::cerr << line << "\n";
        last_plain_ = now;
      }
    }
  }

  void OnLockRetry(const std::string& description, int attempt,
                   std::chrono::milliseconds delay) override {
    EndLine();
    std::cerr << fmt::format(
        "  lock not granted within lock_timeout for \"{}\"; the application goes first, retry {} "
        "in {} ms\n",
        description, attempt, delay.count());
  }

  // The message that goes with each stage says it.
  void OnCopyStage(CopyStage, const std::string&) override {}
  void OnMessage(const std::string& message) override {
    EndLine();
    std::cerr << message << "\n";
  }

 private:
  void EndLine() {
    if (open_line_) std::cerr << "\n";
    open_line_ = false;
  }
  bool tty_;
  bool open_line_ = false;
  std::chrono::steady_clock::time_point last_plain_{};
};

class JsonProgress final : public ProgressSink {
 public:
  void OnAction(const ActionEvent& a) override {
    Emit({{"event", "action"},
          {"phase", std::string(PlanPhaseName(a.phase))},
          {"index", a.index},
          {"total", a.total},
          {"description", a.description},
          {"skipped", a.skipped}});
  }
  void OnBackfill(const BackfillProgress& p) override {
    Emit({{"event", "backfill"},
          {"table", p.table},
          {"rows_done", p.rows_done},
          {"rows_total", p.rows_total},
          {"rows_per_second", p.rows_per_second},
          {"eta_seconds", p.eta_seconds},
          {"batch_size", p.batch_size},
          {"chunk_ms", p.last_chunk_ms}});
  }
  void OnLockRetry(const std::string& description, int attempt,
                   std::chrono::milliseconds delay) override {
    Emit({{"event", "lock_retry"},
          {"description", description},
          {"attempt", attempt},
          {"delay_ms", delay.count()}});
  }
  // The message event that goes with each stage says it.
  void OnCopyStage(CopyStage, const std::string&) override {}
  void OnMessage(const std::string& message) override {
    Emit({{"event", "message"}, {"message", message}});
  }

 private:
  static void Emit(const nlohmann::json& event) { std::cerr << event.dump() << "\n"; }
};

// Prints `phase: NAME` on stdout as each step starts, for `zerodown bench`, which runs a command
// with load::kPhaseLinesEnv=1 and turns such lines into marks on its timeline; passes everything
// on to `inner`. NAME is `<phase>.<step> <verb>`, e.g. `start.1 copy`, `complete.1 drop`. The
// shadow copy is one step with stages inside, so the end of its rows, its first index build, its
// catch-up and its swap get marks of their own (`start.1 rows done`, `start.1 index`, `start.1
// catch-up`, `start.1 swapped`), from its rows and stage events; a backfill's last row gets
// `rows done` too.
class PhaseLines final : public ProgressSink {
 public:
  explicit PhaseLines(std::unique_ptr<ProgressSink> inner) : inner_(std::move(inner)) {}

  void OnAction(const ActionEvent& a) override {
    step_ = fmt::format("{}.{}", PlanPhaseName(a.phase), a.index);
    index_marked_ = false;
    rows_marked_ = false;
    if (!a.skipped) Mark(step_ + " " + Verb(a.description));
    inner_->OnAction(a);
  }
  void OnBackfill(const BackfillProgress& p) override {
    if (p.rows_done >= p.rows_total && !rows_marked_) {
      rows_marked_ = true;
      Mark(step_ + " rows done");
    }
    inner_->OnBackfill(p);
  }
  void OnLockRetry(const std::string& description, int attempt,
                   std::chrono::milliseconds delay) override {
    inner_->OnLockRetry(description, attempt, delay);
  }
  void OnCopyStage(CopyStage stage, const std::string& table) override {
    switch (stage) {
      case CopyStage::kIndexBuild:
        if (!index_marked_) Mark(step_ + " index");
        index_marked_ = true;
        break;
      case CopyStage::kCatchUp:
        Mark(step_ + " catch-up");
        break;
      case CopyStage::kSwapped:
        Mark(step_ + " swapped");
        break;
    }
    inner_->OnCopyStage(stage, table);
  }
  void OnMessage(const std::string& message) override { inner_->OnMessage(message); }

 private:
  // The description's first word, with the names a reader of the chart expects for the few
  // that matter: "add …" expands, "rebuild …"/"copy …" copy, "build index …" builds an index.
  static std::string Verb(const std::string& description) {
    std::string verb = description.substr(0, description.find(' '));
    if (verb == "add") return "expand";
    if (verb == "rebuild") return "copy";
    if (verb == "build") return "index";
    return verb.empty() ? "step" : verb;
  }
  // Flushed at once: stdout is a pipe under bench, and a buffered mark would land late.
  static void Mark(const std::string& name) {
    std::cout << load::kPhaseLinePrefix << name << std::endl;
  }

  std::unique_ptr<ProgressSink> inner_;
  std::string step_;
  bool index_marked_ = false;
  bool rows_marked_ = false;
};

}  // namespace

std::unique_ptr<ProgressSink> MakeProgress(const GlobalOptions& global) {
  std::unique_ptr<ProgressSink> sink;
  if (global.json)
    sink = std::make_unique<JsonProgress>();
  else
    sink = std::make_unique<TextProgress>(isatty(STDERR_FILENO) != 0);
  const char* phase_lines = std::getenv(load::kPhaseLinesEnv);
  if (phase_lines && std::string_view(phase_lines) == "1")
    sink = std::make_unique<PhaseLines>(std::move(sink));
  return sink;
}

}  // namespace zerodown::cli
