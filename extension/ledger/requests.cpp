// From validated request bodies to legs: the rules that need no database. Signs per
// type, unit_cost only on receipts, to_location_id only on transfers, default reasons;
// a transfer becomes two legs (out of the source first, then into the destination).
#include "ledger/posting.hpp"
#include "platform/api.hpp"
#include "platform/ulid.hpp"

namespace sk::ledger {

using api::text_param;

MovementRequest read_request(const json::Value& body, std::string pointer) {
  MovementRequest r;
  r.pointer = std::move(pointer);
  r.item_id = *text_param(body, "item_id");
  r.type = *text_param(body, "type");
  r.qty = *text_param(body, "qty");
  r.reason = text_param(body, "reason");
  r.location_id = text_param(body, "location_id");
  r.to_location_id = text_param(body, "to_location_id");
  r.unit_cost = text_param(body, "unit_cost");
  r.lot_id = text_param(body, "lot_id");
  r.reference = text_param(body, "reference");
  if (const json::Value* lot = api::member(body, "lot"); lot && lot->is_object()) {
    r.lot_code = text_param(*lot, "code");
    r.lot_expires_on = text_param(*lot, "expires_on");
  }
  if (const json::Value* m = api::member(body, "metadata"); m && !m->is_null()) r.metadata = *m;
  return r;
}

std::string new_transfer_id() {
  static ulid::Generator ids;
  return ids.next_id("trf");
}

namespace {

void check_request(const MovementRequest& r) {
  const std::string& p = r.pointer;
  const bool negative = r.qty[0] == '-';
  if ((r.type == "receipt" || r.type == "return") && negative)
    api::fail(400, "parameter_invalid", "A " + r.type + " brings stock in: qty must be positive.", p + "/qty");
  if (r.type == "sale" && !negative)
    api::fail(400, "parameter_invalid", "A sale takes stock out: qty must be negative (e.g. -2).", p + "/qty");
  if (r.type == "transfer" && negative)
    api::fail(400, "parameter_invalid", "A transfer's qty is the amount moved and must be positive.", p + "/qty");

  if (r.type == "receipt" && !r.unit_cost)
    api::fail(400, "parameter_missing", "A receipt needs the unit_cost it was received at.", p + "/unit_cost");
  if (r.type != "receipt" && r.unit_cost)
    api::fail(400, "parameter_invalid", "Only receipts carry a unit_cost; other movements are costed at the current WAC.",
              p + "/unit_cost");

  if (r.type == "transfer" && !r.to_location_id)
    api::fail(400, "parameter_missing", "A transfer needs the destination to_location_id.", p + "/to_location_id");
  if (r.type != "transfer" && r.to_location_id)
    api::fail(400, "parameter_invalid", "Only transfers take a to_location_id.", p + "/to_location_id");

  if (!r.reason && !default_reason(r.type))
    api::fail(400, "parameter_missing", "An adjustment must name its reason (e.g. damaged, found, count_variance).",
              p + "/reason");
  if (r.lot_id && r.lot_code)
    api::fail(400, "parameter_invalid", "Name the lot by lot_id or by lot, not both.", p + "/lot");
  if (r.lot_code && (negative || r.type == "transfer"))
    api::fail(400, "parameter_invalid", "lot (by code) is for stock coming in; name an existing lot with lot_id.", p + "/lot");
}

}  // namespace

std::vector<Leg> expand(const std::vector<MovementRequest>& requests) {
  std::vector<Leg> legs;
  legs.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const MovementRequest& r = requests[i];
    check_request(r);
    Leg leg;
    leg.request = i;
    leg.pointer = r.pointer;
    leg.item_id = r.item_id;
    leg.type = r.type;
    leg.reason = r.reason ? *r.reason : *default_reason(r.type);
    leg.location_id = r.location_id;
    leg.qty = dec::parse(r.qty);
    if (r.type == "receipt") leg.receipt_cost = dec::parse(*r.unit_cost);
    leg.lot_id = r.lot_id;
    leg.lot_code = r.lot_code;
    leg.lot_expires_on = r.lot_expires_on;
    leg.reference = r.reference;
    leg.metadata = r.metadata;
    if (r.type != "transfer") {
      legs.push_back(std::move(leg));
      continue;
    }
    // Out of the source (the request's answer), then into the destination.
    leg.transfer_id = new_transfer_id();
    Leg in = leg;
    leg.qty = dec::neg(leg.qty);
    in.primary = false;
    in.location_id = r.to_location_id;
    in.location_param = "/to_location_id";
    in.lot_id.reset();
    in.lot_code.reset();
    in.mirrors = legs.size();
    legs.push_back(std::move(leg));
    legs.push_back(std::move(in));
  }
  return legs;
}

}  // namespace sk::ledger
