#include "ledger/decimal.hpp"

#include <map>

#include "ledger/formats.hpp"
#include "pg/catching.hpp"

namespace sk::ledger::dec {
namespace {

using pg::catching;

Datum call1(PGFunction fn, Datum a) {
  return catching([=] { return DirectFunctionCall1(fn, a); });
}
Datum call2(PGFunction fn, Datum a, Datum b) {
  return catching([=] { return DirectFunctionCall2(fn, a, b); });
}

// The text of a formats:: call, guarded, as std::string.
template <class Fn>
std::string format(Fn fn) {
  return pg::catching_text(fn);
}

Datum cstring_copy(const std::string& s) {
  void* mem = palloc_extended(s.size() + 1, MCXT_ALLOC_NO_OOM);
  if (!mem) throw std::bad_alloc();
  memcpy(mem, s.c_str(), s.size() + 1);
  return PointerGetDatum(mem);
}

Num wrap(Datum d) { return Num{static_cast<uintptr_t>(d)}; }
Datum d(Num n) { return static_cast<Datum>(n.datum); }

}  // namespace

Num parse(const std::string& text) {
  Datum cstr = cstring_copy(text);
  Datum out = catching([=] { return DirectFunctionCall3(numeric_in, cstr, ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)); });
  pfree(DatumGetPointer(cstr));  // on an error, it goes with the memory context
  return wrap(out);
}

std::string str(Num n) { return format([=] { return formats::qty_text(d(n)); }); }
Num trimmed(Num n) { return wrap(call1(numeric_trim_scale, d(n))); }
std::string cost_str(Num n) { return format([=] { return formats::cost_text(d(n)); }); }
std::string money_str(Num n, int exponent) { return format([=] { return formats::money_text(d(n), exponent); }); }

namespace {
// A constant made once per backend, in TopMemoryContext: numeric functions never change
// their arguments.
Num permanent(const std::string& text) {
  return wrap(catching([&text] {
    MemoryContext cxt = MemoryContextSwitchTo(TopMemoryContext);
    Datum v = DirectFunctionCall3(numeric_in, CStringGetDatum(text.c_str()), ObjectIdGetDatum(InvalidOid),
                                  Int32GetDatum(-1));
    MemoryContextSwitchTo(cxt);
    return v;
  }));
}
}  // namespace

Num zero() {
  static const Num made = permanent("0");  // every sign test compares with it
  return made;
}
Num add(Num a, Num b) { return wrap(call2(numeric_add, d(a), d(b))); }
Num sub(Num a, Num b) { return wrap(call2(numeric_sub, d(a), d(b))); }
Num mul(Num a, Num b) { return wrap(call2(numeric_mul, d(a), d(b))); }
Num neg(Num a) { return wrap(call1(numeric_uminus, d(a))); }
int cmp(Num a, Num b) {
  int c = DatumGetInt32(call2(numeric_cmp, d(a), d(b)));
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}
int sign(Num a) { return cmp(a, zero()); }

Num div_round(Num a, Num b, int scale) {
  // q = trunc((2·|a|·10^scale + |b|) / (2·|b|)) is |a|/|b| · 10^scale rounded half up;
  // the sign is put back afterwards, which makes the rounding half away from zero.
  const int sign_a = sign(a), sign_b = sign(b);
  bool negative = (sign_a < 0) != (sign_b < 0);
  Num abs_a = sign_a < 0 ? neg(a) : a;
  Num abs_b = sign_b < 0 ? neg(b) : b;
  // Multiplying by 10^-scale is exact (numeric_mul keeps every digit); dividing by
  // 10^scale would round to numeric_div's chosen precision. The constants are made once.
  static std::map<int, std::pair<Num, Num>> units;  // scale -> 10^scale, 10^-scale
  auto it = units.find(scale);
  if (it == units.end()) {
    Num unit = permanent("1" + std::string(static_cast<size_t>(scale), '0'));
    Num inverse = permanent(scale > 0 ? "0." + std::string(static_cast<size_t>(scale - 1), '0') + "1" : "1");
    it = units.emplace(scale, std::make_pair(unit, inverse)).first;
  }
  const auto& [unit, inverse_unit] = it->second;
  static const Num two = permanent("2");
  Num numerator = add(mul(mul(two, abs_a), unit), abs_b);
  Num q = wrap(call2(numeric_div_trunc, d(numerator), d(mul(two, abs_b))));
  Num result = wrap(call2(numeric_round, d(mul(q, inverse_unit)), Int32GetDatum(scale)));
  return negative ? neg(result) : result;
}

}  // namespace sk::ledger::dec
