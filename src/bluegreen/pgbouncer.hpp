// Moving a switch's traffic through PgBouncer: its admin console pauses and resumes the
// application's database entry, and that entry's [databases] line in the ini file is pointed at
// the other side before the console's RELOAD. It never starts, stops or reconfigures anything
// else of PgBouncer.
#pragma once

#include <memory>

#include "bluegreen/pgbouncer_ini.hpp"
#include "bluegreen/traffic.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::bluegreen {

// Where `conn` reached its server: the host (or unix socket directory), port and database, as
// the entry's line will name them.
Endpoint EndpointOf(const pg::Connection& conn);

// The Traffic of a switch from the side at `from` to the side at `to`, through the console,
// database entry and ini file `control` names. Prepare checks all three before anything changes.
std::unique_ptr<Traffic> MakePgBouncerTraffic(const PgBouncerControl& control, Endpoint from,
                                              Endpoint to);

}  // namespace zerodown::bluegreen
