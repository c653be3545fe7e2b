// `zerodown demo`: everything a new user wants to see, on a throwaway local PostgreSQL: a
// pgbench data set under an 8-client TPC-B-like workload, `pgbench_accounts.abalance` changed
// from int to bigint online, and the before / during / after figures with the failed
// transactions counted. With --compare, the same change as a plain ALTER TABLE on a copy.
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "cli/progress.hpp"
#include "cli/support.hpp"
#include "zerodown/engine/engine.hpp"
#include "zerodown/load/runner.hpp"
#include "zerodown/model/migration_reader.hpp"
#include "zerodown/pg/catalog.hpp"
#include "zerodown/pg/cluster.hpp"

namespace zerodown::cli {
namespace {

constexpr const char* kMigration = R"({
  "name": "abalance_bigint",
  "operations": [{"alter_column": {"table": "pgbench_accounts", "column": "abalance",
                                   "type": "bigint", "up": "abalance",
                                   "down": "abalance::integer"}}]
})";

struct DemoFlags {
  int scale = 10;
  int clients = 8;
  double warmup_s = 5;
  double cooldown_s = 5;
  bool compare = false;
  std::string output_dir = "demo-output";
  EngineFlags engine;
};

void RunOrThrow(const std::vector<std::string>& argv, const std::string& what) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw Error(ErrorKind::kInternal, what + " failed",
                "Check that postgresql-15 and its client tools are installed "
                "(scripts/bootstrap.sh).");
  }
}

// Forwards engine progress and puts the engine's phases on the workload's timeline.
class PhaseMarkingProgress final : public ProgressSink {
 public:
  PhaseMarkingProgress(ProgressSink& inner, load::LoadRunner& runner)
      : inner_(inner), runner_(runner) {}
  void OnAction(const ActionEvent& a) override {
    std::string mark(PlanPhaseName(a.phase));
    if (a.phase == PlanPhase::kStart) {
      mark = a.role == ActionRole::kBackfill       ? "backfill"
             : a.role == ActionRole::kVersionViews ? "views"
                                                   : "expand";
    }
    if (mark != last_mark_) runner_.MarkPhase(mark);
    last_mark_ = mark;
    inner_.OnAction(a);
  }
  void OnBackfill(const BackfillProgress& p) override { inner_.OnBackfill(p); }
  void OnLockRetry(const std::string& d, int a, std::chrono::milliseconds delay) override {
    inner_.OnLockRetry(d, a, delay);
  }
  void OnCopyStage(CopyStage stage, const std::string& table) override {
    inner_.OnCopyStage(stage, table);
  }
  void OnMessage(const std::string& m) override { inner_.OnMessage(m); }

 private:
  ProgressSink& inner_;
  load::LoadRunner& runner_;
  std::string last_mark_;
};

void Sleep(double seconds) {
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(seconds * 1000)));
}

load::LoadReport RunUnderLoad(const std::string& conninfo, const DemoFlags& flags,
                              const std::string& label,
                              const std::function<void(load::LoadRunner&)>& change) {
  load::LoadOptions options;
  options.conninfo = conninfo;
  options.clients = flags.clients;
  load::LoadRunner runner(options);
  runner.Start().ThrowIfError();
  std::cerr << fmt::format("workload: {} clients, TPC-B-like; {:.0f} s before the change\n",
                           flags.clients, flags.warmup_s);
  Sleep(flags.warmup_s);
  runner.MarkPhase("start");
  change(runner);
  runner.MarkPhase("end");
  std::cerr << fmt::format("change done; {:.0f} s of workload after it\n", flags.cooldown_s);
  Sleep(flags.cooldown_s);
  runner.Stop();
  load::LoadReport report = runner.Report().ValueOrThrow();
  report.label = label;
  return report;
}

// TPC-B's own invariant: every transaction adds the same delta to one account, teller and
// branch and logs it in history, so the four sums agree unless a write was lost or doubled.
bool CheckConsistency(pg::Connection& conn, std::string* detail) {
  pg::Rows sums = conn.Exec(
      "SELECT (SELECT sum(abalance) FROM pgbench_accounts), (SELECT sum(tbalance) FROM "
      "pgbench_tellers), (SELECT sum(bbalance) FROM pgbench_branches), (SELECT "
      "coalesce(sum(delta), 0) FROM pgbench_history)");
  *detail = fmt::format(
      "sum(accounts) = {}, sum(tellers) = {}, sum(branches) = {}, "
      "sum(history) = {}",
      sums.Text(0, 0), sums.Text(0, 1), sums.Text(0, 2), sums.Text(0, 3));
  return sums.Text(0, 0) == sums.Text(0, 3) && sums.Text(0, 1) == sums.Text(0, 3) &&
         sums.Text(0, 2) == sums.Text(0, 3);
}

// pgbench's tables at the flags' scale in database "demo" (and a copy, "demo_plain", for the
// comparison), written out to disk.
void LoadPgbench(pg::TempCluster& cluster, const DemoFlags& flags) {
  std::cerr << fmt::format("loading pgbench data, scale {} ({} accounts)...\n", flags.scale,
                           flags.scale * 100000);
  RunOrThrow({cluster.bindir() + "/pgbench", "-i", "-q", "-s", std::to_string(flags.scale), "-h",
              cluster.socket_dir(), "-p", std::to_string(cluster.port()), "-U", cluster.superuser(),
              "demo"},
             "pgbench -i");
  if (flags.compare) {
    pg::Connection admin = pg::Connection::Open(cluster.ConnInfo("postgres"));
    admin.Exec("CREATE DATABASE demo_plain TEMPLATE demo");
  }
}

// zerodown's start and complete of the demo's migration under the pgbench load.
load::LoadReport RunOurs(pg::Connection& conn, const std::string& conninfo,
                         const GlobalOptions& global, const DemoFlags& flags) {
  model::Migration migration =
      model::ParseMigration(kMigration, model::Format::kJson, "abalance_bigint.json")
          .ValueOrThrow();
  auto text = MakeProgress(global);
  std::cerr << "\nzerodown: pgbench_accounts.abalance int -> bigint, online\n";
  return RunUnderLoad(conninfo, flags, "zerodown start + complete", [&](load::LoadRunner& runner) {
    PhaseMarkingProgress progress(*text, runner);
    engine::Engine engine(conn, MakeEngineOptions(global, flags.engine), progress);
    engine.Start(migration);
    std::cerr << "old and new application versions both work now; completing...\n";
    engine.Complete();
  });
}

int RunDemo(const GlobalOptions& global, const DemoFlags& flags) {
  std::cerr << "starting a throwaway PostgreSQL 15 (initdb + pg_ctl in a temp dir)...\n";
  pg::TempCluster cluster;
  std::string conninfo = cluster.CreateDatabase("demo");
  LoadPgbench(cluster, flags);
  pg::Connection conn = pg::Connection::Open(conninfo);
  engine::State(conn).Init();
  // The throwaway cluster runs with fsync off, so the data just loaded sits dirty in the OS cache
  // until the kernel writes it back ~30 s later: during the change, where it stalls several
  // clients at once. Written out before the load starts.
  conn.Exec("CHECKPOINT");
  ::sync();
  load::LoadReport ours = RunOurs(conn, conninfo, global, flags);
  std::string consistency;
  bool consistent = CheckConsistency(conn, &consistency);
  auto table = pg::DescribeTable(conn, "public", "pgbench_accounts");
  std::string type =
      table && table->FindColumn("abalance") ? table->FindColumn("abalance")->type : "?";

  std::vector<load::LoadReport> reports = {ours};
  if (flags.compare) {
    std::cerr << "\nfor comparison: the same change as a plain ALTER TABLE on a copy\n";
    std::string plain_info = cluster.ConnInfo("demo_plain");
    pg::Connection plain = pg::Connection::Open(plain_info);
    reports.push_back(RunUnderLoad(plain_info, flags, "plain ALTER TABLE", [&](load::LoadRunner&) {
      plain.Exec("ALTER TABLE pgbench_accounts ALTER COLUMN abalance TYPE bigint");
    }));
  }

  std::filesystem::create_directories(flags.output_dir);
  std::string svg = flags.output_dir + "/demo.svg";
  std::ofstream(svg) << load::RenderSvg(ours);
  std::ofstream(flags.output_dir + "/demo.json") << load::ToJson(ours).dump(2);

  std::cout << "\n" << load::RenderTable(ours) << "\n";
  if (flags.compare) std::cout << load::RenderComparison(reports) << "\n";
  std::cout << fmt::format("failed transactions during the whole run: {}\n", ours.total.failed);
  std::cout << fmt::format("abalance is now {}; consistency (TPC-B sums): {} ({})\n", type,
                           consistent ? "ok" : "MISMATCH", consistency);
  std::cout << fmt::format("chart: {}\n", svg);
  return ours.total.failed == 0 && consistent && type == "bigint" ? 0 : 1;
}

const CommandRegistration kRegistration{
    90, [](CLI::App& app, GlobalOptions& global) {
      auto flags = std::make_shared<DemoFlags>();
      auto* cmd = app.add_subcommand(
          "demo",
          "Show zerodown at work on a throwaway local PostgreSQL 15: load pgbench data, run an "
          "8-client workload, change pgbench_accounts.abalance from int to bigint online, and "
          "print "
          "the workload's figures before, during and after, with failed transactions counted. "
          "Nothing outside the temporary cluster is touched; it is removed at the end (also on "
          "Ctrl-C).\n\nExamples:\n  zerodown demo\n  zerodown demo --scale 20 --compare");
      cmd->add_option("--scale", flags->scale, "pgbench scale (100,000 accounts each)")
          ->capture_default_str()
          ->check(CLI::Range(1, 1000));
      cmd->add_option("--clients", flags->clients, "workload connections")
          ->capture_default_str()
          ->check(CLI::Range(1, 100));
      cmd->add_option("--warmup", flags->warmup_s, "seconds of workload before the change")
          ->capture_default_str();
      cmd->add_option("--cooldown", flags->cooldown_s, "seconds of workload after the change")
          ->capture_default_str();
      cmd->add_flag("--compare", flags->compare,
                    "also run the change as a plain ALTER TABLE on a copy and compare");
      cmd->add_option("--output", flags->output_dir, "where the chart and JSON report go")
          ->capture_default_str();
      AddEngineFlags(cmd, flags->engine);
      cmd->callback([&global, flags] {
        int code = RunDemo(global, *flags);
        if (code != 0) throw CommandExit{code};
      });
    }};

}  // namespace
}  // namespace zerodown::cli
