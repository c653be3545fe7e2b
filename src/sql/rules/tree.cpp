// Reading libpg_query's JSON parse tree without inserting into it (operator[] on a const json
// asserts on a missing key, so every lookup goes through Get).
#include <algorithm>
#include <cctype>

#include "sql/rules/rule.hpp"

namespace zerodown::sql::rules {
namespace {
const Json kNull;
}  // namespace

const Json& Inner(const Json& node) {
  if (!node.is_object() || node.size() != 1) return kNull;
  return node.begin().value();
}

std::string_view NodeType(const Json& node) {
  if (!node.is_object() || node.size() != 1) return {};
  return node.begin().key();
}

const Json& Get(const Json& node, std::string_view key) {
  if (!node.is_object()) return kNull;
  auto it = node.find(key);
  return it == node.end() ? kNull : *it;
}

std::string GetString(const Json& node, std::string_view key) {
  const Json& value = Get(node, key);
  return value.is_string() ? value.get<std::string>() : std::string();
}

bool GetBool(const Json& node, std::string_view key) {
  const Json& value = Get(node, key);
  return value.is_boolean() && value.get<bool>();
}

int GetInt(const Json& node, std::string_view key, int fallback) {
  const Json& value = Get(node, key);
  return value.is_number_integer() ? value.get<int>() : fallback;
}

bool HasOption(const Json& list, std::string_view name) {
  if (!list.is_array()) return false;
  for (const Json& item : list) {
    if (GetString(Get(item, "DefElem"), "defname") == name) return true;
  }
  return false;
}

int LocationOf(const Json& node) {
  const Json& direct = Get(node, "location");
  if (direct.is_number_integer()) return direct.get<int>();
  return GetInt(Inner(node), "location", -1);
}

std::string QuoteIdent(std::string_view name) {
  bool plain =
      !name.empty() && (std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_');
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (!(std::islower(u) || std::isdigit(u) || c == '_' || c == '$')) plain = false;
  }
  if (plain) return std::string(name);
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string RelationName(const Json& range_var) {
  std::string schema = GetString(range_var, "schemaname");
  std::string name = QuoteIdent(GetString(range_var, "relname"));
  return schema.empty() ? name : QuoteIdent(schema) + "." + name;
}

std::string JoinNames(const Json& names) {
  std::string out;
  if (!names.is_array()) return out;
  for (const Json& item : names) {
    if (!out.empty()) out += '.';
    out += GetString(Get(item, "String"), "sval");
  }
  return out;
}

std::string QualifiedName(const Json& names) {
  std::string out;
  if (!names.is_array()) return out;
  for (const Json& item : names) {
    if (!out.empty()) out += '.';
    out += QuoteIdent(GetString(Get(item, "String"), "sval"));
  }
  return out;
}

std::string TypeRef::Display() const {
  static const std::map<std::string, std::string, std::less<>> kSqlNames = {
      {"int2", "smallint"}, {"int4", "integer"},
      {"int8", "bigint"},   {"bool", "boolean"},
      {"float4", "real"},   {"float8", "double precision"},
      {"bpchar", "char"},   {"timestamptz", "timestamptz"}};
  auto it = kSqlNames.find(name);
  std::string out = it == kSqlNames.end() ? name : it->second;
  if (!mods.empty()) {
    out += '(';
    for (std::size_t i = 0; i < mods.size(); ++i) {
      if (i > 0) out += ',';
      out += std::to_string(mods[i]);
    }
    out += ')';
  }
  if (array) out += "[]";
  return out;
}

std::optional<TypeRef> ReadType(const Json& type_name) {
  const Json& names = Get(type_name, "names");
  if (!names.is_array() || names.empty()) return std::nullopt;
  TypeRef type;
  type.name = GetString(Get(names.back(), "String"), "sval");
  for (const Json& mod :
       Get(type_name, "typmods").is_array() ? Get(type_name, "typmods") : Json::array()) {
    // An A_Const of 0 prints as {"ival": {}}: the missing field is the zero.
    const Json& ival = Get(Get(Get(mod, "A_Const"), "ival"), "ival");
    type.mods.push_back(ival.is_number_integer() ? ival.get<int>() : 0);
  }
  type.array = Get(type_name, "arrayBounds").is_array();
  return type;
}

std::vector<const Json*> AlterTableCommands(const Json& statement_node) {
  std::vector<const Json*> out;
  const Json& cmds = Get(Get(statement_node, "AlterTableStmt"), "cmds");
  if (!cmds.is_array()) return out;
  for (const Json& cmd : cmds) {
    const Json& inner = Get(cmd, "AlterTableCmd");
    if (inner.is_object()) out.push_back(&inner);
  }
  return out;
}

std::vector<const Json*> CreateTableColumns(const Json& statement_node) {
  std::vector<const Json*> out;
  const Json& elements = Get(Get(statement_node, "CreateStmt"), "tableElts");
  if (!elements.is_array()) return out;
  for (const Json& element : elements) {
    const Json& column = Get(element, "ColumnDef");
    if (column.is_object()) out.push_back(&column);
  }
  return out;
}

std::vector<const Json*> ColumnConstraints(const Json& column_def) {
  std::vector<const Json*> out;
  const Json& constraints = Get(column_def, "constraints");
  if (!constraints.is_array()) return out;
  for (const Json& constraint : constraints) {
    const Json& inner = Get(constraint, "Constraint");
    if (inner.is_object()) out.push_back(&inner);
  }
  return out;
}

}  // namespace zerodown::sql::rules

namespace zerodown::sql::rules {
namespace {

std::vector<std::string> PrimaryKeyColumns(const Json& create) {
  std::vector<std::string> out;
  const Json& elements = Get(create, "tableElts");
  if (!elements.is_array()) return out;
  for (const Json& element : elements) {
    const Json& constraint = Get(element, "Constraint");
    if (GetString(constraint, "contype") != "CONSTR_PRIMARY") continue;
    const Json& keys = Get(constraint, "keys");
    if (!keys.is_array()) continue;
    for (const Json& key : keys) out.push_back(GetString(Get(key, "String"), "sval"));
  }
  return out;
}

bool HasPrimaryKeyConstraint(const Json& column_def) {
  for (const Json* constraint : ColumnConstraints(column_def)) {
    if (GetString(*constraint, "contype") == "CONSTR_PRIMARY") return true;
  }
  return false;
}

ColumnSite MakeSite(ColumnSite::Kind kind, std::string table, const Json& column_def) {
  ColumnSite site;
  site.kind = kind;
  site.table = std::move(table);
  site.column = GetString(column_def, "colname");
  const Json& type_name = Get(column_def, "typeName");
  if (auto type = ReadType(type_name)) site.type = *type;
  site.location = GetInt(type_name, "location", LocationOf(column_def));
  site.definition = &column_def;
  site.primary_key = HasPrimaryKeyConstraint(column_def);
  return site;
}

}  // namespace

std::vector<ColumnSite> ColumnSites(const Statement& statement) {
  std::vector<ColumnSite> out;
  const Json& node = Inner(statement.node);
  if (statement.kind == "CreateStmt") {
    const std::string table = RelationName(Get(node, "relation"));
    const auto keys = PrimaryKeyColumns(node);
    for (const Json* column : CreateTableColumns(statement.node)) {
      ColumnSite site = MakeSite(ColumnSite::Kind::kCreateTable, table, *column);
      if (std::find(keys.begin(), keys.end(), site.column) != keys.end()) site.primary_key = true;
      out.push_back(std::move(site));
    }
  } else if (statement.kind == "AlterTableStmt") {
    const std::string table = RelationName(Get(node, "relation"));
    for (const Json* cmd : AlterTableCommands(statement.node)) {
      const std::string subtype = GetString(*cmd, "subtype");
      const Json& column = Get(Get(*cmd, "def"), "ColumnDef");
      if (!column.is_object()) continue;
      if (subtype == "AT_AddColumn") {
        out.push_back(MakeSite(ColumnSite::Kind::kAddColumn, table, column));
        out.back().command = cmd;
      } else if (subtype == "AT_AlterColumnType") {
        ColumnSite site = MakeSite(ColumnSite::Kind::kAlterType, table, column);
        site.column = GetString(*cmd, "name");
        site.command = cmd;
        out.push_back(std::move(site));
      }
    }
  }
  return out;
}

std::string_view TextFrom(const Statement& statement, int location) {
  if (location < 0 || static_cast<std::size_t>(location) < statement.begin ||
      static_cast<std::size_t>(location) >= statement.end) {
    return {};
  }
  return statement.text.substr(static_cast<std::size_t>(location) - statement.begin);
}

std::string InsertAfterWord(std::string_view sql, std::string_view keyword,
                            std::string_view insertion) {
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (std::size_t i = 0; i + keyword.size() <= sql.size(); ++i) {
    bool match = true;
    for (std::size_t k = 0; k < keyword.size() && match; ++k) {
      match = std::tolower(static_cast<unsigned char>(sql[i + k])) ==
              std::tolower(static_cast<unsigned char>(keyword[k]));
    }
    if (!match) continue;
    const std::size_t after = i + keyword.size();
    if ((i > 0 && is_word(sql[i - 1])) || (after < sql.size() && is_word(sql[after]))) continue;
    return std::string(sql.substr(0, after)) + " " + std::string(insertion) +
           std::string(sql.substr(after));
  }
  return std::string(sql);
}

std::string ExpressionSql(const Json& expression) {
  const std::string_view type = NodeType(expression);
  const Json& node = Inner(expression);
  if (type == "A_Const") {
    if (GetBool(node, "isnull")) return "NULL";
    if (Get(node, "sval").is_object()) {
      std::string value = GetString(Get(node, "sval"), "sval");
      std::string quoted = "'";
      for (char c : value) quoted += c == '\'' ? std::string("''") : std::string(1, c);
      return quoted + "'";
    }
    if (Get(node, "ival").is_object()) return std::to_string(GetInt(Get(node, "ival"), "ival"));
    if (Get(node, "fval").is_object()) return GetString(Get(node, "fval"), "fval");
    if (Get(node, "boolval").is_object()) {
      return GetBool(Get(node, "boolval"), "boolval") ? "true" : "false";
    }
  }
  if (type == "TypeCast") {
    auto cast = ReadType(Get(node, "typeName"));
    return ExpressionSql(Get(node, "arg")) + "::" + (cast ? cast->Display() : "?");
  }
  if (type == "ColumnRef") return JoinNames(Get(node, "fields"));
  if (type == "FuncCall") {
    std::string out = JoinNames(Get(node, "funcname")) + "(";
    const Json& args = Get(node, "args");
    if (args.is_array()) {
      for (std::size_t i = 0; i < args.size(); ++i) {
        if (i > 0) out += ", ";
        out += ExpressionSql(args[i]);
      }
    }
    return out + ")";
  }
  if (type == "SQLValueFunction") {
    std::string op = GetString(node, "op");  // SVFOP_CURRENT_TIMESTAMP
    if (op.rfind("SVFOP_", 0) == 0) op = op.substr(6);
    return op;
  }
  return "<expression>";
}

std::string IgnoreHint(std::string_view rule_id) {
  return " If you know better, silence it with `-- zerodown-ignore: " + std::string(rule_id) +
         "` on the line before the statement.";
}

}  // namespace zerodown::sql::rules

namespace zerodown::sql::rules {

void RecordColumnTypes(const Statement& statement, ColumnTypes& types) {
  for (const ColumnSite& site : ColumnSites(statement)) {
    if (site.type.name.empty()) continue;
    types[site.table + "." + QuoteIdent(site.column)] = site.type;
  }
}

}  // namespace zerodown::sql::rules
