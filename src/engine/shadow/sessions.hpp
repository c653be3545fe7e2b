// The connections a shadow copy opens beside its own, shared by the copy's sessions and the
// replay's. Opens them only; what runs on them is the copier's and the replayer's.
#pragma once

#include <string_view>
#include <vector>

#include "engine/shadow/context.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::engine::shadow {

class HelperSessions {
 public:
  explicit HelperSessions(Context& ctx) : ctx_(ctx) {}

  // Up to `wanted` - 1 connections, opened when first needed (READ COMMITTED, named
  // zerodown-helper). A server that refuses one more connection (max_connections) gets fewer,
  // said once naming `work`: the work is slower, not wrong. Other errors are thrown.
  std::vector<pg::Connection>& Get(int wanted, std::string_view work);

 private:
  Context& ctx_;
  std::vector<pg::Connection> helpers_;
  bool refused_ = false;
};

}  // namespace zerodown::engine::shadow
