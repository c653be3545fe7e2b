// Flag state on a real server through the CLI: set/get/list/delete/history round trip with one
// audit row per change (who and when, old and new value), a NOTIFY that a LISTENing connection
// receives within a second of `flag set`, and bad input refused with a clear error and nothing
// changed.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/select.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "support/database.hpp"
#include "zerodown/flags/store.hpp"

namespace zerodown {
namespace {

using testing::RunZerodown;

// `zerodown --postgres-url DB ARGS`: the exit code, with stdout and stderr in `out`.
int Flag(const std::string& db, const std::string& args, std::string* out) {
  return RunZerodown(fmt::format("--postgres-url {} flag {}", testing::Quoted(db), args), out);
}

std::int64_t HistoryRows(pg::Connection& conn) {
  if (!conn.Exec("SELECT to_regclass('zerodown.flag_history') IS NOT NULL").Bool(0, 0)) return 0;
  return conn.Exec("SELECT count(*) FROM zerodown.flag_history").Int(0, 0);
}

TEST(FlagsChangesAreRecorded, SetGetListDeleteHistoryRoundTrip) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  conn.Run("CREATE SCHEMA public_004_balance");
  std::string out;
  ASSERT_EQ(Flag(db, "set new_balance --rollout 1% --version public_004_balance --by alice", &out),
            0)
      << out;
  EXPECT_NE(out.find("on for 1% of users (buckets 0-99), version \"public_004_balance\" (new)"),
            std::string::npos)
      << out;
  ASSERT_EQ(Flag(db, "set new_balance --rollout 10% --by bob", &out), 0) << out;
  ASSERT_EQ(Flag(db, "set new_balance on --by alice", &out), 0) << out;
  ASSERT_EQ(Flag(db, "set new_balance on --by alice", &out), 0) << out;
  EXPECT_NE(out.find("(unchanged)"), std::string::npos) << out;
  ASSERT_EQ(Flag(db, "set new_balance --rollout 0.25%", &out), 0) << out;
  ASSERT_EQ(Flag(db, "set other off", &out), 0) << out;

  ASSERT_EQ(Flag(db, "get new_balance", &out), 0) << out;
  EXPECT_NE(out.find("on for 0.25% of users (buckets 0-24), version \"public_004_balance\""),
            std::string::npos)
      << out;
  ASSERT_EQ(
      RunZerodown(fmt::format("--postgres-url {} --json flag get new_balance", testing::Quoted(db)),
                  &out),
      0);
  nlohmann::json got = nlohmann::json::parse(out);
  EXPECT_EQ(got["rollout_bp"], 25);
  EXPECT_EQ(got["enabled"], true);
  EXPECT_EQ(got["version"], "public_004_balance");

  ASSERT_EQ(Flag(db, "list --json", &out), 0) << out;
  nlohmann::json list = nlohmann::json::parse(out);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["name"], "new_balance");
  EXPECT_EQ(list[1]["name"], "other");
  EXPECT_EQ(list[1]["enabled"], false);
  ASSERT_EQ(Flag(db, "list", &out), 0) << out;
  EXPECT_NE(out.find("public_004_balance"), std::string::npos) << out;

  ASSERT_EQ(Flag(db, "delete new_balance --by carol", &out), 0) << out;
  EXPECT_EQ(Flag(db, "get new_balance", &out), 2) << out;
  EXPECT_NE(out.find("there is no flag \"new_balance\""), std::string::npos) << out;
  EXPECT_EQ(Flag(db, "delete new_balance", &out), 2) << out;
  ASSERT_EQ(Flag(db, "eval new_balance 42", &out), 0) << out;
  EXPECT_NE(out.find("bucket 2706 of 10000: off"), std::string::npos) << out;
  EXPECT_FALSE(conn.Exec("SELECT zerodown.flag_enabled('new_balance', '42')").Bool(0, 0));

  // Five changes of new_balance (the repeated `on` was none), oldest first, kept after the delete.
  std::vector<flags::FlagChange> history = flags::History(conn, "new_balance");
  ASSERT_EQ(history.size(), 5u);
  EXPECT_EQ(history[0].action, "insert");
  EXPECT_FALSE(history[0].old_state.has_value());
  EXPECT_EQ(history[0].new_state->rollout_bp, 100);
  EXPECT_EQ(history[0].note, "alice");
  EXPECT_EQ(history[1].old_state->rollout_bp, 100);
  EXPECT_EQ(history[1].new_state->rollout_bp, 1000);
  EXPECT_EQ(history[1].note, "bob");
  EXPECT_EQ(history[2].new_state->rollout_bp, 10000);
  EXPECT_EQ(history[3].new_state->rollout_bp, 25);
  EXPECT_EQ(history[4].action, "delete");
  EXPECT_EQ(history[4].old_state->rollout_bp, 25);
  EXPECT_FALSE(history[4].new_state.has_value());
  EXPECT_EQ(history[4].note, "carol");
  std::string me = conn.Exec("SELECT current_user").Text(0, 0);
  for (const auto& change : history) {
    EXPECT_EQ(change.db_user, me);
    EXPECT_FALSE(change.changed_at.empty());
  }
  ASSERT_EQ(Flag(db, "history new_balance", &out), 0) << out;
  EXPECT_NE(out.find(fmt::format("by {} (bob): update: on for 1% of users (buckets 0-99), version "
                                 "\"public_004_balance\" -> on for 10% of users",
                                 me)),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("(carol): delete:"), std::string::npos) << out;

  // A change made with plain SQL is recorded too.
  conn.Run("UPDATE zerodown.flags SET rollout_bp = 500, enabled = true WHERE name = 'other'");
  std::vector<flags::FlagChange> other = flags::History(conn, "other");
  ASSERT_EQ(other.size(), 2u);
  EXPECT_EQ(other[1].new_state->rollout_bp, 500);
  EXPECT_FALSE(other[1].note.has_value());
}

// Waits up to `limit` for a notification on `conn`; none when it did not come.
std::optional<std::string> WaitForNotify(pg::Connection& conn, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    PQconsumeInput(conn.raw());
    if (PGnotify* n = PQnotifies(conn.raw())) {
      std::string payload = n->extra;
      PQfreemem(n);
      return payload;
    }
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::milliseconds(0)) return std::nullopt;
    int socket = PQsocket(conn.raw());
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(socket, &fds);
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(left).count();
    timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
    select(socket + 1, &fds, nullptr, nullptr, &tv);
  }
}

TEST(FlagsChangesAreRecorded, ListenerHearsEveryChangeWithinASecond) {
  std::string db = testing::FreshDatabase();
  pg::Connection listener = testing::Connect(db);
  listener.Exec(fmt::format("LISTEN {}", flags::kNotifyChannel));
  std::string out;
  ASSERT_EQ(Flag(db, "set new_balance --rollout 10%", &out), 0) << out;
  auto heard_at = std::chrono::steady_clock::now();
  std::optional<std::string> payload = WaitForNotify(listener, std::chrono::seconds(1));
  ASSERT_TRUE(payload.has_value()) << "no notification within 1 s of `flag set`";
  std::cout << fmt::format("notification {} us after `flag set` returned\n",
                           std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::steady_clock::now() - heard_at)
                               .count());
  auto notice = flags::ParseNotice(*payload);
  ASSERT_TRUE(notice.ok()) << *payload;
  EXPECT_EQ(notice->flag, "new_balance");
  EXPECT_EQ(notice->action, "insert");
  ASSERT_TRUE(notice->state.has_value());
  EXPECT_EQ(notice->state->rollout_bp, 1000);
  EXPECT_TRUE(notice->state->enabled);

  ASSERT_EQ(Flag(db, "delete new_balance", &out), 0) << out;
  payload = WaitForNotify(listener, std::chrono::seconds(1));
  ASSERT_TRUE(payload.has_value()) << "no notification within 1 s of `flag delete`";
  notice = flags::ParseNotice(*payload);
  ASSERT_TRUE(notice.ok()) << *payload;
  EXPECT_EQ(notice->action, "delete");
  EXPECT_FALSE(notice->state.has_value());
}

TEST(FlagsChangesAreRecorded, BadInputIsRefusedAndChangesNothing) {
  std::string db = testing::FreshDatabase();
  pg::Connection conn = testing::Connect(db);
  std::string out;
  // Before anything exists: nothing is created by a refused command.
  EXPECT_EQ(Flag(db, "set new_balance --rollout 10% --version public_missing", &out), 2) << out;
  EXPECT_FALSE(conn.Exec("SELECT to_regclass('zerodown.flags') IS NOT NULL").Bool(0, 0));

  ASSERT_EQ(Flag(db, "set new_balance --rollout 1%", &out), 0) << out;
  std::optional<flags::Flag> before = flags::Get(conn, "new_balance");
  std::int64_t history_before = HistoryRows(conn);

  EXPECT_EQ(Flag(db, "set new_balance --rollout 10% --version public_missing", &out), 2) << out;
  for (const char* part : {"flag \"new_balance\"", "no schema \"public_missing\"",
                           "nothing was changed", "--version", "zerodown start"}) {
    EXPECT_NE(out.find(part), std::string::npos) << part << " missing from: " << out;
  }
  struct Bad {
    const char* args;
    const char* says;
  };
  for (const Bad& bad :
       {Bad{"set new_balance --rollout abc", "\"abc\" is not a percentage"},
        Bad{"set new_balance --rollout 101%", "\"101%\" is above 100%"},
        Bad{"set new_balance --rollout 0.001%", "\"0.001%\" is finer than"},
        Bad{"set new_balance --rollout=-5%", "is not a percentage"},
        Bad{"set new_balance maybe", "maybe"}, Bad{"set new_balance", "nothing to set"},
        Bad{"set 'new:balance' on", "cannot name a flag"},
        Bad{"set brand_new --version public", "a new flag needs a state"},
        Bad{"delete no_such_flag", "there is no flag \"no_such_flag\""}}) {
    EXPECT_EQ(Flag(db, bad.args, &out), 2) << bad.args << ": " << out;
    EXPECT_NE(out.find(bad.says), std::string::npos) << bad.args << ": " << out;
  }
  EXPECT_EQ(flags::Get(conn, "new_balance")->state, before->state);
  EXPECT_EQ(HistoryRows(conn), history_before);
  EXPECT_FALSE(flags::Get(conn, "brand_new").has_value());
  EXPECT_EQ(Flag(db, "set --help", &out), 0);
  EXPECT_NE(out.find("Examples:"), std::string::npos) << out;
  EXPECT_NE(out.find("--rollout"), std::string::npos) << out;
}

}  // namespace
}  // namespace zerodown
