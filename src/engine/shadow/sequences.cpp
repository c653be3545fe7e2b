#include "engine/shadow/sequences.hpp"

#include <fmt/format.h>

#include <map>

namespace zerodown::engine::shadow {

pg::Rows IdentitySequences(pg::Connection& c, const std::string& from, const std::string& to) {
  return c.ExecPrepared(
      "SELECT pg_get_serial_sequence($1::text, a.attname), "
      "pg_get_serial_sequence($2::text, a.attname), s.relname, s.oid::text "
      "FROM pg_attribute a JOIN pg_class s ON s.oid = "
      "pg_get_serial_sequence($1::text, a.attname)::regclass WHERE a.attrelid = $2::regclass AND "
      "a.attnum > 0 AND NOT a.attisdropped AND a.attidentity <> ''",
      {from, to});
}

void CarryIdentitySequences(pg::Connection& c, const std::string& from, const std::string& to) {
  pg::Rows rows = IdentitySequences(c, from, to);
  for (int r = 0; r < rows.size(); ++r) {
    c.Exec(
        fmt::format("SELECT setval($1::regclass, last_value, is_called) FROM {}", rows.Text(r, 0)),
        {rows.Text(r, 1)});
    c.Exec(fmt::format("ALTER SEQUENCE {} RENAME TO {}", rows.Text(r, 0),
                       c.Ident("_zd_seq_" + rows.Text(r, 3))));
    c.Exec(
        fmt::format("ALTER SEQUENCE {} RENAME TO {}", rows.Text(r, 1), c.Ident(rows.Text(r, 2))));
  }
}

std::vector<std::string> WidenSequences(pg::Connection& c, const ShadowCopySpec& spec,
                                        const std::string& live) {
  std::vector<std::string> out;
  static const std::map<std::string, int> kWidth = {{"smallint", 1}, {"integer", 2}, {"bigint", 3}};
  for (const auto& r : spec.retyped) {
    pg::Rows rows = c.ExecPrepared(
        "SELECT s.oid::regclass::text, format_type(q.seqtypid, NULL), format_type(a.atttypid, "
        "NULL) FROM pg_attrdef ad JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum "
        "= ad.adnum JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = "
        "ad.oid AND d.refclassid = 'pg_class'::regclass JOIN pg_sequence q ON q.seqrelid = "
        "d.refobjid JOIN pg_class s ON s.oid = q.seqrelid WHERE ad.adrelid = $1::regclass AND "
        "a.attname = $2",
        {live, r.name});
    for (int i = 0; i < rows.size(); ++i) {
      auto from = kWidth.find(rows.Text(i, 1));
      auto to = kWidth.find(rows.Text(i, 2));
      if (from == kWidth.end() || to == kWidth.end() || to->second <= from->second) continue;
      // Both names come from format_type: fixed keywords.
      out.push_back(fmt::format("ALTER SEQUENCE {} AS {}", rows.Text(i, 0), rows.Text(i, 2)));
    }
  }
  return out;
}

}  // namespace zerodown::engine::shadow
