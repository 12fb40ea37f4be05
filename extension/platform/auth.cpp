#include "platform/auth.hpp"

#include <unordered_map>

#include "pg/guard.hpp"
#include "pg/postgres.hpp"
#include "pg/spi.hpp"
#include "platform/api.hpp"
#include "platform/caches.hpp"


#include "platform/context.hpp"
#include "platform/crypto.hpp"

namespace sk::auth {
namespace {

constexpr size_t kSecretLength = 32;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

[[noreturn]] void unauthorized(const std::string& code, const std::string& detail) { api::fail(401, code, detail); }

}  // namespace

bool Key::has_scope(const std::string& s) const {
  if (secret) return true;
  for (const auto& scope : scopes)
    if (scope == s) return true;
  return false;
}

namespace {

// "Bearer <key>" (RFC 6750 allows any case of the scheme; we accept Bearer and bearer)
// to the key, or nullopt unless the key has the shape of ours: (sk|rk)_(test|live)_base62.
std::optional<std::string_view> bearer_key(std::string_view header) {
  constexpr std::string_view scheme = "earer";
  if (header.size() < 7 || (header[0] != 'B' && header[0] != 'b') || header.substr(1, 5) != scheme ||
      header[6] != ' ')
    return std::nullopt;
  header.remove_prefix(6);
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
  std::string_view body = header;
  if (body.size() < 8 || (body.substr(0, 3) != "sk_" && body.substr(0, 3) != "rk_")) return std::nullopt;
  body.remove_prefix(3);
  if (body.substr(0, 5) == "test_") body.remove_prefix(5);
  else if (body.substr(0, 5) == "live_") body.remove_prefix(5);
  else return std::nullopt;
  if (body.empty()) return std::nullopt;
  for (char c : body)
    if (!std::isalnum(static_cast<unsigned char>(c))) return std::nullopt;
  return header;
}

// Verified keys, per backend, by SHA-256: most requests then need no key lookup. Any
// change to sk.api_keys (revoke, roll, delete) drops the cache in every backend when it
// commits (platform/caches.hpp). Expiry is checked on every use.
struct CachedKey {
  Key key;
  std::optional<TimestampTz> expires_at;
};
constexpr size_t kMaxCachedKeys = 4096;
constexpr const char* kTable = "sk.api_keys";
std::unordered_map<std::string, CachedKey> g_keys;

void forget_keys() { g_keys.clear(); }

const CachedKey* cached(const std::string& hash) {
  auto it = g_keys.find(hash);
  return it == g_keys.end() ? nullptr : &it->second;
}

const CachedKey* look_up(const std::string& hash) {
  context::AuthLookupScope lookup;
  auto r = pg::exec(
      "SELECT id, account_id, livemode::text, kind, array_to_string(scopes, ','), "
      "(extract(epoch FROM expires_at) * 1000000 - 946684800000000)::bigint::text "
      "FROM sk.api_keys WHERE secret_hash = decode($1, 'hex')",
      {hash});
  if (r.empty()) return nullptr;
  const auto& row = r.rows[0];
  CachedKey entry{Key{row.text(0), row.text(1), row.text(2) == "true", row.text(3) == "secret", split(row.text(4), ',')},
                  std::nullopt};
  // Microseconds since 2000-01-01 UTC, which is what a TimestampTz holds.
  if (row[5]) entry.expires_at = static_cast<TimestampTz>(std::stoll(*row[5]));
  if (g_keys.size() >= kMaxCachedKeys) g_keys.clear();
  caches::filled(kTable);
  return &g_keys.insert_or_assign(hash, std::move(entry)).first->second;
}

}  // namespace

Key verify(const std::optional<std::string>& authorization) {
  if (!authorization || authorization->empty())
    unauthorized("api_key_missing", "Send your API key as Authorization: Bearer sk_test_….");
  auto token = bearer_key(*authorization);
  if (!token)
    unauthorized("api_key_invalid", "The Authorization header must be Bearer followed by an SK Inventory API key.");
  const bool livemode = token->substr(3, 4) == "live";

  const std::string hash = crypto::sha256_hex(*token);
  const CachedKey* k = cached(hash);
  if (!k) k = look_up(hash);
  if (!k || k->key.livemode != livemode || (k->expires_at && *k->expires_at <= GetCurrentTransactionStartTimestamp()))
    unauthorized("api_key_invalid", "This API key is unknown, revoked or expired.");
  return k->key;
}

void register_callbacks() { caches::watch(kTable, forget_keys); }

std::string with_secret(const std::string& object_json, const std::string& secret) {
  std::string out = object_json.substr(0, object_json.rfind('}'));
  out += ",\"secret\":" + json::quote(secret) + "}";
  return out;
}

IssuedKey issue(bool restricted, const std::vector<std::string>& scopes, const std::optional<std::string>& name) {
  auto tenant = context::tenant();
  if (!tenant) throw std::logic_error("issuing a key needs a tenant context");
  std::string prefix = std::string(restricted ? "rk_" : "sk_") + (tenant->livemode ? "live_" : "test_");
  std::string secret = prefix + crypto::random_base62(kSecretLength);
  std::string redacted = prefix + "…" + secret.substr(secret.size() - 4);
  auto r = pg::exec(
      "INSERT INTO sk.api_keys (kind, scopes, name, secret_hash, redacted) "
      "VALUES ($1, string_to_array($2, ','), $3, decode($4, 'hex'), $5) "
      "RETURNING id, sk.api_key_object(api_keys)::text",
      {std::string(restricted ? "restricted" : "secret"), join(scopes), name, crypto::sha256_hex(secret), redacted});
  return IssuedKey{r.rows[0].text(0), secret, with_secret(r.rows[0].text(1), secret)};
}

}  // namespace sk::auth
