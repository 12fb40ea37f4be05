// Landed cost allocation for GRNs: each landed cost is shared over the lines by value
// (qty × unit cost) or by quantity, rounded to the currency's minor unit with the
// rounding remainder on the last line, then spread over the line's units.
#pragma once
#include <vector>

#include "ledger/decimal.hpp"

namespace sk::purchasing {

struct GrnLine {
  ledger::dec::Num qty, unit_cost;
};

struct LandedCost {
  ledger::dec::Num amount;
  bool by_value = true;
  size_t index = 0;  // position in the request, for errors
};

// Unit cost plus allocated landed cost per unit, rounded to 6 decimal places (the
// precision WAC is stored with).
std::vector<ledger::dec::Num> landed_unit_costs(const std::vector<GrnLine>& lines, const std::vector<LandedCost>& costs,
                                                int currency_exponent);

}  // namespace sk::purchasing
