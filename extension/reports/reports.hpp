// Read-only views over the ledger that agents and dashboards ask for.
#pragma once
#include <vector>

#include "platform/api.hpp"

namespace sk::reports {

std::vector<api::Route> routes();  // GET /stock/low

}  // namespace sk::reports
