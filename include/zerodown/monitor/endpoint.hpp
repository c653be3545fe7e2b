// One Prometheus registry and the HTTP endpoint that serves it (prometheus-cpp): what every
// command with metrics (a migration, `bluegreen status`) shares. It registers nothing itself.
#pragma once

#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "zerodown/common/error.hpp"

namespace prometheus {
class Exposer;
}

namespace zerodown::monitor {

class MetricsEndpoint {
 public:
  MetricsEndpoint();
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // Serves GET /metrics on "host:port" (port 0 picks a free one; see port()). Returns kUsage
  // naming the address when it cannot be bound. Call at most once.
  Status Serve(const std::string& address);
  // The port Serve bound, 0 before.
  int port() const;
  // The current values in the Prometheus text format (what a scrape returns).
  std::string Render() const;

  prometheus::Registry& registry() { return *registry_; }
  std::shared_ptr<prometheus::Registry> shared_registry() const { return registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace zerodown::monitor
