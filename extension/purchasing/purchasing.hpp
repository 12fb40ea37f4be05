// Purchasing, lots and day-end (issue 5): goods received notes with landed cost, lot
// queries and the expiry warning, stock counts, and the day-end close.
#pragma once
#include <vector>

#include "platform/api.hpp"

namespace sk::purchasing {

std::vector<api::Route> grn_routes();     // /grns, /grns/{id}, complete, cancel
std::vector<api::Route> lot_routes();     // /lots, /lots/{id}
std::vector<api::Route> count_routes();   // /counts, /counts/{id}
std::vector<api::Route> dayend_routes();  // /dayend_closes, /dayend_closes/{id}

// Emits lot.expiring once for every lot with stock that has entered its account's
// warning window; returns how many. Runs across tenants (the worker, a DBA).
int scan_expiring_lots();

// Serialises everything that reads or changes whether a business day is closed.
void lock_business_day(const std::string& business_date);
// Throws 409 day_closed if a close covers (business_date, location).
void check_day_open(const std::string& business_date, const std::string& location_id, const std::string& param);

}  // namespace sk::purchasing
