#include "zerodown/sql/index_definition.hpp"

#include <gtest/gtest.h>

namespace zerodown::sql {
namespace {

std::string Rewritten(std::string_view definition) {
  auto out = RewriteIndexDefinition(definition, {"_zd_dup_ix", {{"email", "_zd_new_email"}}});
  EXPECT_TRUE(out.ok()) << out.error().Describe();
  return out.ok() ? *out : "";
}

// Definitions as pg_get_indexdef prints them on PostgreSQL 15.
TEST(IndexDefinitionTest, PlainIndexGetsTheNewNameTheCopyAndConcurrently) {
  EXPECT_EQ(Rewritten("CREATE INDEX users_email_idx ON public.users USING btree (email)"),
            "CREATE INDEX CONCURRENTLY _zd_dup_ix ON public.users USING btree (_zd_new_email)");
}

TEST(IndexDefinitionTest, UniqueMultiColumnIndexRenamesOnlyTheListedColumn) {
  EXPECT_EQ(Rewritten("CREATE UNIQUE INDEX u ON public.users USING btree (team_id, email DESC "
                      "NULLS LAST) INCLUDE (name) NULLS NOT DISTINCT"),
            "CREATE UNIQUE INDEX CONCURRENTLY _zd_dup_ix ON public.users USING btree (team_id, "
            "_zd_new_email DESC NULLS LAST) INCLUDE (name) NULLS NOT DISTINCT");
}

TEST(IndexDefinitionTest, ExpressionAndPredicateReferencesAreRenamed) {
  EXPECT_EQ(Rewritten("CREATE INDEX e ON public.users USING btree (lower(email) text_pattern_ops) "
                      "WHERE ((email IS NOT NULL) AND (email <> ''::text))"),
            // libpg_query 15 prints no space before an expression's operator class; PostgreSQL
            // reads it the same (the integration tests build such an index).
            "CREATE INDEX CONCURRENTLY _zd_dup_ix ON public.users USING btree "
            "(lower(_zd_new_email)text_pattern_ops) WHERE _zd_new_email IS NOT NULL AND "
            "_zd_new_email <> ''::text");
}

TEST(IndexDefinitionTest, QuotedNamesAndStorageParametersSurvive) {
  auto out = RewriteIndexDefinition(
      "CREATE INDEX \"Mixed Idx\" ON \"My Schema\".\"Users\" USING hash (\"E-mail\") WITH "
      "(fillfactor='70')",
      {"_zd_dup_1234", {{"E-mail", "_zd_new_E-mail"}}});
  ASSERT_TRUE(out.ok()) << out.error().Describe();
  EXPECT_EQ(*out,
            "CREATE INDEX CONCURRENTLY _zd_dup_1234 ON \"My Schema\".\"Users\" USING hash "
            "(\"_zd_new_E-mail\") WITH (fillfactor='70')");
}

TEST(IndexDefinitionTest, ANameThatNeedsQuotesIsRefused) {
  auto out = RewriteIndexDefinition("CREATE INDEX i ON public.users USING btree (email)",
                                    {"_zd_dup_Mixed Idx", {}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind(), ErrorKind::kInternal);
}

TEST(IndexDefinitionTest, AStringLiteralThatSpellsTheColumnIsNotAReference) {
  EXPECT_EQ(Rewritten("CREATE INDEX p ON public.users USING btree (name) WHERE (name = "
                      "'email'::text)"),
            "CREATE INDEX CONCURRENTLY _zd_dup_ix ON public.users USING btree (name) WHERE name = "
            "'email'::text");
}

TEST(IndexDefinitionTest, SomethingElseIsRefused) {
  auto out = RewriteIndexDefinition("SELECT 1", {"x", {}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind(), ErrorKind::kInvalidMigration);
  EXPECT_FALSE(RewriteIndexDefinition("CREATE INDEX (", {"x", {}}).ok());
}

}  // namespace
}  // namespace zerodown::sql
