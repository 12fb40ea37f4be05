#include "pg/tenant_rows.hpp"

#include <algorithm>

#include "pg/catching.hpp"
#include "pg/tenant_tables.hpp"

extern "C" {
#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "executor/tuptable.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/varlena.h"
}

namespace sk::pg {
namespace {

constexpr int kKeyColumns = 3;  // account_id, livemode, id
constexpr int kMaxColumns = 16;

// From here on, PostgreSQL-level code: called inside PG_TRY (catching) with plain values.

// Fails unless the index's key is (account_id, livemode, <text id>): what makes the scan
// keys below one tenant's rows.
void check_tenant_key(Relation heap, Relation index) {
  check_tenant_index(heap, index);
  if (IndexRelationGetNumberOfKeyAttributes(index) != kKeyColumns || TupleDescAttr(RelationGetDescr(index), 2)->atttypid != TEXTOID)
    elog(ERROR, "%s: primary key is not (account_id text, livemode boolean, id text)", RelationGetRelationName(heap));
}

// Locks the row version in `slot` (found under `snapshot`) as FOR UPDATE does; false
// when the row is gone. In READ COMMITTED a newer version is followed and left in the
// slot: its key columns, the only ones searched on, never change, so it still matches.
bool lock_row(Relation heap, TupleTableSlot* slot, Snapshot snapshot) {
  const bool follow = !IsolationUsesXactSnapshot();
  TM_FailureData failure;
  const uint8 flags = TUPLE_LOCK_FLAG_LOCK_UPDATE_IN_PROGRESS | (follow ? TUPLE_LOCK_FLAG_FIND_LAST_VERSION : 0);
  TM_Result result = table_tuple_lock(heap, &slot->tts_tid, snapshot, slot, GetCurrentCommandId(true),
                                      LockTupleExclusive, LockWaitBlock, flags, &failure);
  switch (result) {
    case TM_Ok:
      return true;
    case TM_SelfModified:  // by a later command of this transaction: skipped, as ExecLockRows does
      return false;
    case TM_Updated:
      if (follow) elog(ERROR, "unexpected table_tuple_lock status: %u", result);
      ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                      errmsg("could not serialize access due to concurrent update")));
      pg_unreachable();
    case TM_Deleted:
      if (!follow)
        ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                        errmsg("could not serialize access due to concurrent delete")));
      return false;
    default:
      elog(ERROR, "unexpected table_tuple_lock status: %u", result);
  }
  pg_unreachable();
}

struct Request {
  const char* table;
  Oid* relid;
  const Column* columns;
  int ncolumns;
  const char* account;
  bool livemode;
  const std::string* ids;
  int nids;
  bool lock;
};

// The rows found, in the order of ids, as a grid of C strings (columns, then xmin and
// ctid; NULL for SQL NULL), ncolumns + 2 wide; their number in *found.
char** fetch(const Request& q, uint64* found) {
  const int width = q.ncolumns + 2;
  char** out = static_cast<char**>(palloc0(sizeof(char*) * (static_cast<size_t>(q.nids) * width + 1)));
  Snapshot snapshot;
  if (q.lock) {
    CommandCounterIncrement();  // see this transaction's earlier writes, as a new statement does
    snapshot = RegisterSnapshot(GetTransactionSnapshot());
  } else {
    snapshot = GetActiveSnapshot();
    if (snapshot == nullptr) elog(ERROR, "pg::tenant_rows needs the calling statement's snapshot");
  }
  // The table locks of a SELECT, or of a SELECT … FOR UPDATE (ROW SHARE, which a LOCK
  // TABLE … IN EXCLUSIVE MODE waits for: sk.rebuild_balances() keeps movements out so).
  const LOCKMODE mode = q.lock ? RowShareLock : AccessShareLock;
  Relation heap = open_tenant_table(q.table, q.relid, mode);
  Oid pk = RelationGetPrimaryKeyIndex(heap);
  if (!OidIsValid(pk)) elog(ERROR, "%s has no primary key", RelationGetRelationName(heap));
  Relation index = index_open(pk, mode);
  check_tenant_key(heap, index);

  AttrNumber attnums[kMaxColumns];
  FmgrInfo output[kMaxColumns];
  for (int c = 0; c < q.ncolumns; ++c) {
    attnums[c] = column_number(heap, q.columns[c].name);
    if (q.columns[c].text) continue;
    Oid fn;
    bool varlena;
    getTypeOutputInfo(TupleDescAttr(RelationGetDescr(heap), attnums[c] - 1)->atttypid, &fn, &varlena);
    fmgr_info(fn, &output[c]);
  }

  const Datum account = CStringGetTextDatum(q.account);
  ScanKeyData keys[kKeyColumns];
  IndexScanDesc scan = index_beginscan(heap, index, snapshot, kKeyColumns, 0);
  TupleTableSlot* slot = table_slot_create(heap, nullptr);
  for (int i = 0; i < q.nids; ++i) {
    const std::string& key = q.ids[i];
    const Datum id = PointerGetDatum(cstring_to_text_with_len(key.data(), static_cast<int>(key.size())));
    // Compared under the index's own collations, which order its entries.
    ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid, index->rd_indcollation[0], F_TEXTEQ,
                           account);
    ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid, index->rd_indcollation[1], F_BOOLEQ,
                           BoolGetDatum(q.livemode));
    ScanKeyEntryInitialize(&keys[2], 0, 3, BTEqualStrategyNumber, InvalidOid, index->rd_indcollation[2], F_TEXTEQ, id);
    index_rescan(scan, keys, kKeyColumns, nullptr, 0);
    if (index_getnext_slot(scan, ForwardScanDirection, slot) && (!q.lock || lock_row(heap, slot, snapshot))) {
      char** row = out + *found * width;
      ++*found;
      for (int c = 0; c < q.ncolumns; ++c) {
        bool isnull;
        Datum value = slot_getattr(slot, attnums[c], &isnull);
        if (isnull) continue;
        row[c] = q.columns[c].text ? q.columns[c].text(value) : OutputFunctionCall(&output[c], value);
      }
      bool isnull;
      row[q.ncolumns] = psprintf("%u", DatumGetTransactionId(slot_getsysattr(slot, MinTransactionIdAttributeNumber, &isnull)));
      row[q.ncolumns + 1] = psprintf("(%u,%u)", ItemPointerGetBlockNumber(&slot->tts_tid), ItemPointerGetOffsetNumber(&slot->tts_tid));
    }
    pfree(DatumGetPointer(id));
  }
  ExecDropSingleTupleTableSlot(slot);
  index_endscan(scan);
  // Locks are kept until the transaction ends, as a statement's are.
  index_close(index, NoLock);
  table_close(heap, NoLock);
  if (q.lock) UnregisterSnapshot(snapshot);
  return out;
}

std::vector<Row> rows_of(const char* table, const std::vector<Column>& columns, const std::string& account_id,
                         bool livemode, const std::vector<std::string>& ids, bool lock) {
  if (columns.empty() || columns.size() > kMaxColumns) throw std::logic_error("pg::tenant_rows: 1 to 16 columns");
  const Request q{table,         tenant_table_oid(table), columns.data(), static_cast<int>(columns.size()), account_id.c_str(),
                  livemode,      ids.data(),       static_cast<int>(ids.size()), lock};
  uint64 found = 0;
  char** cells = reinterpret_cast<char**>(catching([&q, &found] { return PointerGetDatum(fetch(q, &found)); }));
  return take_rows(cells, found, q.ncolumns + 2);
}

}  // namespace

std::vector<Row> tenant_rows(const char* table, const std::vector<Column>& columns, const std::string& account_id,
                             bool livemode, const std::vector<std::string>& ids) {
  if (!ReadOnlyScope::active()) throw std::logic_error("pg::tenant_rows outside a read-only scope");
  return rows_of(table, columns, account_id, livemode, ids, false);
}

std::vector<Row> lock_tenant_rows(const char* table, const std::vector<Column>& columns, const std::string& account_id,
                                  bool livemode, const std::vector<std::string>& ids) {
  if (ReadOnlyScope::active()) throw std::logic_error("pg::lock_tenant_rows inside a read-only scope");
  if (!std::is_sorted(ids.begin(), ids.end())) throw std::logic_error("pg::lock_tenant_rows: ids out of order");
  return rows_of(table, columns, account_id, livemode, ids, true);
}

}  // namespace sk::pg
