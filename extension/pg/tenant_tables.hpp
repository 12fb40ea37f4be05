// What pg/tenant_rows and pg/tenant_writes share: tenant tables opened by name with their
// oid cached per backend, columns found by name, tenant indexes checked.
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "utils/rel.h"
}

namespace sk::pg {

// The cached oid of `table` ("sk.item_stock"), InvalidOid until it is first opened. Oids
// are resolved once per backend (by name, a fifth of a keyed read's cost) and forgotten
// when their relation cache entry is invalidated: a dropped and re-created extension has
// new oids. C++-level (it may allocate).
Oid* tenant_table_oid(const char* table);

// From here on, PostgreSQL-level: call inside pg::catching.

// `table` opened with `mode`, through its cached oid `known`.
Relation open_tenant_table(const char* table, Oid* known, LOCKMODE mode);

// The attribute number of column `name`; an error if the table has none.
AttrNumber column_number(Relation heap, const char* name);

// Fails unless the index's first two key columns are (account_id text, livemode boolean):
// what makes a search of it one tenant's.
void check_tenant_index(Relation heap, Relation index);

}  // namespace sk::pg
