// API keys: parsing the bearer token, verifying it against stored SHA-256 hashes, and
// issuing new keys (shown once). Runs inside PostgreSQL.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace sk::auth {

struct Key {
  std::string id;
  std::string account_id;
  bool livemode = false;
  bool secret = false;                 // sk_ keys; rk_ keys are restricted
  std::vector<std::string> scopes;
  bool has_scope(const std::string& s) const;
};

// Verifies the Authorization header; throws ApiError 401 when it does not name a live key.
Key verify(const std::optional<std::string>& authorization);

// From _PG_init: drops the backend's verified keys when sk.api_keys changes.
void register_callbacks();

struct IssuedKey {
  std::string id;
  std::string secret;        // the only time the key is visible
  std::string object_json;   // the api_key object including "secret"
};

// Issues a key for the current tenant (the context must be set).
IssuedKey issue(bool restricted, const std::vector<std::string>& scopes, const std::optional<std::string>& name);

// Renders an api_key object with its one-time secret added as the last member.
std::string with_secret(const std::string& object_json, const std::string& secret);

}  // namespace sk::auth
