#include "sql/translate_table.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "sql/expr_text.hpp"

namespace zerodown::sql {

namespace {

using Json = nlohmann::json;

Result<Json> ForeignKey(const StatementText& s, const std::string& table, const std::string& name,
                        const Json& c) {
  std::string target = c.at("pktable").at("relname");
  std::vector<std::string> pk;
  for (const auto& k : c.value("pk_attrs", Json::array())) pk.push_back(Str(k));
  if (pk.size() != 1) {
    return Error(ErrorKind::kInvalidMigration,
                 "a column REFERENCES clause must name the referenced column",
                 fmt::format("Write REFERENCES {} (id).", target))
        .WithWhere(s.Where());
  }
  return Json{{"name", c.value("conname", table + "_" + name + "_fkey")},
              {"table", target},
              {"column", pk[0]}};
}

}  // namespace

std::string StatementText::ExprText(const Json& node, std::size_t bound, std::size_t offset) const {
  return sql::ExprText(*file.text, tokens, node, std::min(bound, statement.end), offset);
}

std::string StatementText::Where() const {
  return fmt::format("{}:{}:{}", file.path, statement.start.line, statement.start.column);
}

std::string StatementText::Excerpt() const {
  std::string text(statement.text.substr(0, statement.text.find('\n')));
  return text.size() > 80 ? text.substr(0, 77) + "..." : text;
}

Result<Json> TranslateColumn(const StatementText& s, const std::string& table, const Json& def) {
  std::string name = def.at("colname");
  Json column = {{"name", name}, {"type", TypeName(def.at("typeName"))}, {"nullable", true}};
  const Json constraints = def.value("constraints", Json::array());
  for (std::size_t i = 0; i < constraints.size(); ++i) {
    const Json& c = constraints[i].at("Constraint");
    std::string type = c.at("contype");
    std::size_t bound = i + 1 < constraints.size()
                            ? constraints[i + 1].at("Constraint").value("location", 0)
                            : s.statement.end;
    if (type == "CONSTR_NOTNULL") {
      column["nullable"] = false;
    } else if (type == "CONSTR_NULL") {
      column["nullable"] = true;
    } else if (type == "CONSTR_DEFAULT") {
      column["default"] = s.ExprText(c.at("raw_expr"), bound);
    } else if (type == "CONSTR_PRIMARY") {
      column["pk"] = true;
    } else if (type == "CONSTR_UNIQUE") {
      column["unique"] = true;
    } else if (type == "CONSTR_IDENTITY") {
      column["generated"] = {{"identity",
                              {{"user_specified_values",
                                c.value("generated_when", "a") == "a" ? "ALWAYS" : "BY DEFAULT"}}}};
    } else if (type == "CONSTR_CHECK") {
      column["check"] = {{"name", c.value("conname", table + "_" + name + "_check")},
                         {"constraint", s.ExprText(c.at("raw_expr"), bound)}};
    } else if (type == "CONSTR_FOREIGN") {
      auto reference = ForeignKey(s, table, name, c);
      if (!reference.ok()) return reference.error();
      column["references"] = reference.value();
    } else {
      return Error(ErrorKind::kInvalidMigration,
                   fmt::format("column constraint {} is not translated", type.substr(7)),
                   "Add it in a later migration.")
          .WithWhere(s.Where());
    }
  }
  if (column.value("pk", false)) column.erase("nullable");
  return column;
}

Result<TableTranslation> TranslateCreateTable(const StatementText& s, const Json& body) {
  std::string table = body.at("relation").at("relname");
  Json columns = Json::array();
  Json constraints = Json::array();
  for (const auto& element : body.value("tableElts", Json::array())) {
    if (element.contains("ColumnDef")) {
      auto column = TranslateColumn(s, table, element.at("ColumnDef"));
      if (!column.ok()) return column.error();
      columns.push_back(column.value());
      continue;
    }
    const Json& c = element.at("Constraint");
    std::string type = c.at("contype");
    Json keys = Json::array();
    for (const auto& k : c.value("keys", Json::array())) keys.push_back(Str(k));
    if (type == "CONSTR_PRIMARY") {
      for (auto& column : columns) {
        if (std::find(keys.begin(), keys.end(), column["name"]) != keys.end()) {
          column["pk"] = true;
          column.erase("nullable");
        }
      }
    } else if (type == "CONSTR_UNIQUE") {
      constraints.push_back(
          {{"name", c.value("conname", table + "_" + keys[0].get<std::string>() + "_key")},
           {"type", "unique"},
           {"columns", keys}});
    } else if (type == "CONSTR_CHECK") {
      constraints.push_back({{"name", c.value("conname", table + "_check")},
                             {"type", "check"},
                             {"check", s.ExprText(c.at("raw_expr"))}});
    } else {
      return TableTranslation{Json(), type.substr(7)};
    }
  }
  Json op = {{"name", table}, {"columns", columns}};
  if (!constraints.empty()) op["constraints"] = constraints;
  return TableTranslation{{{"create_table", op}}, std::nullopt};
}

}  // namespace zerodown::sql
