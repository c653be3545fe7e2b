#include "bluegreen/pgbouncer_ini.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <vector>

namespace zerodown::bluegreen {
namespace {

bool Blank(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (Blank(s.front()) || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (Blank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::size_t SkipBlanks(std::string_view s, std::size_t at) {
  while (at < s.size() && Blank(s[at])) ++at;
  return at;
}

// The entry name at the start of `line` and the offset just past its `=`; nullopt when the line
// is not `name = …`. A "quoted" name is unquoted, "" standing for one quote, as PgBouncer does.
std::optional<std::pair<std::string, std::size_t>> EntryName(std::string_view line) {
  std::size_t at = SkipBlanks(line, 0);
  std::string name;
  if (at < line.size() && line[at] == '"') {
    for (++at;; ++at) {
      if (at >= line.size()) return std::nullopt;
      if (line[at] == '"') {
        if (at + 1 < line.size() && line[at + 1] == '"') {
          ++at;
        } else {
          ++at;
          break;
        }
      }
      name += line[at];
    }
  } else {
    while (at < line.size() && line[at] != '=' && !Blank(line[at])) name += line[at++];
  }
  at = SkipBlanks(line, at);
  if (name.empty() || at >= line.size() || line[at] != '=') return std::nullopt;
  return std::make_pair(name, at + 1);
}

// One `key=value` of a connection string: the key, and where the pair starts and ends.
struct Pair {
  std::string key;
  std::size_t begin;
  std::size_t end;
};

// PgBouncer's connection-string grammar (loader.c): blanks between pairs and around `=`, a value
// either '…' with '' for a quote, or everything up to the next blank.
std::optional<std::vector<Pair>> Pairs(std::string_view s, std::size_t at) {
  std::vector<Pair> pairs;
  for (at = SkipBlanks(s, at); at < s.size(); at = SkipBlanks(s, at)) {
    std::size_t begin = at;
    while (at < s.size() && s[at] != '=' && !Blank(s[at])) ++at;
    std::string key(s.substr(begin, at - begin));
    at = SkipBlanks(s, at);
    if (key.empty() || at >= s.size() || s[at] != '=') return std::nullopt;
    at = SkipBlanks(s, at + 1);
    if (at < s.size() && s[at] == '\'') {
      for (++at;; ++at) {
        if (at >= s.size()) return std::nullopt;
        if (s[at] != '\'') continue;
        if (at + 1 < s.size() && s[at + 1] == '\'') {
          ++at;
        } else {
          ++at;
          break;
        }
      }
    } else {
      std::size_t value = at;
      while (at < s.size() && !Blank(s[at])) ++at;
      if (at == value) return std::nullopt;
    }
    pairs.push_back({key, begin, at});
  }
  return pairs;
}

std::string Quote(std::string_view value) {
  if (!value.empty() && value.find_first_of(" \t'") == std::string_view::npos) {
    return std::string(value);
  }
  std::string quoted = "'";
  for (char c : value) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return quoted + "'";
}

bool IsSection(std::string_view trimmed) {
  return trimmed.size() >= 2 && trimmed.front() == '[' && trimmed.back() == ']';
}

bool IsDatabasesSection(std::string_view trimmed) {
  std::string name(Trim(trimmed.substr(1, trimmed.size() - 2)));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name == "databases";
}

}  // namespace

std::vector<DatabaseLine> Lines(std::string_view ini) {
  std::vector<DatabaseLine> lines;
  for (std::size_t begin = 0; begin < ini.size();) {
    std::size_t newline = ini.find('\n', begin);
    std::size_t end = newline == std::string_view::npos ? ini.size() : newline;
    std::size_t next = newline == std::string_view::npos ? ini.size() : newline + 1;
    if (end > begin && ini[end - 1] == '\r') --end;
    lines.push_back({begin, end, std::string(ini.substr(begin, end - begin))});
    begin = next;
  }
  return lines;
}

IniLine ClassifyLine(std::string_view line) {
  std::string_view trimmed = Trim(line);
  if (IsSection(trimmed)) return {IniLineKind::kSection, {}, IsDatabasesSection(trimmed)};
  // PgBouncer takes the rest of the line after `%include` and its blanks, trailing blanks cut,
  // with no quoting.
  constexpr std::string_view kInclude = "%include";
  if (trimmed.starts_with(kInclude) && trimmed.size() > kInclude.size() &&
      Blank(trimmed[kInclude.size()])) {
    return {IniLineKind::kInclude, std::string(Trim(trimmed.substr(kInclude.size())))};
  }
  if (trimmed.empty() || trimmed[0] == ';' || trimmed[0] == '#') return {};
  auto entry = EntryName(line);
  if (!entry) return {};
  return {IniLineKind::kEntry, entry->first};
}

Result<std::optional<DatabaseLine>> FindDatabaseLine(std::string_view ini, std::string_view name) {
  std::optional<DatabaseLine> found;
  bool in_databases = false;
  for (DatabaseLine& line : Lines(ini)) {
    IniLine kind = ClassifyLine(line.text);
    if (kind.kind == IniLineKind::kSection) in_databases = kind.databases;
    if (!in_databases || kind.kind != IniLineKind::kEntry || kind.value != name) continue;
    if (found) {
      return Error(ErrorKind::kConflict,
                   fmt::format("[databases] names the entry \"{}\" twice", name),
                   "Keep one line for it in the ini file, and switch again.");
    }
    found = std::move(line);
  }
  return found;
}

Result<std::string> PointLineAt(std::string_view line, const Endpoint& target) {
  auto entry = EntryName(line);
  auto pairs = entry ? Pairs(line, entry->second) : std::nullopt;
  if (!pairs) {
    return Error(
        ErrorKind::kConflict,
        fmt::format("the line \"{}\" is not `name = key=value …` as PgBouncer reads it", line),
        "Write the entry's connection string as key=value pairs, quoting values that "
        "hold a space with '…'.");
  }
  const std::pair<std::string_view, std::string_view> wanted[] = {
      {"host", target.host}, {"port", target.port}, {"dbname", target.dbname}};
  std::string out(line);
  bool seen[std::size(wanted)] = {};
  // Right to left, so that the offsets of the pairs still to replace stay valid. A key given
  // twice gets the new value twice.
  for (auto p = pairs->rbegin(); p != pairs->rend(); ++p) {
    for (std::size_t i = 0; i < std::size(wanted); ++i) {
      if (p->key != wanted[i].first) continue;
      out.replace(p->begin, p->end - p->begin,
                  fmt::format("{}={}", wanted[i].first, Quote(wanted[i].second)));
      seen[i] = true;
    }
  }
  std::string appended;
  for (std::size_t i = 0; i < std::size(wanted); ++i) {
    if (!seen[i]) appended += fmt::format(" {}={}", wanted[i].first, Quote(wanted[i].second));
  }
  // Appended after the last pair (before any trailing blanks), in host, port, dbname order.
  std::string_view content = Trim(out);
  out.insert(static_cast<std::size_t>(content.data() - out.data()) + content.size(), appended);
  return out;
}

std::string ReplaceLine(std::string_view ini, const DatabaseLine& line, std::string_view text) {
  std::string out(ini);
  out.replace(line.begin, line.end - line.begin, text);
  return out;
}

}  // namespace zerodown::bluegreen
