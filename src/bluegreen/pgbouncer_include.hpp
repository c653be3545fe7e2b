// PgBouncer's ini file with its `%include` lines followed, as PgBouncer follows them: which file
// holds an entry's [databases] line. It reads files only through the reader it is given, and
// writes none.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "bluegreen/pgbouncer_ini.hpp"
#include "zerodown/common/error.hpp"

namespace zerodown::bluegreen {

// PgBouncer stops loading at this depth of nested includes (MAX_INCLUDE in lib/usual/cfparser.c).
inline constexpr int kMaxIncludeDepth = 10;

// How the files are reached: the directory a relative `%include` is taken from (PgBouncer takes
// its own working directory, not the including file's), and a reader that returns a file's
// text or an Error naming why it cannot (tests pass an in-memory one).
struct IniFiles {
  std::filesystem::path working_directory;
  std::function<Result<std::string>(const std::filesystem::path&)> read;
};

// Reads files from the disk, relative paths from the current working directory.
IniFiles DiskIniFiles();

// An entry's [databases] line and the file it lives in: the file's path (absolute), its whole
// text, the line, and its number (from 1).
struct EntryLocation {
  std::filesystem::path file;
  std::string text;
  DatabaseLine line;
  int number = 0;
};

// The line of entry `name` in the [databases] section of the ini at `ini` or of any file it
// includes, read in PgBouncer's order: an `%include` line reads its file in place, the current
// section carrying into it and back out. nullopt when no file has the line. kConflict when two
// lines name it (PgBouncer takes the last; which to edit is a guess); kNotFound for an included
// file that cannot be read; kConflict for includes nested deeper than kMaxIncludeDepth or a file
// that includes itself, directly or not. Each error names the including file and line.
Result<std::optional<EntryLocation>> FindDatabaseEntry(const std::filesystem::path& ini,
                                                       std::string_view name,
                                                       const IniFiles& files);

}  // namespace zerodown::bluegreen
