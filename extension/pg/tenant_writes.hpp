// One tenant's rows written without a statement: inserted, found by a unique key and
// updated through PostgreSQL's executor helpers (those of logical replication's apply),
// so NOT NULL and CHECK constraints hold, every index gets its entry and unique keys are
// enforced exactly as by INSERT and UPDATE. What a statement adds on top, and a
// posting's statement of five data-modifying CTEs paid on every call, is left out:
// planning its expressions, the row-level policies' checks, RETURNING projections and
// CTE scans (executor start-up alone was a quarter of a movement POST's instructions).
//
// The tenant's columns are never the caller's: a writer fills account_id and livemode
// with the tenant it was opened for, the verified one the policies compare. A table
// whose other columns are not all named with their exact types (no domain, no typmod:
// the values are not coerced), or which has a trigger for the operation, is refused, so
// no default, check or trigger can silently be skipped. The caller's role needs the
// INSERT or UPDATE privilege, as for the statement.
//
// PostgreSQL-level: every function here is called inside pg::catching, with plain values.
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "storage/itemptr.h"
#include "utils/snapshot.h"
}

namespace sk::pg {

struct TenantWriter;

// A column written, and the type of the Datums given for it.
struct WriterColumn {
  const char* name;
  Oid type;
};

// Opens `table` (its oid cached in `known`, pg/tenant_tables) to write `columns`, every
// column but account_id and livemode, for the tenant (account_id, livemode).
TenantWriter* open_tenant_writer(const char* table, Oid* known, const WriterColumn* columns, int ncolumns,
                                 const char* account_id, bool livemode);

// The table's row type, for renderers of the tuples written.
TupleDesc tenant_writer_desc(TenantWriter* w);

// Inserts a row: `values` and `nulls` in the order of the writer's columns. Returns the
// stored tuple, valid until the writer's next write.
HeapTuple insert_tenant_row(TenantWriter* w, const Datum* values, const bool* nulls);

// The tenant's row whose key in unique index `index` is (account_id, livemode, `key`...),
// NULL matching NULL (only in a NULLS NOT DISTINCT index), visible to `snapshot`: its columns
// into `values`/`nulls` (the writer's order) and its version into `tid`. False if none.
bool find_tenant_row(TenantWriter* w, const char* index, const Datum* key, const bool* key_nulls, int nkey,
                     Snapshot snapshot, Datum* values, bool* nulls, ItemPointer tid);

// Replaces the row version `tid` with `values`. The caller must hold what serializes the
// row's writers (its lock, or its item's): a version updated meanwhile is an error here,
// as it would be a lost update. Returns the stored tuple, valid until the next write.
HeapTuple update_tenant_row(TenantWriter* w, ItemPointer tid, const Datum* values, const bool* nulls);

// Closes the writer; its table stays locked (RowExclusiveLock) until the transaction ends.
void close_tenant_writer(TenantWriter* w);

}  // namespace sk::pg
