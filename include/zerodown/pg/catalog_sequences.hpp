// Catalog reads of the sequences behind a table's columns: serial sequences it owns, identity
// sequences, sequences its column defaults call. Each query takes the names as parameters;
// nothing here changes the database.
#pragma once

#include <string>
#include <vector>

#include "zerodown/pg/catalog.hpp"
#include "zerodown/pg/connection.hpp"

namespace zerodown::pg {

// A sequence a column owns (serial or identity: pg_depend's deptype 'a').
struct ColumnSequence {
  QualifiedName sequence;
  std::string column;
};
// The sequences owned by columns of relation `regclass` (quoted, qualified); a swap re-owns them
// by the new heap, or dropping the old heap would drop them. Prepared: the swap reads them under
// its lock.
std::vector<ColumnSequence> SequencesOwnedByColumns(Connection& conn, const std::string& regclass);

// The identity sequences of the columns two tables share.
struct IdentitySequencePair {
  std::string from_sequence;  // `from`'s column's, pg_get_serial_sequence (quoted, qualified)
  std::string to_sequence;    // `to`'s column's of the same name
  std::string from_name;      // the relname of `from`'s sequence, unquoted
  std::string from_oid;       // its oid, as text
};
// For each identity column of relation `to`, its sequence and the sequence of `from`'s column of
// the same name; a swap (and a swap back) carries the values over and the names across.
// Prepared: the swap reads them under its lock.
std::vector<IdentitySequencePair> IdentitySequencePairs(Connection& conn, const std::string& from,
                                                        const std::string& to);

// An identity sequence of one table, with the type a column of the same name has in another.
struct IdentityBounds {
  std::string sequence;     // `to`'s column's sequence, pg_get_serial_sequence (quoted, qualified)
  std::string column_type;  // format_type of `to`'s column, without typmod
  bool ascending = true;    // seqincrement > 0
  bool max_is_type_max = false;  // seqmax is the largest value of the sequence's own type
  bool min_is_type_min = false;  // seqmin is the smallest value of the sequence's own type
};
// For each identity column of relation `from` that relation `to` has too: `to`'s sequence, its
// column's type and whether `from`'s sequence keeps its type's default bounds; the new heap's
// sequences are given the new column types with the same bounds.
std::vector<IdentityBounds> IdentitySequenceBounds(Connection& conn, const std::string& from,
                                                   const std::string& to);

// A sequence that a column's default calls (nextval), with its type and the column's.
struct DefaultSequence {
  std::string sequence;       // regclass text
  std::string sequence_type;  // format_type of the sequence's type
  std::string column_type;    // format_type of the column's type
};
// The sequences the default of column `column` of relation `regclass` depends on; a column that
// widens widens them too. Prepared: read before the swap and again under its lock.
std::vector<DefaultSequence> SequencesInDefault(Connection& conn, const std::string& regclass,
                                                const std::string& column);

}  // namespace zerodown::pg
