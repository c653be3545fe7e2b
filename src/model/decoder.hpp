// The one decoder from JSON values to model::Migration, with every database-free check. Both
// YAML (converted to JSON first) and JSON texts go through it. Internal to the model module.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "zerodown/common/error.hpp"
#include "zerodown/model/operations.hpp"

namespace zerodown::model::internal {

// ordered_json keeps the file's key order, which the old map form of create_index columns needs.
using Json = nlohmann::ordered_json;

struct DecodeOptions {
  std::string source;  // file name for messages; its stem is the default migration name
  // YAML turns a plain `true` into a boolean before the decoder sees it; a string field then
  // takes it as the text "true" instead of failing, since the user could not tell the difference.
  bool from_yaml = false;
};

// Decodes and checks `json`. Fails with kInvalidMigration, where = "<source>, operation <n>
// (<name>), field <path>".
Result<Migration> DecodeMigration(const Json& json, const DecodeOptions& options);

// Levenshtein distance, for "did you mean" suggestions.
size_t EditDistance(std::string_view a, std::string_view b);

}  // namespace zerodown::model::internal
