#include "pg/tenant_writes.hpp"

#include "pg/tenant_tables.hpp"

extern "C" {
#include "access/genam.h"
#include "access/relscan.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "nodes/makefuncs.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

namespace sk::pg {

namespace {
constexpr int kMaxKey = INDEX_MAX_KEYS;
}

struct TenantWriter {
  Relation rel;
  EState* estate;
  ResultRelInfo* target;
  EPQState epq;
  TupleTableSlot* row;    // the row being written
  TupleTableSlot* found;  // the row find_tenant_row found (an update's old version)
  int ncolumns;
  AttrNumber* attnums;    // the writer's columns, in its order
  AttrNumber account_attnum, livemode_attnum;
  Datum account;
  bool livemode;
  AclMode granted;  // privileges checked so far
};

namespace {

// Each column named is of the type given, with no typmod (values are stored as given,
// not coerced), and every other column is the tenant's: nothing is left to a default.
void check_columns(TenantWriter* w, const WriterColumn* columns) {
  TupleDesc desc = RelationGetDescr(w->rel);
  if (TupleDescAttr(desc, w->account_attnum - 1)->atttypid != TEXTOID ||
      TupleDescAttr(desc, w->livemode_attnum - 1)->atttypid != BOOLOID)
    elog(ERROR, "%s: the tenant's columns are not (account_id text, livemode boolean)", RelationGetRelationName(w->rel));
  for (int c = 0; c < w->ncolumns; ++c) {
    Form_pg_attribute att = TupleDescAttr(desc, w->attnums[c] - 1);
    if (att->atttypid != columns[c].type || att->atttypmod >= 0)
      elog(ERROR, "%s: column %s is not of the type its tenant writer gives", RelationGetRelationName(w->rel),
           columns[c].name);
  }
  for (int a = 0; a < desc->natts; ++a) {
    Form_pg_attribute att = TupleDescAttr(desc, a);
    if (att->attisdropped || att->attnum == w->account_attnum || att->attnum == w->livemode_attnum) continue;
    bool named = false;
    for (int c = 0; c < w->ncolumns && !named; ++c) named = w->attnums[c] == att->attnum;
    if (!named)
      elog(ERROR, "%s: column %s is not written by its tenant writer", RelationGetRelationName(w->rel), NameStr(att->attname));
  }
}

void refuse_triggers(TenantWriter* w, bool insert) {
  const TriggerDesc* t = w->target->ri_TrigDesc;
  if (t == nullptr) return;
  const bool any = insert ? (t->trig_insert_before_row || t->trig_insert_after_row || t->trig_insert_instead_row ||
                             t->trig_insert_before_statement || t->trig_insert_after_statement || t->trig_insert_new_table)
                          : (t->trig_update_before_row || t->trig_update_after_row || t->trig_update_instead_row ||
                             t->trig_update_before_statement || t->trig_update_after_statement ||
                             t->trig_update_old_table || t->trig_update_new_table);
  if (any) elog(ERROR, "%s has %s triggers: its tenant writer would skip them", RelationGetRelationName(w->rel),
                insert ? "insert" : "update");
}

// The table privilege the statement would need, checked once per writer.
void require_privilege(TenantWriter* w, AclMode mode) {
  if ((w->granted & mode) == mode) return;
  if (pg_class_aclcheck(RelationGetRelid(w->rel), GetUserId(), mode) != ACLCHECK_OK)
    aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, RelationGetRelationName(w->rel));
  w->granted |= mode;
}

// The slot holding the tenant's columns and `values` for the writer's columns.
TupleTableSlot* fill_row(TenantWriter* w, const Datum* values, const bool* nulls) {
  TupleTableSlot* slot = w->row;
  ExecClearTuple(slot);
  const int natts = slot->tts_tupleDescriptor->natts;
  for (int a = 0; a < natts; ++a) slot->tts_isnull[a] = true;
  slot->tts_values[w->account_attnum - 1] = w->account;
  slot->tts_isnull[w->account_attnum - 1] = false;
  slot->tts_values[w->livemode_attnum - 1] = BoolGetDatum(w->livemode);
  slot->tts_isnull[w->livemode_attnum - 1] = false;
  for (int c = 0; c < w->ncolumns; ++c) {
    slot->tts_values[w->attnums[c] - 1] = values[c];
    slot->tts_isnull[w->attnums[c] - 1] = nulls[c];
  }
  return ExecStoreVirtualTuple(slot);
}

Relation unique_index(TenantWriter* w, const char* name, int nkey) {
  for (int i = 0; i < w->target->ri_NumIndices; ++i) {
    Relation index = w->target->ri_IndexRelationDescs[i];
    if (strcmp(RelationGetRelationName(index), name) != 0) continue;
    check_tenant_index(w->rel, index);
    if (!index->rd_index->indisunique || IndexRelationGetNumberOfKeyAttributes(index) != nkey + 2)
      elog(ERROR, "%s is not a unique key of %d columns after the tenant's", name, nkey);
    return index;
  }
  elog(ERROR, "%s has no index %s", RelationGetRelationName(w->rel), name);
  pg_unreachable();
}

// An equality scan key on index column `attno` of type text or boolean (the types of
// tenant keys), or IS NULL.
void key_entry(ScanKey key, Relation index, int attno, Datum value, bool isnull) {
  if (isnull) {
    ScanKeyEntryInitialize(key, SK_ISNULL | SK_SEARCHNULL, attno, InvalidStrategy, InvalidOid, InvalidOid, InvalidOid, 0);
    return;
  }
  const Oid type = TupleDescAttr(RelationGetDescr(index), attno - 1)->atttypid;
  if (type != TEXTOID && type != BOOLOID) elog(ERROR, "tenant keys are text or boolean columns");
  ScanKeyEntryInitialize(key, 0, attno, BTEqualStrategyNumber, InvalidOid, index->rd_indcollation[attno - 1],
                         type == TEXTOID ? F_TEXTEQ : F_BOOLEQ, value);
}

}  // namespace

TenantWriter* open_tenant_writer(const char* table, Oid* known, const WriterColumn* columns, int ncolumns,
                                 const char* account_id, bool livemode) {
  // Everything the writer allocates lives in its executor state's memory, freed with it.
  EState* estate = CreateExecutorState();
  MemoryContext caller = MemoryContextSwitchTo(estate->es_query_cxt);
  auto* w = static_cast<TenantWriter*>(palloc0(sizeof(TenantWriter)));
  w->estate = estate;
  w->rel = open_tenant_table(table, known, RowExclusiveLock);
  if (w->rel->rd_rel->relkind != RELKIND_RELATION) elog(ERROR, "%s is not a plain table", table);
  w->account_attnum = column_number(w->rel, "account_id");
  w->livemode_attnum = column_number(w->rel, "livemode");
  w->ncolumns = ncolumns;
  w->attnums = static_cast<AttrNumber*>(palloc(sizeof(AttrNumber) * ncolumns));
  for (int c = 0; c < ncolumns; ++c) {
    w->attnums[c] = column_number(w->rel, columns[c].name);
    if (w->attnums[c] == w->account_attnum || w->attnums[c] == w->livemode_attnum)
      elog(ERROR, "%s: a tenant writer sets the tenant's columns itself", table);
  }
  check_columns(w, columns);
  w->account = CStringGetTextDatum(account_id);
  w->livemode = livemode;

  // The executor state an INSERT's ModifyTable would have, without a plan: one range
  // table entry and its result relation (as logical replication's apply sets up).
  RangeTblEntry* rte = makeNode(RangeTblEntry);
  rte->rtekind = RTE_RELATION;
  rte->relid = RelationGetRelid(w->rel);
  rte->relkind = w->rel->rd_rel->relkind;
  rte->rellockmode = RowExclusiveLock;
  ExecInitRangeTable(w->estate, list_make1(rte));
  w->target = makeNode(ResultRelInfo);
  InitResultRelInfo(w->target, w->rel, 1, nullptr, 0);
  w->estate->es_output_cid = GetCurrentCommandId(true);
  w->estate->es_snapshot = GetActiveSnapshot();
  ExecOpenIndices(w->target, false);
  EvalPlanQualInit(&w->epq, w->estate, nullptr, NIL, -1);
  w->row = table_slot_create(w->rel, &w->estate->es_tupleTable);
  w->found = table_slot_create(w->rel, &w->estate->es_tupleTable);
  MemoryContextSwitchTo(caller);
  return w;
}

TupleDesc tenant_writer_desc(TenantWriter* w) { return RelationGetDescr(w->rel); }

HeapTuple insert_tenant_row(TenantWriter* w, const Datum* values, const bool* nulls) {
  refuse_triggers(w, true);
  require_privilege(w, ACL_INSERT);
  ResetPerTupleExprContext(w->estate);
  TupleTableSlot* slot = fill_row(w, values, nulls);
  ExecSimpleRelationInsert(w->target, w->estate, slot);
  return ExecFetchSlotHeapTuple(slot, false, nullptr);
}

bool find_tenant_row(TenantWriter* w, const char* index_name, const Datum* key, const bool* key_nulls, int nkey,
                     Snapshot snapshot, Datum* values, bool* nulls, ItemPointer tid) {
  if (nkey < 1 || nkey + 2 > kMaxKey) elog(ERROR, "find_tenant_row: %d key columns", nkey);
  Relation index = unique_index(w, index_name, nkey);
  ScanKeyData keys[kMaxKey];
  key_entry(&keys[0], index, 1, w->account, false);
  key_entry(&keys[1], index, 2, BoolGetDatum(w->livemode), false);
  for (int k = 0; k < nkey; ++k) {
    if (key_nulls[k] && !index->rd_index->indnullsnotdistinct)
      elog(ERROR, "%s: a NULL key matches one row only in a NULLS NOT DISTINCT index", index_name);
    key_entry(&keys[k + 2], index, k + 3, key[k], key_nulls[k]);
  }

  ExecClearTuple(w->found);
  IndexScanDesc scan = index_beginscan(w->rel, index, snapshot, nkey + 2, 0);
  index_rescan(scan, keys, nkey + 2, nullptr, 0);
  const bool found = index_getnext_slot(scan, ForwardScanDirection, w->found);
  index_endscan(scan);
  if (!found) return false;
  ExecMaterializeSlot(w->found);  // its own copy: no buffer pinned past here
  slot_getallattrs(w->found);
  for (int c = 0; c < w->ncolumns; ++c) {
    values[c] = w->found->tts_values[w->attnums[c] - 1];
    nulls[c] = w->found->tts_isnull[w->attnums[c] - 1];
  }
  ItemPointerCopy(&w->found->tts_tid, tid);
  return true;
}

HeapTuple update_tenant_row(TenantWriter* w, ItemPointer tid, const Datum* values, const bool* nulls) {
  refuse_triggers(w, false);
  require_privilege(w, ACL_UPDATE);
  ResetPerTupleExprContext(w->estate);
  // Only the old version's tid is read (it has no trigger to see the old row).
  ItemPointerCopy(tid, &w->found->tts_tid);
  TupleTableSlot* slot = fill_row(w, values, nulls);
  ExecSimpleRelationUpdate(w->target, w->estate, &w->epq, w->found, slot);
  return ExecFetchSlotHeapTuple(slot, false, nullptr);
}

void close_tenant_writer(TenantWriter* w) {
  Relation rel = w->rel;
  EState* estate = w->estate;
  EvalPlanQualEnd(&w->epq);
  ExecCloseIndices(w->target);
  ExecResetTupleTable(estate->es_tupleTable, false);  // the slots are in the estate's memory
  FreeExecutorState(estate);                          // and so is the writer
  table_close(rel, NoLock);
}

}  // namespace sk::pg
