#include "engine/shadow/sequences.hpp"

#include <fmt/format.h>

#include <map>

#include "zerodown/pg/catalog_sequences.hpp"

namespace zerodown::engine::shadow {

void CarryIdentitySequences(pg::Connection& c, const std::string& from, const std::string& to) {
  for (const pg::IdentitySequencePair& p : pg::IdentitySequencePairs(c, from, to)) {
    c.Exec(
        fmt::format("SELECT setval($1::regclass, last_value, is_called) FROM {}", p.from_sequence),
        {p.to_sequence});
    c.Exec(fmt::format("ALTER SEQUENCE {} RENAME TO {}", p.from_sequence,
                       c.Ident("_zd_seq_" + p.from_oid)));
    c.Exec(fmt::format("ALTER SEQUENCE {} RENAME TO {}", p.to_sequence, c.Ident(p.from_name)));
  }
}

std::vector<std::string> WidenSequences(pg::Connection& c, const ShadowCopySpec& spec,
                                        const std::string& live) {
  std::vector<std::string> out;
  static const std::map<std::string, int> kWidth = {{"smallint", 1}, {"integer", 2}, {"bigint", 3}};
  for (const auto& r : spec.retyped) {
    for (const pg::DefaultSequence& q : pg::SequencesInDefault(c, live, r.name)) {
      auto from = kWidth.find(q.sequence_type);
      auto to = kWidth.find(q.column_type);
      if (from == kWidth.end() || to == kWidth.end() || to->second <= from->second) continue;
      // Both names come from format_type: fixed keywords.
      out.push_back(fmt::format("ALTER SEQUENCE {} AS {}", q.sequence, q.column_type));
    }
  }
  return out;
}

}  // namespace zerodown::engine::shadow
