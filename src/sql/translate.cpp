#include "zerodown/sql/translate.hpp"

#include <fmt/format.h>
#include <pg_query.h>

#include <filesystem>
#include <limits>
#include <optional>
#include <set>

#include "sql/expr_text.hpp"
#include "sql/rules/rule.hpp"
#include "sql/tokens.hpp"
#include "sql/translate_table.hpp"
#include "zerodown/model/migration_reader.hpp"

namespace zerodown::sql {

namespace {

using Json = nlohmann::json;
// The lint rules' quoting: a plain lower-case name stays bare, anything else is double-quoted.
using rules::QuoteIdent;

class Translator {
 public:
  Translator(const ParsedFile& file, const TranslateOptions& options)
      : file_(file), options_(options) {}

  Result<model::Migration> Run() {
    auto tokens = ScanTokens(*file_.text);
    if (!tokens.ok()) return tokens.error().WithWhere(file_.path);
    tokens_ = std::move(tokens).ValueOrThrow();
    for (const auto& statement : file_.statements) {
      statement_ = &statement;
      if (Status s = Translate(statement); !s.ok()) return s.error();
    }
    std::filesystem::path path(file_.path);
    Json migration = {{"name", path.stem().string()}, {"operations", operations_}};
    if (operations_.empty()) {
      return Error(ErrorKind::kInvalidMigration, "the file has no schema change to run",
                   "Write DDL statements (ALTER TABLE, CREATE INDEX, …).")
          .WithWhere(file_.path);
    }
    return model::FromJson(migration, file_.path);
  }

 private:
  Status Translate(const Statement& statement) {
    const Json& body = statement.node.at(statement.kind);
    if (statement.kind == "VariableSetStmt" || statement.kind == "TransactionStmt") {
      return {};  // zerodown sets lock_timeout and transactions itself
    }
    static const std::set<std::string> kStructured = {"AlterTableStmt", "RenameStmt", "IndexStmt",
                                                      "DropStmt", "CreateStmt"};
    if (kStructured.count(statement.kind)) {
      if (auto other = OtherSchema(body)) {
        return Error(ErrorKind::kInvalidMigration,
                     fmt::format("`{}` names schema \"{}\", but this run migrates schema "
                                 "\"{}\", where zerodown looks its tables up by name",
                                 Excerpt(), *other, options_.schema),
                     fmt::format("Put the statements for schema \"{0}\" in a file of their own, "
                                 "with their names unqualified, and run it with --schema {0}.",
                                 *other))
            .WithWhere(Where());
      }
    }
    if (statement.kind == "AlterTableStmt") return AlterTable(body);
    if (statement.kind == "RenameStmt") return Rename(body);
    if (statement.kind == "IndexStmt") return CreateIndex(body);
    if (statement.kind == "DropStmt") return Drop(body);
    if (statement.kind == "CreateStmt") return CreateTable(body);
    if (statement.kind == "ReindexStmt") return Reindex(body);
    // Plain VACUUM and ANALYZE take SHARE UPDATE EXCLUSIVE (reads and writes go on); FULL copies
    // the table under ACCESS EXCLUSIVE.
    if (statement.kind == "VacuumStmt" && !rules::HasOption(rules::Get(body, "options"), "full")) {
      return RawSql();
    }
    static const std::set<std::string> kHarmless = {
        "CreateFunctionStmt",  "CommentStmt",      "GrantStmt", "CreateSeqStmt", "InsertStmt",
        "CreateExtensionStmt", "CreateSchemaStmt", "ViewStmt",  "CreateEnumStmt"};
    if (kHarmless.count(statement.kind)) return RawSql();
    // ALTER TYPE ... ADD VALUE only writes the catalog (PostgreSQL 12+ allows it in a
    // transaction block; zerodown runs raw SQL outside one anyway). It cannot be undone.
    if (statement.kind == "AlterEnumStmt" && !body.contains("oldVal")) return RawSql();
    return Blocking(fmt::format("{} has no online form in zerodown", statement.kind),
                    "Run it in a maintenance window, or rewrite it with the operations in "
                    "docs/migrations.md.");
  }

  // The first schema other than the run's that a relation name in `node` is qualified with (a
  // RangeVar's schemaname, or the first of a DROP's dotted names).
  std::optional<std::string> OtherSchema(const Json& node) const {
    if (node.is_object()) {
      if (node.contains("relname") && node.contains("schemaname")) {
        std::string schema = node.at("schemaname");
        if (schema != options_.schema) return schema;
      }
      if (node.contains("objects") && node.at("objects").is_array()) {
        for (const auto& object : node.at("objects")) {
          if (!object.contains("List")) continue;
          const Json& items = object.at("List").at("items");
          if (items.size() > 1 && Str(items.front()) != options_.schema) return Str(items.front());
        }
      }
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (auto found = OtherSchema(it.value())) return found;
      }
    } else if (node.is_array()) {
      for (const auto& child : node) {
        if (auto found = OtherSchema(child)) return found;
      }
    }
    return std::nullopt;
  }

  Status Blocking(const std::string& why, const std::string& fix) {
    if (options_.allow_blocking) return RawSql();
    return Error(ErrorKind::kInvalidMigration,
                 fmt::format("`{}` cannot run online: {}", Excerpt(), why),
                 fix + " Pass --allow-blocking to run it as given anyway.")
        .WithWhere(Where());
  }

  Status RawSql(std::optional<std::string> up = std::nullopt,
                std::optional<std::string> down = std::nullopt) {
    Json op = {{"up", up.value_or(std::string(statement_->text))}};
    if (down) op["down"] = *down;
    operations_.push_back({{"sql", op}});
    return {};
  }

  // REINDEX ... CONCURRENTLY (PostgreSQL 12+) rebuilds under SHARE UPDATE EXCLUSIVE: reads and
  // writes go on, so it runs as written (outside a transaction block, as raw SQL runs).
  Status Reindex(const Json& body) {
    if (rules::HasOption(rules::Get(body, "params"), "concurrently")) return RawSql();
    return Blocking("REINDEX without CONCURRENTLY blocks writes to the table for the rebuild",
                    "Write REINDEX ... CONCURRENTLY (PostgreSQL 12+).");
  }

  // Constraint steps that take their strong lock only for a catalog change, so they run as
  // written: ADD FOREIGN KEY / CHECK ... NOT VALID, VALIDATE CONSTRAINT (SHARE UPDATE
  // EXCLUSIVE), ADD UNIQUE / PRIMARY KEY USING INDEX (an index built CONCURRENTLY before) and
  // DROP CONSTRAINT.
  static bool AlreadyOnline(const std::string& subtype, const Json& cmd) {
    if (subtype == "AT_ValidateConstraint" || subtype == "AT_DropConstraint") return true;
    if (subtype != "AT_AddConstraint" || !cmd.contains("def")) return false;
    const Json& c = cmd.at("def").value("Constraint", Json::object());
    const std::string type = c.value("contype", "");
    if (type == "CONSTR_FOREIGN" || type == "CONSTR_CHECK")
      return c.value("skip_validation", false);
    return (type == "CONSTR_UNIQUE" || type == "CONSTR_PRIMARY") && c.contains("indexname");
  }

  Status AlterTable(const Json& body) {
    std::string table = body.at("relation").at("relname");
    const Json& cmds = body.at("cmds");
    for (std::size_t i = 0; i < cmds.size(); ++i) {
      const Json& cmd = cmds[i].at("AlterTableCmd");
      std::string subtype = cmd.at("subtype");
      std::string column = cmd.value("name", "");
      if (subtype == "AT_AlterColumnType") {
        const Json& def = cmd.at("def").at("ColumnDef");
        Json op = {{"table", table}, {"column", column}, {"type", TypeName(def.at("typeName"))}};
        op["up"] =
            def.contains("raw_default") ? ExprText(def.at("raw_default")) : QuoteIdent(column);
        op["down"] = QuoteIdent(column);
        operations_.push_back({{"alter_column", op}});
      } else if (subtype == "AT_AddColumn") {
        auto column_json = TranslateColumn(Text(), table, cmd.at("def").at("ColumnDef"));
        if (!column_json.ok()) return column_json.error();
        operations_.push_back(
            {{"add_column", {{"table", table}, {"column", column_json.value()}}}});
      } else if (subtype == "AT_DropColumn") {
        operations_.push_back({{"drop_column", {{"table", table}, {"column", column}}}});
      } else if (subtype == "AT_SetNotNull" || subtype == "AT_DropNotNull") {
        bool nullable = subtype == "AT_DropNotNull";
        operations_.push_back({{"alter_column",
                                {{"table", table},
                                 {"column", column},
                                 {"nullable", nullable},
                                 {"up", QuoteIdent(column)},
                                 {"down", QuoteIdent(column)}}}});
      } else if (subtype == "AT_ColumnDefault") {
        Json op = {{"table", table}, {"column", column}};
        op["default"] = cmd.contains("def") ? Json(ExprText(cmd.at("def"))) : Json(nullptr);
        operations_.push_back({{"alter_column", op}});
      } else if (AlreadyOnline(subtype, cmd)) {
        if (cmds.size() != 1) {
          return Blocking("a constraint step shares its ALTER TABLE with other changes",
                          "Give it an ALTER TABLE of its own.");
        }
        return RawSql();
      } else {
        return Blocking(fmt::format("ALTER TABLE … {} is not translated to an online operation",
                                    subtype.substr(3)),
                        "`zerodown lint` names the safe form of this statement.");
      }
    }
    return {};
  }

  Status Rename(const Json& body) {
    std::string type = body.at("renameType");
    if (type == "OBJECT_COLUMN") {
      operations_.push_back({{"rename_column",
                              {{"table", body.at("relation").at("relname")},
                               {"from", body.at("subname")},
                               {"to", body.at("newname")}}}});
      return {};
    }
    if (type == "OBJECT_TABLE") {
      operations_.push_back(
          {{"rename_table",
            {{"from", body.at("relation").at("relname")}, {"to", body.at("newname")}}}});
      return {};
    }
    if (type == "OBJECT_TABCONSTRAINT") {
      operations_.push_back({{"rename_constraint",
                              {{"table", body.at("relation").at("relname")},
                               {"from", body.at("subname")},
                               {"to", body.at("newname")}}}});
      return {};
    }
    if (type == "OBJECT_INDEX") {
      // A catalog change under a brief ACCESS EXCLUSIVE on the index; rollback renames it back.
      return RawSql(std::nullopt,
                    "ALTER INDEX " + QuoteIdent(body.at("newname").get<std::string>()) +
                        " RENAME TO " +
                        QuoteIdent(body.at("relation").at("relname").get<std::string>()));
    }
    return Blocking("only columns, tables, constraints and indexes are renamed online", "");
  }

  Status CreateIndex(const Json& body) {
    if (!body.contains("idxname")) {
      return Error(ErrorKind::kInvalidMigration, "the index has no name",
                   "Name it (CREATE INDEX name ON …): rollback and later migrations need the name.")
          .WithWhere(Where());
    }
    Json columns = Json::array();
    for (const auto& param : body.at("indexParams")) {
      const Json& elem = param.at("IndexElem");
      if (!elem.contains("name")) return ExpressionIndex(body);
      Json field = {{"column", elem.at("name")}};
      std::string ordering = elem.value("ordering", "SORTBY_DEFAULT");
      if (ordering == "SORTBY_DESC") field["sort"] = "DESC";
      if (ordering == "SORTBY_ASC") field["sort"] = "ASC";
      std::string nulls = elem.value("nulls_ordering", "SORTBY_NULLS_DEFAULT");
      if (nulls == "SORTBY_NULLS_FIRST") field["nulls"] = "FIRST";
      if (nulls == "SORTBY_NULLS_LAST") field["nulls"] = "LAST";
      columns.push_back(field);
    }
    Json op = {{"name", body.at("idxname")},
               {"table", body.at("relation").at("relname")},
               {"columns", columns}};
    if (body.value("unique", false)) op["unique"] = true;
    if (body.contains("accessMethod") && body.at("accessMethod") != "btree") {
      op["method"] = body.at("accessMethod");
    }
    // The shared parse drops WHERE clauses (the lint rules never read them); the predicate
    // needs one parse of this statement alone, whose locations count from the statement.
    PgQueryParseResult alone = pg_query_parse(std::string(statement_->text).c_str());
    if (alone.error == nullptr) {
      Json tree = Json::parse(alone.parse_tree);
      const Json& index = tree.at("stmts").at(0).at("stmt").at("IndexStmt");
      if (index.contains("whereClause")) {
        op["predicate"] = ExprText(index.at("whereClause"), statement_->end, statement_->begin);
      }
    }
    pg_query_free_parse_result(alone);
    operations_.push_back({{"create_index", op}});
    return {};
  }

  // An index on expressions: the create_index operation names columns only, so the statement
  // runs as written, built CONCURRENTLY like every index zerodown builds (SHARE UPDATE EXCLUSIVE:
  // reads and writes go on); rollback drops it the same way.
  Status ExpressionIndex(const Json& body) {
    std::string up(statement_->text);
    if (!body.value("concurrent", false)) up = rules::InsertAfterWord(up, "INDEX", "CONCURRENTLY");
    return RawSql(up, "DROP INDEX CONCURRENTLY IF EXISTS " +
                          QuoteIdent(body.at("idxname").get<std::string>()));
  }

  Status Drop(const Json& body) {
    std::string type = body.at("removeType");
    if (type != "OBJECT_INDEX" && type != "OBJECT_TABLE") {
      return Blocking(fmt::format("DROP of {} is not translated", type.substr(7)), "");
    }
    for (const auto& object : body.at("objects")) {
      std::string name = Str(object.at("List").at("items").back());
      if (type == "OBJECT_INDEX") {
        operations_.push_back({{"drop_index", {{"name", name}}}});
      } else {
        operations_.push_back({{"drop_table", {{"name", name}}}});
      }
    }
    return {};
  }

  Status CreateTable(const Json& body) {
    auto table = TranslateCreateTable(Text(), body);
    if (!table.ok()) return table.error();
    if (table.value().untranslated_constraint) {
      return Blocking(fmt::format("table constraint {} is not translated",
                                  *table.value().untranslated_constraint),
                      "Add it in a later migration.");
    }
    operations_.push_back(std::move(table).ValueOrThrow().operation);
    return {};
  }

  StatementText Text() const { return {file_, tokens_, *statement_}; }
  std::string ExprText(const Json& node,
                       std::size_t bound = std::numeric_limits<std::size_t>::max(),
                       std::size_t offset = 0) const {
    return Text().ExprText(node, bound, offset);
  }
  std::string Where() const { return Text().Where(); }
  std::string Excerpt() const { return Text().Excerpt(); }

  const ParsedFile& file_;
  const TranslateOptions& options_;
  std::vector<Token> tokens_;
  const Statement* statement_ = nullptr;
  Json operations_ = Json::array();
};

}  // namespace

Result<model::Migration> TranslateSql(const ParsedFile& file, const TranslateOptions& options) {
  return Translator(file, options).Run();
}

Result<model::Migration> TranslateSqlFile(const std::string& path,
                                          const TranslateOptions& options) {
  auto parsed = ParseSqlFile(path);
  if (!parsed.ok()) return parsed.error();
  return TranslateSql(parsed.value(), options);
}

}  // namespace zerodown::sql
