// The client side of the proxy's admin endpoint: one JSON request line to a running
// `zerodown proxy --admin host:port`, one JSON answer line back. Used by
// `zerodown proxy pause|resume|switch|status`; the protocol is in docs/proxy.md.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "zerodown/common/error.hpp"

namespace zerodown::proxy {

// Sends `request` (e.g. {"command":"pause","timeout_ms":10000}) and returns the proxy's answer.
// Fails with kConnection when the endpoint cannot be reached or closes without answering within
// `timeout`.
Result<nlohmann::json> SendAdminCommand(const std::string& address, const nlohmann::json& request,
                                        std::chrono::milliseconds timeout);

}  // namespace zerodown::proxy
