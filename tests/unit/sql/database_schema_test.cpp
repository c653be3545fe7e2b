// Lint with what the server holds (LintOptions::database, read with --postgres-url): the
// current column types and constrained domains decide, exactly.
#include <gtest/gtest.h>

#include "lint_test_util.hpp"

namespace zerodown::sql {
namespace {

using testing::CountRule;
using testing::FindRule;

TEST(ColumnTypeRewrite, TheServersCurrentTypeDecides) {
  LintOptions options;
  options.database = DatabaseSchema{};
  options.database->columns = {{"public", "orders", "note", "character varying(50)"},
                               {"public", "orders", "total", "numeric(10,2)"},
                               {"app", "Users", "name", "text"}};
  auto lint = [&](const std::string& sql) {
    auto findings = LintSql("x.sql", sql, options);
    EXPECT_TRUE(findings.ok());
    const Finding* f = findings.ok() ? FindRule(*findings, "column-type-rewrite") : nullptr;
    return f == nullptr ? std::string("none") : std::string(SeverityName(f->severity));
  };
  EXPECT_EQ(lint("ALTER TABLE orders ALTER COLUMN note TYPE varchar(80);"), "none");
  EXPECT_EQ(lint("ALTER TABLE public.orders ALTER COLUMN note TYPE text;"), "none");
  EXPECT_EQ(lint("ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2);"), "none");
  EXPECT_EQ(lint("ALTER TABLE orders ALTER COLUMN note TYPE varchar(20);"), "error");
  EXPECT_EQ(lint("ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,3);"), "error");
  EXPECT_EQ(lint("ALTER TABLE app.\"Users\" ALTER COLUMN name TYPE varchar;"), "none");
  EXPECT_EQ(lint("ALTER TABLE app.\"Users\" ALTER COLUMN name TYPE varchar(9);"), "error");
}

TEST(AddColumnConstrainedDomain, TheServersDomainsDecide) {
  LintOptions options;
  options.database = DatabaseSchema{};
  options.database->constrained_domains = {{"positive_int", "integer"}};
  auto findings = LintSql("x.sql", "ALTER TABLE t ADD COLUMN a positive_int;", options);
  ASSERT_TRUE(findings.ok());
  const Finding* f = FindRule(*findings, "add-column-constrained-domain");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kError);
  EXPECT_NE(f->fix.find("ADD COLUMN a integer"), std::string::npos) << f->fix;
  // The catalog lists every constrained domain: another type name is not one.
  findings = LintSql("x.sql", "ALTER TABLE t ADD COLUMN a plain_label;", options);
  ASSERT_TRUE(findings.ok());
  EXPECT_EQ(CountRule(*findings, "add-column-constrained-domain"), 0);
}

}  // namespace
}  // namespace zerodown::sql
