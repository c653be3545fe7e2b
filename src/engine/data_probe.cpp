#include "engine/data_probe.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace zerodown::engine {

namespace {

std::string HiddenKey(std::size_t i) { return fmt::format("_zd_key_{}", i); }
std::string HiddenOld(std::size_t j) { return fmt::format("_zd_old_{}", j); }

// The hidden columns every probe query carries along: the key, then each copy's old value.
std::string Hidden(const DataProbe& probe) {
  std::string out;
  for (std::size_t i = 0; i < probe.key_columns.size(); ++i) out += ", " + HiddenKey(i);
  for (std::size_t j = 0; j < probe.copies.size(); ++j) out += ", " + HiddenOld(j);
  return out;
}

std::string KeyOrder(const DataProbe& probe) {
  std::string out;
  for (std::size_t i = 0; i < probe.key_columns.size(); ++i) {
    out += (i ? ", " : "") + HiddenKey(i);
  }
  return out;
}

// The key's columns, each copy's old value, then each copy's new value, all as text.
std::string FailingRowColumns(pg::Connection& conn, const DataProbe& probe) {
  std::string out;
  for (std::size_t i = 0; i < probe.key_columns.size(); ++i) {
    out += (i ? ", " : "") + HiddenKey(i) + "::text";
  }
  for (std::size_t j = 0; j < probe.copies.size(); ++j) out += ", " + HiddenOld(j);
  for (const auto& copy : probe.copies) out += ", " + conn.Ident(copy.column) + "::text";
  return out;
}

std::string UniqueSql(pg::Connection& conn, const DataProbe& probe, const ProbeUnique& unique) {
  std::string pairs;
  for (int nth : {1, 2}) {
    for (std::size_t i = 0; i < probe.key_columns.size(); ++i) {
      pairs += fmt::format("{}(array_agg({}::text ORDER BY {}))[{}]", pairs.empty() ? "" : ", ",
                           HiddenKey(i), KeyOrder(probe), nth);
    }
  }
  std::string values;
  std::string group;
  std::string not_null;
  for (const auto& c : unique.columns) {
    values += ", " + conn.Ident(c) + "::text";
    group += (group.empty() ? "" : ", ") + conn.Ident(c);
    not_null += (not_null.empty() ? " WHERE " : " AND ") + conn.Ident(c) + " IS NOT NULL";
  }
  // Rows with a NULL in the key never conflict unless NULLS NOT DISTINCT.
  if (unique.nulls_not_distinct) not_null.clear();
  return fmt::format("SELECT {}{} FROM {}{} GROUP BY {} HAVING count(*) > 1 LIMIT 1", pairs, values,
                     NewRows(conn, probe), not_null, group);
}

void AttachProbe(PlanContext& context, const nlohmann::json& probe) {
  std::string prefix = context.ActionId("");
  for (Action& action : context.plan().start) {
    if (action.id.rfind(prefix, 0) != 0) continue;
    if (action.kind == ActionKind::kTransactional || action.kind == ActionKind::kDataCheck) {
      continue;
    }
    if (action.detail.is_null()) action.detail = nlohmann::json::object();
    action.detail["data_probe"] = probe;
  }
}

Action DataCheckAction(PlanContext& context, const DataProbe& probe, DataCheckKind kind,
                       std::size_t index, std::string what) {
  Action action;
  action.id = context.ActionId(fmt::format("data_check_{}_{}", DataCheckKindName(kind), index));
  action.kind = ActionKind::kDataCheck;
  action.description = fmt::format(
      "before the first change, check that {} (one read-only scan of {}; cut off after {} s, "
      "after which the fill finds such a row)",
      what, probe.table, kDataCheckTimeoutSeconds);
  action.lock = "ACCESS SHARE while it scans (reads and writes go on)";
  action.sql = {DataCheckSql(context.conn(), probe, kind, index)};
  action.schema = probe.schema;
  action.table = probe.table;
  action.key_columns = probe.key_columns;
  action.detail = {{"data_probe", probe.ToJson()},
                   {"check", std::string(DataCheckKindName(kind))},
                   {"index", index}};
  return action;
}

}  // namespace

std::string_view DataCheckKindName(DataCheckKind kind) {
  switch (kind) {
    case DataCheckKind::kNotNull:
      return "not_null";
    case DataCheckKind::kCheck:
      return "check";
    case DataCheckKind::kUnique:
      return "unique";
  }
  return "check";
}

DataCheckKind DataCheckKindFromName(std::string_view name) {
  if (name == "not_null") return DataCheckKind::kNotNull;
  if (name == "unique") return DataCheckKind::kUnique;
  return DataCheckKind::kCheck;
}

nlohmann::json DataProbe::ToJson() const {
  nlohmann::json columns = nlohmann::json::array();
  for (const auto& c : old_columns) {
    columns.push_back(
        {{"name", c.name}, {"physical", c.physical}, {"type", c.type}, {"pending", c.pending}});
  }
  nlohmann::json copy_list = nlohmann::json::array();
  for (const auto& c : copies) {
    copy_list.push_back({{"column", c.column},
                         {"old_physical", c.old_physical},
                         {"type", c.type},
                         {"up", c.up},
                         {"not_null", c.not_null}});
  }
  nlohmann::json check_list = nlohmann::json::array();
  for (const auto& c : checks)
    check_list.push_back({{"name", c.name}, {"expression", c.expression}});
  nlohmann::json unique_list = nlohmann::json::array();
  for (const auto& u : uniques) {
    unique_list.push_back(
        {{"name", u.name}, {"columns", u.columns}, {"nulls_not_distinct", u.nulls_not_distinct}});
  }
  return {{"where", where},           {"schema", schema},     {"table", table},
          {"table_name", table_name}, {"key", key_columns},   {"columns", columns},
          {"copies", copy_list},      {"checks", check_list}, {"uniques", unique_list}};
}

DataProbe DataProbe::FromJson(const nlohmann::json& json) {
  DataProbe p;
  p.where = json.at("where").get<std::string>();
  p.schema = json.at("schema").get<std::string>();
  p.table = json.at("table").get<std::string>();
  p.table_name = json.at("table_name").get<std::string>();
  p.key_columns = json.at("key").get<std::vector<std::string>>();
  for (const auto& c : json.at("columns")) {
    VirtualColumn column;
    column.name = c.at("name").get<std::string>();
    column.physical = c.at("physical").get<std::string>();
    column.type = c.at("type").get<std::string>();
    column.pending = c.at("pending").get<bool>();
    p.old_columns.push_back(std::move(column));
  }
  for (const auto& c : json.at("copies")) {
    p.copies.push_back({c.at("column").get<std::string>(), c.at("old_physical").get<std::string>(),
                        c.at("type").get<std::string>(), c.at("up").get<std::string>(),
                        c.at("not_null").get<bool>()});
  }
  for (const auto& c : json.at("checks")) {
    p.checks.push_back({c.at("name").get<std::string>(), c.at("expression").get<std::string>()});
  }
  for (const auto& u : json.at("uniques")) {
    p.uniques.push_back({u.at("name").get<std::string>(),
                         u.at("columns").get<std::vector<std::string>>(),
                         u.at("nulls_not_distinct").get<bool>()});
  }
  return p;
}

bool DataProbe::CheckableBeforeStart() const {
  return std::none_of(old_columns.begin(), old_columns.end(),
                      [](const VirtualColumn& c) { return c.pending; });
}

std::string OldRows(pg::Connection& conn, const DataProbe& probe, std::string_view filter) {
  // The physical names: by the time a fill runs, a column an earlier operation added exists.
  std::string select;
  for (const auto& c : probe.old_columns) {
    select += (select.empty() ? "" : ", ") + conn.Ident(c.physical) + " AS " + conn.Ident(c.name);
  }
  for (std::size_t i = 0; i < probe.key_columns.size(); ++i) {
    select += fmt::format(", {} AS {}", conn.Ident(probe.key_columns[i]), HiddenKey(i));
  }
  for (std::size_t j = 0; j < probe.copies.size(); ++j) {
    select +=
        fmt::format(", {}::text AS {}", conn.Ident(probe.copies[j].old_physical), HiddenOld(j));
  }
  // Aliased as the table, so that `up` may qualify a column with the table's name.
  return fmt::format("(SELECT {} FROM {}{}{}) AS {}", select, conn.Ident(probe.schema, probe.table),
                     filter.empty() ? "" : " WHERE ", filter, conn.Ident(probe.table_name));
}

std::string NewRows(pg::Connection& conn, const DataProbe& probe, std::string_view filter) {
  std::string select;
  for (const auto& c : probe.old_columns) {
    select += select.empty() ? "" : ", ";
    auto copy = std::find_if(probe.copies.begin(), probe.copies.end(),
                             [&](const ProbeCopy& p) { return p.column == c.name; });
    select += copy == probe.copies.end()
                  ? conn.Ident(c.name)
                  : fmt::format("CAST(({}) AS {}) AS {}", copy->up, copy->type, conn.Ident(c.name));
  }
  return fmt::format("(SELECT {}{} FROM {}) AS {}", select, Hidden(probe),
                     OldRows(conn, probe, filter), conn.Ident(probe.table_name));
}

std::string DataCheckSql(pg::Connection& conn, const DataProbe& probe, DataCheckKind kind,
                         std::size_t index) {
  std::string failing;
  switch (kind) {
    case DataCheckKind::kUnique:
      return UniqueSql(conn, probe, probe.uniques.at(index));
    case DataCheckKind::kNotNull:
      failing = conn.Ident(probe.copies.at(index).column) + " IS NULL";
      break;
    case DataCheckKind::kCheck:
      // As a CHECK constraint judges: only FALSE fails, NULL passes.
      failing = fmt::format("({}) IS FALSE", probe.checks.at(index).expression);
      break;
  }
  return fmt::format("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT 1",
                     FailingRowColumns(conn, probe), NewRows(conn, probe), failing,
                     KeyOrder(probe));
}

void AddDataChecks(PlanContext& context, const DataProbe& probe) {
  AttachProbe(context, probe.ToJson());
  if (!probe.CheckableBeforeStart()) return;
  for (std::size_t j = 0; j < probe.copies.size(); ++j) {
    if (!probe.copies[j].not_null) continue;
    context.AddStart(
        DataCheckAction(context, probe, DataCheckKind::kNotNull, j,
                        fmt::format("up leaves no row's {} NULL", probe.copies[j].column)));
  }
  for (std::size_t j = 0; j < probe.checks.size(); ++j) {
    context.AddStart(
        DataCheckAction(context, probe, DataCheckKind::kCheck, j,
                        fmt::format("every row passes check {} after up", probe.checks[j].name)));
  }
  for (std::size_t j = 0; j < probe.uniques.size(); ++j) {
    context.AddStart(DataCheckAction(
        context, probe, DataCheckKind::kUnique, j,
        fmt::format("no two rows share a value of unique {} after up", probe.uniques[j].name)));
  }
}

}  // namespace zerodown::engine
