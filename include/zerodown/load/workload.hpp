// Workload scripts for the load runner: the built-in TPC-B-like transaction of pgbench and user
// SQL scripts in a small pgbench-like syntax. A script is parsed once into commands; running it
// binds its :variables as query parameters. It does not talk to the server: the runner does.
//
// Syntax (one command per line; SQL may span lines and ends with `;`):
//   \set NAME random(LOW, HIGH)     a uniform random integer in [LOW, HIGH]
//   \set NAME EXPR                  EXPR is an integer, a :variable, or a product `A * B`
//   -- comment                      ignored
//   any SQL;                        run as one statement; `:name` is replaced by a parameter
// Predefined variables: :scale (pgbench's scale factor) and :client_id (0-based).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "zerodown/common/error.hpp"

namespace zerodown::load {

// One source script and how often it is picked relative to the others.
struct ScriptSource {
  std::string name;  // shown in errors: a file name or "tpcb"
  std::string text;
  int weight = 1;
};

// A `\set` operand: a literal or a variable, multiplied together.
struct Term {
  std::vector<std::int64_t> literals;
  std::vector<std::string> variables;
};

struct SetCommand {
  std::string variable;
  bool random = false;
  Term low;   // the value when !random
  Term high;  // used when random
};

// A statement with `:name` replaced by $1, $2…; `parameters[i]` names the variable for $(i+1).
struct SqlCommand {
  std::string sql;
  std::vector<std::string> parameters;
};

struct Command {
  bool is_set = false;
  SetCommand set;
  SqlCommand sql;
};

struct Script {
  std::string name;
  int weight = 1;
  std::vector<Command> commands;
};

// The pgbench TPC-B-like transaction, verbatim from pgbench's built-in "tpcb-like" script.
extern const std::string_view kTpcbScript;

// Parses a script. Fails with kUsage naming the script and line for an unknown backslash command,
// a malformed \set, or a variable used before it is set (predefined ones excepted).
Result<Script> ParseScript(const ScriptSource& source);

// Parses "FILE@WEIGHT" or "FILE" (weight 1) and reads the file. Fails with kUsage on a missing
// file or a weight that is not a positive integer.
Result<ScriptSource> ReadScriptSpec(const std::string& spec);

// Variables of one client: predefined ones plus whatever `\set` assigned.
class Variables {
 public:
  Variables(std::int64_t scale, int client_id);
  void Set(const std::string& name, std::int64_t value);
  // Throws Error(kUsage) for an unknown variable (ParseScript rules this out for parsed scripts).
  std::int64_t Get(const std::string& name) const;
  std::int64_t Evaluate(const Term& term) const;

 private:
  std::vector<std::pair<std::string, std::int64_t>> values_;
};

// Runs a \set command against `variables`.
void ApplySet(const SetCommand& set, Variables& variables, std::mt19937_64& rng);

}  // namespace zerodown::load
