// The public side of the shadow copy that is not the run itself: the spec's JSON and derived
// names, what blocks a copy, the planner's estimate. The run is the stage machine in
// engine/shadow/run.cpp and the units it sequences (see shadow_copy.hpp for the mechanism).
#include "zerodown/engine/shadow_copy.hpp"

#include <fmt/format.h>

#include "engine/shadow/change_log.hpp"
#include "zerodown/engine/operation.hpp"

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
  std::string qualified = conn.Ident(schema, table);
  pg::Rows rows = conn.Exec(
      "SELECT c.relkind = 'p', "
      "EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = c.oid OR inhparent = c.oid), "
      "c.relrowsecurity OR EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = c.oid), "
      "EXISTS (SELECT 1 FROM pg_publication_rel WHERE prrelid = c.oid), "
      "EXISTS (SELECT 1 FROM pg_rewrite WHERE ev_class = c.oid), "
      "EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = c.oid AND contype = 'x'), "
      "EXISTS (SELECT 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class m ON "
      "m.oid = r.ev_class WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = c.oid AND "
      "m.relkind = 'm'), "
      "EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.refobjid = "
      "c.oid) FROM pg_class c WHERE c.oid = $1::regclass",
      {qualified});
  static constexpr const char* kWhy[] = {
      "it is partitioned",
      "it has inheritance parents or children",
      "it has row-level security",
      "it is in a publication (logical replication would lose it at the swap)",
      "it has rules",
      "it has an exclusion constraint",
      "a materialized view reads it",
      "a function body (BEGIN ATOMIC) refers to it",
  };
  std::vector<std::string> why;
  if (rows.empty()) return why;
  for (int i = 0; i < rows.columns(); ++i) {
    if (rows.Bool(0, i)) why.emplace_back(kWhy[i]);
  }
  return why;
}

TableEstimate EstimateTable(pg::Connection& conn, const std::string& schema,
                            const std::string& table) {
  pg::Rows rows = conn.Exec(
      "SELECT greatest(c.reltuples, 0)::bigint, pg_table_size(c.oid), pg_indexes_size(c.oid), "
      "(SELECT count(*) FROM pg_index WHERE indrelid = c.oid) FROM pg_class c WHERE c.oid = "
      "$1::regclass",
      {conn.Ident(schema, table)});
  TableEstimate e;
  if (rows.empty()) return e;
  e.rows = rows.Int(0, 0);
  e.table_bytes = rows.Int(0, 1);
  e.index_bytes = rows.Int(0, 2);
  e.indexes = static_cast<int>(rows.Int(0, 3));
  return e;
}

}  // namespace zerodown::engine
