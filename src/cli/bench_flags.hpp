// `zerodown bench`'s flags: the workload (its tables, clients, timing, rate, client program and
// scripts) and what is reported and how.
#pragma once

#include <string>
#include <vector>

#include "cli/command.hpp"

namespace zerodown::cli {

enum class BenchClient { kZerodown, kPgbench };

struct BenchFlags {
  BenchClient client = BenchClient::kZerodown;
  int threads = 0;
  std::string protocol;
  bool init = false;
  int scale = 1;
  int clients = 8;
  double duration_s = 60;
  double warmup_s = 10;
  double cooldown_s = 10;
  double rate = 0;
  std::vector<std::string> scripts;
  std::string svg_path;
  std::string label;
  std::string during_from, during_to;
  std::string cutover_lock_sql;
  bool cutover_lock_whole = false;
  bool baseline = false;
  std::vector<std::string> summarize;
  std::string versus;
  bool quiet = false;
  std::vector<std::string> command;
};

// The workload: its tables, clients, timing, rate, client program and scripts.
void AddLoadFlags(CLI::App* cmd, BenchFlags* flags);
// What is reported and how: the chart, the label, the `during` window, the cut-over's lock, the
// comparison of saved reports.
void AddReportFlags(CLI::App* cmd, BenchFlags* flags);

}  // namespace zerodown::cli
