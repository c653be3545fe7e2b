#include "cli/file_limit.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

#include "zerodown/common/error.hpp"
#include "zerodown/monitor/control.hpp"
#include "zerodown/monitor/throttle_policy.hpp"

namespace zerodown::cli {

namespace {

bool IsSql(const std::string& path) { return std::filesystem::path(path).extension() == ".sql"; }

// Measured peak memory per byte of file (docs/cli.md): a yaml-cpp node tree and its JSON copy;
// a JSON tree; libpg_query's parse tree as JSON text and then as a JSON tree.
int BytesOfMemoryPerByte(const std::string& path) {
  if (IsSql(path)) return 300;
  return std::filesystem::path(path).extension() == ".json" ? 30 : 70;
}

}  // namespace

std::int64_t MaxFileSize(const GlobalOptions& global, const std::string& path) {
  if (global.max_file_size.empty()) {
    return IsSql(path) ? kDefaultMaxSqlFileBytes : kDefaultMaxOperationsFileBytes;
  }
  // The lag limit's parser reads the same sizes ("64MB", "512kB", plain bytes).
  auto limit = monitor::ParseLagLimit(global.max_file_size);
  if (!limit.ok() || !limit->bytes || *limit->bytes <= 0) {
    throw Error(ErrorKind::kUsage, "--max-file-size '" + global.max_file_size + "' is not a size",
                "Give a size such as 64MB, 512kB or a number of bytes.");
  }
  return *limit->bytes;
}

void CheckFileSize(const GlobalOptions& global, const std::string& path) {
  std::error_code error;
  auto size = std::filesystem::file_size(path, error);
  if (error) return;
  std::int64_t limit = MaxFileSize(global, path);
  if (static_cast<std::int64_t>(size) <= limit) return;
  auto bytes = static_cast<std::int64_t>(size);
  int factor = BytesOfMemoryPerByte(path);
  throw Error(ErrorKind::kInvalidMigration,
              fmt::format("the file is {}, over the {} limit for a {} file: zerodown refuses it "
                          "before parsing, which would take about {} of memory",
                          monitor::FormatBytes(bytes), monitor::FormatBytes(limit),
                          IsSql(path) ? "SQL" : "migration", monitor::FormatBytes(bytes * factor)),
              "Split it into several files (`zerodown migrate DIR` applies a directory of them in "
              "order), or raise the limit with the global option --max-file-size, e.g. "
              "`zerodown --max-file-size " +
                  std::to_string(bytes / (1024 * 1024) + 1) +
                  "MB …`, on a machine with that memory to spare.")
      .WithWhere(path);
}

}  // namespace zerodown::cli
