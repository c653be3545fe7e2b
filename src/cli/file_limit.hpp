// The size limit on the files zerodown parses. Parsing holds the whole document in memory many
// times over (a yaml-cpp node tree, a JSON tree; for SQL, libpg_query's parse tree as JSON), so a
// generated file of tens of MB would take gigabytes and minutes before any answer: it is refused
// before a byte of it is read, with the limit and how to raise it.
#pragma once

#include <cstdint>
#include <string>

#include "cli/command.hpp"

namespace zerodown::cli {

// Defaults, measured on generated files (docs/cli.md): parsing takes about 70 bytes of memory per
// byte of YAML, 30 per byte of JSON and 300 per byte of SQL.
inline constexpr std::int64_t kDefaultMaxOperationsFileBytes = 4LL * 1024 * 1024;
inline constexpr std::int64_t kDefaultMaxSqlFileBytes = 1LL * 1024 * 1024;

// The limit for `path`: --max-file-size when given (any format), else the default for its type.
// Throws kUsage when --max-file-size is not a size.
std::int64_t MaxFileSize(const GlobalOptions& global, const std::string& path);

// Throws Error(kInvalidMigration) naming the file, its size, the limit and the fix when `path` is
// larger than its limit. Checks only the size on disk (a missing file is the reader's error).
void CheckFileSize(const GlobalOptions& global, const std::string& path);

}  // namespace zerodown::cli
