#include "zerodown/engine/plan.hpp"

#include <fmt/format.h>

namespace zerodown::engine {

namespace {

std::string_view KindName(ActionKind kind) {
  switch (kind) {
    case ActionKind::kTransactional:
      return "transactional";
    case ActionKind::kNonTransactional:
      return "non_transactional";
    case ActionKind::kBackfill:
      return "backfill";
    case ActionKind::kShadowCopy:
      return "shadow_copy";
    case ActionKind::kShadowSwapBack:
      return "shadow_swap_back";
    case ActionKind::kDataCheck:
      return "data_check";
  }
  return "transactional";
}

ActionKind KindFromName(const std::string& name) {
  if (name == "non_transactional") return ActionKind::kNonTransactional;
  if (name == "backfill") return ActionKind::kBackfill;
  if (name == "shadow_copy") return ActionKind::kShadowCopy;
  if (name == "shadow_swap_back") return ActionKind::kShadowSwapBack;
  if (name == "data_check") return ActionKind::kDataCheck;
  return ActionKind::kTransactional;
}

nlohmann::json ActionsToJson(const std::vector<Action>& actions) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& a : actions) {
    nlohmann::json j = {{"id", a.id},
                        {"kind", KindName(a.kind)},
                        {"description", a.description},
                        {"lock", a.lock},
                        {"sql", a.sql}};
    if (a.kind == ActionKind::kBackfill || a.kind == ActionKind::kShadowCopy) {
      j["schema"] = a.schema;
      j["table"] = a.table;
      j["key_columns"] = a.key_columns;
    }
    if (!a.detail.is_null()) j["detail"] = a.detail;
    list.push_back(std::move(j));
  }
  return list;
}

std::vector<Action> ActionsFromJson(const nlohmann::json& list) {
  std::vector<Action> actions;
  for (const auto& j : list) {
    Action a;
    a.id = j.at("id").get<std::string>();
    a.kind = KindFromName(j.at("kind").get<std::string>());
    a.description = j.value("description", "");
    a.lock = j.value("lock", "");
    a.sql = j.value("sql", std::vector<std::string>{});
    a.schema = j.value("schema", "");
    a.table = j.value("table", "");
    a.key_columns = j.value("key_columns", std::vector<std::string>{});
    if (j.contains("detail")) a.detail = j.at("detail");
    actions.push_back(std::move(a));
  }
  return actions;
}

void DescribePhase(std::string& out, std::string_view title, const std::vector<Action>& actions) {
  out += fmt::format("{}:\n", title);
  if (actions.empty()) out += "  (nothing)\n";
  int n = 0;
  for (const auto& a : actions) {
    out += fmt::format("  {}. {}\n     lock: {}\n", ++n, a.description, a.lock);
    for (const auto& sql : a.sql) out += fmt::format("     {}\n", sql);
  }
}

}  // namespace

std::optional<Mechanism> MechanismFromName(std::string_view name) {
  if (name == "auto") return Mechanism::kAuto;
  if (name == "inplace") return Mechanism::kInPlace;
  if (name == "shadow") return Mechanism::kShadow;
  return std::nullopt;
}

std::string_view MechanismName(Mechanism mechanism) {
  switch (mechanism) {
    case Mechanism::kAuto:
      return "auto";
    case Mechanism::kInPlace:
      return "inplace";
    case Mechanism::kShadow:
      return "shadow";
  }
  return "auto";
}

nlohmann::json ToJson(const Plan& plan) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : plan.checks) {
    checks.push_back({{"description", c.description},
                      {"schema", c.schema},
                      {"table", c.table},
                      {"key_columns", c.key_columns},
                      {"select_sql", c.select_sql}});
  }
  return {{"version_schema", plan.version_schema},
          {"start", ActionsToJson(plan.start)},
          {"complete", ActionsToJson(plan.complete)},
          {"rollback", ActionsToJson(plan.rollback)},
          {"checks", checks}};
}

Plan PlanFromJson(const nlohmann::json& json) {
  Plan plan;
  plan.version_schema = json.value("version_schema", "");
  plan.start = ActionsFromJson(json.at("start"));
  plan.complete = ActionsFromJson(json.at("complete"));
  plan.rollback = ActionsFromJson(json.at("rollback"));
  for (const auto& c : json.value("checks", nlohmann::json::array())) {
    plan.checks.push_back({c.at("description").get<std::string>(),
                           c.at("schema").get<std::string>(), c.at("table").get<std::string>(),
                           c.at("key_columns").get<std::vector<std::string>>(),
                           c.at("select_sql").get<std::string>()});
  }
  return plan;
}

std::string Describe(const Plan& plan) {
  std::string out;
  DescribePhase(out, "start (expand: old and new versions both work afterwards)", plan.start);
  DescribePhase(out, "complete (contract: the old version goes away)", plan.complete);
  DescribePhase(out, "rollback (before complete: back to the old schema, no data lost)",
                plan.rollback);
  out += fmt::format("new version: SET search_path TO {}\n", plan.version_schema);
  return out;
}

}  // namespace zerodown::engine
