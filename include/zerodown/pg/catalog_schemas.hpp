// Catalog reads of what a schema holds and what outside it depends on it. The clause builders
// give the same reads as SQL text for a statement that checks them when it runs (a guard in a
// DO block); the schema goes in as an SQL expression, a quoted literal or a parameter. Nothing
// here changes the database.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "zerodown/pg/connection.hpp"

namespace zerodown::pg {

// "FROM pg_depend d WHERE …": the objects in the schema `schema` names other than views (and
// their row types, which belong to the views); none when the schema does not exist.
std::string ObjectsOtherThanViewsClause(std::string_view schema);

// "FROM pg_depend d … WHERE …": what outside the schema `schema` names depends on a relation in
// it (a view, a materialized view or a function reading one of its views), which DROP SCHEMA …
// CASCADE would drop too. A view of the schema reading another of its views is inside.
std::string DependentsOutsideClause(std::string_view schema);

// How many objects schema `schema` holds (0 when it does not exist); the planner refuses to
// take an existing schema for a version schema unless it holds nothing or only views.
std::int64_t ObjectsInSchema(Connection& conn, const std::string& schema);

// How many objects schema `schema` holds other than views and their row types; see
// ObjectsOtherThanViewsClause.
std::int64_t ObjectsOtherThanViewsInSchema(Connection& conn, const std::string& schema);

}  // namespace zerodown::pg
