// The ledger's request and response shapes, declared once: they validate input and
// generate the OpenAPI document (appendix B).
#include "ledger/ledger.hpp"

namespace sk::ledger {

using namespace sk::schema;

namespace {

Schema quantity() { return decimal({.allow_negative = true, .allow_zero = false, .max_integer_digits = 15, .max_scale = 6}); }
Schema cost() { return decimal({.allow_negative = false, .allow_zero = true, .max_integer_digits = 15, .max_scale = 6}); }

Schema lot_allocation_schema() {
  static const Schema s = named("LotAllocation", object({
      required("lot_id", nullable(id("lot")), "null: stock of a lot-tracked item that no lot covered."),
      required("qty", decimal_string()),
  }));
  return s;
}

}  // namespace

Schema movement_type_schema() { return enumeration({std::begin(kMovementTypes), std::end(kMovementTypes)}); }

Schema movement_request_schema() {
  static const Schema s = named("MovementRequest", object({
      required("item_id", id("itm")),
      required("qty", quantity(),
               "Signed quantity: receipt and return > 0, sale < 0, adjustment either way, transfer > 0 (the amount moved)."),
      required("type", movement_type_schema()),
      optional("reason", pattern_string(schema::patterns::snake_case, "a snake_case reason code", 64),
               "A reason code (GET /reason_codes). Default: purchase_received for receipts, order_fulfilled for sales, "
               "customer_return for returns, transfer for transfers; adjustments must name one."),
      optional("location_id", id("loc"), "Where the stock is (a transfer's source). Default: the default location."),
      optional("to_location_id", id("loc"), "Transfers only: the destination."),
      optional("unit_cost", cost(), "Receipts only, and required there: the cost per unit received."),
      optional("lot_id", id("lot"), "Lot-tracked items: the lot moved. Issues without a lot are allocated first-expiry-first-out."),
      optional("lot", object({
                          required("code", string(100, 1)),
                          optional("expires_on", nullable(date())),
                      }),
               "Lot-tracked items, stock coming in: the lot by code, created on first use."),
      optional("reference", string(255), "Your own reference, e.g. an order number."),
      optional("metadata", metadata()),
  }));
  return s;
}

Schema movement_object_schema() {
  static const Schema s = named("Movement", api_object("mov", "movement", {
      required("item_id", id("itm")),
      required("location_id", id("loc")),
      required("type", movement_type_schema()),
      required("qty", decimal_string(), "Signed: stock in > 0, stock out < 0."),
      required("reason", string(64)),
      required("unit_cost", decimal_string(), "Receipts: the cost received at. Other movements: the WAC at the time."),
      required("lot_id", nullable(id("lot")), "The lot, when the movement touches exactly one."),
      required("lots", array(lot_allocation_schema(), 1000), "Lot allocations; empty for items without lots."),
      required("transfer_id", nullable(id("trf")), "Both legs of a transfer carry it."),
      required("reverses", nullable(id("mov")), "The movement this one reverses."),
      required("reference", nullable(string(255))),
      required("metadata", metadata()),
      required("on_hand_after", decimal_string(),
               "The item's total on-hand across locations after this movement (after the whole transfer for transfer legs)."),
      required("wac_after", decimal_string(), "The item's weighted average cost after this movement."),
  }));
  return s;
}

Schema stock_object_schema() {
  static const Schema s = named("Stock", object({
      required("object", constant("stock")),
      required("item_id", id("itm")),
      required("sku", string(100)),
      required("livemode", boolean()),
      required("on_hand", decimal_string(), "Total across locations."),
      required("wac", decimal_string(), "Weighted average cost per unit (6 decimals at most)."),
      required("value", decimal_string(), "on_hand × wac in the currency's minor unit."),
      required("currency", string(3)),
      required("as_of", timestamp(), "The instant this stock is for."),
      required("reorder_point", nullable(decimal_string())),
      required("locations", array(named("StockLocation", object({
                                                 required("location_id", id("loc")),
                                                 required("on_hand", decimal_string()),
                                             })),
                                  1000),
               "Non-zero on-hand by location."),
      required("lots", array(named("StockLot", object({
                                            required("lot_id", id("lot")),
                                            required("code", string(100)),
                                            required("expires_on", nullable(date())),
                                            required("on_hand", decimal_string()),
                                        })),
                             1000),
               "Non-zero on-hand by lot, soonest expiry first."),
  }));
  return s;
}

Schema event_object_schema() {
  static const Schema s = named("Event", object({
      required("id", id("evt")),
      required("object", constant("event")),
      required("type", string(100), "movement.recorded, stock.low, stock.out, item.created, …"),
      required("livemode", boolean()),
      required("created_at", timestamp()),
      required("data", object({required("object", any_object(), "The object after the change.")})),
  }));
  return s;
}

}  // namespace sk::ledger

