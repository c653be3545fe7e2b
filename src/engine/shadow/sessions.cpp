#include "engine/shadow/sessions.hpp"

#include <fmt/format.h>

namespace zerodown::engine::shadow {

std::vector<pg::Connection>& HelperSessions::Get(int wanted, std::string_view work) {
  while (!refused_ && static_cast<int>(helpers_.size()) + 1 < wanted) {
    try {
      helpers_.push_back(ctx_.conn.OpenAnother("zerodown-helper"));
      pg::UseReadCommitted(helpers_.back());
    } catch (const Error& error) {
      if (error.kind() != ErrorKind::kConnection) throw;
      refused_ = true;
      ctx_.progress.OnMessage(fmt::format("{} {} with {} session{} instead of {}: {}", work,
                                          ctx_.spec.table, helpers_.size() + 1,
                                          helpers_.empty() ? "" : "s", wanted, error.Describe()));
    }
  }
  return helpers_;
}

}  // namespace zerodown::engine::shadow
