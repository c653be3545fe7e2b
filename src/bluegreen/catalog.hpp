// What blue-green reads from one database's catalog: the tables it publishes, what logical
// replication cannot carry, the schema fingerprint, sequences and long transactions. It reads
// only; nothing here changes the database.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "zerodown/pg/connection.hpp"

namespace zerodown::bluegreen {

struct TableRef {
  std::string schema;
  std::string name;
  std::string Quoted(const pg::Connection& conn) const { return conn.Ident(schema, name); }
  std::string Display() const { return schema + "." + name; }
};

// Every ordinary table (partitions included, partitioned parents not: their leaves carry the
// rows) outside pg_catalog, information_schema and zerodown, in name order.
std::vector<TableRef> UserTables(pg::Connection& conn);

// One paragraph per thing logical replication cannot carry (a table without primary key or
// replica identity, an unlogged table, large objects), each naming the table and the fix.
std::vector<std::string> Refusals(pg::Connection& conn);

// An md5 over the catalog description of every user table (kind, persistence, replica identity,
// columns with types and NOT NULL, the key and replica-identity indexes). DDL that changes what
// replication carries changes it; the fence triggers do not.
std::string Fingerprint(pg::Connection& conn);

// Whether `conn`'s database holds any user table (green must not).
bool HasUserTables(pg::Connection& conn);

struct SequenceValue {
  TableRef sequence;
  std::int64_t last_value = 0;
  std::int64_t increment = 1;
};
// Sequences outside zerodown that were ever used (pg_sequences.last_value not null).
std::vector<SequenceValue> UsedSequences(pg::Connection& conn);

// "pid 123 (app, 7.2 s): UPDATE …" for each client transaction open longer than `age`, other
// than this session's.
std::vector<std::string> LongTransactions(pg::Connection& conn, std::chrono::seconds age);

// "pid 123 (autovacuum worker, ShareUpdateExclusiveLock on public.t): autovacuum: VACUUM …" for
// each session other than this one holding a lock on one of `tables` that the fence's SHARE ROW
// EXCLUSIVE waits for and that no plain write takes: a VACUUM, ANALYZE, index build or DDL.
// Autovacuum workers are left out when `skip_autovacuum` (the fence cancels them).
std::vector<std::string> MaintenanceLocks(pg::Connection& conn, const std::vector<TableRef>& tables,
                                          bool skip_autovacuum);

}  // namespace zerodown::bluegreen
