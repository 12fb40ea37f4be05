// Exact decimals for the ledger's running on-hand and WAC, computed with PostgreSQL's
// own numeric arithmetic (the same code SQL uses), so C++ and SQL can never disagree.
// Every call runs inside PG_TRY and turns a PostgreSQL error into pg::PgError, so no
// longjmp skips a C++ destructor (DESIGN.md section 9).
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace sk::ledger::dec {

// A numeric Datum palloc'd in the current memory context (it lives until the SPI
// session ends). Trivially destructible on purpose: safe to hold across PG_TRY.
struct Num {
  uintptr_t datum = 0;
};

Num parse(const std::string& text);  // numeric_in; the text is a validated decimal
std::string str(Num n);              // numeric_out, trailing zeros removed ("2.50" -> "2.5"): sk.qty_text
Num trimmed(Num n);                  // the same value without trailing zeros: what str prints, as a numeric
std::string cost_str(Num n);         // sk.cost_text: at least two decimals ("6" -> "6.00")
std::string money_str(Num n, int exponent);  // sk.money_text: rounded to the currency's exponent
Num zero();
Num add(Num a, Num b);
Num sub(Num a, Num b);
Num mul(Num a, Num b);
Num neg(Num a);
int cmp(Num a, Num b);               // -1, 0, 1
int sign(Num a);
// a / b rounded half away from zero to `scale` decimal places, exactly (no double
// rounding through an intermediate precision). b must not be zero.
Num div_round(Num a, Num b, int scale);

// Adds `qty` to the sum kept under `key`, starting it at `qty`.
template <class Key>
void add_to(std::map<Key, Num>& sums, const Key& key, Num qty) {
  auto [it, fresh] = sums.try_emplace(key, qty);
  if (!fresh) it->second = add(it->second, qty);
}

}  // namespace sk::ledger::dec
