// Test support for integration tests: one throwaway PostgreSQL 15 per test binary, started on
// first use and torn down at exit (or by its watchdog if the binary crashes), and a fresh
// database per test.
#pragma once

#include <string>

#include "zerodown/pg/cluster.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::testing {

// The binary's shared cluster.
pg::TempCluster& SharedCluster();

// Creates a database named after the running test and returns its conninfo.
std::string FreshDatabase();

// Opens a connection to `conninfo` (a thin alias that reads well in tests).
pg::Connection Connect(const std::string& conninfo);

// `s` in single quotes: one shell word for RunZerodown's `args` (a conninfo or a temp path,
// which hold no quote of their own).
std::string Quoted(const std::string& s);

// The database's schema as `pg_dump --schema-only` prints it, without zerodown's own state schema
// and without the \restrict lines whose key pg_dump draws at random on every run (15.14 and
// later): what a rollback must leave exactly as it was.
std::string SchemaDump(const std::string& conninfo);

// Runs the zerodown binary with `args` (shell words, already quoted) and returns its exit code;
// stdout and stderr are captured into `output`; `env` ("NAME=value …") is set for it alone.
int RunZerodown(const std::string& args, std::string* output = nullptr,
                const std::string& env = "");

}  // namespace zerodown::testing
