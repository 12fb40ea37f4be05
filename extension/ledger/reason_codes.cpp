// Reason codes: the default catalogue of DESIGN.md section 5 plus codes each account
// defines (GET/POST /reason_codes). Every movement's reason must be one of them.
#include "ledger/ledger.hpp"
#include "ledger/posting.hpp"
#include "pg/spi.hpp"
#include "platform/list.hpp"

namespace sk::ledger {

using namespace sk::schema;
using api::text_param;

namespace {

// Mirrors sk.reason_code_catalogue, so the common case needs no query.
const std::vector<std::string>& defaults() {
  static const std::vector<std::string> codes = {
      "order_fulfilled", "purchase_received", "customer_return", "supplier_return", "damaged", "expired",
      "lost", "found", "count_variance", "opening_balance", "transfer"};
  return codes;
}

Schema code_schema() {
  return pattern_string(schema::patterns::snake_case, "snake_case (a-z, 0-9, _), 1 to 64 characters", 64);
}

api::Response create_reason_code(const api::Call& call) {
  auto code = text_param(call.body, "code");
  if (is_default_reason(*code))
    api::fail(409, "reason_code_already_exists", "'" + *code + "' is a default reason code.", "/code");
  auto row = pg::exec_value(
      "WITH ins AS (INSERT INTO sk.reason_codes (code, description) VALUES ($1, $2) "
      "ON CONFLICT (account_id, livemode, code) DO NOTHING RETURNING id, code, description, false AS is_default, created_at) "
      "SELECT sk.reason_code_object(ROW(ins.id, ins.code, ins.description, ins.is_default, ins.created_at)::sk.reason_code_catalogue)::text "
      "FROM ins",
      {code, text_param(call.body, "description")});
  if (!row) api::fail(409, "reason_code_already_exists", "The reason code '" + *code + "' already exists.", "/code");
  return api::json_response(*row);
}

api::Response list_reason_codes(const api::Call& call) {
  return list::Query("sk.reason_code_object(r)::text", "sk.reason_code_catalogue r", "r")
      .where("r.is_default = ?::boolean", text_param(call.query, "default"))
      .run(call);
}

}  // namespace

bool is_default_reason(const std::string& code) {
  for (const auto& d : defaults())
    if (d == code) return true;
  return false;
}

std::optional<std::string> default_reason(const std::string& type) {
  if (type == "receipt") return std::string("purchase_received");
  if (type == "sale") return std::string("order_fulfilled");
  if (type == "return") return std::string("customer_return");
  if (type == "transfer") return std::string("transfer");
  return std::nullopt;
}

void check_reasons(const std::vector<std::pair<std::string, std::string>>& reason_and_param) {
  json::Value custom = json::Value::array();
  for (const auto& [code, _] : reason_and_param)
    if (!is_default_reason(code)) custom.push(json::Value::string(code));
  if (custom.items().empty()) return;
  auto known = pg::exec(
      "SELECT r.code FROM sk.reason_codes r WHERE r.code IN (SELECT json_array_elements_text($1::json))", {custom.dump()});
  for (const auto& [code, param] : reason_and_param) {
    if (is_default_reason(code)) continue;
    bool found = false;
    for (const auto& row : known.rows) found = found || row.text(0) == code;
    if (!found)
      api::fail(400, "reason_unknown",
                "No reason code '" + code + "': use a default code or create it with POST /reason_codes.", param);
  }
}

Schema reason_code_object_schema() {
  static const Schema s = named("ReasonCode", object({
      required("id", id("rsn")),
      required("object", constant("reason_code")),
      required("livemode", boolean()),
      required("created_at", timestamp(), "Default codes show the Unix epoch."),
      required("code", string(64)),
      required("description", nullable(string(500))),
      required("default", boolean(), "Part of the built-in catalogue (true) or defined by this account."),
  }));
  return s;
}

std::vector<api::Route> reason_code_routes() {
  std::vector<api::Route> routes;

  api::RouteSpec create{"POST", "/reason_codes", "createReasonCode", "Define a reason code for movements", "Reason codes",
                        api::Scope::Write};
  create.body = object({
      required("code", code_schema(), "The code movements will name in `reason`."),
      optional("description", string(500), "What the code means, for people."),
  });
  create.response = reason_code_object_schema();
  create.errors = {409};
  routes.push_back({create, create_reason_code});

  api::RouteSpec list{"GET", "/reason_codes", "listReasonCodes",
                      "List reason codes: the account's own first, then the default catalogue", "Reason codes",
                      api::Scope::Read};
  list.query = list::query_schema("rsn", {optional("default", boolean(), "Only default (true) or account-defined (false) codes.")});
  list.response = list_of(reason_code_object_schema());
  routes.push_back({list, list_reason_codes});
  return routes;
}

}  // namespace sk::ledger
