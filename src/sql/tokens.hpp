// The PostgreSQL scanner's tokens for a text, through libpg_query's pg_query_scan and its own
// generated protobuf decoder: byte ranges and token kinds, comments included.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "zerodown/common/error.hpp"

namespace zerodown::sql {

struct Token {
  std::size_t begin = 0;
  std::size_t end = 0;  // one past the last byte
  int kind = 0;         // PgQuery__Token: an ASCII code for one-character tokens
  bool comment = false;
};

Result<std::vector<Token>> ScanTokens(const std::string& text);

}  // namespace zerodown::sql
