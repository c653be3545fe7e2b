#include "zerodown/model/operations.hpp"

#include <type_traits>

#include "model/enum_names.hpp"

namespace zerodown::model {

std::string_view ToString(ForeignKeyAction value) { return internal::EnumName(value); }
std::string_view ToString(MatchType value) { return internal::EnumName(value); }
std::string_view ToString(ConstraintType value) { return internal::EnumName(value); }
std::string_view ToString(IndexMethod value) { return internal::EnumName(value); }
std::string_view ToString(SortOrder value) { return internal::EnumName(value); }
std::string_view ToString(NullsOrder value) { return internal::EnumName(value); }
std::string_view ToString(IdentityKind value) { return internal::EnumName(value); }
std::string_view ToString(ReplicaIdentityType value) { return internal::EnumName(value); }

namespace {

// One place that names each alternative, so OperationName cannot miss a new operation: the
// static_assert in the visitor fails to compile instead.
template <typename T>
constexpr std::string_view NameOf() {
  if constexpr (std::is_same_v<T, CreateTable>) return "create_table";
  if constexpr (std::is_same_v<T, AddColumn>) return "add_column";
  if constexpr (std::is_same_v<T, AlterColumn>) return "alter_column";
  if constexpr (std::is_same_v<T, RenameColumn>) return "rename_column";
  if constexpr (std::is_same_v<T, DropColumn>) return "drop_column";
  if constexpr (std::is_same_v<T, RenameTable>) return "rename_table";
  if constexpr (std::is_same_v<T, DropTable>) return "drop_table";
  if constexpr (std::is_same_v<T, CreateIndex>) return "create_index";
  if constexpr (std::is_same_v<T, DropIndex>) return "drop_index";
  if constexpr (std::is_same_v<T, RenameConstraint>) return "rename_constraint";
  if constexpr (std::is_same_v<T, DropConstraint>) return "drop_constraint";
  if constexpr (std::is_same_v<T, CreateConstraint>) return "create_constraint";
  if constexpr (std::is_same_v<T, DropMultiColumnConstraint>) return "drop_multicolumn_constraint";
  if constexpr (std::is_same_v<T, SetReplicaIdentity>) return "set_replica_identity";
  if constexpr (std::is_same_v<T, RebuildTable>) return "rebuild_table";
  if constexpr (std::is_same_v<T, RawSql>) return "sql";
  return "";
}

void AddUnique(std::vector<std::string>& tables, const std::string& table) {
  for (const auto& known : tables) {
    if (known == table) return;
  }
  tables.push_back(table);
}

}  // namespace

std::string_view OperationName(const Operation& operation) {
  return std::visit(
      [](const auto& op) {
        using T = std::decay_t<decltype(op)>;
        static_assert(!NameOf<T>().empty(), "every operation needs a name");
        return NameOf<T>();
      },
      operation);
}

std::vector<std::string> TablesTouched(const Operation& operation) {
  std::vector<std::string> tables;
  std::visit(
      [&tables](const auto& op) {
        using T = std::decay_t<decltype(op)>;
        if constexpr (std::is_same_v<T, CreateTable>) {
          AddUnique(tables, op.name);
          for (const auto& column : op.columns) {
            if (column.references) AddUnique(tables, column.references->table);
          }
          for (const auto& constraint : op.constraints) {
            if (constraint.references) AddUnique(tables, constraint.references->table);
          }
        } else if constexpr (std::is_same_v<T, AddColumn>) {
          AddUnique(tables, op.table);
          if (op.column.references) AddUnique(tables, op.column.references->table);
        } else if constexpr (std::is_same_v<T, AlterColumn>) {
          AddUnique(tables, op.table);
          if (op.references) AddUnique(tables, op.references->table);
        } else if constexpr (std::is_same_v<T, CreateConstraint>) {
          AddUnique(tables, op.table);
          if (op.references) AddUnique(tables, op.references->table);
        } else if constexpr (std::is_same_v<T, RenameTable>) {
          AddUnique(tables, op.from);
          AddUnique(tables, op.to);
        } else if constexpr (std::is_same_v<T, DropTable>) {
          AddUnique(tables, op.name);
        } else if constexpr (std::is_same_v<T, DropIndex> || std::is_same_v<T, RawSql>) {
          // Unknown without the catalog (drop_index names only the index) or the SQL.
        } else {
          AddUnique(tables, op.table);
        }
      },
      operation);
  return tables;
}

}  // namespace zerodown::model
