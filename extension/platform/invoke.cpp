// sk.invoke(): the whole API behind one SQL function. One call is one HTTP request:
// route, authenticate, authorize, validate, claim the Idempotency-Key, run the handler
// in a subtransaction, record the response. The shim only carries bytes.
#include "pg/guard.hpp"
#include "pg/postgres.hpp"
#include "pg/spi.hpp"
#include "platform/auth.hpp"
#include "platform/context.hpp"
#include "platform/crypto.hpp"
#include "platform/idempotency.hpp"
#include "platform/invoke.hpp"
#include "platform/openapi.hpp"
#include "mcp/server.hpp"
#include "platform/query.hpp"
#include "platform/routes.hpp"
#include "platform/ulid.hpp"

namespace sk::platform {
namespace {

using api::ApiError;
using api::Response;
using json::Value;

constexpr std::string_view kBasePath = "/inventory/v1";

void authorize(const api::RouteSpec& spec, const auth::Key& key) {
  switch (spec.scope) {
    case api::Scope::SecretOnly:
      if (!key.secret) api::fail(403, "secret_key_required", "This operation needs a secret key (sk_…), not a restricted key.");
      break;
    case api::Scope::Write:
      if (!key.has_scope("write")) api::fail(403, "insufficient_scope", "This restricted key does not have the write scope.");
      break;
    case api::Scope::Read:
      if (!key.has_scope("read")) api::fail(403, "insufficient_scope", "This restricted key does not have the read scope.");
      break;
  }
}

// Query string to a validated JSON object, using each field's own text conversion.
Value parse_query(const api::RouteSpec& spec, const std::optional<std::string>& raw) {
  Value out = Value::object();
  if (!raw || raw->empty()) return out;
  std::string bad;
  auto pairs = query::parse(*raw, &bad);
  if (!pairs) api::fail(400, "parameter_invalid", "The query string is not valid percent-encoding.", "/" + bad);
  const auto* fields = spec.query ? spec.query->object_fields() : nullptr;
  for (const auto& [name, text] : *pairs) {
    if (out.find(name)) api::fail(400, "parameter_invalid", "Query parameter " + name + " is given twice.", "/" + name);
    Value v = Value::string(text);
    if (fields)
      for (const auto& f : *fields)
        if (f.name == name) v = f.schema->from_text(text);
    out.set(name, std::move(v));
  }
  if (!spec.query) {
    if (!out.members().empty())
      api::fail(400, "parameter_unknown", "This operation takes no query parameters.", "/" + out.members()[0].first);
    return out;
  }
  if (auto issue = schema::validate(spec.query, out)) api::fail(400, issue->code, issue->detail, issue->param);
  return out;
}

bool blank(const std::optional<std::string>& body) {
  return !body || body->find_first_not_of(" \t\r\n") == std::string::npos;
}

// The body parsed once: for the idempotency hash and for the handler.
struct ParsedBody {
  std::optional<Value> value;  // nullopt: blank, or not JSON (then `error` says why)
  std::string error;
};

ParsedBody parse_json_body(const std::optional<std::string>& body) {
  ParsedBody out;
  if (blank(body)) return out;
  json::ParseError err;
  out.value = json::parse(*body, &err);
  if (!out.value) out.error = err.message;
  return out;
}

// Takes the parsed value (it becomes the call's body).
Value validate_body(const api::RouteSpec& spec, const std::optional<std::string>& body, ParsedBody& parsed) {
  if (!spec.body) {
    if (!blank(body) && *body != "{}")
      api::fail(400, "parameter_unknown", "This operation takes no request body.");
    return Value::null();
  }
  if (!blank(body) && !parsed.value) api::fail(400, "body_invalid_json", "The request body is not valid JSON: " + parsed.error + ".");
  Value v = parsed.value ? std::move(*parsed.value) : Value::object();
  if (auto issue = schema::validate(spec.body, v)) api::fail(400, issue->code, issue->detail, issue->param);
  return v;
}

// What makes two requests "the same" for an Idempotency-Key: method, path, query and
// the body in canonical form (key order and whitespace do not matter).
std::string request_hash(const Request& req, const ParsedBody& body) {
  std::string canonical = body.value ? body.value->dump(true) : req.body.value_or("");
  return crypto::sha256_hex(req.method + "\n" + req.path + "\n" + req.query.value_or("") + "\n" + canonical);
}

// A constraint violation the client caused, mapped to its stable code.
std::optional<ApiError> conflict_for(const pg::PgError& e) {
  if (e.sqlstate != "23505") return std::nullopt;
  if (e.constraint == "items_sku_key")
    return ApiError{409, "sku_already_exists", "An active item with this SKU already exists.", "/sku"};
  if (e.constraint == "locations_code_key")
    return ApiError{409, "location_code_already_exists", "A location with this code already exists.", "/code"};
  return std::nullopt;
}

}  // namespace

Response problem(const ApiError& e, const std::string& request_id) {
  return Response{e.status, "application/problem+json", api::problem_json(e, request_id), false};
}

Response handle(const Request& req) {
  if (req.path == "/mcp") return mcp::serve(req);
  if (req.path.compare(0, kBasePath.size(), kBasePath) != 0)
    api::fail(404, "route_not_found", "No route for this path; the API lives under /inventory/v1.");
  std::string relative = req.path.substr(kBasePath.size());
  if (relative.size() > 1 && relative.back() == '/') relative.pop_back();

  auto m = routes::match(req.method, relative);
  if (!m.route) {
    if (m.path_exists) api::fail(405, "method_not_allowed", req.method + " is not supported on this path.");
    api::fail(404, "route_not_found", "No route " + req.method + " " + req.path + ".");
  }
  const api::Route& route = *m.route;
  const api::RouteSpec& spec = route.spec;

  std::optional<context::TenantScope> tenant;
  if (!spec.public_route) {
    auth::Key key = auth::verify(req.authorization);
    tenant.emplace(context::Tenant{key.account_id, key.livemode});
    authorize(spec, key);
  }
  // A malformed id cannot name an object: the same 404 as an unknown one.
  if (!spec.id_prefix.empty() && !ulid::is_id(m.id, spec.id_prefix))
    api::not_found(spec.resource, m.id);

  if (spec.method == "GET") {
    pg::ReadOnlyScope read_only;
    api::Call call{spec, req.path, m.id, parse_query(spec, req.query), Value::null(), req.request_id};
    return route.handler(call);
  }

  idempotency::check_key(req.idempotency_key);
  ParsedBody body = parse_json_body(req.body);
  api::IdempotencyClaim claim{*req.idempotency_key, req.request_hash ? *req.request_hash : request_hash(req, body),
                              std::nullopt};

  // The handler runs first and its response is stored with the key in its own
  // subtransaction (by the handler's own statement, or here after it). When the key is
  // already taken (a retry, or a concurrent request that won: the insert waits for it on
  // the unique index), everything the handler did is rolled back and the stored
  // response replayed. A 4xx rolls the handler back and is stored in the outer
  // transaction.
  struct KeyTaken {};
  Response response;
  try {
    pg::in_subtransaction([&] {
      api::Call call{spec, req.path, m.id, parse_query(spec, req.query), validate_body(spec, req.body, body),
                     req.request_id, &claim};
      try {
        response = route.handler(call);
        if (!claim.stored) idempotency::insert(claim, response);
      } catch (const pg::PgError& e) {
        if (idempotency::key_taken(e)) throw KeyTaken{};
        throw;
      }
      if (claim.stored && !(*claim.stored == response))
        throw std::logic_error("a handler answered other than what it stored under the Idempotency-Key");
    });
    return response;
  } catch (const KeyTaken&) {
    return idempotency::replay(claim.key, claim.request_hash);
  } catch (const ApiError& e) {
    response = problem(e, req.request_id);
  } catch (const pg::PgError& e) {
    auto mapped = conflict_for(e);
    if (!mapped) throw;
    response = problem(*mapped, req.request_id);
  }
  if (!idempotency::store(claim, response)) return idempotency::replay(claim.key, claim.request_hash);
  return response;
}

namespace {

pg::Text text_arg(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n)) return std::nullopt;
  text* t = PG_GETARG_TEXT_PP(n);
  return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

}  // namespace
}  // namespace sk::platform

extern "C" {
PG_FUNCTION_INFO_V1(sk_invoke);
PG_FUNCTION_INFO_V1(sk_openapi);

Datum sk_invoke(PG_FUNCTION_ARGS) {
  using namespace sk::platform;
  TupleDesc desc;
  if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("sk.invoke must return sk.response")));

  Datum values[4];
  bool nulls[4] = {false, false, false, false};
  // Fills values[] with palloc'd datums; every C++ object dies inside the lambda.
  sk::pg::guarded([&]() -> Datum {
    Request req{text_arg(fcinfo, 0).value_or("GET"), text_arg(fcinfo, 1).value_or("/"), text_arg(fcinfo, 2),
                text_arg(fcinfo, 3), text_arg(fcinfo, 4), text_arg(fcinfo, 5).value_or(""), text_arg(fcinfo, 6)};
    sk::api::Response resp;
    {
      sk::pg::SpiSession spi;
      try {
        resp = handle(req);
      } catch (const sk::api::ApiError& e) {
        resp = problem(e, req.request_id);
      }
    }
    values[0] = Int32GetDatum(resp.status);
    values[1] = sk::pg::text_datum(resp.content_type);
    values[2] = sk::pg::text_datum(resp.body);
    values[3] = BoolGetDatum(resp.replayed);
    return 0;
  });
  HeapTuple tuple = heap_form_tuple(desc, values, nulls);
  PG_RETURN_DATUM(HeapTupleGetDatum(tuple));
}

Datum sk_openapi(PG_FUNCTION_ARGS) {
  return sk::pg::guarded([&]() -> Datum {
    std::string doc = sk::openapi::document(sk::routes::specs());
    return sk::pg::text_datum(doc);
  });
}
}
