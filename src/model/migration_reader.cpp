#include "zerodown/model/migration_reader.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "model/decoder.hpp"

namespace zerodown::model {
namespace {

using internal::Json;

Error InvalidAt(const std::string& source, size_t line, size_t column, std::string message,
                std::string fix) {
  return Error(ErrorKind::kInvalidMigration, std::move(message), std::move(fix))
      .WithWhere(source + ", line " + std::to_string(line) + ", column " + std::to_string(column));
}

// Thrown inside the YAML conversion only; ParseYaml turns it into an Error.
struct YamlFailure {
  Error error;
};

// YAML 1.2 core schema spellings of null and the booleans for plain (unquoted) scalars.
bool IsYamlNull(const std::string& text) {
  return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}
std::optional<bool> YamlBool(const std::string& text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

// Converts a YAML node to JSON. Every scalar stays a string except plain null and booleans: the
// format has no numeric fields, and keeping `up: 1` or `default: 0.50` as the text the user wrote
// avoids a round trip through double that would turn "0.50" into "0.5".
Json YamlToJson(const YAML::Node& node, const std::string& source) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      // "?" is the tag of a plain scalar; quoted and block scalars have "!" or an explicit tag.
      if (node.Tag() == "?") {
        if (IsYamlNull(text)) return nullptr;
        if (auto b = YamlBool(text)) return *b;
      } else if (node.Tag() == "tag:yaml.org,2002:bool") {
        if (auto b = YamlBool(text)) return *b;
      } else if (node.Tag() == "tag:yaml.org,2002:null") {
        return nullptr;
      }
      return text;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(YamlToJson(item, source));
      return out;
    }
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& entry : node) {
        const YAML::Node& key = entry.first;
        YAML::Mark mark = key.Mark();
        if (!key.IsScalar()) {
          throw YamlFailure{InvalidAt(source, mark.line + 1, mark.column + 1,
                                      "a map key must be a plain name",
                                      "Write keys as `name:` (no lists or maps as keys).")};
        }
        const std::string& name = key.Scalar();
        if (out.contains(name)) {
          // yaml-cpp keeps both entries; JSON would keep one silently. Either way the user meant
          // something else.
          throw YamlFailure{InvalidAt(source, mark.line + 1, mark.column + 1,
                                      "the key '" + name + "' appears twice in the same map",
                                      "Keep one of them.")};
        }
        out[name] = YamlToJson(entry.second, source);
      }
      return out;
    }
  }
  return nullptr;
}

Result<Json> ParseYaml(std::string_view text, const std::string& source) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    return YamlToJson(root, source);
  } catch (const YAML::Exception& e) {
    return InvalidAt(source, e.mark.line + 1, e.mark.column + 1, "YAML syntax error: " + e.msg,
                     "Fix the YAML at that position (check indentation, colons and quotes).");
  } catch (const YamlFailure& failure) {
    return failure.error;
  }
}

// 1-based line and column of a byte offset.
std::pair<size_t, size_t> LineColumn(std::string_view text, size_t offset) {
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

Result<Json> ParseJson(std::string_view text, const std::string& source) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // byte is 1-based and points just past the offending character.
    auto [line, column] = LineColumn(text, e.byte == 0 ? 0 : e.byte - 1);
    std::string message = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: "
    // prefix: the where already says it.
    if (auto colon = message.find(": "); colon != std::string::npos) {
      message = message.substr(colon + 2);
    }
    return InvalidAt(source, line, column, "JSON syntax error: " + message,
                     "Fix the JSON at that position (check commas, quotes and brackets).");
  }
}

}  // namespace

Result<Format> FormatOfPath(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  if (ext == ".json") return Format::kJson;
  if (ext == ".yaml" || ext == ".yml") return Format::kYaml;
  return Error(
             ErrorKind::kInvalidMigration,
             "unknown migration file type '" + (ext.empty() ? path.filename().string() : ext) + "'",
             "Name migration files *.yaml, *.yml or *.json.")
      .WithWhere(path.string());
}

Result<Migration> ReadMigrationFile(const std::filesystem::path& path) {
  Result<Format> format = FormatOfPath(path);
  if (!format.ok()) return format.error();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(ErrorKind::kInvalidMigration, "cannot open the migration file",
                 "Check that the file exists and is readable.")
        .WithWhere(path.string());
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return Error(ErrorKind::kInvalidMigration, "cannot read the migration file",
                 "Check that the file is readable.")
        .WithWhere(path.string());
  }
  return ParseMigration(text.str(), *format, path.string());
}

Result<Migration> ParseMigration(std::string_view text, Format format, std::string source_name) {
  Result<Json> json =
      format == Format::kYaml ? ParseYaml(text, source_name) : ParseJson(text, source_name);
  if (!json.ok()) return json.error();
  if (json->is_null()) {
    return Error(ErrorKind::kInvalidMigration, "the migration is empty",
                 "Write `operations:` followed by a list of operations.")
        .WithWhere(source_name);
  }
  internal::DecodeOptions options{std::move(source_name), format == Format::kYaml};
  return internal::DecodeMigration(*json, options);
}

Result<Migration> FromJson(const nlohmann::json& json, std::string source) {
  // nlohmann::json has already sorted its keys; ordered_json keeps that order, which only matters
  // for the legacy map form of create_index columns, never written by ToJson.
  Json ordered = Json::parse(json.dump());
  internal::DecodeOptions options{std::move(source), false};
  return internal::DecodeMigration(ordered, options);
}

}  // namespace zerodown::model
