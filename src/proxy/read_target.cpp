#include "proxy/read_target.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "proxy/async_util.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::proxy {
namespace {

// How often the positions are sampled: a client that wrote reads on the read target again about
// this long after the target replayed its write.
constexpr std::chrono::milliseconds kInterval{20};
// How long the watcher waits before it tries a server that failed again.
constexpr std::chrono::milliseconds kRetry{1000};

// On the read target: a standby's replay position, or the slots of this database's
// subscriptions, and how many of their tables are not yet in sync (their rows are not there).
constexpr const char* kTargetSql =
    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, "
    "(SELECT string_agg(s.subslotname, ',') FROM pg_subscription s "
    "  WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "    AND s.subslotname IS NOT NULL), "
    "(SELECT count(*) FROM pg_subscription_rel r JOIN pg_subscription s ON s.oid = r.srsubid "
    "  WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "    AND r.srsubstate <> 'r')";
// On the primary: its insert position (which covers a commit made with synchronous_commit off,
// unlike the flush position), and for slot names $1 how far the slowest subscriber has applied
// (a walsender's replay_lsn, kept current by keepalives) or at least flushed (the slot's
// confirmed_flush_lsn, also while its subscription is disabled), and how many such slots exist.
constexpr const char* kPrimarySql =
    "SELECT pg_current_wal_insert_lsn()::text, "
    "min(greatest(r.replay_lsn, s.confirmed_flush_lsn))::text, count(s.slot_name) "
    "FROM (SELECT 1) AS one "
    "LEFT JOIN pg_replication_slots s ON s.slot_name = ANY(string_to_array($1, ',')) "
    "  AND s.database = current_database() AND s.slot_type = 'logical' "
    "LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid";

// libpq's messages run over several lines ("…failed: Connection refused\n\tIs the server
// running…"): the log says each problem on one.
std::string OneLine(std::string_view text) {
  std::string out;
  for (char c : text) {
    bool space = c == '\n' || c == '\t' || c == '\r' || c == ' ';
    if (!space) {
      out += c;
    } else if (!out.empty() && out.back() != ' ') {
      out += ' ';
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::uint64_t Lsn(const std::string& text) {
  auto lsn = ParseLsn(text);
  if (!lsn) throw Error(ErrorKind::kInternal, fmt::format("\"{}\" is not an LSN", text));
  return *lsn;
}

}  // namespace

ReadTarget::ReadTarget(asio::io_context& io, Target primary, Target target, int percent,
                       ReadMetrics& metrics)
    : io_(io),
      primary_(std::move(primary)),
      target_(std::move(target)),
      percent_(percent),
      metrics_(metrics) {
  thread_ = std::thread([this] { Watch(); });
}

ReadTarget::~ReadTarget() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ReadTarget::Count(ReadOutcome outcome) {
  ++decisions_[outcome];
  metrics_.decisions.at(outcome)->Increment();
}

void ReadTarget::ConnectFailed(const std::string& error) {
  if (!connect_failing_) {
    Log(
        fmt::format("read target {}: cannot open a connection ({}); reads run on {} until one "
                    "opens",
                    target_.name, OneLine(error), primary_.name));
  }
  connect_failing_ = true;
  retry_at_ = Clock::now() + kRetry;
}

void ReadTarget::Connected() {
  if (connect_failing_) Log(fmt::format("read target {}: connections open again", target_.name));
  connect_failing_ = false;
}

nlohmann::json ReadTarget::Status() const {
  auto now = Clock::now();
  nlohmann::json decisions = nlohmann::json::object();
  for (ReadOutcome outcome : kReadOutcomes) {
    auto it = decisions_.find(outcome);
    decisions[ReadOutcomeLabel(outcome)] = it == decisions_.end() ? 0 : it->second;
  }
  auto lag = state_.lag_bytes();
  auto age = state_.age_ms(now);
  return {{"target", target_.name},
          {"primary", primary_.name},
          {"percent", percent_},
          {"known", state_.Fresh(now)},
          {"lag_bytes", lag ? nlohmann::json(*lag) : nlohmann::json()},
          {"sample_age_ms", age ? nlohmann::json(*age) : nlohmann::json()},
          {"decisions", decisions}};
}

ReplaySample ReadTarget::Sample(pg::Connection& primary, pg::Connection& target,
                                std::string* problem) {
  ReplaySample sample;
  pg::Rows at = target.Exec(kTargetSql);
  bool standby = at.Bool(0, 0);
  std::optional<std::string> slots = at.Optional(0, 2);
  sample.started = Clock::now();
  pg::Rows head = primary.Exec(kPrimarySql, {slots});
  sample.done = Clock::now();
  sample.primary_lsn = RecordBoundary(Lsn(head.Text(0, 0)), segment_size_, block_size_);
  if (standby) {
    // Asked before the primary: a lower bound of where the standby is now.
    if (!at.IsNull(0, 1)) sample.replayed = Lsn(at.Text(0, 1));
    return sample;
  }
  std::int64_t wanted = slots ? std::count(slots->begin(), slots->end(), ',') + 1 : 0;
  if (wanted == 0) {
    *problem = "it is neither a standby nor a subscriber (no subscription in its database)";
  } else if (head.Int(0, 2) < wanted) {
    *problem = fmt::format("{} of its {} subscription slot(s) are not on {}",
                           wanted - head.Int(0, 2), wanted, primary_.name);
  } else if (at.Int(0, 3) > 0) {
    *problem = fmt::format("{} table(s) of its subscriptions are still being copied", at.Int(0, 3));
  } else if (head.IsNull(0, 1)) {
    *problem = "its subscription slots have no confirmed position yet";
  } else {
    sample.replayed = Lsn(head.Text(0, 1));
  }
  return sample;
}

std::string ReadTarget::Describe(const WatchProblem& problem) const {
  if (problem.empty()) {
    return fmt::format("read target {}: its replay position is known again; reads run there",
                       target_.name);
  }
  if (problem.unreachable == &target_) {
    return fmt::format(
        "read target {} cannot be reached ({}); every read runs on {} until it "
        "can, tried again each second. Check that its server runs and that "
        "--target {}=URL reaches it",
        target_.name, problem.detail, primary_.name, target_.name);
  }
  if (problem.unreachable == &primary_) {
    return fmt::format(
        "read target {}: its replay position is unknown, since the primary {} "
        "cannot be reached ({}); every read runs on {} meanwhile",
        target_.name, primary_.name, problem.detail, primary_.name);
  }
  return fmt::format(
      "read target {}: its replay position is unknown: {}; every read runs on {} "
      "meanwhile",
      target_.name, problem.detail, primary_.name);
}

void ReadTarget::Publish(std::optional<ReplaySample> sample, const WatchProblem& problem) {
  if (!(problem == problem_)) {
    Log(Describe(problem));
    problem_ = problem;
  }
  asio::post(io_, [this, sample = std::move(sample)] {
    if (sample) {
      state_.Add(*sample);
    } else {
      state_.Unknown();
    }
    auto lag = state_.lag_bytes();
    metrics_.lag_bytes->Set(lag ? static_cast<double>(*lag) : -1.0);
  });
}

// The watcher thread: (re)connects to both servers and samples every kInterval. A failure makes
// the position unknown at once and is retried after kRetry.
void ReadTarget::Watch() {
  std::optional<pg::Connection> primary;
  std::optional<pg::Connection> target;
  while (!stop_) {
    auto next = Clock::now() + kInterval;
    const Target* opening = nullptr;  // the server being connected to, while one is
    try {
      opening = &primary_;
      if (!primary) {
        primary.emplace(pg::Connection::Open(primary_.conninfo, "zerodown proxy read share"));
        pg::Rows sizes = primary->Exec(
            "SELECT pg_size_bytes(current_setting('wal_segment_size')), "
            "current_setting('wal_block_size')::bigint");
        segment_size_ = static_cast<std::uint64_t>(sizes.Int(0, 0));
        block_size_ = static_cast<std::uint64_t>(sizes.Int(0, 1));
      }
      opening = &target_;
      if (!target) {
        target.emplace(pg::Connection::Open(target_.conninfo, "zerodown proxy read share"));
      }
      opening = nullptr;
      WatchProblem problem;
      ReplaySample sample = Sample(*primary, *target, &problem.detail);
      Publish(sample, problem);
    } catch (const Error& error) {
      Publish(std::nullopt, WatchProblem{opening, OneLine(error.message())});
      primary.reset();
      target.reset();
      next = Clock::now() + kRetry;
    }
    while (!stop_ && Clock::now() < next) {
      std::this_thread::sleep_for(std::min<Clock::duration>(next - Clock::now(), kInterval));
    }
  }
}

}  // namespace zerodown::proxy
