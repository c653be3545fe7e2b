#include "bluegreen/replication.hpp"
#include "zerodown/bluegreen/bluegreen.hpp"

namespace zerodown::bluegreen {

Pair::Pair(pg::Connection blue, pg::Connection green, std::string blue_for_green,
           std::string green_for_blue)
    : blue_(std::move(blue)),
      green_(std::move(green)),
      blue_conninfo_(blue_for_green.empty() ? bluegreen::ConnInfoOf(blue_)
                                            : std::move(blue_for_green)),
      green_conninfo_(green_for_blue.empty() ? bluegreen::ConnInfoOf(green_)
                                             : std::move(green_for_blue)) {}

}  // namespace zerodown::bluegreen
