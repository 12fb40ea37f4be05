#include "ledger/formats.hpp"

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
  if (tm.tm_year < 0 || tm.tm_year > 9999) return false;
  // By hand: snprintf's format parsing cost more than the rest of a movement's rendering.
  auto digits = [&out](int at, int width, long value) {
    for (int i = at + width - 1; i >= at; --i, value /= 10) out[i] = static_cast<char>('0' + value % 10);
  };
  digits(0, 4, tm.tm_year);
  digits(5, 2, tm.tm_mon);
  digits(8, 2, tm.tm_mday);
  digits(11, 2, tm.tm_hour);
  digits(14, 2, tm.tm_min);
  digits(17, 2, tm.tm_sec);
  digits(20, 6, fsec);
  out[4] = out[7] = '-';
  out[10] = 'T';
  out[13] = out[16] = ':';
  out[19] = '.';
  out[26] = 'Z';
  out[27] = '\0';
  return true;
}

}  // namespace sk::ledger::formats
