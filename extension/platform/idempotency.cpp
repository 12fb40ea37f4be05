#include "platform/idempotency.hpp"

#include "pg/postgres.hpp"
#include "pg/spi.hpp"
#include "platform/settings.hpp"

namespace sk::idempotency {

void check_key(const std::optional<std::string>& key) {
  if (!key)
    api::fail(400, "idempotency_key_missing", "Every POST, PATCH and DELETE needs an Idempotency-Key header.");
  bool printable = !key->empty() && key->size() <= 255;
  for (unsigned char c : *key) printable = printable && c >= 0x20 && c <= 0x7e;
  if (!printable)
    api::fail(400, "idempotency_key_invalid", "The Idempotency-Key must be 1 to 255 printable ASCII characters.");
}

const pg::WriterColumn kRowColumns[kRowWidth] = {{"key", TEXTOID},          {"request_hash", BYTEAOID},
                                                 {"status", INT4OID},        {"content_type", TEXTOID},
                                                 {"body", TEXTOID},          {"created_at", TIMESTAMPTZOID}};

namespace {

// The request hash is kept as hex in C++ and as bytes (bytea) in the row.
std::string hex_bytes(const std::string& hex) {
  auto nibble = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::logic_error("idempotency: the request hash is not hex");
  };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  return out;
}

}  // namespace

RowValues row_values(const api::IdempotencyClaim& claim, const api::Response& response) {
  RowValues row{};
  row.values[0] = pg::text_datum(claim.key);
  row.values[1] = pg::text_datum(hex_bytes(claim.request_hash));  // a bytea is laid out as a text
  row.values[2] = Int32GetDatum(response.status);
  row.values[3] = pg::text_datum(response.content_type);
  row.nulls[4] = true;
  row.values[5] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());  // now(), the column's default
  return row;
}

bool key_taken(const pg::PgError& e) { return e.sqlstate == "23505" && e.constraint == "idempotency_keys_pkey"; }

namespace {

const std::string kInsertRow =
    "INSERT INTO sk.idempotency_keys (key, request_hash, status, content_type, body) "
    "SELECT $1, decode($2, 'hex'), $3::integer, $4, $5";

std::vector<pg::Text> row_with_body(const api::IdempotencyClaim& claim, const api::Response& response) {
  return {claim.key, claim.request_hash, std::to_string(response.status), response.content_type, response.body};
}

}  // namespace

void insert(const api::IdempotencyClaim& claim, const api::Response& response) {
  pg::exec(kInsertRow, row_with_body(claim, response));
}

bool store(const api::IdempotencyClaim& claim, const api::Response& response) {
  return !pg::exec(kInsertRow + " ON CONFLICT DO NOTHING RETURNING 1", row_with_body(claim, response)).empty();
}

api::Response replay(const std::string& key, const std::string& request_hash) {
  // The conflicting row is committed (the insert waited for its transaction), so a
  // fresh statement sees it with its response.
  auto r = pg::exec(
      "SELECT encode(request_hash, 'hex'), status, content_type, body FROM sk.idempotency_keys WHERE key = $1", {key});
  if (r.empty() || !r.rows[0][1])
    api::fail(409, "idempotency_key_in_progress", "A request with this Idempotency-Key is still in progress; retry shortly.");
  const auto& row = r.rows[0];
  if (row.text(0) != request_hash)
    api::fail(409, "idempotency_key_reused",
              "This Idempotency-Key was already used with a different request (method, path or body).");
  return api::Response{std::stoi(row.text(1)), row.text(2), row.text(3), true};
}

uint64_t prune() {
  return pg::exec("DELETE FROM sk.idempotency_keys WHERE created_at < now() - $1::interval",
                  {std::string(settings::idempotency_retention())})
      .processed;
}

}  // namespace sk::idempotency
