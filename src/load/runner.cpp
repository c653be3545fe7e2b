#include "zerodown/load/runner.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <random>

#include "zerodown/pg/connection.hpp"

namespace zerodown::load {
namespace {

using Clock = std::chrono::steady_clock;

// SQLSTATEs for failures the server did not classify: a connection that broke mid-transaction
// (connection_failure) and one that could not be opened again (sqlclient_unable_to_establish).
constexpr const char* kConnectionFailure = "08006";
constexpr const char* kCannotConnect = "08001";
constexpr const char* kUnclassified = "XX000";

constexpr auto kMaxReconnectBackoff = std::chrono::milliseconds(1000);

// A statement's SQL on one line, cut to a width a report line can hold.
std::string Shortened(const std::string& sql) {
  constexpr std::size_t kWidth = 60;
  std::string line;
  for (char c : sql) {
    bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (space && (line.empty() || line.back() == ' ')) continue;
    line += space ? ' ' : c;
  }
  if (!line.empty() && line.back() == ' ') line.pop_back();
  if (line.size() > kWidth) line = line.substr(0, kWidth - 3) + "...";
  return line;
}

}  // namespace

// One of a client's slowest transactions; the statement is resolved to its SQL for the report.
struct LoadRunner::Slow {
  double began_s = 0;
  double ms = 0;
  std::size_t script = 0;
  std::size_t command = 0;  // the slowest statement's index in the script
  double command_ms = 0;
  std::string sqlstate;
  bool connecting = false;  // a failed attempt to reconnect, not a transaction
};

struct LoadRunner::Client {
  int id = 0;
  std::optional<pg::Connection> conn;
  std::mt19937_64 rng;
  std::mutex mutex;  // guards pending: the client records, the ticker collects
  // Counts since the last collection, keyed by the segment (number of marks) in force when each
  // transaction started: a transaction that a change blocked belongs to the change even if it
  // finishes after the change's last mark. Usually one entry, two around a mark.
  std::vector<std::pair<std::size_t, Tally>> pending;
  // Its kSlowestKept slowest transactions so far, in no order (also guarded by mutex).
  std::vector<Slow> slowest;
};

// Keeps `slow` if it is among the kSlowestKept slowest in `kept`.
// Copies it only then: this runs once per transaction.
void LoadRunner::KeepIfSlowest(std::vector<Slow>& kept, const Slow& slow) {
  if (kept.size() < kSlowestKept) {
    kept.push_back(slow);
    return;
  }
  auto fastest = std::min_element(kept.begin(), kept.end(),
                                  [](const Slow& a, const Slow& b) { return a.ms < b.ms; });
  if (fastest->ms < slow.ms) *fastest = slow;
}

LoadRunner::LoadRunner(LoadOptions options) : options_(std::move(options)) {}

LoadRunner::~LoadRunner() { Stop(); }

double LoadRunner::Now() const {
  return std::chrono::duration<double>(Clock::now() - start_time_).count();
}

double LoadRunner::elapsed_s() const {
  double stopped = stopped_at_s_.load();
  if (stopped >= 0) return stopped;
  return running_.load() ? Now() : 0;
}

Status LoadRunner::Start() {
  if (running_.load() || options_.clients < 1)
    return Error(ErrorKind::kUsage, "the load runner needs at least one client and starts once");
  std::vector<ScriptSource> sources = options_.scripts;
  if (sources.empty()) sources.push_back({"tpcb", std::string(kTpcbScript), 1});
  for (const auto& source : sources) {
    auto script = ParseScript(source);
    if (!script.ok()) return script.error();
    scripts_.push_back(std::move(script).value());
  }

  std::random_device entropy;
  std::uint64_t seed = options_.seed ? options_.seed : (std::uint64_t{entropy()} << 32) | entropy();
  try {
    for (int i = 0; i < options_.clients; ++i) {
      auto client = std::make_unique<Client>();
      client->id = i;
      client->rng.seed(seed + static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ULL);
      client->conn = pg::Connection::Open(options_.conninfo, options_.application_name);
      client->conn->CountAsApplication();
      clients_.push_back(std::move(client));
    }
  } catch (const Error& error) {
    clients_.clear();
    return error;
  }

  scale_ = options_.scale;
  if (scale_ <= 0) {
    // As pgbench: the scale is the number of branches.
    auto rows = clients_[0]->conn->TryExec("SELECT count(*) FROM pgbench_branches");
    if (rows.ok()) {
      scale_ = std::max<std::int64_t>(1, rows->Int(0, 0));
    } else if (options_.scripts.empty()) {
      clients_.clear();
      return Error(ErrorKind::kNotFound,
                   "the built-in tpcb workload needs the pgbench tables: " + rows.error().message(),
                   "Create them with `zerodown bench --init --scale N` (or `pgbench -i -s N`), "
                   "or pass your own --script.");
    } else {
      scale_ = 1;
    }
  }

  start_time_ = Clock::now();
  running_ = true;
  ticker_ = std::thread([this] { RunTicker(); });
  for (auto& client : clients_) threads_.emplace_back([this, &client] { RunClient(*client); });
  return Status::Ok();
}

void LoadRunner::RunClient(Client& client) {
  Variables variables(scale_, client.id);
  std::vector<int> weights;
  for (const auto& script : scripts_) weights.push_back(script.weight);
  std::discrete_distribution<std::size_t> pick(weights.begin(), weights.end());
  // Poisson arrivals, as pgbench --rate: each client gets an equal share of the rate.
  double mean_gap_s = options_.rate > 0 ? options_.clients / options_.rate : 0;
  std::exponential_distribution<double> gap(mean_gap_s > 0 ? 1.0 / mean_gap_s : 1.0);
  Clock::time_point scheduled = Clock::now();
  auto backoff = std::chrono::milliseconds(50);
  std::vector<pg::Param> params;  // reused: no allocation per transaction
  // The statement of the current transaction that took longest, for the slowest list.
  Slow slowest_part;
  while (!stop_.load(std::memory_order_relaxed)) {
    if (!client.conn || PQstatus(client.conn->raw()) == CONNECTION_BAD) {
      if (!Reconnect(client, backoff, slowest_part)) continue;
    }
    Clock::time_point began = Clock::now();
    if (mean_gap_s > 0) {
      scheduled += std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(gap(client.rng)));
      while (Clock::now() < scheduled && !stop_.load(std::memory_order_relaxed))
        std::this_thread::sleep_for(
            std::min<Clock::duration>(scheduled - Clock::now(), std::chrono::milliseconds(100)));
      if (stop_.load(std::memory_order_relaxed)) break;
      began = scheduled;
    }
    std::size_t segment = mark_count_.load();
    std::size_t script_index = pick(client.rng);
    slowest_part = Slow();
    slowest_part.script = script_index;
    std::string sqlstate =
        RunScript(client, scripts_[script_index], variables, params, slowest_part);
    Record(client, slowest_part, began, segment, sqlstate);
  }
}

bool LoadRunner::Reconnect(Client& client, std::chrono::milliseconds& backoff, Slow& slowest_part) {
  // Each failed attempt to get back in counts as one failed transaction: an application would
  // see exactly that.
  Clock::time_point began = Clock::now();
  std::size_t segment = mark_count_.load();
  slowest_part = Slow();
  slowest_part.connecting = true;
  try {
    client.conn.reset();
    client.conn = pg::Connection::Open(options_.conninfo, options_.application_name);
    client.conn->CountAsApplication();
    backoff = std::chrono::milliseconds(50);
    return true;
  } catch (const Error& error) {
    Record(client, slowest_part, began, segment,
           error.sqlstate().empty() ? kCannotConnect : error.sqlstate());
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, kMaxReconnectBackoff);
    return false;
  }
}

std::string LoadRunner::RunScript(Client& client, const Script& script, Variables& variables,
                                  std::vector<pg::Param>& params, Slow& slowest_part) {
  for (std::size_t i = 0; i < script.commands.size(); ++i) {
    const Command& command = script.commands[i];
    if (command.is_set) {
      ApplySet(command.set, variables, client.rng);
      continue;
    }
    params.clear();
    for (const auto& name : command.sql.parameters)
      params.emplace_back(std::to_string(variables.Get(name)));
    Clock::time_point sent = Clock::now();
    auto result = client.conn->TryExec(command.sql.sql, params);
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
    if (ms > slowest_part.command_ms) {
      slowest_part.command = i;
      slowest_part.command_ms = ms;
    }
    if (result.ok()) continue;
    std::string sqlstate = result.error().sqlstate();
    PGconn* raw = client.conn->raw();
    if (PQstatus(raw) == CONNECTION_BAD) {
      if (sqlstate.empty()) sqlstate = kConnectionFailure;
    } else if (PQtransactionStatus(raw) != PQTRANS_IDLE) {
      (void)client.conn->TryExec("ROLLBACK");
    }
    return sqlstate.empty() ? std::string(kUnclassified) : sqlstate;
  }
  return {};
}

void LoadRunner::Record(Client& client, Slow& slowest_part, Clock::time_point began,
                        std::size_t segment, const std::string& sqlstate) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - began);
  std::uint64_t took = static_cast<std::uint64_t>(std::max<std::int64_t>(0, micros.count()));
  std::lock_guard lock(client.mutex);
  auto& pending = client.pending;
  if (pending.empty() || pending.back().first != segment) pending.emplace_back(segment, Tally());
  pending.back().second.Record(took, sqlstate);
  slowest_part.began_s = std::chrono::duration<double>(began - start_time_).count();
  slowest_part.ms = took / 1000.0;
  slowest_part.sqlstate = sqlstate;
  KeepIfSlowest(client.slowest, slowest_part);
}

void LoadRunner::RunTicker() {
  for (int index = 0;; ++index) {
    auto next = start_time_ + std::chrono::seconds(index + 1);
    {
      std::unique_lock lock(wait_mutex_);
      if (stop_signal_.wait_until(lock, next, [this] { return stop_.load(); })) return;
    }
    std::lock_guard lock(state_mutex_);
    CollectLocked();
    CloseSecondLocked(index);
    if (options_.duration_s > 0 && Now() >= options_.duration_s) {
      {
        std::lock_guard wait_lock(wait_mutex_);
        stop_ = true;
      }
      stop_signal_.notify_all();
      return;
    }
  }
}

void LoadRunner::CollectLocked() {
  for (auto& client : clients_) {
    std::vector<std::pair<std::size_t, Tally>> taken;
    {
      std::lock_guard lock(client->mutex);
      std::swap(taken, client->pending);
    }
    // The timeline counts a transaction in the second it finished; the windows in the segment it
    // started in (segments before the current one are already closed: add to them).
    for (auto& [segment, tally] : taken) {
      second_.Merge(tally);
      if (segment < segments_.size())
        segments_[segment].tally.Merge(tally);
      else
        segment_.Merge(tally);
    }
  }
}

void LoadRunner::CloseSecondLocked(int index) {
  timeline_.push_back(SummarizeSecond(index, second_));
  second_ = Tally();
  second_index_ = index + 1;
}

void LoadRunner::MarkPhase(std::string name) {
  std::lock_guard lock(state_mutex_);
  // Checked under the lock so that no mark lands after Stop closed the last segment.
  if (!running_.load() || stop_.load()) return;
  CollectLocked();
  double now = Now();
  segments_.push_back({segment_begin_s_, now, std::move(segment_)});
  segment_ = Tally();
  segment_begin_s_ = now;
  marks_.push_back({std::move(name), now});
  mark_count_ = marks_.size();
}

void LoadRunner::Wait() {
  {
    std::unique_lock lock(wait_mutex_);
    stop_signal_.wait(lock, [this] { return stop_.load() || !running_.load(); });
  }
  Stop();
}

void LoadRunner::Stop() {
  std::lock_guard stop_lock(stop_mutex_);
  if (!running_.load()) return;
  {
    std::lock_guard lock(wait_mutex_);
    stop_ = true;
  }
  stop_signal_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  for (auto& thread : threads_) thread.join();
  threads_.clear();

  std::lock_guard lock(state_mutex_);
  CollectLocked();
  double now = Now();
  // The last partial second is kept only if anything finished in it, with its true length, so
  // that the chart shows its rate rather than a dip.
  if (second_.latency.count() > 0) {
    CloseSecondLocked(second_index_);
    timeline_.back().length_s = std::max(0.001, now - timeline_.back().index);
  }
  segments_.push_back({segment_begin_s_, now, std::move(segment_)});
  segment_ = Tally();
  segment_begin_s_ = now;
  stopped_at_s_ = now;
  for (auto& client : clients_) client->conn.reset();
  running_ = false;
}

std::optional<SecondStats> LoadRunner::LastSecond() const {
  std::lock_guard lock(state_mutex_);
  if (timeline_.empty()) return std::nullopt;
  return timeline_.back();
}

Result<LoadReport> LoadRunner::Report(const WindowChoice& choice) const {
  std::vector<Segment> segments;
  std::vector<PhaseMark> marks;
  std::vector<SecondStats> timeline;
  {
    std::lock_guard lock(state_mutex_);
    segments = segments_;
    marks = marks_;
    timeline = timeline_;
    // While running, the open segment ends now; after Stop it is already in segments_.
    if (segments.size() == marks.size())
      segments.push_back({segment_begin_s_, elapsed_s(), segment_});
  }
  auto report = BuildReport(segments, marks, std::move(timeline), choice);
  if (!report.ok()) return report;
  LoadReport out = std::move(report).value();
  out.clients = options_.clients;
  std::vector<Slow> slowest;
  for (const auto& client : clients_) {
    std::lock_guard lock(client->mutex);
    for (const auto& slow : client->slowest) KeepIfSlowest(slowest, slow);
  }
  std::sort(slowest.begin(), slowest.end(),
            [](const Slow& a, const Slow& b) { return a.ms > b.ms; });
  for (const auto& slow : slowest) {
    const Script& script = scripts_[slow.script];
    std::string statement = "(connecting)";
    if (!slow.connecting) {
      const Command& command = script.commands.at(slow.command);
      statement = command.is_set ? "(no statement)" : Shortened(command.sql.sql);
    }
    out.slowest.push_back({slow.began_s, slow.ms, statement, slow.command_ms, slow.sqlstate});
  }
  std::string names;
  for (const auto& script : scripts_) names += (names.empty() ? "" : ", ") + script.name;
  out.workload = names;
  return out;
}

}  // namespace zerodown::load
