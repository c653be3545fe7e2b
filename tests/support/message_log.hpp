// Test support: a progress sink that keeps the engine's messages and a shadow copy's stages, for
// tests that look for one.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "zerodown/common/progress.hpp"

namespace zerodown::testing {

class MessageLog : public SilentProgress {
 public:
  void OnMessage(const std::string& message) override { messages.push_back(message); }
  void OnCopyStage(CopyStage stage, const std::string&) override { stages.push_back(stage); }
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
  std::vector<CopyStage> stages;
};

}  // namespace zerodown::testing
