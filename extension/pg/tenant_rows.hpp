// One tenant's rows of a table, fetched by primary key straight from its index: no
// statement, so no executor start-up, which was most of a cached GET /items/{id}/stock
// (a one-row SPI lookup cost 108k of its instructions). For the hot read-only paths
// only; everything else reads through SPI and its policies.
#pragma once
#include <string>
#include <vector>

#include "pg/spi.hpp"

namespace sk::pg {

// Rows of `table` ("sk.item_stock") whose primary key is (account_id, livemode, id)
// for each of `ids`: `columns` as text, then the row version's xmin. Rows that do not
// exist are left out. The tenant is the leading part of every key searched, the same
// (account, livemode) the row-level policies compare, so another tenant's row can never
// be fetched; a table whose key does not start with those two columns is refused.
// Reads with the calling statement's snapshot, so only inside a ReadOnlyScope, where
// SPI's statements read that snapshot too.
std::vector<Row> tenant_rows(const char* table, const std::vector<const char*>& columns,
                             const std::string& account_id, bool livemode, const std::vector<std::string>& ids);

}  // namespace sk::pg
