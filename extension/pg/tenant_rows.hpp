// One tenant's rows of a table, fetched by primary key straight from its index: no
// statement, so no executor start-up, which was most of the cost of the hottest lookups
// (a one-row SPI statement cost a cached GET /items/{id}/stock a sixth of its
// instructions, and locking an item's stock row an eighth of a movement POST's).
// Everything else reads through SPI and its policies.
#pragma once
#include <string>
#include <vector>

#include "pg/spi.hpp"

namespace sk::pg {

// A column to read, as text: by its type's output function, or by `text` (a
// PostgreSQL-level function of the Datum, palloc'ing its result; it may raise).
struct Column {
  const char* name;
  char* (*text)(uintptr_t datum) = nullptr;
};

// Rows of `table` ("sk.item_stock") whose primary key is (account_id, livemode, id)
// for each of `ids`: `columns` as text, then the row version's xmin and its ctid
// ("(block,offset)": the version a lock took, which pg/tenant_writes updates). Rows that
// do not exist are left out. The tenant is the leading part of every key searched, the same
// (account, livemode) the row-level policies compare, so another tenant's row can never
// be fetched; a table whose key does not start with those two columns is refused.
//
// Reads with the calling statement's snapshot, so only inside a ReadOnlyScope, where
// SPI's statements read that snapshot too.
std::vector<Row> tenant_rows(const char* table, const std::vector<Column>& columns, const std::string& account_id,
                             bool livemode, const std::vector<std::string>& ids);

// The same rows locked FOR UPDATE, in the order of `ids` (sorted, so that every locker
// takes them in one order), as SELECT … FOR UPDATE does outside a ReadOnlyScope: after
// the transaction's earlier writes (a new command), under a new snapshot in READ
// COMMITTED, where a row updated since is locked and read in its latest version; under
// REPEATABLE READ or SERIALIZABLE a row changed since the snapshot is a serialization
// failure (SQLSTATE 40001). A row deleted meanwhile is left out.
std::vector<Row> lock_tenant_rows(const char* table, const std::vector<Column>& columns, const std::string& account_id,
                                  bool livemode, const std::vector<std::string>& ids);

}  // namespace sk::pg
