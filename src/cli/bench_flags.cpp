#include "cli/bench_flags.hpp"

#include <map>

namespace zerodown::cli {

// The workload: its tables, clients, timing, rate, client program and scripts.
void AddLoadFlags(CLI::App* cmd, BenchFlags* flags) {
  cmd->add_flag("--init", flags->init,
                "create the pgbench tables first (runs `pgbench -i -s SCALE` from PostgreSQL's "
                "bindir, $ZERODOWN_PG_BINDIR or /usr/lib/postgresql/15/bin)");
  cmd->add_option("--scale", flags->scale, "pgbench scale for --init (100,000 accounts each)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("-c,--clients", flags->clients, "client connections, one thread each")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("-T,--duration", flags->duration_s, "seconds to run when no command is given")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", flags->warmup_s, "seconds of load before the command starts")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--cooldown", flags->cooldown_s, "seconds of load after the command ends")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-R,--rate", flags->rate,
                  "total transactions per second (Poisson arrivals); 0 = as fast as possible")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--client", flags->client,
                  "who drives the load: `zerodown` (its own runner, below) or `pgbench` "
                  "(PostgreSQL's client itself, run from its bindir with per-transaction "
                  "logs; -c, -R, --threads, --protocol and -f are passed to it, -f in "
                  "pgbench's script syntax)")
      ->transform(CLI::CheckedTransformer(
                      std::map<std::string, BenchClient>{{"zerodown", BenchClient::kZerodown},
                                                         {"pgbench", BenchClient::kPgbench}})
                      .description(""))
      ->type_name("zerodown|pgbench")
      ->default_str("zerodown");
  cmd->add_option("-j,--threads", flags->threads,
                  "with --client pgbench: pgbench's worker threads (default: one per core, at "
                  "most one per client)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("-M,--protocol", flags->protocol,
                  "with --client pgbench: simple, extended or prepared (pgbench's -M)")
      ->check(CLI::IsMember({"simple", "extended", "prepared"}));
  cmd->add_option("-f,--script", flags->scripts,
                  "FILE[@WEIGHT]: a workload script, repeatable; default: built-in tpcb");
}

// What is reported and how: the chart, the label, the `during` window, the cut-over's lock, the
// comparison of saved reports.
void AddReportFlags(CLI::App* cmd, BenchFlags* flags) {
  cmd->add_option("--svg", flags->svg_path, "write a chart of TPS and latency over time");
  cmd->add_option("--label", flags->label, "name of this run in tables, charts and JSON");
  cmd->add_flag("--baseline", flags->baseline,
                "this run is the comparison's no-change baseline (e.g. `-- sleep 40`): "
                "--summarize then also measures every other row's lost transactions against "
                "its TPS");
  cmd->add_option("--during-from", flags->during_from,
                  "phase that opens the `during` window (default: the first mark)");
  cmd->add_option("--during-to", flags->during_to,
                  "phase that closes the `during` window (default: the last mark)");
  cmd->add_option("--cutover-lock-sql", flags->cutover_lock_sql,
                  "SQL whose first value is how many milliseconds the command held ACCESS "
                  "EXCLUSIVE at its cut-over; run on a connection of its own after the load "
                  "stops, shown as `lock ms` (NULL or no row: unknown)");
  cmd->add_flag("--cutover-lock-whole", flags->cutover_lock_whole,
                "the command holds ACCESS EXCLUSIVE for its whole run (a native ALTER): `lock "
                "ms` is how long it ran")
      ->excludes("--cutover-lock-sql");
  cmd->add_option("--summarize", flags->summarize,
                  "print one comparison table of reports saved with --json (or W1 results), "
                  "their slowest transactions and their peaks by phase, and exit; with "
                  "--svg and one report, redraw its chart")
      ->expected(1, -1);
  cmd->add_option("--versus", flags->versus,
                  "with --summarize: also print every other change's duration, lost "
                  "transactions and max latency as multiples of this one's (a label's first "
                  "word, e.g. '(c)' for W1's pg_repack row)")
      ->needs("--summarize");
  cmd->add_flag("-q,--quiet", flags->quiet, "no progress lines on stderr");
}

}  // namespace zerodown::cli
