#include "platform/auth.hpp"

#include <regex>

#include "pg/spi.hpp"
#include "platform/api.hpp"
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

Key verify(const std::optional<std::string>& authorization) {
  if (!authorization || authorization->empty())
    unauthorized("api_key_missing", "Send your API key as Authorization: Bearer sk_test_….");
  static const std::regex bearer("[Bb]earer +((sk|rk)_(test|live)_[0-9A-Za-z]+) *");
  std::smatch m;
  if (!std::regex_match(*authorization, m, bearer))
    unauthorized("api_key_invalid", "The Authorization header must be Bearer followed by an SK Inventory API key.");
  const std::string token = m[1].str();
  const bool livemode = m[3].str() == "live";

  context::AuthLookupScope lookup;
  auto r = pg::exec(
      "SELECT id, account_id, livemode::text, kind, array_to_string(scopes, ',') FROM sk.api_keys "
      "WHERE secret_hash = decode($1, 'hex') AND (expires_at IS NULL OR expires_at > now())",
      {crypto::sha256_hex(token)});
  if (r.empty() || (r.rows[0].text(2) == "true") != livemode)
    unauthorized("api_key_invalid", "This API key is unknown, revoked or expired.");
  const auto& row = r.rows[0];
  return Key{row.text(0), row.text(1), livemode, row.text(3) == "secret", split(row.text(4), ',')};
}

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
