// The migration and its list of operations: which operations exist, the fields each accepts, and
// which decoder reads it. The operations themselves are decoded in decode_*_ops.cpp.
#include "model/decoder.hpp"

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <utility>
#include <vector>

#include "model/decoder_internal.hpp"

namespace zerodown::model::internal {
namespace {

template <typename T>
T RenameOp(const Object& o) {
  T op;
  if constexpr (requires { op.table; }) op.table = o.Identifier("table");
  op.from = o.Identifier("from");
  op.to = o.Identifier("to");
  if (op.from == op.to) {
    o.Fail("to", "`from` and `to` are the same name " + Quote(op.to),
           "Write the new name in `to`, or remove this operation.");
  }
  return op;
}

RawSql DecodeRawSql(const Object& o) {
  RawSql op;
  op.up = o.String("up", "<SQL statements>");
  op.down = o.OptString("down");
  op.on_complete = o.Bool("onComplete");
  if (op.on_complete && op.down) {
    o.Fail("down", "`down` cannot be used with `onComplete: true`",
           "Remove `down`: SQL run on complete has nothing to roll back.");
  }
  return op;
}

DropConstraint DecodeDropConstraint(const Object& o) {
  DropConstraint op{o.Identifier("table"), o.Identifier("name"), std::nullopt, std::nullopt};
  op.up = o.String("up", "<SQL expression>");
  op.down = o.String("down", "<SQL expression>");
  return op;
}

DropMultiColumnConstraint DecodeDropMultiColumnConstraint(const Object& o) {
  DropMultiColumnConstraint op;
  op.table = o.Identifier("table");
  op.name = o.Identifier("name");
  op.up = o.SqlMap("up", /*required=*/false);
  op.down = o.SqlMap("down", /*required=*/true);
  return op;
}

// One operation kind: its name in the file, the fields its body accepts, and its decoder.
struct OperationKind {
  std::string_view name;
  std::vector<std::string_view> keys;
  Operation (*decode)(Decoder& d, const Object& o);
};

// In the order the "unknown operation" message lists them.
const std::vector<OperationKind>& OperationKinds() {
  static const std::vector<OperationKind> kKinds = {
      {"create_table",
       {"name", "columns", "comment", "constraints"},
       [](Decoder& d, const Object& o) -> Operation { return d.DecodeCreateTable(o); }},
      {"add_column",
       {"table", "column", "up"},
       [](Decoder& d, const Object& o) -> Operation { return d.DecodeAddColumn(o); }},
      {"alter_column",
       {"table", "column", "up", "down", "type", "nullable", "default", "check", "unique",
        "references", "comment"},
       [](Decoder& d, const Object& o) -> Operation { return d.DecodeAlterColumn(o); }},
      {"rename_column",
       {"table", "from", "to"},
       [](Decoder&, const Object& o) -> Operation { return RenameOp<RenameColumn>(o); }},
      {"drop_column",
       {"table", "column", "down"},
       [](Decoder&, const Object& o) -> Operation {
         return DropColumn{o.Identifier("table"), o.Identifier("column"), o.OptString("down")};
       }},
      {"rename_table",
       {"from", "to"},
       [](Decoder&, const Object& o) -> Operation { return RenameOp<RenameTable>(o); }},
      {"drop_table",
       {"name"},
       [](Decoder&, const Object& o) -> Operation { return DropTable{o.Identifier("name")}; }},
      {"create_index",
       {"name", "table", "columns", "predicate", "method", "storage_parameters", "unique"},
       [](Decoder& d, const Object& o) -> Operation { return d.DecodeCreateIndex(o); }},
      {"drop_index",
       {"name"},
       [](Decoder&, const Object& o) -> Operation { return DropIndex{o.Identifier("name")}; }},
      {"rename_constraint",
       {"table", "from", "to"},
       [](Decoder&, const Object& o) -> Operation { return RenameOp<RenameConstraint>(o); }},
      {"drop_constraint",
       {"table", "name", "up", "down"},
       [](Decoder&, const Object& o) -> Operation { return DecodeDropConstraint(o); }},
      {"create_constraint",
       {"table", "name", "columns", "type", "check", "no_inherit", "index_parameters", "references",
        "up", "down"},
       [](Decoder& d, const Object& o) -> Operation { return d.DecodeCreateConstraint(o); }},
      {"drop_multicolumn_constraint",
       {"table", "name", "up", "down"},
       [](Decoder&, const Object& o) -> Operation { return DecodeDropMultiColumnConstraint(o); }},
      {"set_replica_identity",
       {"table", "identity"},
       [](Decoder& d, const Object& o) -> Operation { return d.DecodeSetReplicaIdentity(o); }},
      {"rebuild_table",
       {"table", "columns", "alter"},
       [](Decoder& d, const Object& o) -> Operation { return d.DecodeRebuildTable(o); }},
      {"sql",
       {"up", "down", "onComplete"},
       [](Decoder&, const Object& o) -> Operation { return DecodeRawSql(o); }},
  };
  return kKinds;
}

const OperationKind* FindOperationKind(std::string_view name) {
  const auto& kinds = OperationKinds();
  auto it = std::find_if(kinds.begin(), kinds.end(),
                         [name](const OperationKind& kind) { return kind.name == name; });
  return it == kinds.end() ? nullptr : &*it;
}

}  // namespace

Operation Decoder::DecodeOperation(const Json& json) {
  if (!json.is_object() || json.size() != 1) {
    std::string what = json.is_object() ? (json.empty() ? "an empty object"
                                                        : std::to_string(json.size()) + " keys")
                                        : TypeName(json);
    Fail("", "each operation is an object with exactly one key, its name; found " + what,
         "Write each operation as its own list item, e.g. `- add_column: {...}`.");
  }
  // Through the iterator, not items(): a structured binding to items()'s temporary proxy value
  // leaves `name` dangling (GCC 12 -O2 warns, rightly).
  auto first = json.begin();
  const std::string name = first.key();
  const Json& body = first.value();
  op_name_ = name;
  const OperationKind* kind = FindOperationKind(name);
  if (kind == nullptr) {
    std::vector<std::string_view> names;
    for (const auto& known : OperationKinds()) names.push_back(known.name);
    Fail("", "unknown operation " + Quote(name),
         DidYouMean(name, names, "") + "The operations are: " + Join(names) + ".");
  }
  if (kind->name == "alter_column" && body.is_object() && body.contains("name")) {
    Fail("name", "alter_column no longer renames columns",
         "Use a separate `rename_column` operation with `table`, `from` and `to`.");
  }
  return kind->decode(*this, Object(*this, body, "", name + " operation", kind->keys));
}

Migration Decoder::DecodeMigrationObject(const Json& json) {
  Object top(*this, json, "", "a migration", {"name", "version_schema", "operations"});
  Migration migration;
  migration.source = options_.source;
  auto name = top.OptString("name");
  if (!name) name = std::filesystem::path(options_.source).stem().string();
  if (name->empty()) {
    top.Fail("name", "the migration has no name", "Add `name: <migration name>`.");
  }
  if (name->size() > kMaxIdentifierBytes) {
    top.Fail("name",
             "the migration name is " + std::to_string(name->size()) +
                 " bytes long; it names a schema, and PostgreSQL allows at most 63",
             "Use a shorter name (or file name).");
  }
  migration.name = *name;
  migration.version_schema = top.OptIdentifier("version_schema");
  const Json& operations = top.List("operations", /*required=*/true);
  if (operations.empty()) {
    top.Fail("operations", "the migration has no operations",
             "Add at least one operation under `operations:`.");
  }
  for (size_t i = 0; i < operations.size(); ++i) {
    op_index_ = static_cast<int>(i + 1);
    op_name_ = "?";
    migration.operations.push_back(DecodeOperation(operations[i]));
  }
  op_index_ = 0;
  return migration;
}

Result<Migration> DecodeMigration(const Json& json, const DecodeOptions& options) {
  try {
    Decoder decoder(options);
    return decoder.DecodeMigrationObject(json);
  } catch (const DecodeFailure& failure) {
    return failure.error;
  }
}

}  // namespace zerodown::model::internal
