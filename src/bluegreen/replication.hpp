// The logical-replication objects of a pair, by name: the publication each side carries, the
// slot on the sending side and the subscription on the receiving side, and what the catalogs say
// about them (health, initial-copy progress, lag in bytes). Replication from side S to side R is
// the publication `zerodown_bluegreen` on S, the slot `zerodown_bluegreen_<oid>_from_S` on S (the
// oid of S's database: slots are server-wide) and the subscription of the same name on R.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bluegreen/catalog.hpp"
#include "zerodown/bluegreen/bluegreen.hpp"

namespace zerodown::bluegreen {

inline constexpr std::string_view kPublication = "zerodown_bluegreen";
// The slot and subscription that carry `sender`'s changes.
std::string PathName(const Pair& pair, Side sender);

// CREATE PUBLICATION for `tables` (and the heartbeat table) unless it exists.
void CreatePublication(pg::Connection& conn, const std::vector<TableRef>& tables);
void DropPublication(pg::Connection& conn);
// Publishes, for each of `tables` (and the heartbeat), only the columns `peer`'s table of the
// same name has too (PostgreSQL 15 column lists; no list where it has them all): green, which
// gains columns through `bluegreen start`, then never sends blue a column blue lacks on the way
// back. With `shared_only` false every column is published again, which must happen before a
// listed column is dropped (PostgreSQL refuses to drop a column a publication lists).
void SetPublishedColumns(pg::Connection& publisher, pg::Connection& peer,
                         const std::vector<TableRef>& tables, bool shared_only);

// A pgoutput slot named `name`, created now: the changes committed after this point are the ones
// it keeps. Run outside a transaction (logical decoding needs a snapshot of its own).
void CreateSlot(pg::Connection& conn, const std::string& name);
// Drops slot `name` if it exists, ending the walsender that still holds it; waits up to
// `timeout` for it to let go.
void DropSlot(pg::Connection& conn, const std::string& name, std::chrono::milliseconds timeout);

// CREATE SUBSCRIPTION `name` on the receiver over the slot of that name (created with CreateSlot;
// a disabled subscription may come first), with the initial copy or without it. It connects to
// the sender to list the publication's tables.
void CreateSubscription(pg::Connection& receiver, const std::string& sender_conninfo,
                        const std::string& name, bool copy_data, bool enabled = true);
void EnableSubscription(pg::Connection& receiver, const std::string& name, bool enabled);
// Drops subscription `name` on the receiver without touching the sender (slot_name = NONE), and
// returns the prefix of the initial-copy slots the sender may still hold for it
// (pg_<oid>_sync_), or nullopt when there was no such subscription. Its own slot keeps `name`.
std::optional<std::string> DropSubscription(pg::Connection& receiver, const std::string& name);
// Slots on the sender whose names start with `prefix` (initial-copy slots of a dropped
// subscription).
std::vector<std::string> SlotsLike(pg::Connection& sender, const std::string& prefix);

struct SubscriptionHealth {
  bool exists = false;
  bool enabled = false;
  bool worker_running = false;  // pg_stat_subscription has an apply worker with a pid
  int tables_total = 0;
  int tables_ready = 0;
  std::vector<std::string> tables_copying;  // "schema.table (d: copying)"
};
SubscriptionHealth Health(pg::Connection& receiver, const std::string& name);

// Bytes of WAL on the sender that slot `name` has not had confirmed, or nullopt without the slot.
std::optional<std::int64_t> LagBytes(pg::Connection& sender, const std::string& name);

// A conninfo string with the keywords libpq used for `conn` (host, port, dbname, user, sslmode…,
// and the password unless `with_password` is false), for another client or server to reach the
// same database.
std::string ConnInfoOf(const pg::Connection& conn, bool with_password = true);
// The password libpq used for `conn`, "" when none.
std::string PasswordOf(const pg::Connection& conn);

}  // namespace zerodown::bluegreen
