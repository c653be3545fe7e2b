// PgBouncer's ini file as a blue-green switch edits it: the one [databases] line of an entry found,
// and its host, port and dbname pointed elsewhere with every other byte kept. Text in, text out:
// it reads and writes no file (pgbouncer_include.hpp follows %include across files).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zerodown/common/error.hpp"

namespace zerodown::bluegreen {

// Where a PgBouncer database entry sends its server connections.
struct Endpoint {
  std::string host;  // a name, an address or a unix socket directory
  std::string port;
  std::string dbname;
  bool operator==(const Endpoint&) const = default;
};

// One [databases] line: where its bytes sit in the file (its line break, LF or CRLF, left out)
// and those bytes.
struct DatabaseLine {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string text;
};

// Every line of `ini`, in order, each without its line break.
std::vector<DatabaseLine> Lines(std::string_view ini);

// What one line of an ini file is to PgBouncer (lib/usual/cfparser.c): a `[section]` header, an
// `%include FILE` (`value` the file name, as written), a `name = …` entry (`value` the name
// unquoted), or anything else (a blank, a comment, a line PgBouncer would refuse).
enum class IniLineKind { kOther, kSection, kInclude, kEntry };
struct IniLine {
  IniLineKind kind = IniLineKind::kOther;
  std::string value;
  bool databases = false;  // a kSection that opens [databases]
};
IniLine ClassifyLine(std::string_view line);

// The line of entry `name` (as PgBouncer reads it: "quoted" names unquoted, ""-escapes undone)
// in the [databases] section of `ini`. nullopt when there is none; kConflict when two lines name
// it (PgBouncer would take the last one, and which one a switch should edit is a guess).
Result<std::optional<DatabaseLine>> FindDatabaseLine(std::string_view ini, std::string_view name);

// `line` (a whole `name = key=value …` line) with host=, port= and dbname= set to `target`'s,
// each in place of its old pair (appended when it had none); the name, the other pairs and the
// spacing as they were. Values are quoted as PgBouncer reads them ('…', '' for a quote) when
// they hold a space or a quote. kConflict when the connection string is not `key=value` pairs as
// PgBouncer reads them.
Result<std::string> PointLineAt(std::string_view line, const Endpoint& target);

// `ini` with the bytes of `line` replaced by `text`.
std::string ReplaceLine(std::string_view ini, const DatabaseLine& line, std::string_view text);

}  // namespace zerodown::bluegreen
