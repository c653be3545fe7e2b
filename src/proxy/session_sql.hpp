// What a client's statements do to the two session settings the proxy follows itself: the user id
// it routes by (zerodown.user_id) and the search_path it restores for users the route flag leaves
// out; and whether a statement certainly only reads, so that its transaction may run on a read
// target (--read-share). Statements are classified by libpg_query, the server's own grammar, one
// parse for both questions; text that does not mention either setting, RESET or DISCARD, and
// (when asked whether it reads) does not begin like a read, is not parsed at all, so ordinary
// traffic costs a substring search. It does no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace zerodown::proxy {

inline constexpr std::string_view kUserIdSetting = "zerodown.user_id";

enum class SettingKind {
  kUserId,      // SET / RESET zerodown.user_id
  kSearchPath,  // SET / RESET search_path
  kAll,         // RESET ALL or DISCARD ALL: every setting back to its login value
};

// One statement that changes a followed setting.
struct SettingChange {
  SettingKind setting = SettingKind::kUserId;
  bool reset = false;  // RESET, SET … TO DEFAULT, RESET ALL, DISCARD ALL
  bool local = false;  // SET LOCAL: gone when the transaction ends
  // SET zerodown.user_id: the value as the server stores it ('42', 42 and "42" all give 42).
  std::string value;
  // SET search_path: the schemas as named, unquoted ("$user" included); the proxy quotes them.
  std::vector<std::string> schemas;

  bool operator==(const SettingChange&) const = default;
};

// The changes the statements of `sql` (one simple Query, or the text of a Parse) make, in order.
// Text the grammar rejects gives none: the server will refuse it too.
std::vector<SettingChange> FollowedSettingChanges(std::string_view sql);

// Whether a statement text may run on a read target (docs/proxy.md, "Read-only transactions on
// another target").
enum class ReadKind {
  kOther,     // anything else: its transaction stays on the primary
  kReadOnly,  // only plain SELECTs: no locking clause, no INTO, no data-modifying WITH, no
              // function but the pure built-ins of ReadOnlyFunctions()
  // BEGIN READ ONLY or START TRANSACTION READ ONLY, then only such SELECTs, perhaps a last
  // COMMIT/END/ROLLBACK: the server refuses any write for the rest of the transaction.
  kBeginsReadOnly,
};

// Both answers for one text, from one parse.
struct SqlFacts {
  std::vector<SettingChange> changes;
  ReadKind read = ReadKind::kOther;
};
// `classify`: also say whether the text only reads (else `read` is kOther without parsing for it).
SqlFacts AnalyzeSql(std::string_view sql, bool classify);

// The functions a read-only SELECT may call, by name (unqualified or pg_catalog.), lower case:
// built-ins that change nothing in the database.
const std::vector<std::string_view>& ReadOnlyFunctions();

}  // namespace zerodown::proxy
