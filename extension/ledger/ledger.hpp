// The stock ledger (issue 3): movements, balances and WAC, stock queries, batch sync,
// reason codes, threshold events and the event routes (appendix A).
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "platform/api.hpp"

namespace sk::ledger {

std::vector<api::Route> movement_routes();     // POST/GET /movements, /movements/{id}, reverse, batch
std::vector<api::Route> stock_routes();        // GET /items/{id}/stock, GET /stock
std::vector<api::Route> reason_code_routes();  // GET/POST /reason_codes
std::vector<api::Route> event_routes();        // GET /events, /events/{id}

// The movement types. The API's validators and the table's CHECK (sk.is_movement_type)
// read this one list.
inline constexpr std::string_view kMovementTypes[] = {"receipt", "sale", "return", "adjustment", "transfer"};

// Stock objects of items now, keyed by item id; ids the tenant does not have are absent.
std::map<std::string, std::string> stock_objects(const std::vector<std::string>& item_ids);

// From _PG_init: stock objects' per-backend cache of the balances' split.
void register_stock_callbacks();

// Shapes shared by the routes (and by later issues: GRNs, counts, MCP tools).
schema::Schema movement_type_schema();
schema::Schema movement_request_schema();
schema::Schema movement_object_schema();
schema::Schema stock_object_schema();
schema::Schema reason_code_object_schema();
schema::Schema event_object_schema();

}  // namespace sk::ledger
