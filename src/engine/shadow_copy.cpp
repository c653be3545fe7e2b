// The public side of the shadow copy that is not the run itself: the spec's JSON and derived
// names, what blocks a copy, the planner's estimate. The run is the stage machine in
// engine/shadow/run.cpp and the units it sequences (see shadow_copy.hpp for the mechanism).
#include "zerodown/engine/shadow_copy.hpp"

#include <fmt/format.h>

#include <optional>
#include <utility>

#include "engine/shadow/change_log.hpp"
#include "zerodown/engine/operation.hpp"
#include "zerodown/pg/catalog.hpp"

namespace zerodown::engine {

using shadow::DropLogTriggersSql;

std::optional<CopyCheckMode> CopyCheckModeFromName(std::string_view name) {
  if (name == "off") return CopyCheckMode::kOff;
  if (name == "sample") return CopyCheckMode::kSample;
  if (name == "full") return CopyCheckMode::kFull;
  return std::nullopt;
}

nlohmann::json ShadowCopySpec::ToJson() const {
  nlohmann::json added_json = nlohmann::json::array();
  for (const auto& a : added) {
    added_json.push_back({{"name", a.name}, {"type", a.type}, {"expression", a.expression}});
  }
  nlohmann::json names_json = nlohmann::json::array();
  for (const auto& n : names) {
    names_json.push_back({{"physical", n.physical}, {"name", n.name}, {"type", n.type}});
  }
  nlohmann::json retyped_json = nlohmann::json::array();
  for (const auto& r : retyped) {
    retyped_json.push_back({{"name", r.name}, {"type", r.type}, {"expression", r.expression}});
  }
  return {{"schema", schema},
          {"table", table},
          {"retyped", retyped_json},
          {"keep_old_heap", keep_old_heap},
          {"reverse_log_table", reverse_log_table},
          {"reverse_log_function", reverse_log_function},
          {"key_columns", key_columns},
          {"shadow", shadow},
          {"retired", retired},
          {"log_table", log_table},
          {"log_function", log_function},
          {"added", added_json},
          {"names", names_json},
          {"after_swap_sql", after_swap_sql}};
}

ShadowCopySpec ShadowCopySpec::FromJson(const nlohmann::json& json) {
  ShadowCopySpec spec;
  spec.schema = json.at("schema").get<std::string>();
  spec.table = json.at("table").get<std::string>();
  spec.key_columns = json.at("key_columns").get<std::vector<std::string>>();
  spec.shadow = json.at("shadow").get<std::string>();
  spec.retired = json.at("retired").get<std::string>();
  spec.log_table = json.at("log_table").get<std::string>();
  spec.log_function = json.at("log_function").get<std::string>();
  for (const auto& a : json.at("added")) {
    spec.added.push_back({a.at("name").get<std::string>(), a.at("type").get<std::string>(),
                          a.at("expression").get<std::string>()});
  }
  for (const auto& n : json.at("names")) {
    spec.names.push_back({n.at("physical").get<std::string>(), n.at("name").get<std::string>(),
                          n.at("type").get<std::string>()});
  }
  spec.after_swap_sql = json.at("after_swap_sql").get<std::vector<std::string>>();
  // Plans saved before these keys existed have no retyped column and drop the old heap.
  for (const auto& r : json.value("retyped", nlohmann::json::array())) {
    spec.retyped.push_back({r.at("name").get<std::string>(), r.at("type").get<std::string>(),
                            r.at("expression").get<std::string>()});
  }
  spec.keep_old_heap = json.value("keep_old_heap", false);
  spec.reverse_log_table = json.value("reverse_log_table", std::string());
  spec.reverse_log_function = json.value("reverse_log_function", std::string());
  return spec;
}

ShadowCopySpec ShadowCopySpec::Named(const std::string& schema, const std::string& table,
                                     const std::string& migration) {
  ShadowCopySpec spec;
  spec.schema = schema;
  spec.table = table;
  spec.shadow = PlanContext::TempName("_zd_shadow_", table);
  spec.retired = PlanContext::TempName("_zd_retired_", table);
  // The logs live in the zerodown schema, shared by every schema's migrations: the same
  // migration file run on two schemas at once (one per tenant) must not share a log, or one
  // run's replay would take the other's entries and lose those writes.
  std::string scope = schema + "_" + migration + "_" + table;
  spec.log_table = PlanContext::TempName("log_", scope);
  spec.log_function = PlanContext::TempName("_zd_log_", scope);
  spec.reverse_log_table = PlanContext::TempName("rlog_", scope);
  spec.reverse_log_function = PlanContext::TempName("_zd_rlog_", scope);
  return spec;
}

std::vector<std::string> ShadowCopySpec::CleanupSql(pg::Connection& conn) const {
  std::string live = conn.Ident(schema, table);
  // The log's triggers are on the live heap before the swap and gone with the old one after.
  std::vector<std::string> sql = DropLogTriggersSql(conn, log_function, live);
  std::vector<std::string> drops = {
      fmt::format("DROP TABLE IF EXISTS {}", conn.Ident(schema, retired)),
      fmt::format("DROP TABLE IF EXISTS {}", conn.Ident(schema, shadow)),
      fmt::format("DROP FUNCTION IF EXISTS {}()", conn.Ident("zerodown", log_function)),
      fmt::format("DROP TABLE IF EXISTS {}", conn.Ident("zerodown", log_table)),
  };
  sql.insert(sql.end(), drops.begin(), drops.end());
  if (!reverse_log_function.empty()) {
    // On the new heap from the swap on, until complete or a swap back.
    std::vector<std::string> reverse = DropLogTriggersSql(conn, reverse_log_function, live);
    sql.insert(sql.begin(), reverse.begin(), reverse.end());
    sql.push_back(
        fmt::format("DROP FUNCTION IF EXISTS {}()", conn.Ident("zerodown", reverse_log_function)));
    sql.push_back(
        fmt::format("DROP TABLE IF EXISTS {}", conn.Ident("zerodown", reverse_log_table)));
  }
  return sql;
}

std::vector<std::string> ShadowCopyBlockers(pg::Connection& conn, const std::string& schema,
                                            const std::string& table) {
  std::optional<pg::CopyObstacles> obstacles =
      pg::ReadCopyObstacles(conn, conn.Ident(schema, table));
  std::vector<std::string> why;
  if (!obstacles) return why;
  const pg::CopyObstacles& o = *obstacles;
  const std::pair<bool, const char*> reasons[] = {
      {o.partitioned, "it is partitioned"},
      {o.inheritance, "it has inheritance parents or children"},
      {o.row_security, "it has row-level security"},
      {o.published, "it is in a publication (logical replication would lose it at the swap)"},
      {o.rules, "it has rules"},
      {o.exclusion, "it has an exclusion constraint"},
      {o.materialized_view, "a materialized view reads it"},
      {o.function_body, "a function body (BEGIN ATOMIC) refers to it"},
  };
  for (const auto& [found, reason] : reasons) {
    if (found) why.emplace_back(reason);
  }
  return why;
}

TableEstimate EstimateTable(pg::Connection& conn, const std::string& schema,
                            const std::string& table) {
  TableEstimate e;
  std::optional<pg::RelationSize> size = pg::ReadRelationSize(conn, conn.Ident(schema, table));
  if (!size) return e;
  e.rows = size->rows;
  e.table_bytes = size->table_bytes;
  e.index_bytes = size->index_bytes;
  e.indexes = size->indexes;
  return e;
}

}  // namespace zerodown::engine
