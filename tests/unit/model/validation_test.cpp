// Every database-free check: each bad migration fails with kInvalidMigration, a `where` that
// names the file, operation and field, a message and a fix.
#include <gtest/gtest.h>

#include <fstream>

#include "zerodown/model/migration_reader.hpp"

namespace zerodown::model {
namespace {

struct BadCase {
  std::string test_name;
  std::string yaml;
  std::string where;    // exact
  std::string message;  // substring
  std::string fix;      // substring
};

class ValidationTest : public testing::TestWithParam<BadCase> {};

TEST_P(ValidationTest, FailsWithWhereMessageAndFix) {
  const BadCase& c = GetParam();
  Result<Migration> m = ParseMigration(c.yaml, Format::kYaml, "04_bad.yaml");
  ASSERT_FALSE(m.ok()) << "parsed but should have failed:\n" << c.yaml;
  const Error& e = m.error();
  EXPECT_EQ(e.kind(), ErrorKind::kInvalidMigration);
  EXPECT_EQ(e.where(), c.where) << e.Describe();
  EXPECT_NE(e.message().find(c.message), std::string::npos) << e.Describe();
  EXPECT_NE(e.fix().find(c.fix), std::string::npos) << e.Describe();
}

std::string Op(const std::string& name, const std::string& body) {
  return "operations:\n  - " + name + ":\n" + body;
}

const std::string kLong(64, 'x');

const BadCase kBadCases[] = {
    {"RebuildColumnThatChangesNothing",
     Op("rebuild_table",
        "      table: t\n      columns:\n        - column: c\n          down: c\n"),
     "04_bad.yaml, operation 1 (rebuild_table), field columns[1]", "changes nothing",
     "at least one of type"},
    {"RebuildColumnListedTwice",
     Op("rebuild_table",
        "      table: t\n      columns:\n        - {column: c, type: text}\n        - {column: "
        "c, nullable: false}\n"),
     "04_bad.yaml, operation 1 (rebuild_table), field columns[2].column", "listed twice",
     "List each column once"},
    {"RebuildAlterEmpty", Op("rebuild_table", "      table: t\n      alter: \" \"\n"),
     "04_bad.yaml, operation 1 (rebuild_table), field alter", "clauses are empty",
     "ALTER COLUMN id TYPE bigint"},
    {"UnknownTopLevelKey", "name: x\noperation:\n  - drop_table: {name: t}\n",
     "04_bad.yaml, field operation", "unknown field 'operation'", "Did you mean 'operations'?"},
    {"MissingOperations", "name: x\n", "04_bad.yaml, field operations",
     "required field 'operations' is missing", "Add `operations:`"},
    {"EmptyOperations", "operations: []\n", "04_bad.yaml, field operations", "no operations",
     "at least one operation"},
    {"OperationsNotAList", "operations: {drop_table: {name: t}}\n", "04_bad.yaml, field operations",
     "expected a list, got an object", "`- item`"},
    {"UnknownOperation", Op("alter_colum", "      table: t\n"),
     "04_bad.yaml, operation 1 (alter_colum)", "unknown operation 'alter_colum'",
     "Did you mean 'alter_column'?"},
    {"TwoOperationsInOneItem",
     "operations:\n  - drop_table: {name: a}\n    drop_index: {name: b}\n",
     "04_bad.yaml, operation 1 (?)", "exactly one key", "its own list item"},
    {"UnknownFieldNearMiss",
     Op("alter_column", "      table: t\n      column: c\n      nulable: true\n"),
     "04_bad.yaml, operation 1 (alter_column), field nulable", "unknown field 'nulable'",
     "Did you mean 'nullable'?"},
    {"UnknownFieldFarOff", Op("drop_table", "      name: t\n      cascade: true\n"),
     "04_bad.yaml, operation 1 (drop_table), field cascade", "unknown field 'cascade'",
     "Remove it. The fields of drop_table operation are: name."},
    {"UnknownNestedField",
     Op("add_column",
        "      table: t\n      column: {name: c, type: int, nullable: true, defualt: '1'}\n"),
     "04_bad.yaml, operation 1 (add_column), field column.defualt", "unknown field 'defualt'",
     "Did you mean 'default'?"},
    {"SqlOnCompleteSpelledSnakeCase", Op("sql", "      up: SELECT 1\n      on_complete: true\n"),
     "04_bad.yaml, operation 1 (sql), field on_complete", "unknown field", "'onComplete'"},
    {"MissingRequiredField", Op("rename_column", "      table: t\n      from: a\n"),
     "04_bad.yaml, operation 1 (rename_column), field to", "required field 'to' is missing",
     "Add `to: <name>`"},
    {"WrongTypeBoolean",
     Op("alter_column", "      table: t\n      column: c\n      nullable: \"false\"\n"),
     "04_bad.yaml, operation 1 (alter_column), field nullable",
     "expected true or false, got a string 'false'", "without quotes"},
    {"WrongTypeList", Op("create_table", "      name: t\n      columns: {name: id, type: int}\n"),
     "04_bad.yaml, operation 1 (create_table), field columns", "expected a list, got an object",
     "`- item`"},
    {"WrongTypeObject", Op("add_column", "      table: t\n      column: c\n"),
     "04_bad.yaml, operation 1 (add_column), field column", "must be an object", "name, type"},
    {"EmptyIdentifier", Op("drop_table", "      name: \"\"\n"),
     "04_bad.yaml, operation 1 (drop_table), field name", "the field 'name' is empty",
     "Write a value"},
    {"IdentifierTooLong", Op("drop_table", "      name: " + kLong + "\n"),
     "04_bad.yaml, operation 1 (drop_table), field name", "64 bytes long", "at most 63 bytes"},
    {"IdentifierTooLongInList",
     Op("create_index", "      name: i\n      table: t\n      columns: [a, " + kLong + "]\n"),
     "04_bad.yaml, operation 1 (create_index), field columns[2]", "64 bytes long",
     "at most 63 bytes"},
    {"AlterColumnNoChange",
     Op("alter_column", "      table: t\n      column: c\n      up: c\n      down: c\n"),
     "04_bad.yaml, operation 1 (alter_column)", "alter_column changes nothing",
     "type, nullable, default"},
    {"AlterColumnLegacyRename",
     Op("alter_column", "      table: t\n      column: c\n      name: d\n      nullable: true\n"),
     "04_bad.yaml, operation 1 (alter_column), field name", "no longer renames", "rename_column"},
    {"CreateTableNoColumns", Op("create_table", "      name: t\n      columns: []\n"),
     "04_bad.yaml, operation 1 (create_table), field columns", "at least one column", "- name: id"},
    {"CreateTableDuplicateColumn",
     Op("create_table",
        "      name: t\n      columns:\n        - {name: id, type: int}\n"
        "        - {name: id, type: text}\n"),
     "04_bad.yaml, operation 1 (create_table), field columns[2].name", "defined twice",
     "its own name"},
    {"CreateTableTwoPrimaryKeys",
     Op("create_table",
        "      name: t\n      columns:\n        - {name: id, type: int, pk: true}\n"
        "      constraints:\n        - {name: t_pk, type: primary_key, columns: [id]}\n"),
     "04_bad.yaml, operation 1 (create_table), field constraints[1].type",
     "primary key is set twice", "not both"},
    {"ConstraintOnUnknownColumn",
     Op("create_table",
        "      name: t\n      columns:\n        - {name: id, type: int}\n"
        "      constraints:\n        - {name: t_u, type: unique, columns: [idd]}\n"),
     "04_bad.yaml, operation 1 (create_table), field constraints[1].columns",
     "'idd' is not a column of table 't'", "Use one of the names"},
    {"CheckConstraintDeferrable",
     Op("create_table",
        "      name: t\n      columns:\n        - {name: id, type: int}\n"
        "      constraints:\n        - {name: c, type: check, check: id > 0, deferrable: true}\n"),
     "04_bad.yaml, operation 1 (create_table), field constraints[1].deferrable",
     "a check constraint cannot have 'deferrable'", "change `type`"},
    {"ConstraintTypeUnknown",
     Op("create_table",
        "      name: t\n      columns:\n        - {name: id, type: int}\n"
        "      constraints:\n        - {name: c, type: uniq, columns: [id]}\n"),
     "04_bad.yaml, operation 1 (create_table), field constraints[1].type",
     "'uniq' is not a valid value for type", "'unique'"},
    {"PrimaryKeyNullable",
     Op("create_table",
        "      name: t\n      columns:\n        - {name: id, type: int, pk: true, "
        "nullable: true}\n"),
     "04_bad.yaml, operation 1 (create_table), field columns[1].nullable",
     "primary key column cannot be nullable", "always NOT NULL"},
    {"GeneratedExpressionAndIdentity",
     Op("add_column",
        "      table: t\n      column:\n        name: c\n        type: int\n"
        "        generated: {expression: 1 + 1, identity: {}}\n"),
     "04_bad.yaml, operation 1 (add_column), field column.generated", "not both",
     "Keep `expression`"},
    {"InitiallyDeferredWithoutDeferrable",
     Op("alter_column",
        "      table: t\n      column: c\n      references: {name: fk, table: u, column: id, "
        "initially_deferred: true}\n"),
     "04_bad.yaml, operation 1 (alter_column), field references.initially_deferred",
     "must be DEFERRABLE", "deferrable: true"},
    {"ForeignKeyActionUnknown",
     Op("alter_column",
        "      table: t\n      column: c\n      references: {name: fk, table: u, column: id, "
        "on_delete: DELETE}\n"),
     "04_bad.yaml, operation 1 (alter_column), field references.on_delete",
     "'DELETE' is not a valid value", "'CASCADE'"},
    {"AddColumnNotNullWithoutUp",
     Op("add_column", "      table: t\n      column: {name: c, type: int}\n"),
     "04_bad.yaml, operation 1 (add_column), field up", "existing rows need `up`",
     "nullable: true"},
    {"AddColumnPrimaryKey",
     Op("add_column",
        "      table: t\n      up: '1'\n      column: {name: c, type: int, pk: true}\n"),
     "04_bad.yaml, operation 1 (add_column), field column.pk", "cannot add a primary key",
     "primary_key"},
    {"RenameToItself", Op("rename_table", "      from: t\n      to: t\n"),
     "04_bad.yaml, operation 1 (rename_table), field to", "are the same name", "new name"},
    {"SqlDownWithOnComplete",
     Op("sql", "      up: SELECT 1\n      down: SELECT 2\n      onComplete: true\n"),
     "04_bad.yaml, operation 1 (sql), field down", "cannot be used with `onComplete: true`",
     "Remove `down`"},
    {"SqlEmptyUp", Op("sql", "      up: ''\n"), "04_bad.yaml, operation 1 (sql), field up",
     "is empty", "Write a value"},
    {"CreateConstraintMissingDown",
     Op("create_constraint",
        "      table: t\n      name: u\n      type: unique\n      columns: [a, b]\n"
        "      up: {a: a, b: b}\n      down: {a: a}\n"),
     "04_bad.yaml, operation 1 (create_constraint), field down",
     "no `down` expression for column 'b'", "b: <SQL expression>"},
    {"CreateConstraintRedundantUp",
     Op("create_constraint",
        "      table: t\n      name: u\n      type: unique\n      columns: [a]\n"
        "      up: {a: a, z: z}\n      down: {a: a}\n"),
     "04_bad.yaml, operation 1 (create_constraint), field up.z",
     "'z' is not one of the constraint's columns", "add it to `columns`"},
    {"CreateConstraintCheckWithoutExpression",
     Op("create_constraint",
        "      table: t\n      name: ck\n      type: check\n      columns: [a]\n"
        "      up: {a: a}\n      down: {a: a}\n"),
     "04_bad.yaml, operation 1 (create_constraint), field check", "needs its expression",
     "check: <SQL boolean expression>"},
    {"ForeignKeyColumnCountMismatch",
     Op("create_constraint",
        "      table: t\n      name: fk\n      type: foreign_key\n      columns: [a, b]\n"
        "      references: {table: u, columns: [id]}\n"
        "      up: {a: a, b: b}\n      down: {a: a, b: b}\n"),
     "04_bad.yaml, operation 1 (create_constraint), field references.columns",
     "has 2 columns but references 1", "as many referenced columns"},
    {"OnDeleteSetColumnsWithCascade",
     Op("create_constraint",
        "      table: t\n      name: fk\n      type: foreign_key\n      columns: [a]\n"
        "      references: {table: u, columns: [id], on_delete: CASCADE, "
        "on_delete_set_columns: [a]}\n      up: {a: a}\n      down: {a: a}\n"),
     "04_bad.yaml, operation 1 (create_constraint), field references.on_delete_set_columns",
     "only applies when on_delete is SET NULL", "SET NULL"},
    {"ReplicaIdentityIndexWithoutName",
     Op("set_replica_identity", "      table: t\n      identity: {type: index}\n"),
     "04_bad.yaml, operation 1 (set_replica_identity), field identity.index",
     "needs the index name", "index: <name"},
    {"CreateIndexBadSort",
     Op("create_index",
        "      name: i\n      table: t\n      columns:\n        - {column: a, sort: "
        "DOWN}\n"),
     "04_bad.yaml, operation 1 (create_index), field columns[1].sort",
     "'DOWN' is not a valid value", "'DESC'"},
    {"StringFieldGivenAList", Op("drop_column", "      table: t\n      column: [a, b]\n"),
     "04_bad.yaml, operation 1 (drop_column), field column", "expected a string, got a list",
     "Write it as a string"},
    {"SecondOperationIsCounted", "operations:\n  - drop_table: {name: a}\n  - drop_index: {}\n",
     "04_bad.yaml, operation 2 (drop_index), field name", "required field 'name' is missing",
     "Add `name: <name>`"},
    {"YamlDuplicateKey", Op("drop_table", "      name: a\n      name: b\n"),
     "04_bad.yaml, line 4, column 7", "appears twice", "Keep one"},
    {"YamlSyntaxError", "operations:\n  - drop_table: {name: a\n", "04_bad.yaml, line 3, column 1",
     "YAML syntax error", "indentation"},
};

INSTANTIATE_TEST_SUITE_P(EveryCheck, ValidationTest, testing::ValuesIn(kBadCases),
                         [](const testing::TestParamInfo<BadCase>& info) {
                           return info.param.test_name;
                         });

TEST(ValidationJsonTest, JsonNumbersAreNotStrings) {
  // YAML's `up: 1` is the text "1"; in JSON a number where the format wants SQL text is an error,
  // as in pgroll.
  Result<Migration> m =
      ParseMigration(R"({"operations": [{"sql": {"up": 1}}]})", Format::kJson, "04.json");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().where(), "04.json, operation 1 (sql), field up");
  EXPECT_EQ(m.error().message(), "expected a string, got a number");
  EXPECT_NE(m.error().fix().find("in quotes, e.g. \"1\""), std::string::npos);
}

TEST(ValidationJsonTest, JsonSyntaxErrorNamesLineAndColumn) {
  Result<Migration> m = ParseMigration(
      "{\n  \"operations\": [\n    {\"sql\": {\"up\": \"x\"}},\n  ]\n}", Format::kJson, "04.json");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().kind(), ErrorKind::kInvalidMigration);
  EXPECT_EQ(m.error().where(), "04.json, line 4, column 3") << m.error().Describe();
  EXPECT_NE(m.error().message().find("JSON syntax error"), std::string::npos);
}

TEST(ValidationJsonTest, FromJsonRunsTheSameChecks) {
  nlohmann::json stored = {{"name", "m"}, {"operations", {{{"drop_tabel", {{"name", "t"}}}}}}};
  Result<Migration> m = FromJson(stored, "state");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().where(), "state, operation 1 (drop_tabel)");
  EXPECT_NE(m.error().fix().find("'drop_table'"), std::string::npos);
}

TEST(ReadMigrationFileTest, ReadsByExtensionAndRejectsOthers) {
  auto dir = std::filesystem::temp_directory_path() / "zerodown_model_reader_test";
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "03_x.yml") << "operations:\n  - drop_table: {name: t}\n";
    std::ofstream(dir / "04_y.json") << R"({"operations": [{"drop_table": {"name": "t"}}]})";
    std::ofstream(dir / "05_z.txt") << "operations: []\n";
  }
  auto yml = ReadMigrationFile(dir / "03_x.yml");
  ASSERT_TRUE(yml.ok()) << yml.error().Describe();
  EXPECT_EQ(yml->name, "03_x");
  auto json = ReadMigrationFile(dir / "04_y.json");
  ASSERT_TRUE(json.ok()) << json.error().Describe();
  EXPECT_EQ(json->name, "04_y");
  EXPECT_EQ(yml->operations, json->operations);

  auto txt = ReadMigrationFile(dir / "05_z.txt");
  ASSERT_FALSE(txt.ok());
  EXPECT_EQ(txt.error().where(), (dir / "05_z.txt").string());
  EXPECT_NE(txt.error().fix().find("*.yaml"), std::string::npos);

  auto missing = ReadMigrationFile(dir / "06_missing.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kInvalidMigration);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace zerodown::model
