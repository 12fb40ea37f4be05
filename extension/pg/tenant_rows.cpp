#include "pg/tenant_rows.hpp"

#include <algorithm>

#include "pg/catching.hpp"

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

// Fails unless the index's key is (account_id, livemode, <text id>): what makes the scan
// keys below one tenant's rows.
void check_tenant_key(Relation heap, Relation index) {
  static const char* const kLeading[] = {"account_id", "livemode"};
  if (IndexRelationGetNumberOfKeyAttributes(index) != kKeyColumns)
    elog(ERROR, "%s: primary key is not (account_id, livemode, id)", RelationGetRelationName(heap));
  TupleDesc desc = RelationGetDescr(index);
  for (int k = 0; k < 2; ++k)
    if (strcmp(NameStr(TupleDescAttr(desc, k)->attname), kLeading[k]) != 0)
      elog(ERROR, "%s: primary key is not (account_id, livemode, id)", RelationGetRelationName(heap));
  if (TupleDescAttr(desc, 0)->atttypid != TEXTOID || TupleDescAttr(desc, 1)->atttypid != BOOLOID ||
      TupleDescAttr(desc, 2)->atttypid != TEXTOID)
    elog(ERROR, "%s: primary key is not (text, boolean, text)", RelationGetRelationName(heap));
}

// Each table's oid, resolved once per backend rather than by name on every read (a
// fifth of a read's cost), and forgotten when its relation cache entry is invalidated:
// a dropped and re-created extension has new oids, and a drop invalidates the old one.
struct KnownTable {
  std::string name;
  Oid relid;
};
std::vector<KnownTable> g_tables;

void forget_oids(Datum, Oid relid) {
  for (KnownTable& t : g_tables)
    if (relid == InvalidOid || relid == t.relid) t.relid = InvalidOid;
}

// Opens `table` (a C string in `known`, or resolved by name) with AccessShareLock.
Relation open_table(const char* table, Oid* known) {
  if (OidIsValid(*known)) return table_open(*known, AccessShareLock);
  Relation heap = table_openrv(makeRangeVarFromNameList(stringToQualifiedNameList(table)), AccessShareLock);
  *known = RelationGetRelid(heap);
  return heap;
}

AttrNumber column_number(Relation heap, const char* name) {
  TupleDesc desc = RelationGetDescr(heap);
  for (int i = 0; i < desc->natts; ++i) {
    Form_pg_attribute att = TupleDescAttr(desc, i);
    if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0) return att->attnum;
  }
  elog(ERROR, "%s has no column %s", RelationGetRelationName(heap), name);
  pg_unreachable();
}

}  // namespace

std::vector<Row> tenant_rows(const char* table, const std::vector<const char*>& columns,
                             const std::string& account_id, bool livemode, const std::vector<std::string>& ids) {
  if (!ReadOnlyScope::active()) throw std::logic_error("pg::tenant_rows outside a read-only scope");
  if (columns.empty() || columns.size() > kMaxColumns) throw std::logic_error("pg::tenant_rows: 1 to 16 columns");
  const int ncolumns = static_cast<int>(columns.size());
  const int width = ncolumns + 1;  // and xmin
  const int nids = static_cast<int>(ids.size());
  const char* const* names = columns.data();
  const std::string* keys = ids.data();
  const char* account = account_id.c_str();
  static bool watching = false;
  if (!watching) {
    CacheRegisterRelcacheCallback(forget_oids, 0);
    watching = true;
  }
  auto known = std::find_if(g_tables.begin(), g_tables.end(), [&](const KnownTable& t) { return t.name == table; });
  if (known == g_tables.end()) known = g_tables.insert(g_tables.end(), KnownTable{table, InvalidOid});
  Oid* relid = &known->relid;

  // cells[i * width + c]: column c of the row of ids[i], NULL when absent or NULL; the
  // row exists when its xmin cell is set. Only plain values inside PG_TRY (catching).
  char** cells = reinterpret_cast<char**>(catching([&]() -> Datum {
    char** out = static_cast<char**>(palloc0(sizeof(char*) * (static_cast<size_t>(nids) * width + 1)));
    Snapshot snapshot = GetActiveSnapshot();
    if (snapshot == nullptr) elog(ERROR, "pg::tenant_rows needs the calling statement's snapshot");
    Relation heap = open_table(table, relid);
    Oid pk = RelationGetPrimaryKeyIndex(heap);
    if (!OidIsValid(pk)) elog(ERROR, "%s has no primary key", RelationGetRelationName(heap));
    Relation index = index_open(pk, AccessShareLock);
    check_tenant_key(heap, index);

    AttrNumber attnums[kMaxColumns];
    FmgrInfo output[kMaxColumns];
    for (int c = 0; c < ncolumns; ++c) {
      attnums[c] = column_number(heap, names[c]);
      Oid fn;
      bool varlena;
      getTypeOutputInfo(TupleDescAttr(RelationGetDescr(heap), attnums[c] - 1)->atttypid, &fn, &varlena);
      fmgr_info(fn, &output[c]);
    }

    ScanKeyData scankeys[kKeyColumns];
    const Datum account_datum = CStringGetTextDatum(account);
    IndexScanDesc scan = index_beginscan(heap, index, snapshot, kKeyColumns, 0);
    TupleTableSlot* slot = table_slot_create(heap, nullptr);
    for (int i = 0; i < nids; ++i) {
      const Datum id = PointerGetDatum(cstring_to_text_with_len(keys[i].data(), static_cast<int>(keys[i].size())));
      // Compared under the index's own collations, which order its entries.
      ScanKeyEntryInitialize(&scankeys[0], 0, 1, BTEqualStrategyNumber, InvalidOid, index->rd_indcollation[0],
                             F_TEXTEQ, account_datum);
      ScanKeyEntryInitialize(&scankeys[1], 0, 2, BTEqualStrategyNumber, InvalidOid, index->rd_indcollation[1],
                             F_BOOLEQ, BoolGetDatum(livemode));
      ScanKeyEntryInitialize(&scankeys[2], 0, 3, BTEqualStrategyNumber, InvalidOid, index->rd_indcollation[2],
                             F_TEXTEQ, id);
      index_rescan(scan, scankeys, kKeyColumns, nullptr, 0);
      if (index_getnext_slot(scan, ForwardScanDirection, slot)) {
        char** row = out + static_cast<size_t>(i) * width;
        for (int c = 0; c < ncolumns; ++c) {
          bool isnull;
          Datum value = slot_getattr(slot, attnums[c], &isnull);
          if (!isnull) row[c] = OutputFunctionCall(&output[c], value);
        }
        bool isnull;
        Datum xmin = slot_getsysattr(slot, MinTransactionIdAttributeNumber, &isnull);
        row[ncolumns] = psprintf("%u", DatumGetTransactionId(xmin));
      }
      pfree(DatumGetPointer(id));
    }
    ExecDropSingleTupleTableSlot(slot);
    index_endscan(scan);
    // Locks are kept until the transaction ends, as a statement's are.
    index_close(index, NoLock);
    table_close(heap, NoLock);
    return PointerGetDatum(out);
  }));

  std::vector<Row> rows;
  for (int i = 0; i < nids; ++i) {
    char** row = cells + static_cast<size_t>(i) * width;
    if (!row[ncolumns]) continue;
    Row r;
    r.cols.reserve(static_cast<size_t>(width));
    for (int c = 0; c < width; ++c) {
      if (row[c]) {
        r.cols.emplace_back(std::string(row[c]));
        pfree(row[c]);
      } else {
        r.cols.emplace_back(std::nullopt);
      }
    }
    rows.push_back(std::move(r));
  }
  pfree(cells);
  return rows;
}

}  // namespace sk::pg
