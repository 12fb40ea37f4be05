#include "ledger/formats.hpp"

#include <cstdio>

namespace sk::ledger::formats {

char* qty_text(Datum q) { return DatumGetCString(DirectFunctionCall1(numeric_out, DirectFunctionCall1(numeric_trim_scale, q))); }

char* cost_text(Datum c) {
  Datum trimmed = DirectFunctionCall1(numeric_trim_scale, c);
  if (DatumGetInt32(DirectFunctionCall1(numeric_scale, trimmed)) < 2)
    return DatumGetCString(DirectFunctionCall1(numeric_out, DirectFunctionCall2(numeric_round, c, Int32GetDatum(2))));
  return DatumGetCString(DirectFunctionCall1(numeric_out, trimmed));
}

char* money_text(Datum amount, int exponent) {
  return DatumGetCString(DirectFunctionCall1(numeric_out, DirectFunctionCall2(numeric_round, amount, Int32GetDatum(exponent))));
}

bool rfc3339(TimestampTz t, char out[kRfc3339Size]) {
  struct pg_tm tm;
  fsec_t fsec;
  if (TIMESTAMP_NOT_FINITE(t) || timestamp2tm(t, nullptr, &tm, &fsec, nullptr, nullptr) != 0) return false;
  std::snprintf(out, kRfc3339Size, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year, tm.tm_mon, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(fsec));
  return true;
}

}  // namespace sk::ledger::formats
