#include "zerodown/pg/catalog_sequences.hpp"

namespace zerodown::pg {

std::vector<ColumnSequence> SequencesOwnedByColumns(Connection& conn, const std::string& regclass) {
  Rows rows = conn.ExecPrepared(
      "SELECT n.nspname, s.relname, a.attname FROM pg_depend d JOIN pg_class s ON s.oid = "
      "d.objid AND s.relkind = 'S' JOIN pg_namespace n ON n.oid = s.relnamespace JOIN "
      "pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid WHERE d.classid "
      "= 'pg_class'::regclass AND d.refobjid = $1::regclass AND d.deptype = 'a'",
      {regclass});
  std::vector<ColumnSequence> sequences;
  for (int r = 0; r < rows.size(); ++r) {
    sequences.push_back({{rows.Text(r, 0), rows.Text(r, 1)}, rows.Text(r, 2)});
  }
  return sequences;
}

std::vector<IdentitySequencePair> IdentitySequencePairs(Connection& conn, const std::string& from,
                                                        const std::string& to) {
  Rows rows = conn.ExecPrepared(
      "SELECT pg_get_serial_sequence($1::text, a.attname), "
      "pg_get_serial_sequence($2::text, a.attname), s.relname, s.oid::text "
      "FROM pg_attribute a JOIN pg_class s ON s.oid = "
      "pg_get_serial_sequence($1::text, a.attname)::regclass WHERE a.attrelid = $2::regclass AND "
      "a.attnum > 0 AND NOT a.attisdropped AND a.attidentity <> ''",
      {from, to});
  std::vector<IdentitySequencePair> pairs;
  for (int r = 0; r < rows.size(); ++r) {
    pairs.push_back({rows.Text(r, 0), rows.Text(r, 1), rows.Text(r, 2), rows.Text(r, 3)});
  }
  return pairs;
}

std::vector<IdentityBounds> IdentitySequenceBounds(Connection& conn, const std::string& from,
                                                   const std::string& to) {
  Rows rows = conn.Exec(
      "SELECT pg_get_serial_sequence($2::text, a.attname), format_type(n.atttypid, NULL), "
      "q.seqincrement > 0, q.seqmax = CASE q.seqtypid WHEN 'int2'::regtype THEN 32767 WHEN "
      "'int4'::regtype THEN 2147483647 ELSE 9223372036854775807 END, q.seqmin = CASE "
      "q.seqtypid WHEN 'int2'::regtype THEN -32768 WHEN 'int4'::regtype THEN -2147483648 ELSE "
      "-9223372036854775808 END FROM pg_attribute a JOIN pg_sequence q ON q.seqrelid = "
      "pg_get_serial_sequence($1::text, a.attname)::regclass JOIN pg_attribute n ON n.attrelid = "
      "$2::regclass AND n.attname = a.attname WHERE a.attrelid = $1::regclass AND a.attnum > 0 "
      "AND NOT a.attisdropped AND a.attidentity <> ''",
      {from, to});
  std::vector<IdentityBounds> bounds;
  for (int r = 0; r < rows.size(); ++r) {
    bounds.push_back(
        {rows.Text(r, 0), rows.Text(r, 1), rows.Bool(r, 2), rows.Bool(r, 3), rows.Bool(r, 4)});
  }
  return bounds;
}

std::vector<DefaultSequence> SequencesInDefault(Connection& conn, const std::string& regclass,
                                                const std::string& column) {
  Rows rows = conn.ExecPrepared(
      "SELECT s.oid::regclass::text, format_type(q.seqtypid, NULL), format_type(a.atttypid, "
      "NULL) FROM pg_attrdef ad JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum "
      "= ad.adnum JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = "
      "ad.oid AND d.refclassid = 'pg_class'::regclass JOIN pg_sequence q ON q.seqrelid = "
      "d.refobjid JOIN pg_class s ON s.oid = q.seqrelid WHERE ad.adrelid = $1::regclass AND "
      "a.attname = $2",
      {regclass, column});
  std::vector<DefaultSequence> sequences;
  for (int r = 0; r < rows.size(); ++r) {
    sequences.push_back({rows.Text(r, 0), rows.Text(r, 1), rows.Text(r, 2)});
  }
  return sequences;
}

}  // namespace zerodown::pg
