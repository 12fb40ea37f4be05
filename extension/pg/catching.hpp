// PostgreSQL calls made from C++ (DESIGN.md section 9): inside PG_TRY, with only plain
// values alive, so a longjmp out of PostgreSQL skips no destructor; the error then
// continues as a C++ exception (PgError) from outside the PG_TRY block.
#pragma once
#include "pg/postgres.hpp"
#include "pg/spi.hpp"

namespace sk::pg {

// From a PG_CATCH block's aftermath: the error being handled, copied into `cxt` and
// flushed, thrown as PgError.
[[noreturn]] void throw_current_error(MemoryContext cxt);

// Runs `fn` (PostgreSQL calls on plain values only: it must create no C++ object that
// owns anything) inside PG_TRY and returns its Datum.
template <class Fn>
Datum catching(Fn fn) {
  MemoryContext cxt = CurrentMemoryContext;
  volatile Datum out = 0;
  volatile bool failed = false;
  PG_TRY();
  {
    out = fn();
  }
  PG_CATCH();
  {
    failed = true;
  }
  PG_END_TRY();
  if (failed) throw_current_error(cxt);
  return out;
}

// The same for `fn` returning a palloc'd C string: copied out, then freed.
template <class Fn>
std::string catching_text(Fn fn) {
  char* text = DatumGetCString(catching([&fn] { return CStringGetDatum(fn()); }));
  std::string out(text);
  pfree(text);
  return out;
}

// Rows out of a row-major grid of palloc'd C strings (NULL for SQL NULL), `ncols` wide:
// each string and the grid itself are freed.
std::vector<Row> take_rows(char** cells, uint64 nrows, int ncols);

}  // namespace sk::pg
