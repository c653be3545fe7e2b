// How long-running engine work reports what it is doing. The CLI renders these events as a
// progress line on a terminal, plain lines otherwise, or JSON events with --json.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace zerodown::engine {

struct BackfillProgress {
  std::string table;
  std::int64_t rows_done = 0;
  std::int64_t rows_total = 0;  // an estimate (pg_class.reltuples) until the pass ends
  double rows_per_second = 0;
  double eta_seconds = 0;
  int batch_size = 0;
  double last_chunk_ms = 0;
};

class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  // An action of `phase` begins (index counts from 1).
  virtual void OnAction(const std::string& phase, int index, int total,
                        const std::string& description, bool skipped) = 0;
  virtual void OnBackfill(const BackfillProgress& progress) = 0;
  // A DDL could not get its lock in time and will retry after `delay`.
  virtual void OnLockRetry(const std::string& description, int attempt,
                           std::chrono::milliseconds delay) = 0;
  virtual void OnMessage(const std::string& message) = 0;
};

// Discards everything; the default sink.
class SilentProgress : public ProgressSink {
 public:
  void OnAction(const std::string&, int, int, const std::string&, bool) override {}
  void OnBackfill(const BackfillProgress&) override {}
  void OnLockRetry(const std::string&, int, std::chrono::milliseconds) override {}
  void OnMessage(const std::string&) override {}
};

}  // namespace zerodown::engine
