// Posting movements to the ledger: the one path every movement takes (single POST,
// batch, reversal, and later GRNs and day-end close).
//
//   requests ──expand──▶ legs ──post()──▶ lock items ▶ resolve references ▶ apply
//   (on-hand, WAC, lots, negative-stock rule) ▶ write log + cache in one statement ▶ events
//
// All of it runs in the caller's transaction (the handler's subtransaction), so a
// thrown ApiError leaves nothing behind.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ledger/decimal.hpp"
#include "platform/api.hpp"
#include "platform/json.hpp"

namespace sk::ledger {

// One movement as the client asked for it: a request body or one batch element.
struct MovementRequest {
  std::string pointer;  // JSON Pointer of the element ("" or "/movements/17"), prefixed to params
  std::string item_id;
  std::string type;
  std::string qty;      // validated decimal text
  std::optional<std::string> reason, location_id, to_location_id, unit_cost, lot_id, reference;
  std::optional<std::string> lot_code, lot_expires_on;  // lot: {code, expires_on}
  json::Value metadata;                                  // null when absent
};

// Reads a validated body (or batch element) into a request.
MovementRequest read_request(const json::Value& body, std::string pointer);

struct Allocation {
  std::optional<std::string> lot_id;  // null: stock not assigned to a lot
  dec::Num qty;
};

// One row of the log to be written.
struct Leg {
  size_t request = 0;        // index of the request that produced it
  bool primary = true;       // this leg's object answers the request
  std::string pointer;       // for errors about this leg
  std::string item_id, type, reason;
  std::optional<std::string> location_id;  // null: the default location
  std::string location_param = "/location_id";
  dec::Num qty;
  std::optional<dec::Num> receipt_cost;    // a receipt's unit_cost: the only input that moves WAC
  std::optional<std::string> lot_id;       // lot named by the client (lot_id or lot{})
  std::optional<std::string> lot_code, lot_expires_on;
  std::optional<std::vector<Allocation>> fixed_allocations;  // reversals repeat the original's
  std::optional<size_t> mirrors;           // a transfer's destination leg mirrors its source leg's lots
  std::optional<std::string> transfer_id, reverses, reference;
  json::Value metadata;

  // Filled in by post().
  std::vector<Allocation> lots;
  bool lot_tracked = false;
  int64_t seq = 0;
  dec::Num unit_cost, on_hand_after, wac_after;
};

// Turns requests into legs (a transfer becomes two), applying the request-level rules:
// signs, unit_cost only on receipts, to_location_id only on transfers, default reasons.
std::vector<Leg> expand(const std::vector<MovementRequest>& requests);

// The leg whose movement object a handler answers with. Given the request's claim, the
// posting statement also stores that answer (200, JSON) under the Idempotency-Key.
struct Answer {
  api::IdempotencyClaim* claim = nullptr;
  size_t leg = 0;
};

// Posts the legs atomically and returns each leg's movement object (JSON text), in order.
std::vector<std::string> post(std::vector<Leg>& legs, const Answer& answer = {});

// Locks the item_stock rows of these items (creating missing ones) in id order, so
// concurrent posters of one item queue up instead of racing. Throws 404 for an item
// that does not exist (param `item_param(i)` names the first request using it).
struct ItemState {
  bool track_lots = false;
  bool reject_negative = false;
  bool archived = false;
  std::optional<dec::Num> reorder_point;
  dec::Num on_hand, wac;
  int64_t last_seq = 0;
  std::optional<std::string> last_movement_at;  // RFC 3339 UTC, microseconds (sk.rfc3339)
  std::optional<std::string> last_movement_id;  // the next movement's id must sort after it
  std::string locked_tid;                       // the item_stock version its lock took, which the posting updates
};
// What a posting needs of the account besides its items: its default location ("" when
// it has none; cached, catalog_facts) and today's date (ISO, read by the lock statement),
// so a posting that names no location needs no other read.
struct AccountFacts {
  std::string default_location;
  std::string today;
};
std::map<std::string, ItemState> lock_items(const std::vector<std::string>& item_ids,
                                            const std::map<std::string, std::string>& param_for_item,
                                            AccountFacts* facts = nullptr);

// A fresh transfer id (trf_…).
std::string new_transfer_id();

// The default reason of a type when the request omits it (none for adjustments).
std::optional<std::string> default_reason(const std::string& type);
// Throws 400 reason_unknown for a code in neither the default catalogue nor the account's.
void check_reasons(const std::vector<std::pair<std::string, std::string>>& reason_and_param);
bool is_default_reason(const std::string& code);

}  // namespace sk::ledger
