#include "proxy/router.hpp"

#include <fmt/format.h>

#include <set>

namespace zerodown::proxy {

Result<std::unique_ptr<Router>> Router::Start(asio::io_context& io, const std::string& target,
                                              const std::string& conninfo,
                                              const std::vector<std::string>& flags) {
  auto router = std::make_unique<Router>();
  std::set<std::string> seen;
  for (const auto& flag : flags) {
    if (!seen.insert(flag).second) {
      return Error(ErrorKind::kUsage, fmt::format("--route-flag \"{}\" is given twice", flag),
                   "Name each route flag once; their order decides which wins for a user in "
                   "several rollouts.");
    }
    auto watch = FlagWatch::Start(io, target, conninfo, flag);
    if (!watch) return watch.error();
    router->watches_.push_back(std::move(watch).ValueOrThrow());
  }
  return router;
}

std::vector<std::string> Router::flags() const {
  std::vector<std::string> names;
  for (const auto& watch : watches_) names.push_back(watch->flag());
  return names;
}

void Router::SetMetrics(ProxyMetrics& metrics) {
  for (const auto& watch : watches_) watch->SetMetrics(&metrics.Flag(watch->flag()));
}

std::optional<std::string> Router::Route(const std::optional<std::string>& user_id) {
  std::optional<std::string> version;
  for (const auto& watch : watches_) {
    // The flags after the one that routed it are not asked, only told.
    auto said = watch->Route(user_id, /*routed_already=*/version.has_value());
    if (!version) version = std::move(said);
  }
  return version;
}

nlohmann::json Router::Status() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& watch : watches_) out.push_back(watch->Status());
  return out;
}

}  // namespace zerodown::proxy
