// Migrations users already have: pgroll-style files (written here in the shape of pgroll's own
// examples/ directory) parse unchanged, and our tutorial in examples/tutorial/ is valid.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "zerodown/model/migration_reader.hpp"

namespace zerodown::model {
namespace {

struct PgrollExample {
  std::string name;
  std::string yaml;
};

// Small migrations covering the forms pgroll's examples use: quoted SQL defaults, multi-change
// alter_column, default/comment set to null, raw SQL on complete, table-level constraints,
// create_constraint with per-column up/down, version_schema, opclass indexes.
const PgrollExample kPgrollExamples[] = {
    {"create_tables", R"y(operations:
  - create_table:
      name: authors
      columns:
        - name: id
          type: serial
          pk: true
        - name: nickname
          type: varchar(255)
          unique: true
          default: '''anonymous'''
        - name: price
          type: decimal(10,2)
          default: "0.00"
          nullable: true
)y"},
    {"alter_column_multiple", R"y(operations:
  - alter_column:
      table: shows
      column: title
      type: text
      default: '''untitled'''
      nullable: false
      comment: what the audience sees
      unique:
        name: shows_title_unique
      check:
        name: shows_title_length
        constraint: length(title) > 2
      up: SELECT CASE WHEN title IS NULL OR length(title) <= 2 THEN 'tbd' ELSE title END
      down: title
)y"},
    {"drop_default_and_comment", R"y(operations:
  - alter_column:
      table: shows
      column: title
      default: null
      comment: null
      up: title
      down: title
)y"},
    {"sql_on_complete", R"y(operations:
  - sql:
      up: ALTER TABLE viewers ADD COLUMN born date
      onComplete: true
)y"},
    {"table_constraints", R"y(operations:
  - create_table:
      name: venues
      columns:
        - name: id
          type: serial
        - name: owner_id
          type: integer
        - name: label
          type: text
      constraints:
        - name: venues_pk
          type: primary_key
          columns: [id]
        - name: venues_owner_fk
          type: foreign_key
          columns: [owner_id]
          deferrable: false
          references:
            table: owners
            columns: [id]
            on_delete: CASCADE
            on_update: CASCADE
            match_type: SIMPLE
        - name: venues_label_unique
          type: unique
          columns: [label]
          index_parameters:
            include_columns: [owner_id]
        - name: venues_label_present
          type: check
          check: length(label) > 0
)y"},
    {"create_check_constraint", R"y(operations:
  - create_constraint:
      type: check
      table: seats
      name: seats_row_or_zone
      columns: [row_name, zone]
      check: row_name = 'A' OR zone > 0
      up:
        row_name: row_name
        zone: SELECT CASE WHEN zone <= 0 THEN 1 ELSE zone END
      down:
        row_name: row_name
        zone: zone
)y"},
    {"version_schema_and_opclass", R"y(version_schema: release_7
operations:
  - create_index:
      name: seats_zone_ops
      table: seats
      columns:
        - column: "zone"
          opclass:
            name: int4_ops
  - set_replica_identity:
      table: seats
      identity:
        type: full
  - drop_constraint:
      table: seats
      name: seats_row_or_zone
      up: zone
      down: SELECT CASE WHEN zone <= 0 THEN 1 ELSE zone END
)y"},
};

TEST(PgrollExamplesTest, ParseUnchangedAndRoundTrip) {
  for (const auto& example : kPgrollExamples) {
    SCOPED_TRACE(example.name);
    Result<Migration> m = ParseMigration(example.yaml, Format::kYaml, example.name + ".yaml");
    ASSERT_TRUE(m.ok()) << m.error().Describe();
    EXPECT_EQ(m->name, example.name);
    Result<Migration> back = FromJson(ToJson(*m), m->source);
    ASSERT_TRUE(back.ok()) << back.error().Describe();
    EXPECT_EQ(*back, *m);
  }
}

std::filesystem::path TutorialDir() {
  // The checkout this binary was built from (tests/CMakeLists.txt defines it).
  return std::filesystem::path(ZERODOWN_SOURCE_DIR) / "examples" / "tutorial";
}

TEST(TutorialTest, EveryStepIsAValidMigrationInOrder) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(TutorialDir())) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 4u);
  std::vector<std::string> ops;
  for (const auto& file : files) {
    Result<Migration> m = ReadMigrationFile(file);
    ASSERT_TRUE(m.ok()) << m.error().Describe();
    EXPECT_EQ(m->name, file.stem().string());
    for (const auto& op : m->operations) {
      ops.emplace_back(OperationName(op));
      EXPECT_EQ(TablesTouched(op), (std::vector<std::string>{"customers"}));
    }
  }
  EXPECT_EQ(ops, (std::vector<std::string>{"create_table", "add_column", "alter_column",
                                           "create_index"}));
}

}  // namespace
}  // namespace zerodown::model
