// Whether a business day is closed: one lock per (tenant, day) orders counts and closes.
#include "pg/spi.hpp"
#include "platform/api.hpp"
#include "purchasing/purchasing.hpp"

namespace sk::purchasing {

void lock_business_day(const std::string& business_date) {
  pg::exec(
      "SELECT pg_advisory_xact_lock(hashtextextended('sk.business_day:' || sk.current_account() || ':' || "
      "sk.current_livemode()::text || ':' || $1, 0))",
      {business_date});
}

void check_day_open(const std::string& business_date, const std::string& location_id, const std::string& param) {
  auto closed = pg::exec_value(
      "SELECT id FROM sk.dayend_closes WHERE business_date = $1::date AND (location_id IS NULL OR location_id = $2) LIMIT 1",
      {business_date, location_id});
  if (closed)
    api::fail(409, "day_closed",
              "Business day " + business_date + " is closed (" + *closed + ") for this location; count on an open day.",
              param);
}

}  // namespace sk::purchasing
