// The route flags of `zerodown proxy --route-flag A --route-flag B …`, in the order given: each
// transaction runs on the version of the first flag whose rollout includes its user, and with the
// client's own search_path when none does (docs/proxy.md, "More than one route flag"). Each flag
// is watched by its own FlagWatch; this only orders them and counts what each said.
#pragma once

#include <asio.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "proxy/flag_watch.hpp"
#include "proxy/proxy_metrics.hpp"
#include "zerodown/common/error.hpp"

namespace zerodown::proxy {

class Router {
 public:
  // Starts a watch of each of `flags` in the database of target `target` (`conninfo`). Fails with
  // kUsage when a flag is named twice, and as FlagWatch::Start for the first flag that fails.
  static Result<std::unique_ptr<Router>> Start(asio::io_context& io, const std::string& target,
                                               const std::string& conninfo,
                                               const std::vector<std::string>& flags);

  // The flags in order.
  std::vector<std::string> flags() const;
  // Counts each flag's decisions in `metrics`, which has a series for each and outlives this.
  void SetMetrics(ProxyMetrics& metrics);
  // The version schema of one transaction of `user_id`: the first flag's that includes the user,
  // none when no flag does. Every flag counts the transaction once. Event loop only.
  std::optional<std::string> Route(const std::optional<std::string>& user_id);
  // Each flag's FlagWatch::Status, in order. Event loop only.
  nlohmann::json Status() const;

 private:
  std::vector<std::unique_ptr<FlagWatch>> watches_;
};

}  // namespace zerodown::proxy
