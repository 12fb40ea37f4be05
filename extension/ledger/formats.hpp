// The ledger's number and time formats, in C: the same text the SQL helpers give
// (sk.qty_text, sk.cost_text, sk.money_text, sk.rfc3339), which pgTAP checks. The hot
// renderers (movement object, stock object) call these instead of evaluating the SQL
// helpers in their statements, where every inlined call is an expression to build and
// an EXECUTE check at each executor start-up.
//
// These are PostgreSQL-level functions: they may raise (ereport) and so must be called
// either with no C++ object alive (sk.movement_json) or through dec:: (decimal.hpp),
// which guards them.
#pragma once
#include "pg/postgres.hpp"

namespace sk::ledger::formats {

char* qty_text(Datum numeric);                     // trim_scale(q)::text
char* cost_text(Datum numeric);                    // at least two decimals, more only when they carry digits
char* money_text(Datum numeric, int exponent);     // round(amount, the currency's exponent)::text

// "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC, microseconds) into out; false when t is out of range.
constexpr int kRfc3339Size = 32;
bool rfc3339(TimestampTz t, char out[kRfc3339Size]);
// The current instant (clock_timestamp(), not the transaction's start) in that format.
std::string rfc3339_now();
// t (within years 0-9999, as the current instant is) in that format.
std::string rfc3339_string(TimestampTz t);
// sk.rfc3339(t), palloc'd (t a timestamptz Datum; raises when out of range).
char* rfc3339_text(Datum t);
// current_date::text, palloc'd: the transaction's date in the session's time zone.
char* current_date_text();

}  // namespace sk::ledger::formats
