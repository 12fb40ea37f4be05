// sk.scan_expiring_lots(): the lot.expiring scan on demand (the worker runs it too).
#include "pg/guard.hpp"
#include "pg/postgres.hpp"
#include "purchasing/purchasing.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(sk_scan_expiring_lots);

Datum sk_scan_expiring_lots(PG_FUNCTION_ARGS) {
  return sk::pg::guarded([&]() -> Datum {
    sk::pg::SpiSession spi;
    return Int32GetDatum(sk::purchasing::scan_expiring_lots());
  });
}
}
