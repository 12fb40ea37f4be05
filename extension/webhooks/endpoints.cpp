#include "webhooks/endpoints.hpp"

#include <regex>

#include "pg/spi.hpp"
#include "platform/auth.hpp"
#include "platform/context.hpp"
#include "platform/list.hpp"
#include "platform/settings.hpp"
#include "webhooks/signing.hpp"
#include "webhooks/ssrf.hpp"
#include "webhooks/worker.hpp"

namespace sk::webhooks {

using namespace sk::schema;
using api::text_param;

namespace {

const std::vector<std::string>& event_types() {
  static const std::vector<std::string> types = {"movement.recorded", "grn.completed", "stock.low",    "stock.out",
                                                 "dayend.closed",     "lot.expiring",  "item.created", "item.updated"};
  return types;
}

Schema enabled_events_schema() {
  std::vector<std::string> allowed = {"*"};
  for (const auto& t : event_types()) allowed.push_back(t);
  return array(enumeration(allowed), 20, 1);
}

Schema url_schema() {
  return pattern_string(schema::patterns::http_url, "an http:// or https:// URL", 2048);
}

// Live-mode endpoints must resolve to public addresses unless the operator allows the
// block; test mode may target loopback for local development.
void check_url(const std::string& url) {
  auto tenant = context::tenant();
  if (!tenant || !tenant->livemode) return;
  static const std::regex host_re("^https?://(\\[([^\\]]+)\\]|([^:/?#]+))");
  std::smatch m;
  std::regex_search(url, m, host_re);
  std::string host = m[2].matched ? m[2].str() : m[3].str();
  auto allow = parse_cidrs(settings::webhook_allowed_cidrs()).value_or(std::vector<Cidr>{});
  if (auto reason = check_host(host, allow))
    api::fail(400, "url_not_allowed", "Live-mode webhook URLs must reach a public address: " + *reason + ".", "/url");
}

// "*" alone, or a list of known types: as a Postgres array literal.
std::string events_array(const json::Value& list) {
  bool star = false;
  std::string out = "{";
  for (size_t i = 0; i < list.items().size(); ++i) {
    const std::string& t = list.items()[i].text();
    star = star || t == "*";
    out += (i ? "," : "") + t;
  }
  if (star && list.items().size() > 1)
    api::fail(400, "parameter_invalid", "Use [\"*\"] alone or a list of event types.", "/enabled_events");
  return out + "}";
}

api::Response create_endpoint(const api::Call& call) {
  const auto& b = call.body;
  std::string url = *text_param(b, "url");
  check_url(url);
  std::string secret = new_secret();
  auto row = pg::exec_value(
      "INSERT INTO sk.webhook_endpoints (url, description, enabled_events, secret, metadata) "
      "VALUES ($1, $2, $3::text[], $4, coalesce($5::jsonb, '{}')) RETURNING sk.webhook_endpoint_object(webhook_endpoints)::text",
      {url, text_param(b, "description"), events_array(*b.find("enabled_events")), secret, text_param(b, "metadata")});
  return api::json_response(auth::with_secret(*row, secret));
}

// What is still queued for an endpoint that stops receiving becomes a dead letter: the
// worker never sends it, and a replay can queue it again once the endpoint is enabled.
void stop_queued(const std::string& endpoint_id, const std::string& reason) {
  pg::exec("SELECT sk.stop_queued_deliveries(sk.current_account(), sk.current_livemode(), $1, $2)",
           {endpoint_id, reason});
}

const char* kLiveEndpoint = "FROM sk.webhook_endpoints w WHERE w.id = $1 AND w.deleted_at IS NULL";

// The status of an endpoint that exists (not deleted) in this account and mode; else 404.
std::string endpoint_status(const std::string& endpoint_id) {
  auto status = pg::exec_value(std::string("SELECT w.status ") + kLiveEndpoint, {endpoint_id});
  if (!status) api::not_found("webhook endpoint", endpoint_id);
  return *status;
}

// Work can be queued only for an endpoint that will receive it.
void require_enabled(const std::string& endpoint_id) {
  if (endpoint_status(endpoint_id) != "enabled")
    api::fail(409, "endpoint_disabled", "Webhook endpoint '" + endpoint_id + "' is disabled; enable it before replaying.");
}


api::Response get_endpoint(const api::Call& call) {
  return list::object_or_404(std::string("SELECT sk.webhook_endpoint_object(w)::text ") + kLiveEndpoint, call);
}

api::Response list_endpoints(const api::Call& call) {
  return list::Query("sk.webhook_endpoint_object(w)::text", "sk.webhook_endpoints w", "w")
      .filter("w.deleted_at IS NULL")
      .run(call);
}

api::Response update_endpoint(const api::Call& call) {
  const auto& b = call.body;
  auto url = text_param(b, "url");
  if (url) check_url(*url);
  const json::Value* events = api::member(b, "enabled_events");
  auto row = pg::exec_value(
      "UPDATE sk.webhook_endpoints SET url = coalesce($2, url), description = coalesce($3, description), "
      "enabled_events = coalesce($4::text[], enabled_events), status = coalesce($5, status), "
      "disabled_reason = CASE WHEN $5 = 'enabled' THEN NULL WHEN $5 = 'disabled' THEN 'Disabled through the API.' "
      "ELSE disabled_reason END, metadata = sk.merge_metadata(metadata, $6::jsonb), updated_at = now() "
      "WHERE id = $1 AND deleted_at IS NULL RETURNING sk.webhook_endpoint_object(webhook_endpoints)::text",
      {call.id, url, text_param(b, "description"), events ? pg::Text(events_array(*events)) : std::nullopt,
       text_param(b, "status"), text_param(b, "metadata")});
  std::string endpoint = list::found(row, call);
  if (text_param(b, "status") == std::optional<std::string>("disabled")) stop_queued(call.id, "endpoint disabled");
  return api::json_response(endpoint);
}

api::Response delete_endpoint(const api::Call& call) {
  auto row = pg::exec_value(
      "UPDATE sk.webhook_endpoints SET deleted_at = now(), status = 'disabled', updated_at = now() "
      "WHERE id = $1 AND deleted_at IS NULL RETURNING id",
      {call.id});
  list::found(row, call);
  stop_queued(call.id, "endpoint deleted");
  return api::json_response("{\"id\":" + json::quote(call.id) + ",\"object\":\"webhook_endpoint\",\"deleted\":true}");
}

api::Response rotate_secret(const api::Call& call) {
  std::string secret = new_secret();
  auto hours = text_param(call.body, "expires_in_hours").value_or("24");
  auto row = pg::exec_value(
      "UPDATE sk.webhook_endpoints SET previous_secret = secret, secret = $2, "
      "previous_secret_expires_at = now() + $3::int * interval '1 hour', updated_at = now() "
      "WHERE id = $1 AND deleted_at IS NULL RETURNING sk.webhook_endpoint_object(webhook_endpoints)::text",
      {call.id, secret, hours});
  return api::json_response(auth::with_secret(list::found(row, call), secret));
}

// A ping goes to this endpoint only, whatever it subscribes to.
api::Response test_endpoint(const api::Call& call) {
  endpoint_status(call.id);
  auto event = pg::exec_value(
      "WITH e AS (INSERT INTO sk.events (type, data) "
      "  VALUES ('ping', ('{\"object\":{\"object\":\"ping\",\"endpoint_id\":' || to_json($1::text) || '}}')::json) "
      "  RETURNING *), "
      "d AS (INSERT INTO sk.webhook_deliveries (endpoint_id, event_id) SELECT $1, e.id FROM e) "
      "SELECT sk.event_object(e)::text FROM e",
      {call.id});
  wake_worker_at_commit();
  return api::json_response(*event);
}

api::Response list_deliveries(const api::Call& call) {
  endpoint_status(call.id);
  return list::Query("sk.webhook_delivery_object(d)::text", "sk.webhook_deliveries d", "d")
      .where("d.endpoint_id = ?", call.id)
      .where("d.status = ?", text_param(call.query, "status"))
      .run(call);
}

api::Response retry_delivery(const api::Call& call) {
  auto d = pg::exec("SELECT status, endpoint_id FROM sk.webhook_deliveries WHERE id = $1", {call.id});
  if (d.empty()) api::not_found("webhook delivery", call.id);
  if (d.rows[0].text(0) == "succeeded")
    api::fail(409, "delivery_succeeded", "This delivery already succeeded; replay its endpoint's window to send it again.");
  require_enabled(d.rows[0].text(1));
  auto row = pg::exec_value(
      "UPDATE sk.webhook_deliveries d SET status = 'pending', tries = 0, next_attempt_at = now(), updated_at = now() "
      "WHERE d.id = $1 RETURNING sk.webhook_delivery_object(d)::text",
      {call.id});
  wake_worker_at_commit();
  return api::json_response(*row);
}

// Re-queues all dead letters of the endpoint, or every matching event of a window.
api::Response replay(const api::Call& call) {
  const auto& b = call.body;
  auto status = text_param(b, "status");
  auto since = text_param(b, "since");
  auto until = text_param(b, "until");
  if (status.has_value() == (since.has_value() || until.has_value()))
    api::fail(400, "parameter_invalid", "Give either {\"status\":\"dead\"} or a since/until window.", "/status");
  require_enabled(call.id);
  std::optional<std::string> queued;
  if (status) {
    queued = pg::exec_value(
        "WITH q AS (UPDATE sk.webhook_deliveries SET status = 'pending', tries = 0, next_attempt_at = now(), "
        "updated_at = now() WHERE endpoint_id = $1 AND status = 'dead' RETURNING 1) SELECT count(*) FROM q",
        {call.id});
  } else {
    queued = pg::exec_value(
        "WITH q AS (INSERT INTO sk.webhook_deliveries (endpoint_id, event_id) "
        "  SELECT w.id, e.id FROM sk.webhook_endpoints w JOIN sk.events e "
        "    ON (w.enabled_events = '{*}' OR e.type = ANY (w.enabled_events)) "
        "   WHERE w.id = $1 AND e.type <> 'ping' AND e.created_at >= coalesce($2::timestamptz, '-infinity') "
        "     AND e.created_at < coalesce($3::timestamptz, 'infinity') RETURNING 1) SELECT count(*) FROM q",
        {call.id, since, until});
  }
  if (queued && *queued != "0") wake_worker_at_commit();
  return api::json_response("{\"object\":\"webhook_replay\",\"endpoint_id\":" + json::quote(call.id) +
                            ",\"queued\":" + queued.value_or("0") + "}");
}

Schema endpoint_schema() {
  static const Schema s = named("WebhookEndpoint", api_object("we", "webhook_endpoint", {
      required("url", string(2048)),
      required("description", nullable(string(500))),
      required("enabled_events", array(string(64), 20)),
      required("status", enumeration({"enabled", "disabled"})),
      required("disabled_reason", nullable(string())),
      required("metadata", metadata()),
      required("updated_at", timestamp()),
      optional("secret", string(), "The whsec_ signing secret: only in the responses of create and rotate_secret."),
  }));
  return s;
}

Schema delivery_schema() {
  static const Schema s = named("WebhookDelivery", api_object("wd", "webhook_delivery", {
      required("endpoint_id", id("we")),
      required("event_id", id("evt")),
      required("event_type", string(64)),
      required("status", enumeration({"pending", "succeeded", "retrying", "dead"})),
      required("attempt_count", integer(0, 1000000)),
      required("next_attempt_at", nullable(timestamp())),
      required("last_status_code", nullable(integer(100, 599))),
      required("last_error", nullable(string())),
      required("attempts", array(object({
          required("attempt", integer(1, 1000000)),
          required("attempted_at", timestamp()),
          required("status_code", nullable(integer(100, 599))),
          required("error", nullable(string())),
          required("latency_ms", integer(0, 600000)),
          required("response_excerpt", nullable(string(1024)), "The first 1 KiB of the response body."),
      }), 1000000)),
  }));
  return s;
}

api::RouteSpec spec(const char* method, const char* path, const char* op, const char* summary, api::Scope scope,
                    Schema response) {
  bool delivery = std::string(path).rfind("/webhook_deliveries", 0) == 0;
  return api::resource_route(method, path, op, summary, "Webhooks", scope, delivery ? "wd" : "we",
                             delivery ? "webhook delivery" : "webhook endpoint", std::move(response));
}

}  // namespace

std::vector<api::Route> webhook_routes() {
  std::vector<api::Route> routes;
  const Schema endpoint = endpoint_schema();

  auto create = spec("POST", "/webhook_endpoints", "createWebhookEndpoint", "Subscribe a URL to events", api::Scope::Write, endpoint);
  create.body = object({
      required("url", url_schema(), "Where events are POSTed. Live mode: must reach a public address."),
      required("enabled_events", enabled_events_schema(), "[\"*\"] for every event, or a list of event types."),
      optional("description", string(500)),
      optional("metadata", metadata()),
  });
  routes.push_back({create, create_endpoint});

  auto list = spec("GET", "/webhook_endpoints", "listWebhookEndpoints", "List webhook endpoints", api::Scope::Read, list_of(endpoint));
  list.query = list::query_schema("we");
  routes.push_back({list, list_endpoints});

  routes.push_back({spec("GET", "/webhook_endpoints/{id}", "getWebhookEndpoint", "Retrieve a webhook endpoint", api::Scope::Read, endpoint),
                    get_endpoint});

  auto update = spec("PATCH", "/webhook_endpoints/{id}", "updateWebhookEndpoint", "Update a webhook endpoint", api::Scope::Write, endpoint);
  update.body = object({
      optional("url", url_schema()),
      optional("enabled_events", enabled_events_schema()),
      optional("description", string(500)),
      optional("status", enumeration({"enabled", "disabled"}), "enabled re-enables an endpoint disabled by 410 Gone."),
      optional("metadata", metadata()),
  });
  routes.push_back({update, update_endpoint});

  routes.push_back({spec("DELETE", "/webhook_endpoints/{id}", "deleteWebhookEndpoint", "Delete a webhook endpoint", api::Scope::Write,
                         object({required("id", id("we")), required("object", constant("webhook_endpoint")),
                                 required("deleted", boolean())})),
                    delete_endpoint});

  auto rotate = spec("POST", "/webhook_endpoints/{id}/rotate_secret", "rotateWebhookSecret",
                     "Rotate the signing secret (the old one keeps signing for 24 hours)", api::Scope::Write, endpoint);
  rotate.body = object({optional("expires_in_hours", integer(0, 168), "How long the old secret keeps signing (default 24).")});
  routes.push_back({rotate, rotate_secret});

  auto ping = spec("POST", "/webhook_endpoints/{id}/test", "testWebhookEndpoint", "Send a ping event to this endpoint",
                   api::Scope::Write, any_object());
  routes.push_back({ping, test_endpoint});

  auto deliveries = spec("GET", "/webhook_endpoints/{id}/deliveries", "listWebhookDeliveries",
                         "The delivery log of an endpoint, with every attempt", api::Scope::Read, list_of(delivery_schema()));
  deliveries.query = list::query_schema("wd", {optional("status", enumeration({"pending", "succeeded", "retrying", "dead"}))});
  routes.push_back({deliveries, list_deliveries});

  auto replay_spec = spec("POST", "/webhook_endpoints/{id}/replay", "replayWebhookEndpoint",
                          "Re-queue dead letters, or every event of a time window", api::Scope::Write,
                          object({required("object", constant("webhook_replay")), required("endpoint_id", id("we")),
                                  required("queued", integer(0, 1000000000))}));
  replay_spec.body = object({
      optional("status", constant("dead"), "Re-queue every dead delivery of this endpoint."),
      optional("since", timestamp(), "Window start (inclusive): re-send every matching event created since."),
      optional("until", timestamp(), "Window end (exclusive)."),
  });
  replay_spec.errors = {409};
  routes.push_back({replay_spec, replay});

  auto retry = spec("POST", "/webhook_deliveries/{id}/retry", "retryWebhookDelivery", "Send a delivery again now",
                    api::Scope::Write, delivery_schema());
  retry.errors = {409};
  routes.push_back({retry, retry_delivery});
  return routes;
}

}  // namespace sk::webhooks
