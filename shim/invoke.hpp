// The one database call behind every /inventory/v1 request:
//   sk.invoke(method, path, query, authorization, idempotency_key, request_id, body)
//     RETURNS sk.response (status int, content_type text, body text, replayed boolean)
#pragma once
#include <libpq-fe.h>

#include <string>

#include "routes.hpp"

namespace sk::shim {

// Pool::Setup for every new connection: prepares the sk.invoke statement once.
bool prepare_invoke(PGconn* conn, std::string* error);

// Forwards the request and maps database failures to problem responses; never
// returns SQL or server error text to the client. Reads go on a read lane, writes on a
// write lane; a read no lane takes, a write while the lanes stop, and the one retry
// after a lost connection run on a worker over the pool.
void invoke(Request&& req, Services& services, Respond respond);

}  // namespace sk::shim
