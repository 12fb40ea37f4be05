// sk.movement_json(m sk.movements): the movement object, rendered here rather than by
// row_to_json over SQL formatting functions. Every movement is rendered once when it is
// recorded (a batch renders 1000) and again when it is read; row_to_json and its helpers
// were the largest part of a batch after the index inserts. sk.movement_object calls
// this, so there is one renderer. Formats are the SQL helpers' (sk.qty_text,
// sk.cost_text, sk.rfc3339; ledger/formats), checked against them by pgTAP.
//
// The body holds no C++ object: only PostgreSQL calls on plain C values, so an error
// they raise unwinds no destructor (DESIGN.md section 9) and needs no guard.
#include "ledger/movement_json.hpp"

#include "ledger/formats.hpp"
#include "pg/postgres.hpp"

extern "C" {
#include "access/htup_details.h"
#include "lib/stringinfo.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/typcache.h"
}

namespace {

namespace formats = sk::ledger::formats;

// The columns read, in the order of the object's fields.
enum Column { kId, kLivemode, kCreatedAt, kItemId, kLocationId, kType, kQty, kReason, kUnitCost, kLotId, kLots,
              kTransferId, kReverses, kReference, kMetadata, kOnHandAfter, kWacAfter, kColumns };
const char* const kNames[kColumns] = {"id", "livemode", "created_at", "item_id", "location_id", "type", "qty", "reason",
                                      "unit_cost", "lot_id", "lots", "transfer_id", "reverses", "reference", "metadata",
                                      "on_hand_after", "wac_after"};

// Attribute numbers by name, learnt from the row type (the table could be altered).
Oid g_type = InvalidOid;
int g_attno[kColumns];

void learn_columns(TupleDesc desc, Oid type) {
  for (int c = 0; c < kColumns; ++c) {
    g_attno[c] = -1;
    for (int a = 0; a < desc->natts; ++a)
      if (!TupleDescAttr(desc, a)->attisdropped && strcmp(NameStr(TupleDescAttr(desc, a)->attname), kNames[c]) == 0)
        g_attno[c] = a;
    if (g_attno[c] < 0) elog(ERROR, "sk.movement_json: sk.movements has no column %s", kNames[c]);
  }
  g_type = type;
}

// Appends `len` bytes with one capacity check: the object is a few hundred bytes of
// short pieces, and appendStringInfo* checked and copied per piece.
char* reserve(StringInfo out, int len) {
  enlargeStringInfo(out, len);
  return out->data + out->len;
}
void advance(StringInfo out, char* end) {
  out->len = static_cast<int>(end - out->data);
  *end = '\0';
}

// A JSON string of `len` bytes. Most values (ids, types, numbers) need no escaping and are
// copied whole; escape_json, which appends byte by byte, takes the rest.
void quoted(StringInfo out, const char* s, int len) {
  for (int i = 0; i < len; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\') {
      escape_json(out, pnstrdup(s, len));
      return;
    }
  }
  char* p = reserve(out, len + 2);
  *p++ = '"';
  memcpy(p, s, static_cast<size_t>(len));
  p += len;
  *p++ = '"';
  advance(out, p);
}

// Field names are plain ASCII.
void key(StringInfo out, const char* name) {
  const size_t len = strlen(name);
  bool first = out->data[out->len - 1] == '{';
  char* p = reserve(out, static_cast<int>(len) + 4);
  if (!first) *p++ = ',';
  *p++ = '"';
  memcpy(p, name, len);
  p += len;
  *p++ = '"';
  *p++ = ':';
  advance(out, p);
}

void text_field(StringInfo out, const char* name, Datum value, bool isnull) {
  key(out, name);
  if (isnull) {
    appendStringInfoString(out, "null");
    return;
  }
  text* t = DatumGetTextPP(value);
  quoted(out, VARDATA_ANY(t), static_cast<int>(VARSIZE_ANY_EXHDR(t)));
}

void string_field(StringInfo out, const char* name, const char* value) {
  key(out, name);
  quoted(out, value, static_cast<int>(strlen(value)));
}

void rfc3339_field(StringInfo out, const char* name, TimestampTz t) {
  char text[formats::kRfc3339Size];
  if (!formats::rfc3339(t, text)) elog(ERROR, "sk.movement_json: %s out of range", name);
  string_field(out, name, text);
}

}  // namespace

namespace sk::ledger {

text* movement_json(TupleDesc desc, HeapTuple tuple) {
  if (desc->tdtypeid != g_type) learn_columns(desc, desc->tdtypeid);
  Datum* all = static_cast<Datum*>(palloc(desc->natts * sizeof(Datum)));
  bool* null = static_cast<bool*>(palloc(desc->natts * sizeof(bool)));
  heap_deform_tuple(tuple, desc, all, null);
  auto v = [&](Column c) { return all[g_attno[c]]; };
  auto n = [&](Column c) { return null[g_attno[c]]; };

  // Written after a varlena header's room, so the buffer is returned as the text itself.
  StringInfoData out;
  initStringInfo(&out);
  appendStringInfoSpaces(&out, VARHDRSZ);
  appendStringInfoChar(&out, '{');
  text_field(&out, "id", v(kId), n(kId));
  string_field(&out, "object", "movement");
  key(&out, "livemode");
  appendStringInfoString(&out, DatumGetBool(v(kLivemode)) ? "true" : "false");
  rfc3339_field(&out, "created_at", DatumGetTimestampTz(v(kCreatedAt)));
  text_field(&out, "item_id", v(kItemId), n(kItemId));
  text_field(&out, "location_id", v(kLocationId), n(kLocationId));
  text_field(&out, "type", v(kType), n(kType));
  string_field(&out, "qty", formats::qty_text(v(kQty)));
  text_field(&out, "reason", v(kReason), n(kReason));
  string_field(&out, "unit_cost", formats::cost_text(v(kUnitCost)));
  text_field(&out, "lot_id", v(kLotId), n(kLotId));
  key(&out, "lots");
  appendStringInfoString(&out, n(kLots) ? "[]" : TextDatumGetCString(v(kLots)));
  text_field(&out, "transfer_id", v(kTransferId), n(kTransferId));
  text_field(&out, "reverses", v(kReverses), n(kReverses));
  text_field(&out, "reference", v(kReference), n(kReference));
  key(&out, "metadata");
  Jsonb* metadata = DatumGetJsonbP(v(kMetadata));
  if (JB_ROOT_IS_OBJECT(metadata) && JB_ROOT_COUNT(metadata) == 0)
    appendBinaryStringInfo(&out, "{}", 2);  // the default, printed without jsonb_out
  else
    appendStringInfoString(&out, DatumGetCString(DirectFunctionCall1(jsonb_out, v(kMetadata))));
  string_field(&out, "on_hand_after", formats::qty_text(v(kOnHandAfter)));
  string_field(&out, "wac_after", formats::cost_text(v(kWacAfter)));
  appendStringInfoChar(&out, '}');
  SET_VARSIZE(out.data, out.len);
  pfree(all);
  pfree(null);
  return reinterpret_cast<text*>(out.data);
}

}  // namespace sk::ledger

extern "C" {
PG_FUNCTION_INFO_V1(sk_movement_json);

Datum sk_movement_json(PG_FUNCTION_ARGS) {
  HeapTupleHeader row = PG_GETARG_HEAPTUPLEHEADER(0);
  TupleDesc desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(row), HeapTupleHeaderGetTypMod(row));
  HeapTupleData tuple;
  tuple.t_len = HeapTupleHeaderGetDatumLength(row);
  ItemPointerSetInvalid(&tuple.t_self);
  tuple.t_tableOid = InvalidOid;
  tuple.t_data = row;
  text* out = sk::ledger::movement_json(desc, &tuple);
  ReleaseTupleDesc(desc);
  PG_RETURN_TEXT_P(out);
}
}
