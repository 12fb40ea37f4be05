// The one boundary between PostgreSQL and C++ (DESIGN.md section 9). Every function
// PostgreSQL calls runs its body through `guarded`: no C++ exception escapes into
// PostgreSQL, and errors are raised only after every C++ destructor has run.
#pragma once
#include <cstdio>
#include <exception>

#include "pg/postgres.hpp"
#include "pg/spi.hpp"
#include "platform/api.hpp"

namespace sk::pg {

template <class Body>
Datum guarded(Body&& body) {
  ErrorData* pg_error = nullptr;
  char message[512] = {0};
  int sqlstate = ERRCODE_INTERNAL_ERROR;
  try {
    return body();
  } catch (const PgError& e) {
    pg_error = static_cast<ErrorData*>(e.edata);
  } catch (const api::ApiError& e) {
    // Only DBA functions let an ApiError reach here; the API turns them into responses.
    std::snprintf(message, sizeof message, "%s (%s)", e.detail.c_str(), e.code.c_str());
    sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
  } catch (const std::exception& e) {
    std::snprintf(message, sizeof message, "%s", e.what());
  } catch (...) {
    std::snprintf(message, sizeof message, "unknown C++ exception");
  }
  // All C++ objects of the body are destroyed by now; raising is safe.
  if (pg_error) ReThrowError(pg_error);
  ereport(ERROR, (errcode(sqlstate), errmsg("sk_inventory: %s", message)));
  pg_unreachable();
}

}  // namespace sk::pg
