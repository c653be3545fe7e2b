// What a client's statements do to the two session settings the proxy follows itself: the user id
// it routes by (zerodown.user_id) and the search_path it restores for users the route flag leaves
// out. Statements are classified by libpg_query, the server's own grammar; text that does not
// mention either setting, RESET or DISCARD is not parsed at all, so ordinary traffic costs a
// substring search. It does no I/O.
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

}  // namespace zerodown::proxy
