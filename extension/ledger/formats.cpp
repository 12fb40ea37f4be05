#include "ledger/formats.hpp"

extern "C" {
#include "utils/date.h"
}

namespace sk::ledger::formats {

namespace {

// The trailing fractional zeros (and a bare point) of numeric_out's text cut off in
// place: trim_scale's result, printed, without making the trimmed numeric. Returns the
// number of decimals left.
size_t trim_zeros(char* s) {
  char* dot = strchr(s, '.');
  if (!dot) return 0;
  char* end = dot + strlen(dot);
  while (end > dot + 1 && end[-1] == '0') --end;
  if (end == dot + 1) end = dot;
  *end = '\0';
  return end == dot ? 0 : static_cast<size_t>(end - dot - 1);
}

}  // namespace

char* qty_text(Datum q) {
  char* s = DatumGetCString(DirectFunctionCall1(numeric_out, q));
  trim_zeros(s);
  return s;
}

char* cost_text(Datum c) {
  char* s = DatumGetCString(DirectFunctionCall1(numeric_out, c));
  size_t decimals = trim_zeros(s);
  size_t len = strlen(s);
  if (decimals >= 2 || len == 0 || s[len - 1] < '0' || s[len - 1] > '9') return s;  // NaN, Infinity as they are
  // Fewer than two decimals carry digits, so rounding to two only appends zeros.
  char* out = static_cast<char*>(palloc(len + 4));
  memcpy(out, s, len);
  if (decimals == 0) out[len++] = '.';
  for (; decimals < 2; ++decimals) out[len++] = '0';
  out[len] = '\0';
  pfree(s);
  return out;
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

std::string rfc3339_now() { return rfc3339_string(GetCurrentTimestamp()); }

std::string rfc3339_string(TimestampTz t) {
  char text[kRfc3339Size];
  if (!rfc3339(t, text)) throw std::out_of_range("timestamp out of range for RFC 3339");
  return text;
}

char* rfc3339_text(Datum t) {
  char text[kRfc3339Size];
  if (!rfc3339(DatumGetTimestampTz(t), text))
    ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range for RFC 3339")));
  return pstrdup(text);
}

char* current_date_text() { return DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(GetSQLCurrentDate()))); }

}  // namespace sk::ledger::formats
