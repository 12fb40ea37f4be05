#include "pg/tenant_tables.hpp"

#include <deque>

extern "C" {
#include "access/table.h"
#include "catalog/namespace.h"
#include "utils/inval.h"
#include "utils/regproc.h"
#include "utils/varlena.h"
}

namespace sk::pg {
namespace {

struct KnownTable {
  std::string name;
  Oid relid;
};
std::deque<KnownTable> g_tables;  // a deque: the oids handed out stay where they are

void forget_oids(Datum, Oid relid) {
  for (KnownTable& t : g_tables)
    if (relid == InvalidOid || relid == t.relid) t.relid = InvalidOid;
}

}  // namespace

Oid* tenant_table_oid(const char* table) {
  static bool watching = false;
  if (!watching) {
    CacheRegisterRelcacheCallback(forget_oids, 0);
    watching = true;
  }
  for (KnownTable& t : g_tables)
    if (t.name == table) return &t.relid;
  return &g_tables.emplace_back(KnownTable{table, InvalidOid}).relid;
}

Relation open_tenant_table(const char* table, Oid* known, LOCKMODE mode) {
  if (OidIsValid(*known)) return table_open(*known, mode);
  Relation heap = table_openrv(makeRangeVarFromNameList(stringToQualifiedNameList(table)), mode);
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

void check_tenant_index(Relation heap, Relation index) {
  TupleDesc desc = RelationGetDescr(index);
  if (IndexRelationGetNumberOfKeyAttributes(index) < 2 || strcmp(NameStr(TupleDescAttr(desc, 0)->attname), "account_id") != 0 ||
      strcmp(NameStr(TupleDescAttr(desc, 1)->attname), "livemode") != 0 || TupleDescAttr(desc, 0)->atttypid != TEXTOID ||
      TupleDescAttr(desc, 1)->atttypid != BOOLOID)
    elog(ERROR, "%s: index %s does not lead with (account_id text, livemode boolean)", RelationGetRelationName(heap),
         RelationGetRelationName(index));
}

}  // namespace sk::pg
