#include "purchasing/landed_cost.hpp"

#include "platform/api.hpp"

namespace sk::purchasing {

namespace dec = ledger::dec;

std::vector<dec::Num> landed_unit_costs(const std::vector<GrnLine>& lines, const std::vector<LandedCost>& costs,
                                        int currency_exponent) {
  std::vector<dec::Num> allocated(lines.size(), dec::zero());
  for (const auto& cost : costs) {
    std::vector<dec::Num> basis;
    dec::Num total = dec::zero();
    for (const auto& l : lines) {
      basis.push_back(cost.by_value ? dec::mul(l.qty, l.unit_cost) : l.qty);
      total = dec::add(total, basis.back());
    }
    if (dec::sign(total) == 0)
      api::fail(409, "landed_cost_unallocatable",
                "Landed cost " + std::to_string(cost.index) + " is allocated by value, but every line's value is zero.",
                "/landed_costs/" + std::to_string(cost.index) + "/allocation");
    dec::Num given = dec::zero();
    for (size_t i = 0; i < lines.size(); ++i) {
      dec::Num share = i + 1 < lines.size()
                           ? dec::div_round(dec::mul(cost.amount, basis[i]), total, currency_exponent)
                           : dec::sub(cost.amount, given);  // the remainder of the rounding
      given = dec::add(given, share);
      allocated[i] = dec::add(allocated[i], share);
    }
  }
  std::vector<dec::Num> unit_costs;
  for (size_t i = 0; i < lines.size(); ++i)
    unit_costs.push_back(dec::div_round(dec::add(dec::mul(lines[i].unit_cost, lines[i].qty), allocated[i]), lines[i].qty, 6));
  return unit_costs;
}

}  // namespace sk::purchasing
