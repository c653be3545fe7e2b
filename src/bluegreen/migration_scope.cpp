#include "bluegreen/migration_scope.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>
#include <variant>

namespace zerodown::bluegreen {
namespace {

struct Refusal {
  std::string why;
  std::string fix;
};

constexpr std::string_view kAfterFinish =
    "Run it on green after the switch and `zerodown bluegreen finish` (green then serves alone), "
    "with `zerodown start --postgres-url GREEN`.";

Refusal AfterFinish(std::string why) { return Refusal{std::move(why), std::string(kAfterFinish)}; }

// Why each kind of operation may not run on green while blue replicates into it; nullopt for
// the changes logical replication tolerates on the subscriber.
struct RefusalOf {
  std::optional<Refusal> operator()(const model::CreateConstraint& constraint) const {
    if (constraint.type != model::ConstraintType::kPrimaryKey) return std::nullopt;
    return AfterFinish(
        "a new primary key changes the replica identity, which is how the subscription finds "
        "the row an UPDATE or DELETE from blue changes");
  }
  std::optional<Refusal> operator()(const model::AddColumn&) const { return std::nullopt; }
  std::optional<Refusal> operator()(const model::AlterColumn&) const { return std::nullopt; }
  std::optional<Refusal> operator()(const model::CreateIndex&) const { return std::nullopt; }
  std::optional<Refusal> operator()(const model::DropColumn&) const { return ColumnGone(); }
  std::optional<Refusal> operator()(const model::RenameColumn&) const { return ColumnGone(); }
  std::optional<Refusal> operator()(const model::DropTable&) const { return TableGone(); }
  std::optional<Refusal> operator()(const model::RenameTable&) const { return TableGone(); }
  std::optional<Refusal> operator()(const model::SetReplicaIdentity&) const {
    return AfterFinish(
        "the replica identity is how the subscription finds the row an UPDATE or DELETE from "
        "blue changes; it must stay as blue has it while the pair exists");
  }
  std::optional<Refusal> operator()(const model::RebuildTable&) const {
    return Refusal{
        "a rebuild copies the table into a new heap and swaps it in (the shadow strategy): the "
        "subscription's rows applied during the copy would land in the old heap, and the swap "
        "changes the relation the subscription maps blue's table to",
        "Leave the rebuild out; blue-green needs none, since green was filled by a fresh copy. " +
            std::string(kAfterFinish)};
  }
  std::optional<Refusal> operator()(const model::CreateTable&) const {
    return Refusal{
        "a table only green has is not in the pair's publications: rows written to it after a "
        "switch would not travel back, and `switch --back` would lose them",
        "Create the table on blue before `zerodown bluegreen create`, or after `finish`."};
  }
  std::optional<Refusal> operator()(const model::RawSql&) const {
    return Refusal{"zerodown cannot tell what raw SQL does to the replicated tables",
                   "Express the change as operations (add_column, alter_column, create_index, "
                   "create_constraint). " +
                       std::string(kAfterFinish)};
  }
  template <typename Other>
  std::optional<Refusal> operator()(const Other&) const {
    return AfterFinish(
        "bluegreen start runs only the changes logical replication tolerates on the subscriber: "
        "add_column, alter_column, create_index and create_constraint");
  }

  static Refusal ColumnGone() {
    return AfterFinish(
        "blue keeps writing the column under its name, and logical replication matches columns "
        "by name: once green drops or renames it, the subscription stops at blue's next write "
        "to the table (a column missing on the subscriber)");
  }
  static Refusal TableGone() {
    return AfterFinish(
        "the table is published by blue under its name; once green drops or renames it, the "
        "subscription stops at blue's next write to it");
  }
};

std::optional<Refusal> StartRefusal(const model::Operation& operation) {
  return std::visit(RefusalOf{}, operation);
}

std::string Normalized(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '"') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Whether `up` gives the new column what replication gives it by name: the old value itself, or
// cast to `type` (the apply worker converts the text it receives with the column's input
// function, which for a widening cast is the same value).
bool TakesValueAsIs(const std::optional<std::string>& up, const std::string& column,
                    const std::optional<std::string>& type) {
  if (!up) return true;
  std::string u = Normalized(*up);
  std::string c = Normalized(column);
  if (u == c || u == "(" + c + ")") return true;
  if (!type) return false;
  std::string t = Normalized(*type);
  return u == c + "::" + t || u == "cast(" + c + "as" + t + ")";
}

// Why complete may not run while blue serves; nullopt when it may.
std::optional<std::string> CompleteRefusal(const model::Operation& operation) {
  if (const auto* add = std::get_if<model::AddColumn>(&operation)) {
    if (!add->up) return std::nullopt;
    return fmt::format(
        "column \"{}\" of \"{}\" is filled by `up` through a trigger; complete drops the trigger, "
        "and blue's rows would then arrive without it",
        add->column.name, add->table);
  }
  if (const auto* alter = std::get_if<model::AlterColumn>(&operation)) {
    if (TakesValueAsIs(alter->up, alter->column, alter->type)) return std::nullopt;
    return fmt::format(
        "column \"{}\" of \"{}\" is computed by `up` ({}) through a trigger; complete drops the "
        "trigger, and blue's values would then arrive untransformed",
        alter->column, alter->table, *alter->up);
  }
  if (const auto* constraint = std::get_if<model::CreateConstraint>(&operation)) {
    for (const auto& [column, up] : constraint->up) {
      if (!TakesValueAsIs(up, column, std::nullopt)) {
        return fmt::format(
            "column \"{}\" of \"{}\" is rewritten by `up` ({}) through a trigger; complete drops "
            "the trigger, and blue's values would then arrive unrewritten",
            column, constraint->table, up);
      }
    }
  }
  return std::nullopt;
}

std::string Where(const model::Migration& migration, std::size_t index) {
  return fmt::format("{}, operation {} ({})", migration.source, index + 1,
                     model::OperationName(migration.operations[index]));
}

}  // namespace

Status CheckStartScope(const model::Migration& migration) {
  for (std::size_t i = 0; i < migration.operations.size(); ++i) {
    if (auto refusal = StartRefusal(migration.operations[i])) {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("bluegreen start refuses {} on green while blue replicates into "
                               "it: {}. Nothing was changed",
                               model::OperationName(migration.operations[i]), refusal->why),
                   refusal->fix)
          .WithWhere(Where(migration, i));
    }
  }
  return Status::Ok();
}

Status CheckCompleteWhileBlueServes(const model::Migration& migration) {
  for (std::size_t i = 0; i < migration.operations.size(); ++i) {
    if (auto why = CompleteRefusal(migration.operations[i])) {
      return Error(ErrorKind::kConflict,
                   fmt::format("bluegreen complete cannot contract on green while blue serves: "
                               "{}. Nothing was changed",
                               *why),
                   "Keep the migration started (switch works with it), switch to green, run "
                   "`zerodown bluegreen finish`, then `zerodown complete --postgres-url GREEN`.")
          .WithWhere(Where(migration, i));
    }
  }
  return Status::Ok();
}

}  // namespace zerodown::bluegreen
