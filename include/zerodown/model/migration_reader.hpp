// Reading migration files (YAML or JSON, pgroll's format) into model::Migration, and the JSON
// form the engine stores. Every check that needs no database happens here: unknown keys and
// operations, missing or mistyped fields, identifier lengths, contradictory settings. It does
// not look at any database; whether a table or column exists is the engine's check.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "zerodown/common/error.hpp"
#include "zerodown/model/operations.hpp"

namespace zerodown::model {

// The syntax of a migration text.
enum class Format { kYaml, kJson };

// The format a file name implies: .json is JSON, .yaml and .yml are YAML; kInvalidMigration
// for any other extension.
Result<Format> FormatOfPath(const std::filesystem::path& path);

// Reads and checks one migration file. The migration's name is the file's `name` key, or the file
// name without its extension, as in pgroll. Fails with kInvalidMigration (where = file, and the
// operation and field when known) for unreadable files, syntax errors (with line and column) and
// every check listed in docs/migrations.md.
Result<Migration> ReadMigrationFile(const std::filesystem::path& path);

// Parses and checks migration text. `source_name` names the text in messages and becomes
// Migration::source; when the text has no `name`, the name is source_name's stem.
Result<Migration> ParseMigration(std::string_view text, Format format, std::string source_name);

// The canonical JSON form: pgroll's format with defaults left out, create_index columns as a list
// of objects, and no `source`. FromJson(ToJson(m), m.source) == m for every checked m.
nlohmann::json ToJson(const Migration& migration);

// The canonical JSON form of one operation: {"<operation name>": {...}}.
nlohmann::json ToJson(const Operation& operation);

// Decodes and checks a migration from JSON, with exactly the checks of ParseMigration. `source`
// names it in messages and becomes Migration::source.
Result<Migration> FromJson(const nlohmann::json& json, std::string source);

}  // namespace zerodown::model
