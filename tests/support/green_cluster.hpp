// Test support for blue-green: a second throwaway PostgreSQL 15 (wal_level = logical, as every
// TempCluster) for green, beside the binary's shared one for blue, and the catalog reads that
// tell whether a pair left anything behind.
#pragma once

#include <memory>
#include <string>

#include "support/database.hpp"

namespace zerodown::testing {

inline pg::TempCluster& GreenCluster() {
  static auto cluster = std::make_unique<pg::TempCluster>();
  return *cluster;
}

// A fresh database on the green cluster named like the running test's blue one.
inline std::string FreshGreenDatabase(const std::string& blue_conninfo) {
  std::string name = Connect(blue_conninfo).Database();
  pg::Connection admin = Connect(GreenCluster().ConnInfo("postgres"));
  admin.Exec("DROP DATABASE IF EXISTS " + admin.Ident(name) + " WITH (FORCE)");
  return GreenCluster().CreateDatabase(name);
}

// Publications, subscriptions and replication slots of this database, and
// zerodown.bluegreen_* tables: what a finished pair must not leave.
inline int ReplicationLeftovers(const std::string& conninfo) {
  pg::Connection conn = Connect(conninfo);
  return static_cast<int>(
      conn.Exec("SELECT (SELECT count(*) FROM pg_publication) + "
                "(SELECT count(*) FROM pg_subscription s JOIN pg_database d ON d.oid = s.subdbid "
                " WHERE d.datname = current_database()) + "
                "(SELECT count(*) FROM pg_replication_slots WHERE database = current_database()) + "
                "(SELECT count(*) FROM pg_tables WHERE schemaname = 'zerodown' "
                " AND tablename LIKE 'bluegreen%')")
          .Int(0, 0));
}

// The bluegreen command line for blue and green: "--postgres-url … bluegreen VERB --green …".
inline std::string BlueGreen(const std::string& verb, const std::string& blue,
                             const std::string& green) {
  return "--postgres-url " + Quoted(blue) + " bluegreen " + verb + " --green " + Quoted(green);
}

}  // namespace zerodown::testing
