// Test support: a progress sink that keeps the engine's messages, for tests that look for one.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "zerodown/engine/progress.hpp"

namespace zerodown::testing {

class MessageLog : public engine::SilentProgress {
 public:
  void OnMessage(const std::string& message) override { messages.push_back(message); }
  bool Has(std::string_view text) const {
    return std::any_of(messages.begin(), messages.end(),
                       [&](const std::string& m) { return m.find(text) != std::string::npos; });
  }
  // Every message, one per line: for a failed expectation's output.
  std::string All() const {
    std::string all;
    for (const std::string& m : messages) all += m + "\n";
    return all;
  }
  std::vector<std::string> messages;
};

}  // namespace zerodown::testing
