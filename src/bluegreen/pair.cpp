#include "bluegreen/replication.hpp"
#include "zerodown/bluegreen/bluegreen.hpp"

namespace zerodown::bluegreen {
namespace {

std::string DatabaseOidOf(pg::Connection& conn) {
  return conn.Exec("SELECT oid::text FROM pg_database WHERE datname = current_database()")
      .Text(0, 0);
}

}  // namespace

Pair::Pair(pg::Connection blue, pg::Connection green, std::string blue_for_green,
           std::string green_for_blue)
    : blue_(std::move(blue)),
      green_(std::move(green)),
      blue_conninfo_(blue_for_green.empty() ? bluegreen::ConnInfoOf(blue_)
                                            : std::move(blue_for_green)),
      green_conninfo_(green_for_blue.empty() ? bluegreen::ConnInfoOf(green_)
                                             : std::move(green_for_blue)),
      blue_oid_(DatabaseOidOf(blue_)),
      green_oid_(DatabaseOidOf(green_)) {}

}  // namespace zerodown::bluegreen
