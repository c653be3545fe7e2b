#include "zerodown/monitor/endpoint.hpp"

#include <fmt/format.h>
#include <prometheus/exposer.h>
#include <prometheus/text_serializer.h>

#include <exception>

namespace zerodown::monitor {

MetricsEndpoint::MetricsEndpoint() : registry_(std::make_shared<prometheus::Registry>()) {}

MetricsEndpoint::~MetricsEndpoint() = default;

Status MetricsEndpoint::Serve(const std::string& address) {
  try {
    // One worker thread: a scrape every few seconds needs no more.
    exposer_ = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& e) {
    return Error(ErrorKind::kUsage,
                 fmt::format("cannot serve metrics on \"{}\": {}", address, e.what()),
                 "Give --metrics-addr as host:port with a free port, e.g. 127.0.0.1:9187.");
  }
  exposer_->RegisterCollectable(registry_);
  return Status::Ok();
}

int MetricsEndpoint::port() const {
  if (!exposer_) return 0;
  auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

std::string MetricsEndpoint::Render() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

}  // namespace zerodown::monitor
