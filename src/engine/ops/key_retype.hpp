// A primary-key column's new type (alter_column with `type` on a key column: int -> bigint on
// `id`). Every online mechanism here walks the table by its key and keeps both versions in step
// by it, so the key cannot get a copy beside itself; the table is copied instead into a new heap
// whose key has the new type (the shadow copy), and that heap is swapped in at the end of start.
// The old heap is kept until complete with a reverse log of every key written after the swap, so
// rollback replays that log into it and swaps it back without losing a write. Both versions see
// the key with its new type from the swap on (their views are re-created): a widening such as
// integer -> bigint reads the same to an application.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "zerodown/engine/operation.hpp"
#include "zerodown/engine/shadow_copy.hpp"

namespace zerodown::engine::ops {

class KeyRetype {
 public:
  // `table` and `column` as the operation names them. `up` converts the key's values (over the
  // old version's row; CAST when absent); `down` must be absent or the column itself: a rollback
  // converts back by CAST.
  Status Validate(PlanContext& context, const std::string& table, const std::string& column,
                  const std::string& type, const std::optional<std::string>& up,
                  const std::optional<std::string>& down);
  void Plan(PlanContext& context);

 private:
  // Validate's checks: kInvalidMigration when `up` changes a key's value on the first rows, or
  // when something blocks copying the table.
  Status CheckKeepsValues(PlanContext& context, const VirtualTable& t) const;
  Status CheckCopyable(PlanContext& context, const VirtualTable& t) const;
  // Plan's parts: the copy's spec, rollback's swap back, and what `verify` compares: every row
  // of one heap (the old one when `from_old`) against the other.
  ShadowCopySpec CopySpec(PlanContext& context, const VirtualTable& table,
                          const VirtualColumn& column) const;
  Action SwapBackAction(PlanContext& context, const VirtualTable& table, const ShadowCopySpec& spec,
                        const std::string& copy_id) const;
  ColumnCheck HeapCheck(PlanContext& context, const VirtualTable& table, const ShadowCopySpec& spec,
                        bool from_old) const;

  std::string table_;
  std::string column_;
  std::string type_;  // canonical (format_type)
  std::string up_;
  std::vector<std::string> compared_columns_;  // physical, the live heap's columns at planning
};

}  // namespace zerodown::engine::ops
