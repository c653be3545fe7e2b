// Every operation parses from YAML and from JSON to the same value, and survives
// ToJson -> FromJson unchanged.
#include <gtest/gtest.h>

#include "zerodown/model/migration_reader.hpp"

namespace zerodown::model {
namespace {

struct OperationCase {
  std::string name;  // the operation's key, also the test name
  std::string yaml;  // the operation body in YAML, indented under `- <name>:`
  std::string json;  // the same operation body in JSON
};

std::string YamlMigration(const OperationCase& c) {
  return "operations:\n  - " + c.name + ":\n" + c.yaml;
}

std::string JsonMigration(const OperationCase& c) {
  return "{\"operations\": [{\"" + c.name + "\": " + c.json + "}]}";
}

class OperationFormatTest : public testing::TestWithParam<OperationCase> {};

TEST_P(OperationFormatTest, YamlAndJsonAgreeAndRoundTrip) {
  const OperationCase& c = GetParam();
  Result<Migration> from_yaml = ParseMigration(YamlMigration(c), Format::kYaml, "m.yaml");
  ASSERT_TRUE(from_yaml.ok()) << from_yaml.error().Describe();
  Result<Migration> from_json = ParseMigration(JsonMigration(c), Format::kJson, "m.json");
  ASSERT_TRUE(from_json.ok()) << from_json.error().Describe();

  ASSERT_EQ(from_yaml->operations.size(), 1u);
  EXPECT_EQ(OperationName(from_yaml->operations[0]), c.name);
  EXPECT_EQ(from_yaml->operations, from_json->operations);

  nlohmann::json stored = ToJson(*from_yaml);
  Result<Migration> back = FromJson(stored, "m.yaml");
  ASSERT_TRUE(back.ok()) << back.error().Describe() << "\n" << stored.dump(2);
  EXPECT_EQ(*back, *from_yaml) << stored.dump(2);
  // The stored text itself is stable: a second round trip writes the same JSON.
  EXPECT_EQ(ToJson(*back), stored);
}

const OperationCase kCases[] = {
    {"create_table",
     R"j(      name: customers
      comment: people who buy
      columns:
        - name: id
          type: bigint
          generated:
            identity:
              user_specified_values: BY DEFAULT
              sequence_options: START 100
        - name: email
          type: varchar(255)
          unique: true
          comment: login
          check:
            name: email_has_at
            constraint: email LIKE '%@%'
            no_inherit: true
        - name: team_id
          type: bigint
          nullable: true
          references:
            name: customers_team_fk
            table: teams
            column: id
            on_delete: SET NULL
            on_update: CASCADE
            match_type: FULL
            deferrable: true
            initially_deferred: true
        - name: created_at
          type: timestamptz
          default: now()
        - name: email_lower
          type: text
          generated:
            expression: lower(email)
      constraints:
        - name: customers_pk
          type: primary_key
          columns: [id]
          index_parameters:
            storage_parameters: fillfactor=70
            include_columns: [email]
        - name: customers_team_ref
          type: foreign_key
          columns: [team_id]
          deferrable: true
          references:
            table: teams
            columns: [id]
            on_delete: SET NULL
            on_delete_set_columns: [team_id]
        - name: customers_email_check
          type: check
          check: length(email) > 3
          no_inherit: true
        - name: customers_email_unique
          type: unique
          columns: [email]
          nulls_not_distinct: true
        - name: no_overlap
          type: exclude
          exclude:
            index_method: gist
            elements: id WITH =
            predicate: id > 0
)j",
     R"j({"name": "customers", "comment": "people who buy", "columns": [
          {"name": "id", "type": "bigint", "generated": {"identity": {
            "user_specified_values": "BY DEFAULT", "sequence_options": "START 100"}}},
          {"name": "email", "type": "varchar(255)", "unique": true, "comment": "login",
           "check": {"name": "email_has_at", "constraint": "email LIKE '%@%'", "no_inherit": true}},
          {"name": "team_id", "type": "bigint", "nullable": true, "references": {
            "name": "customers_team_fk", "table": "teams", "column": "id", "on_delete": "SET NULL",
            "on_update": "CASCADE", "match_type": "FULL", "deferrable": true,
            "initially_deferred": true}},
          {"name": "created_at", "type": "timestamptz", "default": "now()"},
          {"name": "email_lower", "type": "text", "generated": {"expression": "lower(email)"}}],
        "constraints": [
          {"name": "customers_pk", "type": "primary_key", "columns": ["id"],
           "index_parameters": {"storage_parameters": "fillfactor=70", "include_columns": ["email"]}},
          {"name": "customers_team_ref", "type": "foreign_key", "columns": ["team_id"],
           "deferrable": true, "references": {"table": "teams", "columns": ["id"],
           "on_delete": "SET NULL", "on_delete_set_columns": ["team_id"]}},
          {"name": "customers_email_check", "type": "check", "check": "length(email) > 3",
           "no_inherit": true},
          {"name": "customers_email_unique", "type": "unique", "columns": ["email"],
           "nulls_not_distinct": true},
          {"name": "no_overlap", "type": "exclude", "exclude": {"index_method": "gist",
           "elements": "id WITH =", "predicate": "id > 0"}}]})j"},
    {"add_column",
     R"j(      table: customers
      up: "0"
      column:
        name: visits
        type: integer
        default: "0"
)j",
     R"j({"table": "customers", "up": "0",
         "column": {"name": "visits", "type": "integer", "default": "0"}})j"},
    {"alter_column",
     R"j(      table: customers
      column: email
      type: text
      nullable: false
      default: null
      comment: the login
      unique:
        name: customers_email_key
      check:
        name: email_len
        constraint: length(email) < 300
      references:
        name: email_fk
        table: emails
        column: address
      up: coalesce(email, 'unknown')
      down: email
)j",
     R"j({"table": "customers", "column": "email", "type": "text", "nullable": false,
         "default": null, "comment": "the login", "unique": {"name": "customers_email_key"},
         "check": {"name": "email_len", "constraint": "length(email) < 300"},
         "references": {"name": "email_fk", "table": "emails", "column": "address"},
         "up": "coalesce(email, 'unknown')", "down": "email"})j"},
    {"rename_column", "      table: customers\n      from: email\n      to: email_address\n",
     R"j({"table": "customers", "from": "email", "to": "email_address"})j"},
    {"drop_column", "      table: customers\n      column: visits\n      down: \"0\"\n",
     R"j({"table": "customers", "column": "visits", "down": "0"})j"},
    {"rename_table", "      from: customers\n      to: clients\n",
     R"j({"from": "customers", "to": "clients"})j"},
    {"drop_table", "      name: clients\n", R"j({"name": "clients"})j"},
    {"create_index",
     R"j(      name: customers_email_idx
      table: customers
      unique: true
      method: btree
      predicate: email IS NOT NULL
      storage_parameters: fillfactor=90
      columns:
        - column: email
          collate: C
          sort: DESC
          nulls: LAST
          opclass:
            name: text_pattern_ops
        - column: id
)j",
     R"j({"name": "customers_email_idx", "table": "customers", "unique": true, "method": "btree",
         "predicate": "email IS NOT NULL", "storage_parameters": "fillfactor=90",
         "columns": [{"column": "email", "collate": "C", "sort": "DESC", "nulls": "LAST",
                      "opclass": {"name": "text_pattern_ops"}}, {"column": "id"}]})j"},
    {"drop_index", "      name: customers_email_idx\n", R"j({"name": "customers_email_idx"})j"},
    {"rename_constraint", "      table: customers\n      from: a_check\n      to: b_check\n",
     R"j({"table": "customers", "from": "a_check", "to": "b_check"})j"},
    {"drop_constraint",
     "      table: customers\n      name: email_len\n      up: email\n      down: left(email, "
     "10)\n",
     R"j({"table": "customers", "name": "email_len", "up": "email", "down": "left(email, 10)"})j"},
    {"create_constraint",
     R"j(      table: customers
      name: customers_team_email_fk
      type: foreign_key
      columns: [team_id, email]
      references:
        table: team_members
        columns: [team_id, email]
        on_delete: CASCADE
      up:
        team_id: team_id
        email: email
      down:
        team_id: team_id
        email: email
)j",
     R"j({"table": "customers", "name": "customers_team_email_fk", "type": "foreign_key",
         "columns": ["team_id", "email"],
         "references": {"table": "team_members", "columns": ["team_id", "email"],
                        "on_delete": "CASCADE"},
         "up": {"team_id": "team_id", "email": "email"},
         "down": {"team_id": "team_id", "email": "email"}})j"},
    {"drop_multicolumn_constraint",
     R"j(      table: customers
      name: customers_team_email_fk
      up:
        email: email
      down:
        email: email
        team_id: team_id
)j",
     R"j({"table": "customers", "name": "customers_team_email_fk", "up": {"email": "email"},
         "down": {"email": "email", "team_id": "team_id"}})j"},
    {"set_replica_identity",
     "      table: customers\n      identity:\n        type: index\n        index: customers_pk\n",
     R"j({"table": "customers", "identity": {"type": "index", "index": "customers_pk"}})j"},
    {"rebuild_table",
     R"j(      table: customers
      columns:
        - column: score
          type: bigint
        - column: email
          type: text
          nullable: false
          default: "''"
          up: coalesce(email, '')
          down: email
      alter: ALTER COLUMN name SET DEFAULT 'x'
)j",
     R"j({"table": "customers",
         "columns": [{"column": "score", "type": "bigint"},
                     {"column": "email", "type": "text", "nullable": false, "default": "''",
                      "up": "coalesce(email, '')", "down": "email"}],
         "alter": "ALTER COLUMN name SET DEFAULT 'x'"})j"},
    {"sql", "      up: CREATE TABLE t (id int)\n      down: DROP TABLE t\n",
     R"j({"up": "CREATE TABLE t (id int)", "down": "DROP TABLE t"})j"},
};

INSTANTIATE_TEST_SUITE_P(EveryOperation, OperationFormatTest, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<OperationCase>& info) {
                           return info.param.name;
                         });

TEST(OperationModelTest, CasesCoverEveryOperation) {
  // One alternative of Operation per case, so a new operation without a case fails here.
  EXPECT_EQ(std::size(kCases), std::variant_size_v<Operation>);
}

TEST(OperationModelTest, FieldsLandWhereTheEngineExpectsThem) {
  Result<Migration> m = ParseMigration(YamlMigration(kCases[2]), Format::kYaml, "m.yaml");
  ASSERT_TRUE(m.ok()) << m.error().Describe();
  const auto& op = std::get<AlterColumn>(m->operations[0]);
  EXPECT_EQ(op.type, "text");
  EXPECT_EQ(op.nullable, false);
  EXPECT_TRUE(op.default_value.IsNull());
  ASSERT_TRUE(op.comment.HasValue());
  EXPECT_EQ(op.comment.value(), "the login");
  EXPECT_EQ(op.up, "coalesce(email, 'unknown')");
  EXPECT_EQ(TablesTouched(m->operations[0]), (std::vector<std::string>{"customers", "emails"}));
}

TEST(OperationModelTest, TriStateDefaultDistinguishesAbsentNullAndValue) {
  auto parse = [](const std::string& extra) {
    return ParseMigration(
        "operations:\n  - alter_column:\n      table: t\n      column: c\n" + extra, Format::kYaml,
        "m.yaml");
  };
  auto absent = parse("      nullable: true\n");
  auto null = parse("      default: null\n");
  auto tilde = parse("      default: ~\n");
  auto value = parse("      default: \"0\"\n");
  auto quoted_null = parse("      default: \"null\"\n");
  for (auto* r : {&absent, &null, &tilde, &value, &quoted_null}) {
    ASSERT_TRUE(r->ok()) << r->error().Describe();
  }
  EXPECT_TRUE(std::get<AlterColumn>(absent->operations[0]).default_value.IsAbsent());
  EXPECT_TRUE(std::get<AlterColumn>(null->operations[0]).default_value.IsNull());
  EXPECT_TRUE(std::get<AlterColumn>(tilde->operations[0]).default_value.IsNull());
  EXPECT_EQ(std::get<AlterColumn>(value->operations[0]).default_value.value(), "0");
  // Quoted, "null" is the SQL text null, which sets the default to NULL rather than dropping it.
  EXPECT_EQ(std::get<AlterColumn>(quoted_null->operations[0]).default_value.value(), "null");
  EXPECT_EQ(ToJson(*null)["operations"][0]["alter_column"]["default"], nullptr);
  EXPECT_FALSE(ToJson(*absent)["operations"][0]["alter_column"].contains("default"));
}

TEST(OperationModelTest, YamlScalarsStayTheTextTheUserWrote) {
  Result<Migration> m = ParseMigration(R"j(operations:
  - add_column:
      table: items
      up: 1
      column:
        name: price
        type: numeric(10,2)
        default: 0.50
        comment: yes
  - alter_column:
      table: items
      column: active
      default: true
)j",
                                       Format::kYaml, "m.yaml");
  ASSERT_TRUE(m.ok()) << m.error().Describe();
  const auto& add = std::get<AddColumn>(m->operations[0]);
  EXPECT_EQ(add.up, "1");
  EXPECT_EQ(add.column.default_value, "0.50");
  EXPECT_EQ(add.column.comment, "yes");
  EXPECT_EQ(std::get<AlterColumn>(m->operations[1]).default_value.value(), "true");
}

TEST(OperationModelTest, CreateIndexAcceptsEveryColumnsFormPgrollEverUsed) {
  auto columns_of = [](const std::string& columns) {
    Result<Migration> m = ParseMigration(
        "operations:\n  - create_index:\n      name: i\n      table: t\n      columns: " + columns +
            "\n",
        Format::kYaml, "m.yaml");
    EXPECT_TRUE(m.ok()) << m.error().Describe();
    return m.ok() ? std::get<CreateIndex>(m->operations[0]).columns : std::vector<IndexField>{};
  };
  IndexField b;
  b.column = "b";
  IndexField a_desc;
  a_desc.column = "a";
  a_desc.sort = SortOrder::kDesc;
  IndexField a;
  a.column = "a";
  // Before pgroll 0.10: names. 0.10 to 0.14: a map, in file order. Since: a list of objects.
  EXPECT_EQ(columns_of("[b, a]"), (std::vector<IndexField>{b, a}));
  EXPECT_EQ(columns_of("{b: {}, a: {sort: DESC}}"), (std::vector<IndexField>{b, a_desc}));
  EXPECT_EQ(columns_of("[{column: b}, {column: a, sort: DESC}]"),
            (std::vector<IndexField>{b, a_desc}));
}

TEST(OperationModelTest, NameDefaultsToTheFileStemAndAnExplicitNameWins) {
  auto unnamed = ParseMigration("operations: [{drop_table: {name: t}}]", Format::kYaml,
                                "migrations/07_drop.yaml");
  ASSERT_TRUE(unnamed.ok());
  EXPECT_EQ(unnamed->name, "07_drop");
  EXPECT_EQ(unnamed->source, "migrations/07_drop.yaml");
  auto named = ParseMigration(R"j({"name": "custom", "version_schema": "v7",
                                  "operations": [{"drop_table": {"name": "t"}}]})j",
                              Format::kJson, "x.json");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->name, "custom");
  EXPECT_EQ(named->version_schema, "v7");
}

TEST(OperationModelTest, TablesTouchedPerOperation) {
  EXPECT_EQ(TablesTouched(RenameTable{"a", "b"}), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(TablesTouched(DropTable{"a"}), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(TablesTouched(DropIndex{"i"}).empty());
  EXPECT_TRUE(TablesTouched(RawSql{"SELECT 1", std::nullopt, false}).empty());
  EXPECT_EQ(TablesTouched(RenameColumn{"t", "a", "b"}), (std::vector<std::string>{"t"}));
}

}  // namespace
}  // namespace zerodown::model
