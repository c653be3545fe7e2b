#include "zerodown/load/workload.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

namespace zerodown::load {

const std::string_view kTpcbScript = R"(\set aid random(1, 100000 * :scale)
\set bid random(1, 1 * :scale)
\set tid random(1, 10 * :scale)
\set delta random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;
UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = :bid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (:tid, :bid, :aid, :delta, CURRENT_TIMESTAMP);
END;
)";

namespace {

const std::vector<std::string> kPredefined = {"scale", "client_id"};

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string Trim(std::string_view text) {
  auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  auto end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

class Parser {
 public:
  explicit Parser(const ScriptSource& source) : source_(source) {
    defined_.insert(defined_.end(), kPredefined.begin(), kPredefined.end());
  }

  Result<Script> Parse() {
    Script script{source_.name, source_.weight, {}};
    std::istringstream in(source_.text);
    std::string line;
    std::string pending;  // SQL accumulated until its terminating `;`
    int pending_line = 0;
    while (std::getline(in, line)) {
      ++line_;
      std::string trimmed = Trim(line);
      if (pending.empty() && (trimmed.empty() || trimmed.starts_with("--"))) continue;
      if (pending.empty() && trimmed.starts_with("\\")) {
        auto command = ParseBackslash(trimmed);
        if (!command.ok()) return command.error();
        script.commands.push_back(std::move(command).value());
        continue;
      }
      if (pending.empty()) pending_line = line_;
      pending += line + "\n";
      // Split on every `;` outside quotes and comments; what follows stays pending.
      for (;;) {
        auto end = StatementEnd(pending);
        if (end == std::string::npos) break;
        std::string statement = Trim(std::string_view(pending).substr(0, end));
        pending = Trim(std::string_view(pending).substr(end + 1));
        if (!pending.empty()) pending += "\n";
        if (statement.empty()) continue;
        auto sql = Substitute(statement, pending_line);
        if (!sql.ok()) return sql.error();
        Command command;
        command.sql = std::move(sql).value();
        script.commands.push_back(std::move(command));
      }
    }
    if (!Trim(pending).empty()) {
      auto sql = Substitute(Trim(pending), pending_line);
      if (!sql.ok()) return sql.error();
      Command command;
      command.sql = std::move(sql).value();
      script.commands.push_back(std::move(command));
    }
    if (script.commands.empty()) return Fail("the script has no commands", 0);
    return script;
  }

 private:
  Error Fail(const std::string& message, int line) const {
    std::string where = line > 0 ? fmt::format("{}, line {}", source_.name, line) : source_.name;
    return Error(ErrorKind::kUsage, message,
                 "Scripts take `\\set name random(low, high)`, `\\set name expr` and SQL "
                 "statements ending in `;` (see `zerodown bench --help`).")
        .WithWhere(where);
  }

  // Index of the first `;` in `text` outside quotes and comments, or npos.
  static std::size_t StatementEnd(const std::string& text) {
    char quote = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '-' && i + 1 < text.size() && text[i + 1] == '-') {
        i = text.find('\n', i);
        if (i == std::string::npos) return i;
      } else if (c == ';') {
        return i;
      }
    }
    return std::string::npos;
  }

  bool Defined(const std::string& name) const {
    return std::find(defined_.begin(), defined_.end(), name) != defined_.end();
  }

  Result<Term> ParseTerm(const std::string& text) {
    Term term;
    std::string rest = text;
    std::size_t start = 0;
    for (;;) {
      auto star = rest.find('*', start);
      std::string factor =
          Trim(rest.substr(start, star == std::string::npos ? star : star - start));
      if (factor.empty()) return Fail("empty operand in `" + text + "`", line_);
      if (factor[0] == ':') {
        std::string name = factor.substr(1);
        if (!Defined(name)) return Fail("variable :" + name + " is used before \\set", line_);
        term.variables.push_back(name);
      } else {
        std::int64_t value = 0;
        auto [end, ec] = std::from_chars(factor.data(), factor.data() + factor.size(), value);
        if (ec != std::errc() || end != factor.data() + factor.size())
          return Fail("`" + factor + "` is neither an integer nor a :variable", line_);
        term.literals.push_back(value);
      }
      if (star == std::string::npos) break;
      start = star + 1;
    }
    return term;
  }

  Result<Command> ParseBackslash(const std::string& line) {
    std::istringstream words(line);
    std::string verb, name;
    words >> verb >> name;
    if (verb != "\\set") return Fail("unsupported command `" + verb + "`", line_);
    if (name.empty() || !IsIdentStart(name[0]) ||
        !std::all_of(name.begin(), name.end(), IsIdentChar))
      return Fail("`\\set` needs a variable name", line_);
    std::string expr;
    std::getline(words, expr);
    expr = Trim(expr);
    Command command;
    command.is_set = true;
    command.set.variable = name;
    if (expr.starts_with("random(") && expr.ends_with(")")) {
      std::string args = expr.substr(7, expr.size() - 8);
      auto comma = args.find(',');
      if (comma == std::string::npos) return Fail("random() takes two arguments", line_);
      auto low = ParseTerm(args.substr(0, comma));
      if (!low.ok()) return low.error();
      auto high = ParseTerm(args.substr(comma + 1));
      if (!high.ok()) return high.error();
      command.set.random = true;
      command.set.low = std::move(low).value();
      command.set.high = std::move(high).value();
    } else {
      auto value = ParseTerm(expr);
      if (!value.ok()) return value.error();
      command.set.low = std::move(value).value();
    }
    defined_.push_back(name);
    return command;
  }

  // Replaces each `:name` outside quotes (not a `::` cast) with a parameter number.
  Result<SqlCommand> Substitute(const std::string& statement, int line) {
    SqlCommand out;
    char quote = 0;
    for (std::size_t i = 0; i < statement.size(); ++i) {
      char c = statement[i];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == ':' && i + 1 < statement.size() && statement[i + 1] == ':') {
        out.sql += "::";
        ++i;
        continue;
      } else if (c == ':' && i + 1 < statement.size() && IsIdentStart(statement[i + 1])) {
        std::size_t end = i + 1;
        while (end < statement.size() && IsIdentChar(statement[end])) ++end;
        std::string name = statement.substr(i + 1, end - i - 1);
        if (!Defined(name)) return Fail("variable :" + name + " is used before \\set", line);
        auto found = std::find(out.parameters.begin(), out.parameters.end(), name);
        std::size_t index = found - out.parameters.begin();
        if (found == out.parameters.end()) out.parameters.push_back(name);
        out.sql += fmt::format("${}", index + 1);
        i = end - 1;
        continue;
      }
      out.sql += c;
    }
    return out;
  }

  const ScriptSource& source_;
  std::vector<std::string> defined_;
  int line_ = 0;
};

}  // namespace

Result<Script> ParseScript(const ScriptSource& source) { return Parser(source).Parse(); }

Result<ScriptSource> ReadScriptSpec(const std::string& spec) {
  ScriptSource source;
  source.name = spec;
  auto at = spec.rfind('@');
  if (at != std::string::npos) {
    source.name = spec.substr(0, at);
    std::string weight = spec.substr(at + 1);
    auto [end, ec] = std::from_chars(weight.data(), weight.data() + weight.size(), source.weight);
    if (ec != std::errc() || end != weight.data() + weight.size() || source.weight <= 0)
      return Error(ErrorKind::kUsage, "script weight `" + weight + "` is not a positive integer",
                   "Write FILE@WEIGHT, for example reads.sql@9.");
  }
  std::ifstream in(source.name);
  if (!in)
    return Error(ErrorKind::kUsage, "cannot read script file " + source.name,
                 "Check the path; scripts are plain text files of SQL and \\set lines.");
  std::ostringstream text;
  text << in.rdbuf();
  source.text = text.str();
  return source;
}

Variables::Variables(std::int64_t scale, int client_id) {
  values_ = {{"scale", scale}, {"client_id", client_id}};
}

void Variables::Set(const std::string& name, std::int64_t value) {
  for (auto& [key, current] : values_) {
    if (key == name) {
      current = value;
      return;
    }
  }
  values_.emplace_back(name, value);
}

std::int64_t Variables::Get(const std::string& name) const {
  for (const auto& [key, value] : values_)
    if (key == name) return value;
  throw Error(ErrorKind::kUsage, "variable :" + name + " is not set");
}

std::int64_t Variables::Evaluate(const Term& term) const {
  std::int64_t product = 1;
  for (auto literal : term.literals) product *= literal;
  for (const auto& name : term.variables) product *= Get(name);
  return product;
}

void ApplySet(const SetCommand& set, Variables& variables, std::mt19937_64& rng) {
  std::int64_t low = variables.Evaluate(set.low);
  if (!set.random) {
    variables.Set(set.variable, low);
    return;
  }
  std::int64_t high = variables.Evaluate(set.high);
  if (high < low) std::swap(low, high);
  variables.Set(set.variable, std::uniform_int_distribution<std::int64_t>(low, high)(rng));
}

}  // namespace zerodown::load
