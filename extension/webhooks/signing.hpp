// Standard Webhooks signatures: HMAC-SHA256 over "{id}.{timestamp}.{body}" keyed with
// the base64-decoded part of a "whsec_" secret, sent as "v1,<base64>". Pure C++.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sk::webhooks {

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

// "whsec_" + base64 of 32 random bytes.
std::string new_secret();

// One "v1,<base64>" signature; nullopt when the secret is not a valid whsec_ secret.
std::optional<std::string> sign(const std::string& secret, const std::string& msg_id, long long timestamp,
                                 const std::string& body);

// The webhook-signature header: one signature per secret, space-separated.
std::string signature_header(const std::vector<std::string>& secrets, const std::string& msg_id, long long timestamp,
                             const std::string& body);

}  // namespace sk::webhooks
